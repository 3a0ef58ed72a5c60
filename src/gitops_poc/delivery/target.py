"""Where a write-back goes and who makes it: the service repository, its remote and branch, the pipeline's
identity and number, all from options or GitLab CI's predefined variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gitops_poc.argv import check_value
from gitops_poc.delivery.gitops import Identity, Repository, strip_credentials
from gitops_poc.digits import natural
from gitops_poc.errors import UsageError
from gitops_poc.refname import branch_problem

TOOL_IDENTITY = Identity("gitops-poc", "gitops-poc@localhost")


@dataclass(frozen=True)
class Target:
    repo: Repository
    url: str  # without credentials; safe to show
    branch: str
    identity: Identity
    pipeline: int | None
    pipeline_url: str | None
    notes: tuple[str, ...] = ()


def pipeline_number(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    assert value is not None
    number = natural(value) if len(value) <= 18 else None
    if number is None:
        raise UsageError(
            f"--pipeline {value!r} is not a pipeline number (CI_PIPELINE_IID: ASCII digits 0-9, at most 18)"
        )
    return number


def resolve_target(
    path: Path,
    environ: Mapping[str, str],
    *,
    remote: str | None,
    branch: str | None,
    pipeline: str | None,
    push: bool = True,
) -> Target:
    """The repository holding `path` and the remote branch to write to.

    Remote: `--remote` (a name, URL or path), else `$CI_PROJECT_URL.git` in GitLab CI (origin's URL there
    carries the job token), else origin. Credentials in a URL are dropped: the credential helper supplies
    them. Branch: `--branch`, else CI_COMMIT_BRANCH, CI_DEFAULT_BRANCH, the checked-out branch.
    """
    if remote is not None:
        check_value(remote, "--remote (GITOPS_POC_REMOTE)")
    repo = Repository(path, environ)
    repo.path = repo.toplevel()
    notes: list[str] = []
    if not push and not remote:
        raw = ""  # a local commit needs no remote
    elif remote:
        raw = repo.remote_url(remote)
    elif environ.get("CI_PROJECT_URL"):
        raw = check_value(environ["CI_PROJECT_URL"], "CI_PROJECT_URL").rstrip("/") + ".git"
    else:
        raw = repo.remote_url("origin")
    if raw:
        check_value(raw, f"the remote URL of {remote or 'origin'}")
    url, had = strip_credentials(raw)
    if had:
        notes.append(
            "the remote URL carried credentials; they are not used (the credential helper supplies them)"
        )
    if branch is not None and not branch.strip():
        # Given but empty (`--branch ""`, an unset variable in a CI script): never "the default branch".
        raise UsageError(
            f"--branch {branch!r} is empty: name the branch to write to, or leave --branch out "
            "(CI_COMMIT_BRANCH, CI_DEFAULT_BRANCH, else the checked-out branch)"
        )
    source, chosen = next(
        ((name, value) for name, value in _branch_sources(branch, environ) if value),
        ("the checked-out branch", repo.current_branch()),
    )
    if not chosen:
        raise UsageError("no branch to write to: HEAD is detached; pass --branch (CI sets CI_COMMIT_BRANCH)")
    if problem := branch_problem(chosen):
        raise UsageError(f"{source} {chosen!r} is not a branch name git accepts: {problem}")
    return Target(
        repo,
        url,
        chosen,
        identity(repo, environ),
        pipeline_number(pipeline),
        environ.get("CI_PIPELINE_URL"),
        tuple(notes),
    )


def _branch_sources(branch: str | None, environ: Mapping[str, str]) -> list[tuple[str, str | None]]:
    return [
        ("--branch", branch),
        ("CI_COMMIT_BRANCH", environ.get("CI_COMMIT_BRANCH")),
        ("CI_DEFAULT_BRANCH", environ.get("CI_DEFAULT_BRANCH")),
    ]


def identity(repo: Repository, environ: Mapping[str, str]) -> Identity:
    """The user the pipeline runs for (GITLAB_USER_NAME/EMAIL), else git's user, else the tool's own."""
    name, email = environ.get("GITLAB_USER_NAME"), environ.get("GITLAB_USER_EMAIL")
    if name and email:
        return Identity(name, email)
    name = environ.get("GIT_COMMITTER_NAME") or repo.config("user.name")
    email = environ.get("GIT_COMMITTER_EMAIL") or repo.config("user.email")
    return Identity(name, email) if name and email else TOOL_IDENTITY
