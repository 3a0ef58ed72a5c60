"""Thin adapter over the official `kubernetes` client: get, list, server-side apply, strategic merge patch,
delete, ServiceAccount tokens. The only module that imports `kubernetes`.

Objects are plain dicts; paths come from a small table of the kinds the platform touches. Library errors
become `ClusterError` (with status, method and path) or `ClusterUnreachable`. Every request is over within
httpguard's overall deadline (GITOPS_POC_HTTP_DEADLINE), however slowly the server answers; redirects are
not followed (the bearer token goes to the configured server only); an answer that is not a JSON object (a
proxy's HTML error page) is an error, not a crash.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitops_poc.errors import ToolError
from gitops_poc.httpguard import Deadline, DeadlineExceeded, deadline_from_env

FIELD_MANAGER = "gitops-poc"
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
MERGE_PATCH_CONTENT_TYPE = "application/strategic-merge-patch+json"
REQUEST_TIMEOUT = 15.0  # the connection and each read; the overall deadline bounds the whole answer

# kind -> (plural, namespaced)
KINDS: dict[str, tuple[str, bool]] = {
    "Namespace": ("namespaces", False),
    "Node": ("nodes", False),
    "Secret": ("secrets", True),
    "ServiceAccount": ("serviceaccounts", True),
    "ConfigMap": ("configmaps", True),
    "Pod": ("pods", True),
    "Service": ("services", True),
    "Deployment": ("deployments", True),
    "StatefulSet": ("statefulsets", True),
    "DaemonSet": ("daemonsets", True),
    "ClusterRole": ("clusterroles", False),
    "Role": ("roles", True),
    "RoleBinding": ("rolebindings", True),
    "ClusterRoleBinding": ("clusterrolebindings", False),
    "AppProject": ("appprojects", True),
    "Application": ("applications", True),
    "ApplicationSet": ("applicationsets", True),
    "VaultAuth": ("vaultauths", True),
    "VaultStaticSecret": ("vaultstaticsecrets", True),
    "VaultConnection": ("vaultconnections", True),
    "PodDisruptionBudget": ("poddisruptionbudgets", True),
}


class ClusterError(ToolError):
    """The API server refused a request; the message names the method, the path and the server's reason.
    Exit 2: a service the command needs failed (1 is a finding)."""

    def __init__(self, message: str, *, status: int | None = None, method: str = "", path: str = "") -> None:
        self.status, self.method, self.path = status, method, path
        super().__init__(message)


class ClusterUnreachable(ClusterError):
    """No API server answered (no kubeconfig, unknown context, cluster stopped)."""


def resource_path(api_version: str, kind: str, namespace: str | None = None, name: str | None = None) -> str:
    """`/api/v1/namespaces/ns/secrets/name`, `/apis/argoproj.io/v1alpha1/namespaces/ns/applications`, ..."""
    if kind not in KINDS:
        raise ClusterError(f"gitops-poc does not handle the kind {kind} ({api_version})")
    plural, namespaced = KINDS[kind]
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    if namespaced and namespace:
        base += f"/namespaces/{namespace}"
    path = f"{base}/{plural}"
    return f"{path}/{name}" if name else path


@dataclass
class Kube:
    """One cluster, reached through a kube context of the kubeconfig (KUBECONFIG or ~/.kube/config)."""

    api: Any  # kubernetes.client.ApiClient
    context: str
    deadline: Deadline = field(default_factory=lambda: Deadline(deadline_from_env(), "kube-request"))

    @classmethod
    def from_kubeconfig(cls, context: str, config_file: str | None = None) -> Kube:
        from kubernetes import client as kube_client
        from kubernetes import config as kube_config
        from kubernetes.config.config_exception import ConfigException

        # Read KUBECONFIG now: the library computes its default once, at import time.
        path = config_file or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
        configuration = kube_client.Configuration()
        try:
            kube_config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=path, context=context, client_configuration=configuration
            )
        except (ConfigException, OSError, TypeError, ValueError) as exc:
            raise ClusterUnreachable(f"kube context {context!r} (kubeconfig {path}): {exc}") from None
        from urllib3.util.retry import Retry

        # One retry: a stopped cluster should say so quickly, not after urllib3's backoff. No redirect is
        # followed: the 3xx answer comes back and is an error naming where it pointed.
        configuration.retries = Retry(total=1, redirect=False)
        return cls(kube_client.ApiClient(configuration), context)

    @property
    def server(self) -> str:
        return str(self.api.configuration.host)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> dict[str, Any] | None:
        """One request; the decoded JSON answer, None on 404 of a GET, ClusterError otherwise."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        payload = body  # the client serialises JSON and structured YAML bodies as JSON (valid YAML)

        def call() -> tuple[Any, bytes]:
            _, url, sent_headers, sent, _ = self.api.param_serialize(
                method=method,
                resource_path=path,
                query_params=list((query or {}).items()),
                header_params=headers,
                body=payload,
                auth_settings=["BearerToken"],
            )
            response = self.api.call_api(
                method, url, header_params=sent_headers, body=sent, _request_timeout=REQUEST_TIMEOUT
            )
            return response, response.read()

        try:
            response, data = self.deadline.run(call)
        except ApiException as exc:
            if exc.status == 404 and method == "GET":
                return None
            raise ClusterError(
                f"{method} {path} on {self.context}: {exc.status} {_reason(exc)}",
                status=exc.status,
                method=method,
                path=path,
            ) from None
        except DeadlineExceeded as exc:
            raise ClusterUnreachable(
                f"the cluster of kube context {self.context!r} ({self.server}) gave no complete answer to "
                f"{method} {path}: {exc}",
                method=method,
                path=path,
            ) from None
        except (HTTPError, OSError) as exc:
            raise ClusterUnreachable(
                f"the cluster of kube context {self.context!r} ({self.server}) does not answer: "
                f"{type(exc).__name__}",
                method=method,
                path=path,
            ) from None
        if 300 <= response.status < 400:
            raise self._redirected(method, path, response.status, response.headers.get("Location"))
        if response.status >= 400:
            if response.status == 404 and method == "GET":
                return None
            raise ClusterError(
                f"{method} {path} on {self.context}: {response.status} {_message(data, response.reason)}",
                status=response.status,
                method=method,
                path=path,
            )
        if not data:
            return {}
        try:
            answer = json.loads(data)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            kind = response.headers.get("Content-Type") or "no content type"
            raise ClusterUnreachable(
                f"the cluster of kube context {self.context!r} ({self.server}) answered {method} {path} "
                f"with something that is not a JSON object ({kind}): is a proxy in the way, or is the "
                "server address of the kubeconfig wrong?",
                method=method,
                path=path,
            )
        return answer

    def _redirected(self, method: str, path: str, status: int, location: str | None) -> ClusterError:
        from gitops_poc.urls import shown

        return ClusterError(
            f"{method} {path} on {self.context}: the server ({self.server}) answered {status}, a redirect to "
            f"{shown(location or '?')}: not followed (the token goes to the kubeconfig's server only)",
            status=status,
            method=method,
            path=path,
        )

    # --- verbs --------------------------------------------------------------------------------------------
    def version(self) -> dict[str, Any]:
        return self.request("GET", "/version") or {}

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self.request("GET", resource_path(api_version, kind, namespace, name))

    def list(
        self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        query = {"labelSelector": label_selector} if label_selector else None
        answer = self.request("GET", resource_path(api_version, kind, namespace), query=query)
        items = (answer or {}).get("items") or []
        return [i for i in items if isinstance(i, dict)]

    def apply(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Server-side apply with our field manager; force takes over fields another manager set."""
        meta = body.get("metadata", {})
        path = resource_path(str(body["apiVersion"]), str(body["kind"]), meta.get("namespace"), meta["name"])
        query = {"fieldManager": FIELD_MANAGER, "force": "true"}
        return (
            self.request("PATCH", path, query=query, body=dict(body), content_type=APPLY_CONTENT_TYPE) or {}
        )

    def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
        """Delete one object (background propagation); False when it was gone already."""
        path = resource_path(api_version, kind, namespace, name)
        try:
            self.request("DELETE", path, query={"propagationPolicy": "Background"})
        except ClusterError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def patch(
        self, api_version: str, kind: str, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Strategic merge patch (lists of named items merge, others replace)."""
        path = resource_path(api_version, kind, namespace, name)
        query = {"fieldManager": FIELD_MANAGER}
        return (
            self.request("PATCH", path, query=query, body=dict(patch), content_type=MERGE_PATCH_CONTENT_TYPE)
            or {}
        )

    def create_token(
        self,
        namespace: str,
        service_account: str,
        *,
        audiences: tuple[str, ...] = (),
        expiration_seconds: int | None = None,
    ) -> str:
        """POST .../serviceaccounts/NAME/token (TokenRequest); the token is returned, never logged."""
        spec: dict[str, Any] = {}
        if audiences:
            spec["audiences"] = list(audiences)
        if expiration_seconds:
            spec["expirationSeconds"] = expiration_seconds
        path = resource_path("v1", "ServiceAccount", namespace, service_account) + "/token"
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}
        answer = self.request("POST", path, body=body) or {}
        return str(answer.get("status", {}).get("token", ""))


def _message(body: Any, reason: Any) -> str:
    """The API server's own message (a Status object), else the HTTP reason."""
    try:
        status = json.loads(body or "{}")
        return str(status.get("message") or reason)
    except (TypeError, ValueError, AttributeError):
        return str(reason)


def _reason(exc: Any) -> str:
    return _message(exc.body, exc.reason)
