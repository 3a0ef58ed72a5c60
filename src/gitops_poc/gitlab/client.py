"""The GitLab adapter: python-gitlab reads the state and applies a plan. Only this module imports it.

Transient failures (429 with Retry-After, 500/502/503/504) are retried by python-gitlab with backoff, at most
MAX_RETRIES times; a create that races another writer (GitLab's 409 or "has already been taken") is read
back, not failed. Creates that hand out a secret (deploy and agent tokens) are not retried on 5xx: the first
may have worked. Every request goes through httpguard.GuardedSession: only to the configured origin (the
token never follows a redirect or a pagination link elsewhere), within an overall deadline, with
Retry-After capped and pagination loops stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import gitlab
import requests
from gitlab.exceptions import (
    GitlabAuthenticationError,
    GitlabError,
    GitlabGetError,
    GitlabHttpError,
    GitlabParsingError,
)

from gitops_poc.errors import ToolError, UsageError
from gitops_poc.gitlab.access_token import expires_at, token_id
from gitops_poc.gitlab.model import (
    AccessTokenState,
    Desired,
    JobTokenScope,
    Kind,
    Plan,
    ProjectState,
    Protection,
    State,
    Step,
    VariableState,
    utc_today,
)
from gitops_poc.gitlab.plan import agent_of_step, group_chain
from gitops_poc.httpguard import GuardedSession, NetworkRefused, checked_url
from gitops_poc.redact import remember
from gitops_poc.tokenhome import Token
from gitops_poc.urls import origin, show_origin

TIMEOUT = 30  # seconds for the connection and each read; httpguard's deadline bounds the whole answer
MAX_RETRIES = 4  # of a request GitLab answered 429 or 5xx (backoff 0.1 s doubling, or its Retry-After)
URL_SOURCE = "GitLab's URL (--url or GITLAB_URL)"


class GitLabApiError(ToolError):
    """GitLab refused or failed a request, or cannot be reached: exit 2 (1 is a finding of `gitlab check`).
    The message has the method, the path and GitLab's answer, never the token."""


class _Gitlab(gitlab.Gitlab):
    """python-gitlab with MAX_RETRIES instead of its 10 (with backoff, 10 retries wait 102 s)."""

    def http_request(self, *args: Any, max_retries: int = MAX_RETRIES, **kwargs: Any) -> requests.Response:
        return super().http_request(*args, **{**kwargs, "max_retries": max_retries})


# The .env key of the deploy token's user name (`setup registry` reads it with the token). The token keys
# are in the plan: Desired.deploy_token_key, and each Agent's credential_key (GITLAB_AGENT_TOKEN[_<CLUSTER>]).
DEPLOY_TOKEN_USER_KEY = "GITLAB_DEPLOY_TOKEN_USER"
Keep = Callable[[dict[str, str]], None]


def connect(url: str, token: Token) -> gitlab.Gitlab:
    """python-gitlab for GitLab at `url`, with `token` only when `url` is on the token's home (else
    TokenElsewhere, exit 2, before anything is sent)."""
    url = checked_url(url, URL_SOURCE)
    gl = _Gitlab(
        url,
        private_token=token.for_url(url, "GitLab's API at"),
        timeout=TIMEOUT,
        retry_transient_errors=True,
        per_page=100,
        session=GuardedSession(url, service="GitLab"),
    )
    with translated("GET /user (checking the token)", url):
        gl.auth()
    return gl


