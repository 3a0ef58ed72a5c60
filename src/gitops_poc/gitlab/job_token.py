"""Pure planning of the CI job-token allowlists: every service project admits gitops-config's job token, so
gitops-config's pipeline reads the services' repositories with the token GitLab gives each job (valid while
the job runs, read-only on another project's repository) instead of a stored secret."""

from __future__ import annotations

from gitops_poc.gitlab.model import Desired, Difference, JobTokenScope, Kind, State, Step

LIMIT = "access limited to the allowlist"


def reader_path(want: Desired) -> str:
    assert want.job_token_reader is not None
    return f"{want.group}/{want.job_token_reader}"


def _admit(want: Desired) -> str:
    return f"admits {reader_path(want)}'s CI job token (its pipeline reads this repository)"


def plan_job_tokens(want: Desired, state: State) -> list[Step]:
    """One step per target project whose allowlist lacks the reader or whose access is not limited; after
    every project step, since the reader may be created in the same run. A project created in this run is
    planned as lacking both (a GitLab older than 15.9 creates projects unlimited); one whose scope was not
    read gets no step."""
    steps: list[Step] = []
    for name in want.job_token_targets():
        project = state.projects.get(name)
        if project is None:
            scope = JobTokenScope(limited=False, allowed=frozenset())
        elif project.job_token is None:
            continue
        else:
            scope = project.job_token
        missing = reader_path(want) not in scope.allowed
        if not missing and scope.limited:
            continue
        details = [_admit(want)] if missing else []
        if not scope.limited:
            details.append(LIMIT)
        action = "create" if missing else "update"
        steps.append(Step(Kind.JOB_TOKEN, action, f"{want.group}/{name}", "; ".join(details)))
    return steps


def check_job_tokens(want: Desired, state: State) -> list[Difference]:
    found: list[Difference] = []
    for name in want.job_token_targets():
        project = state.projects.get(name)
        if project is None or project.job_token is None:  # a missing project is reported as such
            continue
        target = f"{want.group}/{name}"
        if reader_path(want) not in project.job_token.allowed:
            found.append(
                Difference(
                    target,
                    f"{reader_path(want)} is not in its CI job token allowlist: "
                    f"{want.job_token_reader}'s pipeline cannot read this repository",
                )
            )
        if not project.job_token.limited:
            found.append(
                Difference(
                    target,
                    "CI job token access is not limited to the allowlist: any project's jobs may read it",
                )
            )
    return found


__all__ = ["LIMIT", "check_job_tokens", "plan_job_tokens", "reader_path"]
