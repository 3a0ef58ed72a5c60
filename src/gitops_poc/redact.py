"""Secret values this process has seen, so that no message, log line or crash log can carry one.

Every reader of a credential registers what it read (`remember`): the configuration, the secrets file, the
Vault token, every --token-file. `redact` takes out those values, the known credential environment
variables and the password of any URL; `RedactingStream` applies it to everything the CLI writes to stdout
and stderr (Rich, logging, a child's output passed through), and the crash log handler to the traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import IO, Any
from urllib.parse import urlsplit

# Names of process-environment variables that hold credentials.
SECRET_VARIABLES = (
    "VAULT_TOKEN",
    "GITLAB_TOKEN",
    "GITLAB_DEPLOY_TOKEN",
    "GITLAB_AGENT_TOKEN",
    "CI_PUSH_TOKEN",
    "CI_JOB_TOKEN",
    "GITOPS_REVIEW_TOKEN",
)
# Shorter values are not taken out: every line of output passes here, and a 4-letter value (a dev server's
# token `root`) would blank ordinary words. Every credential this tool handles is far longer.
MIN_LENGTH = 8
MASK = "***"

# scheme://userinfo@ (userinfo up to the authority's last '@', as urlsplit reads it).
_URL_USERINFO = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^\s/?#@]*(?:@[^\s/?#@]*)*)@"
)

_known: set[str] = set()


def remember(values: Iterable[str | None]) -> None:
    """Register secret values read by this process (each line of a multi-line value as well)."""
    for value in values:
        if not value:
            continue
        for piece in (value, value.strip(), *value.splitlines()):
            piece = piece.strip()
            if len(piece) >= MIN_LENGTH:
                _known.add(piece)


def url_password(value: str) -> str | None:
    """The password a URL carries (`scheme://user:password@host`), if any."""
    if "://" not in value or "@" not in value:
        return None
    try:
        return urlsplit(value.strip()).password
    except ValueError:  # an unparsable URL: the pattern in `redact` still masks its userinfo
        return None


def remember_url_passwords(values: Iterable[str | None]) -> None:
    """Register the password of every URL among `values` (VAULT_ADDR, --remote-base, a .env value)."""
    remember(url_password(value) for value in values if value)


def _masked_userinfo(match: re.Match[str]) -> str:
    scheme, userinfo = match["scheme"], match["userinfo"]
    user, colon, _password = userinfo.partition(":")
    if colon:
        return f"{scheme}{user}:{MASK}@"
    # A user alone: on http(s) it is how a token is pasted (https://TOKEN@host); ssh's `git@` is a login.
    return f"{scheme}{MASK}@" if scheme.lower().startswith("http") else match[0]


def _secrets() -> list[str]:
    found = set(_known)
    for name in SECRET_VARIABLES:
        value = os.environ.get(name, "").strip()
        if len(value) >= MIN_LENGTH:
            found.add(value)
    for value in os.environ.values():
        password = url_password(value)
        if password and len(password) >= MIN_LENGTH:
            found.add(password)
    return sorted(found, key=len, reverse=True)


def redact(text: str) -> str:
    """`text` with every known secret value and every URL password replaced by ***."""
    for value in _secrets():
        text = text.replace(value, MASK)
    if "://" in text and "@" in text:
        text = _URL_USERINFO.sub(_masked_userinfo, text)
    return text


class RedactingStream:
    """A text stream that redacts what is written to it before passing it on to `stream`."""

    def __init__(self, stream: IO[str]) -> None:
        self.wrapped = stream

    def write(self, text: str) -> int:
        self.wrapped.write(redact(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding, ...: the stream's own
        return getattr(self.wrapped, name)
