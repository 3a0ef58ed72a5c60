"""An hvac client from the environment, and Vault failures turned into messages a user can act on.

The token comes from VAULT_TOKEN, a token file (`-` = stdin) or the CLI's own ~/.vault-token; never from a
command-line option, so it never shows up in `ps` or shell history. Only this module touches `requests`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import hvac
import hvac.exceptions
import requests

from gitops_poc import fileio
from gitops_poc.errors import ToolError, UsageError
from gitops_poc.httpguard import DeadlineExceeded, GuardedSession, NetworkRefused
from gitops_poc.redact import remember

TIMEOUT_SECONDS = 10


class VaultError(ToolError):
    """Vault refused or could not do something; the message says what and where."""


class VaultUnreachable(VaultError):
    pass


class VaultSealed(VaultError):
    pass


class VaultPermissionDenied(VaultError):
    pass


class VaultRequestFailed(VaultError):
    pass


class VaultLoginMissing(UsageError):
    """No address or no token to talk to Vault with."""


@dataclass(frozen=True)
class VaultTarget:
    """Where to reach Vault, without the token (safe to print)."""

    addr: str
    verify: bool | str = True


def target_from_env(environ: Mapping[str, str]) -> VaultTarget:
    addr = environ.get("VAULT_ADDR", "").strip()
    if not addr:
        raise VaultLoginMissing(
            "VAULT_ADDR is not set: export the address of Vault, e.g. VAULT_ADDR=http://127.0.0.1:8200 "
            "with `kubectl -n vault port-forward svc/vault 8200` running"
        )
    try:
        parts = urlsplit(addr)
        parts.port  # noqa: B018 - parsing the port is the check (a port out of range raises)
    except ValueError as exc:
        raise VaultLoginMissing(f"VAULT_ADDR={addr!r} is not an http(s):// address ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or re.search(r"\s", addr):
        raise VaultLoginMissing(f"VAULT_ADDR={addr!r} is not an http(s):// address")
    verify: bool | str = True
    if environ.get("VAULT_CACERT"):
        verify = environ["VAULT_CACERT"]
    elif environ.get("VAULT_SKIP_VERIFY", "").lower() in ("1", "true", "yes"):
        verify = False
    return VaultTarget(addr.rstrip("/"), verify)


# A token goes into an HTTP header: printable ASCII without spaces. Anything else is refused before any
# request, because requests' own error for a bad header value quotes the value, i.e. the token.
TOKEN_TEXT = re.compile(r"^[\x21-\x7e]+$")


def _checked(text: str, source: str) -> str:
    """The first line of `text` without surrounding whitespace; the message never shows the value."""
    token = text.split("\n", 1)[0].strip()
    remember([token])
    if not token:
        raise VaultLoginMissing(f"the token from {source} is empty (the token is the first line)")
    if not TOKEN_TEXT.match(token):
        raise VaultLoginMissing(
            f"the token from {source} contains spaces, control or non-ASCII characters (not shown); "
            "a Vault token is one line of printable ASCII characters"
        )
    return token


def read_token(environ: Mapping[str, str], token_file: Path | None, stdin: IO[str] | None = None) -> str:
    """VAULT_TOKEN, else the token file (`-` reads stdin), else ~/.vault-token. Only the first line counts."""
    if token_file is not None:
        if str(token_file) == "-":
            return _checked((stdin or sys.stdin).readline(), "standard input")
        try:
            text = fileio.read_text(token_file, fileio.TOKEN_FILE)
        except fileio.FileRefused as exc:
            raise VaultLoginMissing(f"cannot read the token file: {exc}") from None
        return _checked(text, str(token_file))
    if environ.get("VAULT_TOKEN", "").strip():
        return _checked(environ["VAULT_TOKEN"], "VAULT_TOKEN")
    helper = Path(environ.get("HOME", str(Path.home()))) / ".vault-token"
    try:
        text = fileio.read_text(helper, fileio.TOKEN_FILE)
    except fileio.FileMissing:
        text = ""
    except fileio.FileRefused as exc:
        raise VaultLoginMissing(str(exc)) from None
    if text.strip():
        return _checked(text, str(helper))
    raise VaultLoginMissing(
        "no Vault token: set VAULT_TOKEN, pass --token-file FILE (or - for stdin), or log in with `bao login`"
    )


DEADLINE_SECONDS = 60.0  # the Vault CLI's default VAULT_CLIENT_TIMEOUT
_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(ms|s|m)?$")


def deadline_from_env(environ: Mapping[str, str]) -> float:
    """VAULT_CLIENT_TIMEOUT as the Vault CLI reads it (seconds, or 500ms / 30s / 2m); 60 s when unset."""
    raw = environ.get("VAULT_CLIENT_TIMEOUT", "").strip()
    if not raw:
        return DEADLINE_SECONDS
    match = _DURATION.match(raw)
    seconds = float(match[1]) * {"ms": 0.001, "s": 1, "m": 60, None: 1}[match[2]] if match else 0
    if seconds <= 0:
        raise VaultLoginMissing(f"VAULT_CLIENT_TIMEOUT={raw!r} is not a positive duration (e.g. 30 or 30s)")
    return seconds


def make_client(target: VaultTarget, token: str | None, deadline: float = DEADLINE_SECONDS) -> hvac.Client:
    # One requests.Session under the client: every call reuses the same keep-alive connection.
    return hvac.Client(
        url=target.addr,
        token=token,
        verify=target.verify,
        timeout=max(1, int(min(TIMEOUT_SECONDS, deadline))),
        session=GuardedSession(target.addr, service="Vault", deadline=deadline),
    )


def client_from_env(
    environ: Mapping[str, str] | None = None, token_file: Path | None = None, stdin: IO[str] | None = None
) -> hvac.Client:
    environ = os.environ if environ is None else environ
    return make_client(
        target_from_env(environ), read_token(environ, token_file, stdin), deadline_from_env(environ)
    )


def _path_of(exc: hvac.exceptions.VaultError, addr: str) -> str:
    url = exc.url or ""
    path = urlsplit(url).path if url else ""
    return path.removeprefix("/v1/") or "?"


@contextmanager
def vault_errors(client: hvac.Client, doing: str) -> Iterator[None]:
    """Turn hvac/requests failures inside the block into VaultError subclasses with a clear message."""
    addr = client.url
    try:
        yield
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        reason = (
            str(exc)
            if isinstance(exc, DeadlineExceeded)
            else "timed out"
            if isinstance(exc, requests.exceptions.Timeout)
            else (
                "TLS failed: is VAULT_CACERT the CA of its certificate?"
                if isinstance(exc, requests.exceptions.SSLError)
                else "connection refused or lost"
            )
        )
        raise VaultUnreachable(
            f"cannot reach Vault at {addr} while {doing} ({reason}): is it running, and is VAULT_ADDR right?"
        ) from None
    except NetworkRefused as exc:  # our own message: a redirect elsewhere, a wait too long
        raise VaultRequestFailed(f"{exc} (while {doing})") from None
    except requests.RequestException as exc:
        # Fixed text: the messages of some of these (InvalidHeader) quote header values, i.e. the token.
        raise VaultRequestFailed(
            f"the request to Vault at {addr} failed while {doing} ({type(exc).__name__}); "
            "check VAULT_ADDR, VAULT_CACERT and the token"
        ) from None
    except hvac.exceptions.VaultDown:
        raise VaultSealed(f"Vault at {addr} is sealed (while {doing}): unseal it, then re-run") from None
    except hvac.exceptions.VaultNotInitialized:
        raise VaultSealed(
            f"Vault at {addr} is not initialised (while {doing}): run `bao operator init`"
        ) from None
    except hvac.exceptions.Forbidden as exc:
        raise VaultPermissionDenied(
            f"the token lacks rights for {_path_of(exc, addr)} (while {doing}); use a token whose policy"
            " allows it"
        ) from None
    except hvac.exceptions.VaultError as exc:
        raise VaultRequestFailed(
            f"Vault at {addr} rejected {_path_of(exc, addr)} while {doing}:"
            f" {'; '.join(exc.errors or [str(exc)])}"
        ) from None


@dataclass(frozen=True)
class TokenInfo:
    """What is safe to show about the token (never the token itself)."""

    policies: tuple[str, ...]
    display_name: str


def preflight(client: hvac.Client) -> TokenInfo:
    """Check Vault answers, is initialised and unsealed, and the token is valid; returns the token's policies.

    GET /v1/sys/health, then GET /v1/auth/token/lookup-self.
    """
    addr = client.url
    with vault_errors(client, "checking its health"):
        health = client.sys.read_health_status(method="GET", standby_ok=True)
    if isinstance(health, requests.Response):
        status = health.status_code
        if status == 503:
            raise VaultSealed(f"Vault at {addr} is sealed: unseal it (`bao operator unseal`), then re-run")
        if status == 501:
            raise VaultSealed(
                f"Vault at {addr} is not initialised: run `bao operator init` and unseal it first"
            )
        if status >= 400:
            raise VaultRequestFailed(f"Vault at {addr} answered /v1/sys/health with HTTP {status}")
    try:
        with vault_errors(client, "checking the token"):
            lookup = client.auth.token.lookup_self()
    except VaultPermissionDenied:
        raise VaultPermissionDenied(
            f"Vault at {addr} does not accept the token (invalid, expired or revoked)"
        ) from None
    from gitops_poc.vault import answers  # it builds on this module's errors

    endpoint = "GET auth/token/lookup-self"
    data = answers.obj(answers.body(lookup, endpoint) or {}, "data", endpoint)
    # The lookup also holds the token itself (`id`): keep only what is safe to show.
    return TokenInfo(
        tuple(answers.texts(data, "policies", endpoint)), answers.text(data, "display_name", endpoint)
    )


CAPABILITY_BATCH = 200  # Vault refuses request bodies with too many JSON strings


def capabilities_self(client: hvac.Client, paths: list[str]) -> dict[str, set[str]]:
    """What the client's token may do on each path, as Vault's ACL answers (POST /v1/sys/capabilities-self,
    one call per CAPABILITY_BATCH paths). A path Vault does not answer for counts as denied."""
    granted: dict[str, set[str]] = {}
    for start in range(0, len(paths), CAPABILITY_BATCH):
        response = client.adapter.post(
            "/v1/sys/capabilities-self", json={"paths": paths[start : start + CAPABILITY_BATCH]}
        )
        from gitops_poc.vault import answers  # it builds on this module's errors

        endpoint = "POST sys/capabilities-self"
        body = answers.body(response, endpoint) or {}
        data = answers.obj(body, "data", endpoint) if "data" in body else body
        granted.update({p: set(c) for p, c in data.items() if isinstance(c, list)})
    return {path: granted.get(path) or {"deny"} for path in paths}
