"""A local HTTP server that answers like GitLab's REST API v4 for the calls the platform makes, and serves
git over smart HTTP (the real `git http-backend`) for publish. Tests drive python-gitlab and git against it.

It keeps state in memory, pages every list (`page`/`per_page`, `X-Next-Page`, `Link: rel="next"`, with a
small server-side page size so pagination is exercised), answers 401/404/409/400 "has already been taken"
as GitLab does, and can inject failures (429 with Retry-After, 5xx) for given requests.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from gitops_poc.gitserver import basic_credentials, run_backend


@dataclass
class Request:
    method: str
    path: str  # decoded, without /api/v4
    query: dict[str, str]
    body: dict[str, Any]
    headers: dict[str, str]
    status: int = 0


@dataclass
class Fault:
    method: str
    pattern: str
    status: int
    times: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class GitLabState:
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # by full path
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)  # by path_with_namespace
    protected: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    variables: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)  # group id -> key -> var
    deploy_tokens: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    agents: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # project id -> agents
    agent_tokens: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # agent id -> tokens
    notes: dict[tuple[int, int], list[dict[str, Any]]] = field(default_factory=dict)  # (project, MR iid)
    merge_requests: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # project id -> MRs
    access_tokens: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # group id -> its tokens
    # project id -> {"inbound_enabled": bool, "allowlist": [project ids]}: its CI job token scope
    job_token_scopes: dict[int, dict[str, Any]] = field(default_factory=dict)
    job_tokens: dict[str, int] = field(default_factory=dict)  # a running job's CI_JOB_TOKEN -> its project id


class FakeGitLab:
    def __init__(self, token: str, git_root: Path, page_size: int = 2) -> None:
        self.token = token
        self.git_root = git_root
        self.page_size = page_size
        self.state = GitLabState()
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.hooks: list[
            tuple[str, str, Callable[[Request], None]]
        ] = []  # run once before a matching request
        self.git_auth: list[str] = []  # the user names git authenticated with
        self.git_refusals: list[str] = []  # why git requests with a job token were refused
        self.crashes: list[str] = []  # a handler's own exceptions, answered as 500 with the traceback
        self.git_credentials: list[str] = []  # every Authorization header git sent, accepted or not
        self._ids = itertools.count(100)
        self.lock = threading.Lock()
        self.url = ""

    # --- test helpers -----------------------------------------------------------------------------------
    def fail(self, method: str, pattern: str, status: int, times: int = 1, **headers: str) -> None:
        self.faults.append(Fault(method, pattern, status, times, headers))

    def before(self, method: str, pattern: str, hook: Callable[[Request], None]) -> None:
        """Run `hook` once, just before the first matching request is answered (another writer racing us)."""
        self.hooks.append((method, pattern, hook))

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.method in ("POST", "PUT", "DELETE", "PATCH")]

    def add_group(self, full_path: str, visibility: str = "private") -> dict[str, Any]:
        parent = self.state.groups.get(full_path.rpartition("/")[0])
        group = {
            "id": next(self._ids),
            "name": full_path.rpartition("/")[2],
            "path": full_path.rpartition("/")[2],
            "full_path": full_path,
            "visibility": visibility,
            "parent_id": parent["id"] if parent else None,
        }
        self.state.groups[full_path] = group
        self.state.variables[group["id"]] = {}
        self.state.deploy_tokens[group["id"]] = []
        self.state.access_tokens[group["id"]] = []
        return group

    def add_project(self, group_path: str, name: str, visibility: str = "private") -> dict[str, Any]:
        group = self.state.groups[group_path]
        full = f"{group_path}/{name}"
        project = {
            "id": next(self._ids),
            "name": name,
            "path": name,
            "path_with_namespace": full,
            "visibility": visibility,
            "default_branch": "main",
            "namespace": {"id": group["id"], "full_path": group_path},
        }
        self.state.projects[full] = project
        self.state.agents[project["id"]] = []
        # "Limit access to this project" is on for new projects (GitLab 15.9+), with an empty allowlist.
        self.state.job_token_scopes[project["id"]] = {"inbound_enabled": True, "allowlist": []}
        bare = self.git_root / f"{full}.git"
        subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(bare)], check=True)
        subprocess.run(["git", f"--git-dir={bare}", "config", "http.receivepack", "true"], check=True)
        subprocess.run(["git", f"--git-dir={bare}", "config", "core.logAllRefUpdates", "always"], check=True)
        return project

    def publish_pages(self, project_path: str, url: str) -> None:
        """The project's first `pages` job ran: GitLab now answers its Pages settings with this address."""
        self.state.projects[project_path]["pages_url"] = url

    def issue_job_token(self, project_path: str) -> str:
        """The CI_JOB_TOKEN of a job running in `project_path`'s pipeline (valid until the test ends)."""
        token = f"glcbt-job{next(self._ids)}secret"
        self.state.job_tokens[token] = self.state.projects[project_path]["id"]
        return token

    def job_token_refusal(self, token: str, full_path: str) -> str | None:
        """Why GitLab refuses `token` on the repository `full_path` (None: it admits it): a job token reads
        its own project, and another one only when that one's access is not limited or its allowlist holds
        the job's project. (GitLab also requires the pipeline's user to be able to read it.)"""
        source = self.state.job_tokens.get(token)
        target = self.state.projects.get(full_path)
        if source is None or target is None:
            return "HTTP Basic: Access denied"
        scope = self.state.job_token_scopes[target["id"]]
        if source == target["id"] or not scope["inbound_enabled"] or source in scope["allowlist"]:
            return None
        source_path = self._project(str(source))["path_with_namespace"]  # type: ignore[index]
        return f"Authentication by CI/CD job token not allowed from {source_path} to {full_path}."

    # --- REST -------------------------------------------------------------------------------------------
    def handle(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        for hook in list(self.hooks):
            if hook[0] == req.method and re.fullmatch(hook[1], req.path):
                self.hooks.remove(hook)
                hook[2](req)
        for fault in self.faults:
            if fault.times > 0 and fault.method == req.method and re.fullmatch(fault.pattern, req.path):
                fault.times -= 1
                return fault.status, {"message": f"{fault.status} injected"}, fault.headers
        if req.headers.get("private-token") not in self._accepted():
            return 401, {"message": "401 Unauthorized"}, {}
        parts = [unquote(p) for p in req.path.strip("/").split("/")]
        route = getattr(self, f"_{parts[0]}", None)
        if route is None:
            return 404, {"error": "404 Not Found"}, {}
        return route(req, parts[1:])

    def _accepted(self) -> set[str]:
        """The API token, and every active group access token this GitLab issued (a rotated one is not)."""
        issued = {t["token"] for tokens in self.state.access_tokens.values() for t in tokens if t["active"]}
        return {self.token, *issued}

    @staticmethod
    def _not_found(what: str = "Not found") -> tuple[int, Any, dict[str, str]]:
        return 404, {"message": f"404 {what}"}, {}

    def _user(self, req: Request, rest: list[str]) -> tuple[int, Any, dict[str, str]]:
        return 200, {"id": 1, "username": "root", "name": "Administrator"}, {}

    def _group(self, ident: str) -> dict[str, Any] | None:
        if ident.isdigit():
            return next((g for g in self.state.groups.values() if g["id"] == int(ident)), None)
        return self.state.groups.get(ident)

    def _project(self, ident: str) -> dict[str, Any] | None:
        if ident.isdigit():
            return next((p for p in self.state.projects.values() if p["id"] == int(ident)), None)
        return self.state.projects.get(ident)

    def _groups(self, req: Request, rest: list[str]) -> tuple[int, Any, dict[str, str]]:
        if not rest:
            if req.method != "POST":
                return 405, {"message": "405"}, {}
            body = req.body
            parent = next((g for g in self.state.groups.values() if g["id"] == body.get("parent_id")), None)
            if body.get("parent_id") and parent is None:
                return self._not_found("Parent Not Found")
            full = f"{parent['full_path']}/{body['path']}" if parent else body["path"]
            if full in self.state.groups:
                return 400, {"message": {"path": ["has already been taken"]}}, {}
            return 201, self.add_group(full, body.get("visibility", "private")), {}
        group = self._group(rest[0])
        if group is None:
            return self._not_found("Group Not Found")
        if len(rest) == 1:
            return 200, group, {}
        if rest[1] == "variables":
            variables = self.state.variables[group["id"]]
            if len(rest) == 2 and req.method == "GET":
                return self._page(req, [self._shown(v) for v in variables.values()])
            if len(rest) == 2 and req.method == "POST":
                if req.body["key"] in variables:
                    return 400, {"message": {"key": [f"({req.body['key']}) has already been taken"]}}, {}
                body = {k: v for k, v in req.body.items() if k != "masked_and_hidden"}
                hidden = bool(req.body.get("masked_and_hidden"))
                var = {
                    "variable_type": "env_var",
                    "masked": hidden,
                    "protected": False,
                    "raw": False,
                    **body,
                    "hidden": hidden,
                }
                if var["masked"] and not _maskable(str(var.get("value", ""))):
                    return 400, {"message": {"value": ["is invalid"]}}, {}
                variables[req.body["key"]] = var
                return 201, self._shown(var), {}
            if len(rest) == 3 and req.method == "PUT":
                if rest[2] not in variables:
                    return self._not_found("Variable Not Found")
                variables[rest[2]].update({k: v for k, v in req.body.items() if k != "key"})
                return 200, self._shown(variables[rest[2]]), {}
        if rest[1] == "access_tokens":
            return self._access_tokens(req, self.state.access_tokens[group["id"]], rest[2:])
        if rest[1] == "deploy_tokens":
            tokens = self.state.deploy_tokens[group["id"]]
            if req.method == "GET":
                return self._page(req, [{k: v for k, v in t.items() if k != "token"} for t in tokens])
            token = {
                "id": next(self._ids),
                "name": req.body["name"],
                "username": f"gitlab+deploy-token-{len(tokens) + 1}",
                "scopes": req.body["scopes"],
                "revoked": False,
                "expired": False,
                "token": f"gldt-issued{next(self._ids)}secret",
            }
            tokens.append(token)
            return 201, token, {}
        return self._not_found()

    def _projects(self, req: Request, rest: list[str]) -> tuple[int, Any, dict[str, str]]:
        if not rest:
            body = req.body
            group = next((g for g in self.state.groups.values() if g["id"] == body.get("namespace_id")), None)
            if group is None:
                return self._not_found("Namespace Not Found")
            if f"{group['full_path']}/{body['path']}" in self.state.projects:
                return (
                    400,
                    {"message": {"name": ["has already been taken"], "path": ["has already been taken"]}},
                    {},
                )
            project = self.add_project(group["full_path"], body["path"], body.get("visibility", "private"))
            project["default_branch"] = body.get("default_branch", "main")
            return 201, project, {}
        project = self._project(rest[0])
        if project is None:
            return self._not_found("Project Not Found")
        pid = project["id"]
        if len(rest) == 1:
            if req.method == "PUT":
                project.update({k: v for k, v in req.body.items() if k in ("visibility",)})
            return 200, project, {}
        if rest[1] == "protected_branches":
            if len(rest) == 2 and req.method == "POST":
                name = req.body["name"]
                if (pid, name) in self.state.protected:
                    return 409, {"message": f"Protected branch '{name}' already exists"}, {}
                rule = {
                    "id": next(self._ids),
                    "name": name,
                    "allow_force_push": bool(req.body.get("allow_force_push")),
                    "push_access_levels": [{"access_level": int(req.body.get("push_access_level", 40))}],
                    "merge_access_levels": [{"access_level": int(req.body.get("merge_access_level", 40))}],
                }
                self.state.protected[(pid, name)] = rule
                return 201, rule, {}
            rule = self.state.protected.get((pid, rest[2])) if len(rest) == 3 else None
            if rule is None:
                return self._not_found()
            if req.method == "DELETE":
                del self.state.protected[(pid, rest[2])]
                return 204, None, {}
            return 200, rule, {}
        if rest[1:] == ["pages"] and req.method == "GET":  # 404 until a Pages site is deployed
            if not project.get("pages_url"):
                return self._not_found()
            url = project["pages_url"]
            deployment = {"created_at": "2026-12-01T00:00:00Z", "url": f"{url}/", "path_prefix": ""}
            settings = {"url": url, "is_unique_domain_enabled": True, "force_https": True}
            return 200, {**settings, "deployments": [deployment]}, {}
        if rest[1] == "job_token_scope":
            return self._job_token_scope(req, self.state.job_token_scopes[pid], rest[2:])
        if rest[1] == "merge_requests" and len(rest) >= 4 and rest[3] == "notes":
            return self._notes(req, self.state.notes.setdefault((pid, int(rest[2])), []), rest[4:])
        if rest[1] == "merge_requests":
            return self._merge_requests(req, project, self.state.merge_requests.setdefault(pid, []), rest[2:])
        if rest[1] == "cluster_agents":
            agents = self.state.agents[pid]
            if len(rest) == 2:
                if req.method == "GET":
                    return self._page(req, agents)
                if any(a["name"] == req.body["name"] for a in agents):
                    return 400, {"message": {"name": ["has already been taken"]}}, {}
                agent = {"id": next(self._ids), "name": req.body["name"]}
                agents.append(agent)
                self.state.agent_tokens[agent["id"]] = []
                return 201, agent, {}
            agent = next((a for a in agents if str(a["id"]) == rest[2]), None)
            if agent is None or len(rest) != 4 or rest[3] != "tokens":
                return self._not_found()
            tokens = self.state.agent_tokens[agent["id"]]
            if req.method == "GET":
                return self._page(req, [{k: v for k, v in t.items() if k != "token"} for t in tokens])
            token = {
                "id": next(self._ids),
                "name": req.body["name"],
                "status": "active",
                "token": f"glagent-issued{next(self._ids)}secret",
            }
            tokens.append(token)
            return 201, token, {}
        return self._not_found()

    def _job_token_scope(
        self, req: Request, scope: dict[str, Any], rest: list[str]
    ) -> tuple[int, Any, dict[str, str]]:
        """GET/PATCH the scope (GitLab answers inbound_enabled, takes `enabled`), list the inbound allowlist
        (paged, as projects), add to it (400 when the project is in it already), remove from it."""
        if not rest:
            if req.method == "PATCH":
                scope["inbound_enabled"] = bool(req.body["enabled"])
                return 204, None, {}
            return 200, {"inbound_enabled": scope["inbound_enabled"], "outbound_enabled": False}, {}
        if rest[0] != "allowlist":
            return self._not_found()
        allowed: list[int] = scope["allowlist"]
        if len(rest) == 1 and req.method == "GET":
            return self._page(req, [self._project(str(i)) for i in allowed])
        if len(rest) == 1 and req.method == "POST":
            target = int(req.body["target_project_id"])
            if self._project(str(target)) is None:
                return self._not_found("Project Not Found")
            if target in allowed:
                return 400, {"message": "Target project is already in the job token scope"}, {}
            allowed.append(target)
            return 201, {"source_project_id": req.path.split("/")[2], "target_project_id": target}, {}
        if len(rest) == 2 and req.method == "DELETE" and int(rest[1]) in allowed:
            allowed.remove(int(rest[1]))
            return 204, None, {}
        return self._not_found()

    @staticmethod
    def _shown(var: dict[str, Any]) -> dict[str, Any]:
        """As GitLab answers: a hidden variable's value is never given back (null)."""
        return {**var, "value": None} if var.get("hidden") else var

    def _issue(self, tokens: list[dict[str, Any]], name: str, **fields: Any) -> dict[str, Any]:
        token = {
            "id": next(self._ids),
            "name": name,
            "revoked": False,
            "active": True,
            **fields,
            "token": f"glpat-issued{next(self._ids)}secret",
        }
        tokens.append(token)
        return token

    def _access_tokens(
        self, req: Request, tokens: list[dict[str, Any]], rest: list[str]
    ) -> tuple[int, Any, dict[str, str]]:
        """Group access tokens: list (values never listed), create, rotate (a new token, the old one
        revoked), revoke (DELETE). GitLab requires expires_at within its maximum lifetime."""
        if not rest:
            if req.method == "GET":
                return self._page(req, [{k: v for k, v in t.items() if k != "token"} for t in tokens])
            body = req.body
            if not body.get("expires_at"):
                return 400, {"message": "expires_at is missing"}, {}
            token = self._issue(
                tokens,
                body["name"],
                scopes=list(body["scopes"]),
                access_level=int(body.get("access_level", 40)),
                expires_at=body["expires_at"],
            )
            return 201, token, {}
        old = next((t for t in tokens if str(t["id"]) == rest[0]), None)
        if old is None:
            return self._not_found()
        if req.method == "DELETE":
            old.update(revoked=True, active=False)
            return 204, None, {}
        if rest[1:] == ["rotate"] and req.method == "POST":
            if not old["active"]:
                return 400, {"message": "token is not active"}, {}
            old.update(revoked=True, active=False)
            fields = {k: old[k] for k in ("scopes", "access_level")}
            return 200, self._issue(tokens, old["name"], expires_at=req.body.get("expires_at"), **fields), {}
        return 200, {k: v for k, v in old.items() if k != "token"}, {}

    def _notes(
        self, req: Request, notes: list[dict[str, Any]], rest: list[str]
    ) -> tuple[int, Any, dict[str, str]]:
        """A merge request's notes: list (oldest first, paged), create, update one in place."""
        if not rest:
            if req.method == "GET":
                return self._page(req, notes)
            note = {"id": next(self._ids), "body": req.body["body"], "author": {"username": "review-bot"}}
            notes.append(note)
            return 201, note, {}
        note = next((n for n in notes if str(n["id"]) == rest[0]), None)
        if note is None:
            return self._not_found("Note Not Found")
        if req.method == "PUT":
            note["body"] = req.body["body"]
        return 200, note, {}

    def _merge_requests(
        self, req: Request, project: dict[str, Any], mrs: list[dict[str, Any]], rest: list[str]
    ) -> tuple[int, Any, dict[str, str]]:
        """List (filtered by state, source_branch, target_branch; paged), create (409 for a second open one
        of the same branches, as GitLab), update title and description in place."""
        if not rest and req.method == "GET":
            filters = {k: req.query[k] for k in ("state", "source_branch", "target_branch") if k in req.query}
            return self._page(req, [m for m in mrs if all(m[k] == v for k, v in filters.items())])
        if not rest and req.method == "POST":
            body = req.body
            if any(
                m["state"] == "opened"
                and m["source_branch"] == body["source_branch"]
                and m["target_branch"] == body["target_branch"]
                for m in mrs
            ):
                return (
                    409,
                    {"message": ["Another open merge request already exists for this source branch"]},
                    {},
                )
            iid = len(mrs) + 1
            mr = {
                "id": next(self._ids),
                "iid": iid,
                "project_id": project["id"],
                "state": "opened",
                "source_branch": body["source_branch"],
                "target_branch": body["target_branch"],
                "title": body["title"],
                "description": body.get("description", ""),
                "web_url": f"{self.url}/{project['path_with_namespace']}/-/merge_requests/{iid}",
            }
            mrs.append(mr)
            return 201, mr, {}
        found = next((m for m in mrs if rest and str(m["iid"]) == rest[0]), None)
        if found is None:
            return self._not_found("Merge Request Not Found")
        if req.method == "PUT":
            found.update({k: v for k, v in req.body.items() if k in ("title", "description", "state_event")})
            if found.pop("state_event", None) == "close":
                found["state"] = "closed"
        return 200, found, {}

    def _page(self, req: Request, items: list[Any]) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int(req.query.get("per_page", 20)), self.page_size)
        page = int(req.query.get("page", 1))
        total_pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(len(items)),
            "X-Total-Pages": str(total_pages),
            "X-Next-Page": str(page + 1) if page < total_pages else "",
        }
        if page < total_pages:
            headers["Link"] = f'<{self.url}/api/v4{req.path}?page={page + 1}&per_page={per_page}>; rel="next"'
        return 200, chunk, headers