@contextmanager
def translated(what: str, url: str = "") -> Iterator[None]:
    """python-gitlab and requests errors as one message the user can act on (never the token): exit 2."""
    at = f" (GitLab at {_where(url)})" if url else ""
    try:
        yield
    except GitlabAuthenticationError as exc:
        raise UsageError(
            f"GitLab refused the token ({exc.response_code}) on {what}{at}: check GITLAB_TOKEN "
            "(it needs the api scope)"
        ) from None
    except GitlabParsingError:
        raise GitLabApiError(
            f"GitLab answered {what} with something that is not JSON{at}: is {URL_SOURCE} the address of "
            "GitLab (not a proxy's or a login page)?"
        ) from None
    except GitlabError as exc:
        answer = f"{exc.response_code}" if exc.response_code else "an error"
        raise GitLabApiError(f"GitLab answered {answer} to {what}{at}: {exc.error_message}") from None
    except NetworkRefused as exc:  # our own message: a redirect elsewhere, a wait too long, a loop
        raise GitLabApiError(f"{exc} (on {what})") from None
    except requests.exceptions.Timeout:
        raise GitLabApiError(f"GitLab did not answer {what} in time{at}") from None
    except requests.RequestException as exc:
        # Fixed text: some of these messages quote request headers, i.e. the token.
        raise GitLabApiError(
            f"cannot reach GitLab for {what}{at}: {type(exc).__name__}; check {URL_SOURCE}"
        ) from None


def _where(url: str) -> str:
    try:
        return show_origin(origin(url))
    except ValueError:
        return "?"


def _missing(exc: GitlabError) -> bool:
    return exc.response_code == 404


def _taken(exc: GitlabError) -> bool:
    """The object exists already: 409, or GitLab's 400 "has already been taken"."""
    return exc.response_code == 409 or (exc.response_code == 400 and "already" in str(exc.error_message))


def _get_or_none(getter: Callable[[str], Any], key: str) -> Any:
    try:
        return getter(key)
    except GitlabGetError as exc:
        if _missing(exc):
            return None
        raise


def _protection(project: Any, branch: str) -> Protection | None:
    found = _get_or_none(project.protectedbranches.get, branch)
    if found is None:
        return None

    def level(levels: list[dict[str, Any]]) -> int:
        return min((int(x.get("access_level") or 0) for x in levels), default=0)

    return Protection(
        branch,
        level(found.push_access_levels),
        level(found.merge_access_levels),
        bool(getattr(found, "allow_force_push", False)),
    )


def _access_tokens(group: Any, names: set[str]) -> tuple[AccessTokenState, ...]:
    """The group's active access tokens of these names (scopes, role, expiry; GitLab never lists values)."""
    found = []
    for t in group.access_tokens.list(get_all=True):
        if t.name not in names or getattr(t, "revoked", False) or not getattr(t, "active", True):
            continue
        expires = getattr(t, "expires_at", None)
        found.append(
            AccessTokenState(
                int(t.id),
                t.name,
                tuple(getattr(t, "scopes", ()) or ()),
                int(getattr(t, "access_level", 0) or 0),
                date.fromisoformat(expires[:10]) if expires else None,
            )
        )
    return tuple(found)


def _job_token_scope(project: Any) -> JobTokenScope:
    """GitLab's "Limit access to this project" and the projects of its inbound allowlist."""
    what = f"GET /projects/{project.path_with_namespace}/job_token_scope (it needs the Maintainer role there)"
    with translated(what, project.manager.gitlab.url):
        scope = project.job_token_scope.get()
        allowed = frozenset(str(p.path_with_namespace) for p in scope.allowlist.list(get_all=True))
    return JobTokenScope(bool(scope.inbound_enabled), allowed)


def _pages_url(project: Any) -> str | None:
    """The project's GitLab Pages address (GitLab 16.8+); None when it has no Pages site (404), or on a
    GitLab without the endpoint."""
    try:
        url = getattr(project.pages.get(), "url", None)
    except GitlabGetError as exc:
        if _missing(exc):
            return None
        raise
    return str(url).rstrip("/") if url else None


