"""Thin adapter over the official `kubernetes` client: get, list, server-side apply, strategic merge patch,
delete, ServiceAccount tokens. The only module that imports `kubernetes`.

Objects are plain dicts; paths come from a small table of the kinds the platform touches. Library errors
become `ClusterError` (with status, method and path) or `ClusterUnreachable`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitops_poc.errors import GitopsError

FIELD_MANAGER = "gitops-poc"
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
MERGE_PATCH_CONTENT_TYPE = "application/strategic-merge-patch+json"
REQUEST_TIMEOUT = 15.0

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


class ClusterError(GitopsError):
    """The API server refused a request; the message names the method, the path and the server's reason."""

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
        configuration.retries = 1  # a stopped cluster should say so quickly, not after urllib3's backoff
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
        try:
            _, url, headers, payload, _ = self.api.param_serialize(
                method=method,
                resource_path=path,
                query_params=list((query or {}).items()),
                header_params=headers,
                body=payload,
                auth_settings=["BearerToken"],
            )
            response = self.api.call_api(
                method, url, header_params=headers, body=payload, _request_timeout=REQUEST_TIMEOUT
            )
            data = response.read()
        except ApiException as exc:
            if exc.status == 404 and method == "GET":
                return None
            raise ClusterError(
                f"{method} {path} on {self.context}: {exc.status} {_reason(exc)}",
                status=exc.status,
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
        if response.status >= 400:
            if response.status == 404 and method == "GET":
                return None
            raise ClusterError(
                f"{method} {path} on {self.context}: {response.status} {_message(data, response.reason)}",
                status=response.status,
                method=method,
                path=path,
            )
        return json.loads(data) if data else {}

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