def _maskable(value: str) -> bool:
    """GitLab's rule for a masked value: one line, at least 8 characters of a limited alphabet."""
    return re.fullmatch(r"[A-Za-z0-9+/=@:.~_\-]{8,}", value) is not None


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    def _serve(self) -> None:
        # A fault of the fake itself answers 500 with its traceback, which the client's error then quotes,
        # rather than a dropped connection ("Empty reply from server") that says nothing of the cause.
        try:
            self._answer()
        except Exception:
            text = traceback.format_exc()
            self.server.fake.crashes.append(text)
            with suppress(OSError):
                self._refuse(500, f"fake GitLab crashed: {text}")

    def _answer(self) -> None:
        fake = self.server.fake
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not split.path.startswith("/api/v4/"):
            self._git(split.path, split.query, raw)
            return
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        req = Request(
            self.command,
            split.path.removeprefix("/api/v4"),
            query,
            body,
            {k.lower(): v for k, v in self.headers.items()},
        )
        with fake.lock:
            status, payload, headers = fake.handle(req)
            req.status = status
            fake.requests.append(req)
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            # Written as UTF-8: a broken server sends values Latin-1 cannot carry (the tests of a garbled
            # Retry-After), which http.server's send_header refuses to encode.
            self._headers_buffer.append(f"{key}: {value}\r\n".encode())  # type: ignore[attr-defined]
        self.end_headers()
        self.wfile.write(data)

    def _git(self, path: str, query: str, body: bytes) -> None:
        """Smart HTTP through the real `git http-backend`, behind HTTP basic auth with the API token, or a
        CI job token (user gitlab-ci-token) for reading a repository its allowlist admits it to."""
        fake = self.server.fake
        if "Authorization" in self.headers:
            fake.git_credentials.append(self.headers["Authorization"])
        given = basic_credentials(self.headers.get("Authorization", ""))
        if given is not None and given[0] == "gitlab-ci-token" and given[1] != fake.token:
            repository = re.match(r"/(.+?)\.git/", path)
            with fake.lock:
                refusal = fake.job_token_refusal(given[1], repository.group(1) if repository else "")
            if refusal is None and "git-receive-pack" in path + query:
                refusal = "You are not allowed to push code to this project."
            if refusal is not None:
                fake.git_refusals.append(refusal)
                self._refuse(403, refusal)
                return
        elif given is None or given[1] != fake.token:
            self._refuse(401, "HTTP Basic: Access denied")
            return
        fake.git_auth.append(given[0])
        status, headers, payload = run_backend(
            fake.git_root, self.command, path, query, body, self.headers.get("Content-Type", ""), given[0]
        )
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _refuse(self, status: int, message: str) -> None:
        data = message.encode() + b"\n"
        self.send_response(status)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="GitLab"')
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve


class _Server(ThreadingHTTPServer):
    fake: FakeGitLab


@contextmanager
def fake_gitlab(
    token: str, git_root: Path, page_size: int = 2, host: str = "127.0.0.1"
) -> Iterator[FakeGitLab]:
    fake = FakeGitLab(token, git_root, page_size)
    server = _Server((host, 0), _Handler)
    server.fake = fake
    fake.url = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
    assert not fake.crashes, f"the fake GitLab itself failed {len(fake.crashes)} time(s):\n{fake.crashes[0]}"