def read_state(gl: gitlab.Gitlab, want: Desired, *, settings: bool = True) -> State:
    """GET the group chain, each project with its branch protection, the group's variables, deploy tokens,
    access tokens, and the agent with its tokens (lists follow every page). With `settings` (they need the
    Maintainer role): each job-token target's CI job token scope, the report project's Pages address."""
    today = utc_today()
    with translated(f"reading group {want.group}", gl.url):  # an inner `translated` names its own request
        groups = frozenset(p for p in group_chain(want.group) if _get_or_none(gl.groups.get, p))
        if want.group not in groups:
            return State(groups, today=today)
        group = gl.groups.get(want.group)
        projects: dict[str, ProjectState] = {}
        agent_project = None
        targets = set(want.job_token_targets()) if settings else set()
        pages_url = None
        for name in want.projects:
            project = _get_or_none(gl.projects.get, f"{want.group}/{name}")
            if project is None:
                continue
            if name == want.agent_project:
                agent_project = project
            if settings and name == want.report_project:
                pages_url = _pages_url(project)
            projects[name] = ProjectState(
                name,
                project.id,
                project.visibility,
                _protection(project, want.protection.branch),
                _job_token_scope(project) if name in targets else None,
            )
        variables = {
            v.key: VariableState(
                v.key,
                getattr(v, "value", None),
                bool(v.masked),
                bool(v.protected),
                getattr(v, "hidden", None),
            )
            for v in group.variables.list(get_all=True)
        }
        tokens = tuple(
            t.name
            for t in group.deploytokens.list(get_all=True)
            if not getattr(t, "revoked", False) and not getattr(t, "expired", False)
        )
        agents: dict[str, tuple[str, ...]] = {}
        if agent_project is not None:
            wanted = {a.name for a in want.agents}
            for found in agent_project.cluster_agents.list(get_all=True):
                if found.name not in wanted:
                    continue
                listed = gl.http_list(
                    f"/projects/{agent_project.id}/cluster_agents/{found.id}/tokens", get_all=True
                )
                agents[found.name] = tuple(t["name"] for t in listed if t.get("status", "active") == "active")
        access_tokens = _access_tokens(group, {want.review_token.name}) if want.review_token else ()
    return State(groups, projects, variables, tokens, agents, access_tokens, today, pages_url)


