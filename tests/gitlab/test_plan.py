"""The GitLab plan as data: configuration and state in, steps and differences out."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from gitops_poc.config import load_config
from gitops_poc.gitlab.model import (
    AccessTokenState,
    Agent,
    JobTokenScope,
    Kind,
    Plan,
    ProjectState,
    Protection,
    State,
    Step,
    VariableState,
)
from gitops_poc.gitlab.plan import check_gitlab, desired, group_chain, plan_gitlab
from gitops_poc.platform import Platform

PLATFORM = Platform(load_config(None, {"GITLAB_GROUP": "acme/platform", "SERVICES": "api billing"}))
WANT = desired(PLATFORM, push_token="glpat-x")
FULL = {"GITLAB_DEPLOY_TOKEN": True, "GITLAB_AGENT_TOKEN": True}
TODAY = date(2026, 12, 6)
REVIEW = "acme-platform-review"
PAGES = "https://acme.pages.example.com/platform/gitops-config"


def review_token(days_left: int | None = 100, token_id: int = 7, level: int = 20) -> AccessTokenState:
    expires = None if days_left is None else TODAY + timedelta(days=days_left)
    return AccessTokenState(token_id, REVIEW, ("api",), level, expires)


ADMITTED = JobTokenScope(limited=True, allowed=frozenset({"acme/platform/gitops-config"}))


def complete_state() -> State:
    projects = {
        p: ProjectState(p, i, "private", Protection("main"), None if p == "gitops-config" else ADMITTED)
        for i, p in enumerate(WANT.projects)
    }
    variables = {v.key: VariableState(v.key, v.value, v.masked, v.protected) for v in WANT.variables}
    variables["GITOPS_REVIEW_TOKEN"] = VariableState("GITOPS_REVIEW_TOKEN", None, True, False, hidden=True)
    variables["REPORT_URL"] = VariableState("REPORT_URL", PAGES, False, False)
    return State(
        frozenset({"acme", "acme/platform"}),
        projects,
        variables,
        (WANT.deploy_token_name,),
        {a.name: (a.token_name,) for a in WANT.agents},
        (review_token(),),
        TODAY,
        PAGES,
    )


def test_desired_from_the_configuration() -> None:
    assert WANT.group == "acme/platform"
    assert WANT.projects == ("gitops-config", "api", "billing")
    assert WANT.protection == Protection("main", 40, 40, False)
    variables = {v.key: v for v in WANT.variables}
    push = variables["CI_PUSH_TOKEN"]
    assert (push.masked, push.protected, push.secret) == (True, True, True)
    assert variables["GITOPS_MODE"].value == "pull" and not variables["GITOPS_MODE"].protected
    assert variables["CI_TOOL_IMAGE"].value == "registry.gitlab.com/acme/platform/gitops-poc:0.1.0"
    assert WANT.deploy_token_scopes == ("read_registry",)
    assert WANT.agents == (Agent("minikube-agent", "minikube-agent-token", "GITLAB_AGENT_TOKEN"),)


def test_group_chain() -> None:
    assert group_chain("a/b/c") == ["a", "a/b", "a/b/c"]


def test_an_empty_gitlab_gets_everything_in_order() -> None:
    plan = plan_gitlab(WANT, State(frozenset()))
    kinds = [(s.kind, s.target) for s in plan.steps]
    assert kinds[:2] == [(Kind.GROUP, "acme"), (Kind.GROUP, "acme/platform")]
    assert (Kind.PROJECT, "acme/platform/billing") in kinds
    assert (Kind.PROTECTION, "acme/platform/billing:main") in kinds
    # After every project: gitops-config, whose job token the services admit, may be created in this run.
    jobs = [i for i, (kind, _) in enumerate(kinds) if kind is Kind.JOB_TOKEN]
    assert [kinds[i][1] for i in jobs] == ["acme/platform/api", "acme/platform/billing"]
    assert min(jobs) > max(i for i, (kind, _) in enumerate(kinds) if kind is Kind.PROTECTION)
    assert plan.steps[jobs[0]].describe() == (
        "create CI job token allowlist acme/platform/api (admits acme/platform/gitops-config's CI job token "
        "(its pipeline reads this repository); access limited to the allowlist)"
    )
    assert kinds[-4:] == [
        (Kind.DEPLOY_TOKEN, "acme-platform-registry"),
        (Kind.AGENT, "acme/platform/gitops-config:minikube-agent"),
        (Kind.AGENT_TOKEN, "acme/platform/gitops-config:minikube-agent/minikube-agent-token"),
        (Kind.ACCESS_TOKEN, REVIEW),
    ]
    assert len(plan) == 2 + 3 * 2 + 2 + 3 + 3 + 1


def test_a_complete_gitlab_needs_nothing() -> None:
    plan = plan_gitlab(WANT, complete_state(), have_credentials=FULL)
    assert plan.steps == () and plan.notes == ()
    assert check_gitlab(WANT, complete_state()) == []


def test_secret_values_never_appear_in_steps() -> None:
    plan = plan_gitlab(WANT, State(frozenset()))
    push = next(s for s in plan.steps if s.target == "CI_PUSH_TOKEN")
    assert push == Step(Kind.VARIABLE, "create", "CI_PUSH_TOKEN", "masked=true, protected=true")
    assert all("glpat-x" not in s.describe() for s in plan.steps)


def test_drift_is_planned_and_reported() -> None:
    state = complete_state()
    state.projects["api"] = ProjectState("api", 9, "public", None)
    state.variables["CI_PUSH_TOKEN"] = VariableState("CI_PUSH_TOKEN", "glpat-x", masked=True, protected=False)
    state.variables["GITOPS_MODE"] = VariableState("GITOPS_MODE", "push", masked=False, protected=False)
    del state.variables["CI_TOOL_IMAGE"]
    steps = plan_gitlab(WANT, state, have_credentials=FULL).steps
    assert [s.describe() for s in steps] == [
        "update visibility acme/platform/api (public -> private)",
        "create protected branch acme/platform/api:main (push: level 40, merge: level 40, no force push)",
        "update variable CI_PUSH_TOKEN (masked=true, protected=true)",
        "update variable GITOPS_MODE ('pull', masked=false, protected=false)",
        "create variable CI_TOOL_IMAGE ('registry.gitlab.com/acme/platform/gitops-poc:0.1.0', "
        "masked=false, protected=false)",
    ]
    problems = {(d.target, d.problem) for d in check_gitlab(WANT, state)}
    assert problems == {
        ("acme/platform/api", "visibility is public, the plan says private"),
        ("acme/platform/api", "branch main is not protected"),
        ("CI_PUSH_TOKEN", "variable is not protected"),
        ("GITOPS_MODE", "variable is 'push', the plan says 'pull'"),
        ("CI_TOOL_IMAGE", "variable is missing"),
    }


def test_a_changed_push_token_value_is_updated_but_a_hidden_one_is_left() -> None:
    state = complete_state()
    state.variables["CI_PUSH_TOKEN"] = VariableState("CI_PUSH_TOKEN", "old", masked=True, protected=True)
    assert [s.action for s in plan_gitlab(WANT, state, have_credentials=FULL).steps] == ["update"]
    state.variables["CI_PUSH_TOKEN"] = VariableState("CI_PUSH_TOKEN", None, masked=True, protected=True)
    assert plan_gitlab(WANT, state, have_credentials=FULL).steps == ()


def test_without_a_push_token_the_variable_is_left_and_a_note_says_so() -> None:
    want = desired(PLATFORM, push_token=None)
    state = complete_state()
    del state.variables["CI_PUSH_TOKEN"]
    plan = plan_gitlab(want, state, have_credentials=FULL)
    assert plan.steps == ()
    assert "CI_PUSH_TOKEN is not set" in plan.notes[0]


def test_tokens_that_exist_but_are_not_in_the_credentials_file_are_noted_not_recreated() -> None:
    plan = plan_gitlab(WANT, complete_state(), have_credentials={})
    assert plan.steps == ()
    assert len(plan.notes) == 2 and "shows it only once" in plan.notes[0]


def test_a_broken_protection_is_replaced() -> None:
    state = complete_state()
    state.projects["billing"] = ProjectState("billing", 3, "private", Protection("main", 30, 40, True))
    (step,) = plan_gitlab(WANT, state, have_credentials=FULL).steps
    assert (step.kind, step.action, step.target) == (Kind.PROTECTION, "update", "acme/platform/billing:main")
    (diff,) = check_gitlab(WANT, state)
    assert "force push allowed" in diff.problem


def test_two_clusters_register_an_agent_each_with_its_own_token_key() -> None:
    two = Platform(load_config(None, {"GITLAB_GROUP": "acme", "ENVIRONMENT_CLUSTERS": "prod=prod-eu"}))
    want = replace(desired(two, push_token=None), review_token=None)  # the review token: tests below
    assert want.agents == (
        Agent("minikube-agent", "minikube-agent-token", "GITLAB_AGENT_TOKEN"),
        Agent("prod-eu", "prod-eu-token", "GITLAB_AGENT_TOKEN_PROD_EU"),
    )
    # Each agent is the one CI deploys the cluster's environments through.
    assert {f"acme/gitops-config:{a.name}" for a in want.agents} == {
        two.agent_context_of(env) for env in two.environments
    }
    # Only the first agent is registered: the second one and its token are planned, nothing else.
    projects = {p: ProjectState(p, i, "private", Protection("main")) for i, p in enumerate(want.projects)}
    variables = {v.key: VariableState(v.key, v.value, v.masked, v.protected) for v in want.variables}
    state = State(
        frozenset({"acme"}),
        projects,
        variables,
        (want.deploy_token_name,),
        {"minikube-agent": ("minikube-agent-token",)},
    )
    have = {"GITLAB_DEPLOY_TOKEN": True, "GITLAB_AGENT_TOKEN": True}
    plan = plan_gitlab(want, state, have_credentials=have)
    assert [s.describe() for s in plan.steps] == [
        "create agent acme/gitops-config:prod-eu",
        "create agent token acme/gitops-config:prod-eu/prod-eu-token",
    ]
    assert [(d.target, d.problem) for d in check_gitlab(want, state)] == [
        ("acme/gitops-config:prod-eu", "agent is not registered")
    ]
    # Registered with its token, but the token is not in the credentials file under its own key.
    registered = State(
        state.groups,
        projects,
        variables,
        state.deploy_tokens,
        {"minikube-agent": ("minikube-agent-token",), "prod-eu": ("prod-eu-token",)},
    )
    plan = plan_gitlab(want, registered, have_credentials=have)
    assert plan.steps == () and "as GITLAB_AGENT_TOKEN_PROD_EU" in plan.notes[0]
    assert check_gitlab(want, registered) == []


def test_the_review_token_is_a_reporter_api_group_token_in_a_masked_hidden_unprotected_variable() -> None:
    token = WANT.review_token
    assert token is not None
    assert (token.name, token.scopes, token.access_level) == (REVIEW, ("api",), 20)
    assert (token.lifetime_days, token.renew_within_days) == (180, 30)
    var = token.variable
    assert (var.key, var.value, var.masked, var.hidden, var.protected) == (
        "GITOPS_REVIEW_TOKEN",
        None,
        True,
        True,
        False,
    )
    assert WANT.variable("GITOPS_REVIEW_TOKEN") is var


def test_the_review_token_is_rotated_in_its_last_30_days_only() -> None:
    assert (
        plan_gitlab(
            WANT, replace(complete_state(), access_tokens=(review_token(30),)), have_credentials=FULL
        ).steps
        == ()
    )
    (step,) = plan_gitlab(
        WANT, replace(complete_state(), access_tokens=(review_token(29),)), have_credentials=FULL
    ).steps
    assert step.describe() == (
        f"rotate group access token {REVIEW}#7 (expires 2027-01-04, in 29 days; "
        "value to GITOPS_REVIEW_TOKEN: masked, hidden, not protected)"
    )
    never = replace(complete_state(), access_tokens=(review_token(None),))
    assert plan_gitlab(WANT, never, have_credentials=FULL).steps == () and check_gitlab(WANT, never) == []


def test_an_expired_review_token_still_listed_is_not_rotated_but_replaced() -> None:
    """GitLab cannot rotate an expired token: a new one is created."""
    state = replace(complete_state(), access_tokens=(review_token(-1),))
    (step,) = plan_gitlab(WANT, state, have_credentials=FULL).steps
    assert (step.kind, step.action, step.target) == (Kind.ACCESS_TOKEN, "create", REVIEW)
    assert "expires 2027-06-04" in step.detail
    assert [d.problem for d in check_gitlab(WANT, state)] == [
        "group access token is missing (none active: revoked or expired)"
    ]


def test_the_longest_living_fitting_review_token_counts_and_misfits_are_revoked() -> None:
    state = replace(
        complete_state(),
        access_tokens=(review_token(10, 1), review_token(200, 2), review_token(300, 3, level=30)),
    )
    steps = plan_gitlab(WANT, state, have_credentials=FULL).steps
    assert [s.describe() for s in steps] == [
        f"revoke group access token {REVIEW}#3 (api, Developer: not the plan's)"
    ]


def test_a_service_that_does_not_admit_gitops_configs_job_token_is_planned_and_reported() -> None:
    state = complete_state()
    state.projects["api"] = replace(state.projects["api"], job_token=JobTokenScope(True, frozenset()))
    state.projects["billing"] = replace(
        state.projects["billing"], job_token=JobTokenScope(False, ADMITTED.allowed | {"acme/other"})
    )
    steps = plan_gitlab(WANT, state, have_credentials=FULL).steps
    assert [(s.action, s.target, s.detail) for s in steps] == [
        (
            "create",
            "acme/platform/api",
            "admits acme/platform/gitops-config's CI job token (its pipeline reads this repository)",
        ),
        ("update", "acme/platform/billing", "access limited to the allowlist"),
    ]
    assert [(d.target, d.problem) for d in check_gitlab(WANT, state)] == [
        (
            "acme/platform/api",
            "acme/platform/gitops-config is not in its CI job token allowlist: gitops-config's pipeline "
            "cannot read this repository",
        ),
        (
            "acme/platform/billing",
            "CI job token access is not limited to the allowlist: any project's jobs may read it",
        ),
    ]


def test_a_scope_that_was_not_read_plans_nothing_and_gitops_config_admits_no_one() -> None:
    state = complete_state()
    state.projects["api"] = replace(state.projects["api"], job_token=None)
    assert plan_gitlab(WANT, state, have_credentials=FULL).steps == ()
    assert check_gitlab(WANT, state) == []
    assert WANT.job_token_targets() == ("api", "billing")
    assert replace(WANT, job_token_reader=None).job_token_targets() == ()


def test_report_url_follows_gitops_configs_pages_address_once_gitlab_has_one() -> None:
    state = complete_state()
    del state.variables["REPORT_URL"]
    plan = plan_gitlab(WANT, state, have_credentials=FULL)
    assert [s.describe() for s in plan.steps] == [
        f"create variable REPORT_URL ('{PAGES}', masked=false, protected=false)"
    ]
    assert [(d.target, d.problem) for d in check_gitlab(WANT, state)] == [
        ("REPORT_URL", "variable is missing")
    ]
    moved = replace(
        state,
        pages_url="https://gitops-config-1a2b.pages.example.com",
        variables={**state.variables, "REPORT_URL": VariableState("REPORT_URL", PAGES, False, False)},
    )
    assert [s.action for s in plan_gitlab(WANT, moved, have_credentials=FULL).steps] == ["update"]
    # No Pages site yet: nothing to set, and the note says when it will be.
    unknown = replace(state, pages_url=None, variables=dict(state.variables))
    plan = plan_gitlab(WANT, unknown, have_credentials=FULL)
    assert plan.steps == () and check_gitlab(WANT, unknown) == []
    assert plan.notes == (
        "REPORT_URL is not set: gitops-config has no GitLab Pages site yet (its default branch's `pages` job "
        "publishes the report); run bootstrap again after its first pipeline",
    )
    # One set by hand while GitLab has no Pages address to compare with is left as it is, without a note.
    unknown.variables["REPORT_URL"] = VariableState("REPORT_URL", "https://report.acme.example", False, False)
    assert plan_gitlab(WANT, unknown, have_credentials=FULL) == Plan(())
