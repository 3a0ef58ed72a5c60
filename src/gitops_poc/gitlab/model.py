"""What the platform needs in GitLab, what GitLab has, and the steps between them: plain frozen data."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

MAINTAINER = 40  # GitLab access level: only maintainers push or merge to the protected branch
NO_ONE = 0


@dataclass(frozen=True)
class Variable:
    """A group CI/CD variable. `value` None: the value is a secret the caller did not give (left as it is)."""

    key: str
    value: str | None
    masked: bool
    protected: bool
    secret: bool = False  # never shown, never compared in output


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


@dataclass(frozen=True)
class ProjectState:
    path: str
    id: int
    visibility: str
    protection: Protection | None  # of the default branch; None: not protected


@dataclass(frozen=True)
class VariableState:
    key: str
    value: str | None  # None when GitLab hides it
    masked: bool
    protected: bool


@dataclass(frozen=True)
class State:
    """What GitLab has now, as far as the platform is concerned."""

    groups: frozenset[str]  # existing group full paths among the group and its parents
    projects: dict[str, ProjectState] = field(default_factory=dict)  # by project path inside the group
    variables: dict[str, VariableState] = field(default_factory=dict)
    deploy_tokens: tuple[str, ...] = ()  # names of active group deploy tokens
    # The wanted agents registered in the agent project -> the names of their active tokens.
    agents: dict[str, tuple[str, ...]] = field(default_factory=dict)


class Kind(StrEnum):
    GROUP = "group"
    PROJECT = "project"
    VISIBILITY = "visibility"
    PROTECTION = "protected branch"
    VARIABLE = "variable"
    DEPLOY_TOKEN = "deploy token"
    AGENT = "agent"
    AGENT_TOKEN = "agent token"


@dataclass(frozen=True)
class Step:
    """One write to GitLab. `target` names the object; `detail` is safe to print (never a secret value)."""

    kind: Kind
    action: str  # create | update
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