class _Applier:
    def __init__(self, gl: gitlab.Gitlab, want: Desired, keep: Keep) -> None:
        self.gl, self.want, self.keep = gl, want, keep
        self._reader: Any = None  # the job-token reader's project, once read

    def group(self, path: str) -> Any:
        return self.gl.groups.get(path)

    def project(self, name: str) -> Any:
        return self.gl.projects.get(f"{self.want.group}/{name}")

    def apply(self, step: Step) -> None:
        want = self.want
        if step.kind is Kind.GROUP:
            parent, _, name = step.target.rpartition("/")
            data: dict[str, Any] = {"name": name, "path": name, "visibility": want.visibility}
            if parent:
                data["parent_id"] = self.group(parent).id
            self._create(lambda: self.gl.groups.create(data))
        elif step.kind is Kind.PROJECT:
            name = step.target.rpartition("/")[2]
            data = {
                "name": name,
                "path": name,
                "namespace_id": self.group(want.group).id,
                "visibility": want.visibility,
                "default_branch": want.default_branch,
                "initialize_with_readme": False,
            }  # empty: the first publish makes the history
            self._create(lambda: self.gl.projects.create(data))
        elif step.kind is Kind.VISIBILITY:
            self.gl.projects.update(
                f"{want.group}/{step.target.rpartition('/')[2]}", {"visibility": want.visibility}
            )
        elif step.kind is Kind.PROTECTION:
            self._protect(step.target.rpartition("/")[2].split(":")[0])
        elif step.kind is Kind.VARIABLE:
            self._variable(step.target)
        elif step.kind is Kind.DEPLOY_TOKEN:
            token = self.group(want.group).deploytokens.create(
                {"name": want.deploy_token_name, "scopes": list(want.deploy_token_scopes)},
                retry_transient_errors=False,
            )
            self.keep({DEPLOY_TOKEN_USER_KEY: token.username, want.deploy_token_key: token.token})
        elif step.kind is Kind.AGENT:
            name = agent_of_step(want, step).name
            self._create(lambda: self.project(want.agent_project).cluster_agents.create({"name": name}))
        elif step.kind is Kind.AGENT_TOKEN:
            wanted = agent_of_step(want, step)
            project = self.project(want.agent_project)
            agent = next(a for a in project.cluster_agents.list(get_all=True) if a.name == wanted.name)
            answer = self.gl.http_post(
                f"/projects/{project.id}/cluster_agents/{agent.id}/tokens",
                post_data={"name": wanted.token_name, "description": "gitops-poc: CI push deploys"},
                retry_transient_errors=False,
            )
            self.keep({wanted.credential_key: _issued(answer, step)})
        elif step.kind is Kind.ACCESS_TOKEN:
            self._access_token(step)
        elif step.kind is Kind.JOB_TOKEN:
            self._job_token(step.target.rpartition("/")[2])

    @staticmethod
    def _create(create: Callable[[], Any]) -> None:
        try:
            create()
        except GitlabError as exc:
            if not _taken(exc):  # created by someone else since the state was read: that is the goal
                raise

    def _protect(self, name: str) -> None:
        project = self.project(name)
        wanted = self.want.protection
        data = {
            "name": wanted.branch,
            "push_access_level": wanted.push_access_level,
            "merge_access_level": wanted.merge_access_level,
            "allow_force_push": wanted.allow_force_push,
        }
        try:
            project.protectedbranches.create(data)
        except GitlabError as exc:
            if not _taken(exc):
                raise
            if _protection(project, wanted.branch) == wanted:  # protected meanwhile, as planned
                return
            # Protected with other levels: GitLab has no in-place update of the levels through this API.
            project.protectedbranches.delete(wanted.branch)
            project.protectedbranches.create(data)

    def _job_token(self, name: str) -> None:
        """Limit the project's CI job token access to its allowlist and admit the reader, each only when
        needed (read again here: the step may have been planned against a project that did not exist)."""
        assert self.want.job_token_reader is not None
        project = self.project(name)
        found = _job_token_scope(project)
        if not found.limited:
            project.job_token_scope.update(new_data={"enabled": True})
        reader = self._reader or self.project(self.want.job_token_reader)
        self._reader = reader  # one GET for every service's step
        if reader.path_with_namespace not in found.allowed:
            scope = project.job_token_scope.get()
            self._create(lambda: scope.allowlist.create({"target_project_id": reader.id}))

    def _access_token(self, step: Step) -> None:
        """Issue (create or rotate) the token and put its value straight into its group variable: it lives in
        this process's memory between the two calls only. Revoke: one of that name the plan does not want."""
        spec = self.want.review_token
        assert spec is not None
        group = self.group(self.want.group)
        if step.action == "revoke":
            group.access_tokens.delete(token_id(step))
            return
        expires = expires_at(spec, utc_today()).isoformat()
        if step.action == "rotate":  # a new value, the old one revoked by GitLab; same bot user
            answer = group.access_tokens.rotate(
                token_id(step), expires_at=expires, retry_transient_errors=False
            )
        else:
            data = {
                "name": spec.name,
                "scopes": list(spec.scopes),
                "access_level": spec.access_level,
                "expires_at": expires,
            }
            try:
                answer = group.access_tokens.create(data, retry_transient_errors=False).attributes
            except GitlabError as exc:
                if exc.response_code in (403, 404):
                    raise GitLabApiError(
                        f"GitLab answered {exc.response_code} to {step.describe()}: group access tokens need "
                        "the Owner role of the group (on GitLab.com, a Premium group); see docs/review.md"
                    ) from None
                raise
        self._variable(spec.variable.key, _issued(answer, step))

    def _variable(self, key: str, value: str | None = None) -> None:
        var = self.want.variable(key)
        value = var.value if value is None else value
        group = self.group(self.want.group)
        data: dict[str, Any] = {"key": key, "masked": var.masked, "protected": var.protected, "raw": True}
        if value is not None:
            data["value"] = value
        try:
            if value is None:
                raise GitlabHttpError("exists", 409)  # only the flags change: update in place
            # Hidden is set when a variable is created only (GitLab 17.4+; older ones ignore the field).
            group.variables.create({**data, "masked_and_hidden": True} if var.hidden else data)
        except GitlabError as exc:
            if not _taken(exc):
                raise
            data.pop("key")
            group.variables.update(key, data)


