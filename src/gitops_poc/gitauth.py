"""Credentials for one git process over HTTPS, through the environment only, for the token's home alone.

git asks GIT_ASKPASS for the user name and password; the helper is a tiny script that prints them from
variables of git's own environment. The token is never in argv, never in a URL, never in `.git/config`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from gitops_poc.tokenhome import Home, Token, reading_token, withheld
from gitops_poc.urls import origin, show_origin

_USER_VAR = "GITOPS_POC_GIT_USERNAME"
_PASSWORD_VAR = "GITOPS_POC_GIT_PASSWORD"
_SCRIPT = f"""#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "${_USER_VAR}" ;;
  *) printf '%s\\n' "${_PASSWORD_VAR}" ;;
esac
"""


@contextmanager
def askpass_env(token: Token | None) -> Iterator[dict[str, str]]:
    """Environment variables to add to git's; empty when there is no token (public or SSH remotes). The
    token's home goes with it: `for_remote` (gitnet.talk) hands it only to a remote on that origin."""
    if token is None:
        yield {}
        return
    folder = Path(tempfile.mkdtemp(prefix="gitops-poc-askpass-"))
    try:
        script = folder / "askpass"
        script.write_text(_SCRIPT, encoding="utf-8")
        os.chmod(script, 0o700)
        yield {
            "GIT_ASKPASS": str(script),
            _USER_VAR: token.user,
            _PASSWORD_VAR: token.value,
            **bound(token.home, token.name),
            "GIT_TERMINAL_PROMPT": "0",
            # A credential helper configured by the user must not store the token on disk.
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "credential.helper",
            "GIT_CONFIG_VALUE_0": "",
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# Not secret: the token's origin, and its name and home as messages show them.
_HOME_VAR = "GITOPS_POC_GIT_TOKEN_HOME"
_ABOUT_VAR = "GITOPS_POC_GIT_TOKEN_ABOUT"
_DROPPED = ("GIT_ASKPASS", _PASSWORD_VAR, _USER_VAR, _HOME_VAR, _ABOUT_VAR)


def bound(home: Home, name: str) -> dict[str, str]:
    """The variables (not secret) that bind the token `name` in git's environment to `home`: `for_remote`
    reads them. Whoever hands git a token (askpass here, delivery's credential helper) adds them."""
    return {_HOME_VAR: show_origin(home.origin), _ABOUT_VAR: f"{name}\n{home}"}


def for_remote(remote: str, env: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    """`env` for a git process talking to `remote`: as it is when it holds no token or `remote` is on the
    token's home; else without the token (askpass and credential helpers dropped, other settings kept),
    and the one line saying why (for git's failure)."""
    home = env.get(_HOME_VAR)
    if home is None or (remote.startswith(("http://", "https://")) and _same_origin(remote, home)):
        return dict(env), None
    kept = {k: v for k, v in env.items() if k not in _DROPPED and not k.startswith("GIT_CONFIG_")}
    kept.update(_without_credential_helpers(env), GIT_TERMINAL_PROMPT="0")
    name, _, shown_home = env.get(_ABOUT_VAR, f"the token\n{home}").partition("\n")
    return kept, withheld(name, shown_home, remote)


def _without_credential_helpers(env: Mapping[str, str]) -> dict[str, str]:
    """git's GIT_CONFIG_* settings from `env` minus every credential.* one, then helpers cleared."""
    raw = env.get("GIT_CONFIG_COUNT", "")
    count = int(raw) if raw.isascii() and raw.isdigit() else 0
    pairs = [(env.get(f"GIT_CONFIG_KEY_{i}", ""), env.get(f"GIT_CONFIG_VALUE_{i}", "")) for i in range(count)]
    pairs = [(k, v) for k, v in pairs if k and not k.lower().startswith("credential.")]
    pairs.append(("credential.helper", ""))
    found = {"GIT_CONFIG_COUNT": str(len(pairs))}
    for i, (key, value) in enumerate(pairs):
        found[f"GIT_CONFIG_KEY_{i}"], found[f"GIT_CONFIG_VALUE_{i}"] = key, value
    return found


def _same_origin(url: str, other: str) -> bool:
    try:
        return origin(url) == origin(other)
    except ValueError:
        return False


@contextmanager
def reading_env(
    url: str | None, environ: Mapping[str, str], gitlab_host: str | None
) -> Iterator[dict[str, str]]:
    """`askpass_env` with the `reading_token` of `url`: what git reads the platform's repositories with
    (`status`, `report`, and a gitops-config clone's service values)."""
    with askpass_env(reading_token(url, environ, gitlab_host)) as env:
        yield env
