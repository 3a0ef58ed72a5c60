"""The `gitlab bootstrap` / `gitlab check` use cases, callable without the CLI."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from gitops_poc.gitlab import credentials
from gitops_poc.gitlab.client import URL_SOURCE, apply_plan, connect, read_state
from gitops_poc.gitlab.model import Desired, Difference, Kind, Plan, State, Step
from gitops_poc.gitlab.plan import check_gitlab, completed, desired, plan_gitlab
from gitops_poc.httpguard import checked_url
from gitops_poc.platform import Platform
from gitops_poc.tokenhome import Token, gitlab_address


@dataclass(frozen=True)
class Target:
    url: str  # e.g. https://gitlab.com
    token: Token | None  # None: nothing can be read (a dry run then plans against an empty GitLab)

    def __post_init__(self) -> None:
        checked_url(self.url, URL_SOURCE)  # a dry run without a token too: the URL is in its output


def gitlab_url(platform: Platform, environ: Mapping[str, str]) -> str:
    """GITLAB_URL, else in GitLab CI CI_SERVER_URL, else https://GITLAB_HOST: the GitLab the token is for."""
    found = gitlab_address(environ, platform.config.gitlab_host)
    assert found is not None  # GITLAB_HOST always has a value
    return found[0]


@dataclass(frozen=True)
class BootstrapResult:
    want: Desired
    plan: Plan
    done: tuple[Step, ...]
    stored: tuple[str, ...]  # keys written to the credentials file
    read_from_gitlab: bool


def _have(want: Desired, path: Path, environ: Mapping[str, str]) -> dict[str, bool]:
    """By .env key: is the deploy token / each agent's token in the credentials file or the environment?"""
    keys = (want.deploy_token_key, *(a.credential_key for a in want.agents))
    present = credentials.present_keys(path) | {k for k in keys if environ.get(k)}
    return {key: key in present for key in keys}


def bootstrap(
    platform: Platform,
    target: Target,
    credentials_file: Path,
    environ: Mapping[str, str],
    *,
    push_token: str | None,
    visibility: str = "private",
    dry_run: bool = False,
    progress: Callable[[Step], None] | None = None,
) -> BootstrapResult:
    want = desired(platform, push_token=push_token, visibility=visibility)
    if target.token is None:  # only a dry run gets here: the plan for a GitLab that has nothing yet
        plan = plan_gitlab(want, State(frozenset()), have_credentials=_have(want, credentials_file, environ))
        return BootstrapResult(want, plan, (), (), False)
    gl = connect(target.url, target.token)
    state = read_state(gl, want)
    want = completed(want, state)  # REPORT_URL, once GitLab has gitops-config's Pages address
    plan = plan_gitlab(want, state, have_credentials=_have(want, credentials_file, environ))
    if dry_run or not plan.steps:
        return BootstrapResult(want, plan, (), (), True)
    stored: list[str] = []

    def keep(values: dict[str, str]) -> None:
        credentials.store(credentials_file, values)
        stored.extend(values)

    done = apply_plan(gl, want, plan, keep, progress)
    return BootstrapResult(want, plan, tuple(done), tuple(stored), True)


def check(
    platform: Platform, target: Target, *, visibility: str = "private"
) -> tuple[Desired, list[Difference]]:
    assert target.token is not None
    # The push token's value is not compared (GitLab may hide it); its flags and presence are.
    want = desired(platform, push_token=None, visibility=visibility)
    gl = connect(target.url, target.token)
    state = read_state(gl, want)
    return completed(want, state), check_gitlab(want, state)


_REPOSITORY_KINDS = (Kind.GROUP, Kind.PROJECT)
_NEW_PROJECT_KINDS = (Kind.PROTECTION, Kind.JOB_TOKEN)


def ensure_projects(
    platform: Platform,
    target: Target,
    *,
    dry_run: bool = False,
    progress: Callable[[Step], None] | None = None,
) -> list[Step]:
    """For `publish` to GitLab: the group and the missing projects (empty, branch protected, a service's
    CI job token allowlist admitting gitops-config); nothing else."""
    assert target.token is not None
    # No review token: listing group access tokens needs the Owner role, creating projects does not.
    want = replace(desired(platform, push_token=None), review_token=None)
    gl = connect(target.url, target.token)
    # Only repository steps are kept: whether tokens are in a credentials file does not matter here.
    # No project settings are read (job-token scopes, Pages): only the new projects get an allowlist here.
    plan = plan_gitlab(want, read_state(gl, want, settings=False))
    missing = {s.target for s in plan.steps if s.kind is Kind.PROJECT}
    # Protection and the allowlist only of the projects created now: an existing project's settings are
    # bootstrap's to change (and need the Maintainer role there), `gitlab check` reports them.
    steps = tuple(
        s
        for s in plan.steps
        if s.kind in _REPOSITORY_KINDS or (s.kind in _NEW_PROJECT_KINDS and s.target.split(":")[0] in missing)
    )
    if dry_run or not steps:
        return list(steps)

    def refuse(values: dict[str, str]) -> None:
        raise AssertionError("publish never asks GitLab for tokens")

    return apply_plan(gl, want, Plan(steps), refuse, progress)
