"""Credentials for one git process over HTTPS, through the environment only.

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

from gitops_poc.urls import origin

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


JOB_TOKEN_USER = "gitlab-ci-token"  # the user name GitLab takes a CI job token with over git


def _same_origin(url: str, other: str) -> bool:
    try:
        return origin(url) == origin(other)
    except ValueError:
        return False


def reading_credential(url: str | None, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """(user, token) to read the repositories under an http(s) `url` with (None: another kind of remote, or
    no token). GITLAB_TOKEN when set; else, in a GitLab CI job, the job's own CI_JOB_TOKEN, only for its own
    GitLab (CI_SERVER_URL's origin): it is GitLab's to check against each project's job-token allowlist, and
    no other server ever sees it."""
    if url is None or not url.startswith(("http://", "https://")):
        return None
    if token := environ.get("GITLAB_TOKEN"):
        return "oauth2", token
    job_token, server = environ.get("CI_JOB_TOKEN"), environ.get("CI_SERVER_URL")
    if job_token and server and _same_origin(url, server):
        return JOB_TOKEN_USER, job_token
    return None


@contextmanager
def reading_env(url: str | None, environ: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """`askpass_env` with the `reading_credential` of `url`: what git reads the platform's repositories
    with (`status`, `report`, and a gitops-config clone's service values)."""
    found = reading_credential(url, environ)
    with askpass_env(found[1] if found else None, found[0] if found else "oauth2") as env:
        yield env
