"""Pure planning: the configuration -> what GitLab should hold; (desired, state) -> steps and differences."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from gitops_poc.config import agent_token_key
from gitops_poc.gitlab.access_token import check_access_token, plan_access_token
from gitops_poc.gitlab.job_token import check_job_tokens, plan_job_tokens
from gitops_poc.gitlab.model import (
    REPORTER,
    AccessToken,
    Agent,
    Desired,
    Difference,
    Kind,
    Plan,
    Protection,
    State,
    Step,
    Variable,
)
from gitops_poc.platform import GITOPS_CONFIG_REPO, Platform

PUSH_TOKEN_VARIABLE = "CI_PUSH_TOKEN"  # the write-back token of the pull-mode update jobs
REVIEW_TOKEN_VARIABLE = "GITOPS_REVIEW_TOKEN"  # what `review --post` comments with (review/post.py)
REPORT_URL_VARIABLE = "REPORT_URL"  # what `review` links the report page by (cli/review.py --report-url)
REVIEW_TOKEN_DAYS = 180  # lifetime of an issued review token (GitLab's default maximum is 365)
REVIEW_TOKEN_RENEW_DAYS = 30  # a bootstrap run in the last 30 days of its life rotates it
VISIBILITIES = ("private", "internal", "public")


def desired(platform: Platform, *, push_token: str | None, visibility: str = "private") -> Desired:
    cfg = platform.config
    variables = (
        # Masked and protected: only pipelines on protected branches see it, and never in job logs (bug 16).
        Variable(PUSH_TOKEN_VARIABLE, push_token, masked=True, protected=True, secret=True),
        Variable("GITOPS_MODE", cfg.gitops_mode, masked=False, protected=False),
        Variable("CI_TOOL_IMAGE", platform.ci_tool_image, masked=False, protected=False),
    )
    return Desired(
        group=cfg.gitlab_group,
        projects=(GITOPS_CONFIG_REPO, *platform.services),
        visibility=visibility,
        default_branch=cfg.git_branch,
        protection=Protection(cfg.git_branch),
        variables=variables,
        deploy_token_name=f"{platform.project_name}-registry",
        deploy_token_scopes=("read_registry",),
        agent_project=GITOPS_CONFIG_REPO,
        agents=agents(platform),
        review_token=review_token(platform),
        # gitops-config's pipeline (review, lint, init --check, the report) reads every service repository.
        job_token_reader=GITOPS_CONFIG_REPO,
        # gitops-config's `pages` job publishes the report; the services' review notes link it.
        report_project=GITOPS_CONFIG_REPO,
    )


def completed(want: Desired, state: State) -> Desired:
    """`want` with what only GitLab knows: REPORT_URL set to the report project's Pages address, once
    GitLab has one (plan, check and apply all take this)."""
    if want.report_project is None or state.pages_url is None:
        return want
    if any(v.key == REPORT_URL_VARIABLE for v in want.variables):  # completed already
        return want
    report_url = Variable(REPORT_URL_VARIABLE, state.pages_url, masked=False, protected=False)
    return replace(want, variables=(*want.variables, report_url))


def review_token(platform: Platform) -> AccessToken:
    """The group access token review notes are posted with (docs/review.md says why this kind): api is the
    only scope that writes notes, Reporter the least role that comments in private projects. Its group
    variable is masked and hidden but not protected, so merge-request pipelines of feature branches see it."""
    return AccessToken(
        name=f"{platform.project_name}-review",
        scopes=("api",),
        access_level=REPORTER,
        lifetime_days=REVIEW_TOKEN_DAYS,
        renew_within_days=REVIEW_TOKEN_RENEW_DAYS,
        variable=Variable(
            REVIEW_TOKEN_VARIABLE, None, masked=True, protected=False, secret=True, hidden=True
        ),
    )


def agents(platform: Platform) -> tuple[Agent, ...]:
    """One agent per cluster push mode deploys to (`Platform.agent_clusters`), each with its own token."""
    found = []
    for cluster in platform.agent_clusters:
        name = platform.agent_name_of_cluster(cluster)
        found.append(Agent(name, f"{name}-token", agent_token_key(cluster)))
    return tuple(found)


def agent_target(want: Desired, agent: Agent) -> str:
    """How steps and differences name an agent: `<group>/<project>:<agent>` (its kube context in CI)."""
    return f"{want.group}/{want.agent_project}:{agent.name}"


def agent_of_step(want: Desired, step: Step) -> Agent:
    """The agent an AGENT or AGENT_TOKEN step is about (agent names hold no ':' or '/')."""
    name = step.target.rpartition(":")[2].split("/")[0]
    return next(a for a in want.agents if a.name == name)


def group_chain(full_path: str) -> list[str]:
    """`a/b/c` -> [`a`, `a/b`, `a/b/c`]: parents are created before children."""
    parts = full_path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _protection_detail(p: Protection) -> str:
    force = "force push allowed" if p.allow_force_push else "no force push"
    return f"push: level {p.push_access_level}, merge: level {p.merge_access_level}, {force}"


def plan_gitlab(want: Desired, state: State, *, have_credentials: Mapping[str, bool] | None = None) -> Plan:
    """The writes that bring GitLab to `want`; empty when it is there. `have_credentials` says, by .env key,
    whether the deploy and agent tokens are already in the credentials file (GitLab shows a token only when
    created)."""
    want = completed(want, state)
    have = have_credentials or {}
    steps: list[Step] = []
    notes: list[str] = []
    for path in group_chain(want.group):
        if path not in state.groups:
            steps.append(Step(Kind.GROUP, "create", path, want.visibility))
    for name in want.projects:
        project = state.projects.get(name)
        target = f"{want.group}/{name}"
        if project is None:
            steps.append(
                Step(
                    Kind.PROJECT,
                    "create",
                    target,
                    f"{want.visibility}, empty, default branch {want.default_branch}",
                )
            )
            steps.append(
                Step(
                    Kind.PROTECTION,
                    "create",
                    f"{target}:{want.protection.branch}",
                    _protection_detail(want.protection),
                )
            )
            continue
        if project.visibility != want.visibility:
            steps.append(
                Step(Kind.VISIBILITY, "update", target, f"{project.visibility} -> {want.visibility}")
            )
        if project.protection != want.protection:
            action = "create" if project.protection is None else "update"
            steps.append(
                Step(
                    Kind.PROTECTION,
                    action,
                    f"{target}:{want.protection.branch}",
                    _protection_detail(want.protection),
                )
            )
    steps.extend(plan_job_tokens(want, state))
    for var in want.variables:
        current = state.variables.get(var.key)
        flags = f"masked={str(var.masked).lower()}, protected={str(var.protected).lower()}"
        if var.value is None:
            if current is None:
                notes.append(
                    f"{var.key} is not set: give it through the environment or --push-token-file "
                    "(pull-mode update jobs push with it)"
                )
            elif (current.masked, current.protected) != (var.masked, var.protected):
                steps.append(Step(Kind.VARIABLE, "update", var.key, flags))
            continue
        shown = flags if var.secret else f"{var.value!r}, {flags}"
        if current is None:
            steps.append(Step(Kind.VARIABLE, "create", var.key, shown))
        elif (current.masked, current.protected) != (var.masked, var.protected) or (
            current.value is not None and current.value != var.value
        ):
            steps.append(Step(Kind.VARIABLE, "update", var.key, shown))
    if want.deploy_token_name not in state.deploy_tokens:
        steps.append(
            Step(Kind.DEPLOY_TOKEN, "create", want.deploy_token_name, ", ".join(want.deploy_token_scopes))
        )
    elif not have.get(want.deploy_token_key, False):
        notes.append(
            f"deploy token {want.deploy_token_name} exists but its secret is not in the credentials file "
            "(GitLab shows it only once): revoke it in GitLab and run bootstrap again"
        )
    for wanted in want.agents:
        agent = agent_target(want, wanted)
        if wanted.name not in state.agents:
            steps.append(Step(Kind.AGENT, "create", agent))
        if wanted.token_name not in state.agents.get(wanted.name, ()):
            steps.append(Step(Kind.AGENT_TOKEN, "create", f"{agent}/{wanted.token_name}"))
        elif not have.get(wanted.credential_key, False):
            notes.append(
                f"agent token {wanted.token_name} exists but is not in the credentials file as "
                f"{wanted.credential_key} (GitLab shows it only once): revoke it in GitLab and run bootstrap "
                "again"
            )
    if want.review_token is not None:
        steps.extend(plan_access_token(want.review_token, state))
    if (
        want.report_project is not None
        and state.pages_url is None
        and REPORT_URL_VARIABLE not in state.variables
    ):
        notes.append(
            f"{REPORT_URL_VARIABLE} is not set: {want.report_project} has no GitLab Pages site yet (its "
            "default branch's `pages` job publishes the report); run bootstrap again after its first pipeline"
        )
    return Plan(tuple(steps), tuple(notes))


def check_gitlab(want: Desired, state: State) -> list[Difference]:
    """How GitLab differs from the plan, in words (what `gitlab check` prints)."""
    want = completed(want, state)
    found: list[Difference] = []
    for path in group_chain(want.group):
        if path not in state.groups:
            found.append(Difference(path, "group is missing"))
    for name in want.projects:
        target = f"{want.group}/{name}"
        project = state.projects.get(name)
        if project is None:
            found.append(Difference(target, "project is missing"))
            continue
        if project.visibility != want.visibility:
            found.append(
                Difference(target, f"visibility is {project.visibility}, the plan says {want.visibility}")
            )
        if project.protection is None:
            found.append(Difference(target, f"branch {want.protection.branch} is not protected"))
        elif project.protection != want.protection:
            found.append(
                Difference(
                    target,
                    f"branch {want.protection.branch} protection differs: "
                    f"{_protection_detail(project.protection)}",
                )
            )
    found.extend(check_job_tokens(want, state))
    for var in want.variables:
        current = state.variables.get(var.key)
        if current is None:
            found.append(Difference(var.key, "variable is missing"))
            continue
        if var.masked and not current.masked:
            found.append(Difference(var.key, "variable is not masked"))
        if var.protected and not current.protected:
            found.append(Difference(var.key, "variable is not protected"))
        if (
            not var.secret
            and var.value is not None
            and current.value is not None
            and current.value != var.value
        ):
            found.append(Difference(var.key, f"variable is {current.value!r}, the plan says {var.value!r}"))
    if want.deploy_token_name not in state.deploy_tokens:
        found.append(Difference(want.deploy_token_name, "deploy token is missing"))
    for wanted in want.agents:
        agent = agent_target(want, wanted)
        if wanted.name not in state.agents:
            found.append(Difference(agent, "agent is not registered"))
        elif wanted.token_name not in state.agents[wanted.name]:
            found.append(Difference(agent, f"agent has no active token {wanted.token_name}"))
    if want.review_token is not None:
        found.extend(check_access_token(want.review_token, state))
    return found


__all__ = [
    "VISIBILITIES",
    "agent_of_step",
    "agent_target",
    "agents",
    "check_gitlab",
    "completed",
    "desired",
    "group_chain",
    "plan_gitlab",
    "review_token",
]
