"""Credentials for one git process over HTTPS, through the environment only.

git asks GIT_ASKPASS for the user name and password; the helper is a tiny script that prints them from
variables of git's own environment. The token is never in argv, never in a URL, never in `.git/config`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_USER_VAR = "GITOPS_POC_GIT_USERNAME"
_PASSWORD_VAR = "GITOPS_POC_GIT_PASSWORD"
_SCRIPT = f"""#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "${_USER_VAR}" ;;
  *) printf '%s\\n' "${_PASSWORD_VAR}" ;;
esac
"""


@contextmanager
def askpass_env(token: str | None, username: str = "oauth2") -> Iterator[dict[str, str]]:
    """Environment variables to add to git's; empty when there is no token (public or SSH remotes)."""
    if not token:
        yield {}
        return
    folder = Path(tempfile.mkdtemp(prefix="gitops-poc-askpass-"))
    try:
        script = folder / "askpass"
        script.write_text(_SCRIPT, encoding="utf-8")
        os.chmod(script, 0o700)
        yield {
            "GIT_ASKPASS": str(script),
            _USER_VAR: username,
            _PASSWORD_VAR: token,
            "GIT_TERMINAL_PROMPT": "0",
            # A credential helper configured by the user must not store the token on disk.
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "credential.helper",
            "GIT_CONFIG_VALUE_0": "",
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
