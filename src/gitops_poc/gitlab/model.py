"""What the platform needs in GitLab, what GitLab has, and the steps between them: plain frozen data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

MAINTAINER = 40  # GitLab access level: only maintainers push or merge to the protected branch
REPORTER = 20  # the least role that reads a private project's merge requests and comments on them
NO_ONE = 0
ROLES = {10: "Guest", 20: "Reporter", 30: "Developer", 40: "Maintainer", 50: "Owner"}


@dataclass(frozen=True)
class Variable:
    """A group CI/CD variable. `value` None: the value is a secret the caller did not give (left as it is)."""

    key: str
    value: str | None
    masked: bool
    protected: bool
    secret: bool = False  # never shown, never compared in output
    hidden: bool = (
        False  # masked and hidden (GitLab 17.4+): the value is never shown again, not even in the UI
    )


@dataclass(frozen=True)
class Protection:
    branch: str
    push_access_level: int = MAINTAINER
    merge_access_level: int = MAINTAINER
    allow_force_push: bool = False


@dataclass(frozen=True)
class Agent:
    """A GitLab agent registered in the agent project, with one token for `setup push`."""

    name: str
    token_name: str
    credential_key: str  # the .env key its token is written to (GITLAB_AGENT_TOKEN[_<CLUSTER>])


@dataclass(frozen=True)
class AccessToken:
    """A group access token (a bot user of the group) whose value goes to a group CI/CD variable only.
    GitLab shows the value once, when the token is created or rotated."""

    name: str
    scopes: tuple[str, ...]
    access_level: int
    lifetime_days: int  # expires this many days after it is issued
    renew_within_days: int  # a re-run of bootstrap rotates it when it expires sooner than this
    variable: Variable  # where its value is stored (value None: only the token knows it)


@dataclass(frozen=True)
class Desired:
    group: str  # full path, e.g. org/platform
    projects: tuple[str, ...]  # project paths inside the group
    visibility: str
    default_branch: str
    protection: Protection
    variables: tuple[Variable, ...]
    deploy_token_name: str
    deploy_token_scopes: tuple[str, ...]
    agent_project: str
    agents: tuple[Agent, ...]  # one per cluster (ArgoCD's own first)
    deploy_token_key: str = "GITLAB_DEPLOY_TOKEN"  # the .env key the deploy token is written to
    review_token: AccessToken | None = None  # the token `review --post` comments with
    # The project whose pipelines read every other planned project with their own CI job token: each of
    # those admits it in its job-token allowlist (None: no allowlist is planned).
    job_token_reader: str | None = None
    # The project whose GitLab Pages address goes to the group variable REPORT_URL (the report page every
    # review note links); None: no such variable is planned.
    report_project: str | None = None

    def job_token_targets(self) -> tuple[str, ...]:
        """The projects whose allowlist admits `job_token_reader`."""
        reader = self.job_token_reader
        return () if reader is None else tuple(p for p in self.projects if p != reader)

    def variable(self, key: str) -> Variable:
        """The wanted group variable `key`, the review token's included."""
        wanted: list[Variable] = [*self.variables]
        if self.review_token is not None:
            wanted.append(self.review_token.variable)
        return next(v for v in wanted if v.key == key)


@dataclass(frozen=True)
class JobTokenScope:
    """Who may use a CI job token on a project: `limited` is GitLab's "Limit access to this project" (off:
    any project's jobs may, as far as their user may); `allowed` the projects of its inbound allowlist."""

    limited: bool
    allowed: frozenset[str]  # full paths


@dataclass(frozen=True)
class ProjectState:
    path: str
    id: int
    visibility: str
    protection: Protection | None  # of the default branch; None: not protected
    job_token: JobTokenScope | None = None  # None: not read (the project is not a job-token target)


@dataclass(frozen=True)
class VariableState:
    key: str
    value: str | None  # None when GitLab hides it
    masked: bool
    protected: bool
    hidden: bool | None = None  # None: GitLab does not say (older than 17.4)


@dataclass(frozen=True)
class AccessTokenState:
    """An active group access token as GitLab lists it (never its value)."""

    id: int
    name: str
    scopes: tuple[str, ...]
    access_level: int
    expires_at: date | None


def utc_today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class State:
    """What GitLab has now, as far as the platform is concerned."""

    groups: frozenset[str]  # existing group full paths among the group and its parents
    projects: dict[str, ProjectState] = field(default_factory=dict)  # by project path inside the group
    variables: dict[str, VariableState] = field(default_factory=dict)
    deploy_tokens: tuple[str, ...] = ()  # names of active group deploy tokens
    # The wanted agents registered in the agent project -> the names of their active tokens.
    agents: dict[str, tuple[str, ...]] = field(default_factory=dict)
    access_tokens: tuple[AccessTokenState, ...] = ()  # the group's active access tokens
    today: date = field(default_factory=utc_today)  # the day the state was read (UTC): expiry is against it
    pages_url: str | None = None  # the report project's GitLab Pages address (None: none, or not read)


class Kind(StrEnum):
    GROUP = "group"
    PROJECT = "project"
    VISIBILITY = "visibility"
    PROTECTION = "protected branch"
    VARIABLE = "variable"
    DEPLOY_TOKEN = "deploy token"
    AGENT = "agent"
    AGENT_TOKEN = "agent token"
    ACCESS_TOKEN = "group access token"
    JOB_TOKEN = "CI job token allowlist"


@dataclass(frozen=True)
class Step:
    """One write to GitLab. `target` names the object; `detail` is safe to print (never a secret value)."""

    kind: Kind
    action: str  # create | update | rotate | revoke
    target: str
    detail: str = ""

    def describe(self) -> str:
        text = f"{self.action} {self.kind.value} {self.target}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.steps)


@dataclass(frozen=True)
class Difference:
    """What `gitlab check` reports: one way GitLab differs from the plan."""

    target: str
    problem: str