def _issued(answer: Any, step: Step) -> str:
    """The token value in GitLab's answer, registered as a secret before anything else can print it."""
    token = answer.get("token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise GitLabApiError(f"GitLab's answer to {step.describe()} holds no token")
    remember([token])
    return token


def apply_plan(
    gl: gitlab.Gitlab,
    want: Desired,
    plan: Plan,
    keep: Keep,
    progress: Callable[[Step], None] | None = None,
) -> list[Step]:
    """Apply the steps in order. A secret GitLab hands out goes to `keep` at once (it is shown only this
    once, and a later step may fail), and nowhere else. Returns the steps done."""
    applier = _Applier(gl, want, keep)
    done = []
    for step in plan.steps:
        if progress:
            progress(step)
        with translated(step.describe(), gl.url):
            applier.apply(step)
        done.append(step)
    return done


def upsert_note(gl: gitlab.Gitlab, project: str, merge_request: int, marker: str, body: str) -> str:
    """The merge request's note holding `marker`, updated in place (or created once): never a second note.
    Returns what was done: created, updated or unchanged."""
    where = f"/projects/{project}/merge_requests/{merge_request}/notes"
    with translated(f"GET {where}", gl.url):
        mr = gl.projects.get(project, lazy=True).mergerequests.get(merge_request, lazy=True)
        found = next((n for n in mr.notes.list(iterator=True, sort="asc") if marker in (n.body or "")), None)
    if found is None:
        with translated(f"POST {where}", gl.url):
            mr.notes.create({"body": body})
        return "created"
    if found.body == body:
        return "unchanged"
    with translated(f"PUT {where}/{found.id}", gl.url):
        found.body = body
        found.save()
    return "updated"


@dataclass(frozen=True)
class MergeRequest:
    iid: int
    web_url: str
    action: str  # created, updated or unchanged


def open_merge_request(
    gl: gitlab.Gitlab,
    project: str,
    source_branch: str,
    target_branch: str,
    title: str,
    description: str,
    *,
    unless_closed: bool = False,
) -> MergeRequest:
    """The open merge request of `source_branch` into `target_branch`, its title and description brought in
    line (or created once): never a second one for the same branch. `unless_closed` (the branch still holds
    what a closed one proposed): a closed one is the team's answer, returned as "declined", never reopened."""
    where = f"/projects/{project}/merge_requests"
    handle = gl.projects.get(project, lazy=True)

    def first(state: str) -> Any:
        with translated(f"GET {where}", gl.url):
            listed = handle.mergerequests.list(
                state=state, source_branch=source_branch, target_branch=target_branch, iterator=True
            )
            return next(iter(listed), None)

    found = first("opened")
    if found is None and unless_closed and (closed := first("closed")) is not None:
        return MergeRequest(int(closed.iid), str(getattr(closed, "web_url", "")), "declined")
    if found is None:
        with translated(f"POST {where}", gl.url):
            created = handle.mergerequests.create(
                {
                    "source_branch": source_branch,
                    "target_branch": target_branch,
                    "title": title,
                    "description": description,
                    "remove_source_branch": True,
                },
                retry_transient_errors=False,  # a 5xx may hide a created one: the next run finds it
            )
        return MergeRequest(int(created.iid), str(getattr(created, "web_url", "")), "created")
    if found.title == title and (found.description or "") == description:
        return MergeRequest(int(found.iid), str(getattr(found, "web_url", "")), "unchanged")
    with translated(f"PUT {where}/{found.iid}", gl.url):
        found.title, found.description = title, description
        found.save()
    return MergeRequest(int(found.iid), str(getattr(found, "web_url", "")), "updated")
