"""Post the review as the merge request's one note (found again by its hidden marker and updated in place).
A post that fails is reported, never the review's verdict: the job's exit code stays the review's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gitops_poc.digits import is_natural
from gitops_poc.errors import GitopsError, UsageError
from gitops_poc.gitlab.plan import REVIEW_TOKEN_VARIABLE as TOKEN_VARIABLE  # set up by `gitlab bootstrap`
from gitops_poc.review.markdown import MARKER
from gitops_poc.tokenhome import Token, gitlab_home


@dataclass(frozen=True)
class Target:
    url: str
    project: str  # id or full path
    merge_request: int


def target_from(environ: Mapping[str, str]) -> Target:
    """The merge request this pipeline runs for: GitLab CI's predefined variables (GITLAB_URL wins over
    CI_SERVER_URL for a GitLab reached under another address)."""
    url = environ.get("GITLAB_URL") or environ.get("CI_SERVER_URL") or ""
    project = environ.get("CI_MERGE_REQUEST_PROJECT_ID") or environ.get("CI_PROJECT_ID") or ""
    iid = environ.get("CI_MERGE_REQUEST_IID") or ""
    if not url or not project or not is_natural(iid):
        raise UsageError(
            "--post needs a merge-request pipeline: CI_SERVER_URL (or GITLAB_URL), CI_PROJECT_ID and "
            "CI_MERGE_REQUEST_IID"
        )
    return Target(url, project, int(iid))


def post(body: str, target: Target, environ: Mapping[str, str]) -> str:
    """created / updated / unchanged; GitopsError when GitLab cannot be reached or refuses."""
    from gitops_poc.gitlab.client import connect, upsert_note  # python-gitlab only when posting

    token = environ.get(TOKEN_VARIABLE) or ""
    if not token:
        raise UsageError(f"{TOKEN_VARIABLE} is not set: the note cannot be posted (see docs/review.md)")
    if MARKER not in body:
        raise GitopsError("the note has no marker: it could never be found again to update")
    home = gitlab_home(environ, None, (target.url, "GITLAB_URL or CI_SERVER_URL"))
    assert home is not None  # the token is for the merge request's own GitLab: nothing else is connected to
    gl = connect(target.url, Token(token, TOKEN_VARIABLE, home))
    return upsert_note(gl, target.project, target.merge_request, MARKER, body)
