"""The cluster CA certificate Vault needs for TokenReview, from a PEM file or from the kubeconfig.

The kubeconfig of a context already holds it (`certificate-authority-data`, or a `certificate-authority`
file as minikube writes it), so no cluster connection or Kubernetes client library is needed.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gitops_poc import fileio
from gitops_poc.errors import UsageError
from gitops_poc.yamlio import load_k8s

PEM_BEGIN = "-----BEGIN CERTIFICATE-----"


def read_ca_file(path: Path) -> str:
    try:
        text = fileio.read_text(path, fileio.CA_FILE)
    except fileio.FileRefused as exc:
        if "not UTF-8" in str(exc):
            raise UsageError(
                f"{path}: not a PEM certificate (binary file; convert DER with openssl x509)"
            ) from None
        raise
    if PEM_BEGIN not in text:
        raise UsageError(f"{path}: not a PEM certificate (no '{PEM_BEGIN}' line)")
    return text


def kubeconfig_paths(environ: Mapping[str, str]) -> list[Path]:
    if environ.get("KUBECONFIG"):
        return [Path(p) for p in environ["KUBECONFIG"].split(os.pathsep) if p]
    return [Path(environ.get("HOME", str(Path.home()))) / ".kube" / "config"]


def _named(items: Any, name: str) -> dict[str, Any] | None:
    for item in items or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item
    return None


def _cluster_entry(
    context: str, environ: Mapping[str, str]
) -> tuple[Path | None, str, dict[str, Any], list[str]]:
    """(kubeconfig path, cluster name, cluster entry, what was tried) of a context's cluster."""
    tried = []
    for path in kubeconfig_paths(environ):
        try:
            text = fileio.read_text(path, fileio.CA_FILE)
        except fileio.FileMissing:
            tried.append(f"{path} does not exist")
            continue
        config = load_k8s(text, str(path)) or {}
        ctx = _named(config.get("contexts"), context)
        if ctx is None:
            tried.append(f"{path} has no context {context!r}")
            continue
        cluster_name = str((ctx.get("context") or {}).get("cluster") or "")
        cluster = (_named(config.get("clusters"), cluster_name) or {}).get("cluster") or {}
        return path, cluster_name, cluster, tried
    return None, "", {}, tried


def find_context(context: str, environ: Mapping[str, str]) -> tuple[Path | None, list[str]]:
    """(the kubeconfig file that defines `context`, or None; what was looked at when none does)."""
    path, _, _, tried = _cluster_entry(context, environ)
    return path, tried


def server_from_kubeconfig(context: str, environ: Mapping[str, str]) -> str | None:
    """The API server URL of a context's cluster (None when the kubeconfig does not name one)."""
    _, _, cluster, _ = _cluster_entry(context, environ)
    server = cluster.get("server")
    return str(server) if server else None


def ca_from_kubeconfig(context: str, environ: Mapping[str, str]) -> tuple[str | None, str]:
    """(PEM or None, where it came from or why it was not found)."""
    path, cluster_name, cluster, tried = _cluster_entry(context, environ)
    if path is not None:
        if cluster.get("certificate-authority-data"):
            try:
                pem = base64.b64decode(cluster["certificate-authority-data"]).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise UsageError(
                    f"{path}: certificate-authority-data of cluster {cluster_name!r} is not base64 PEM"
                ) from exc
            return pem, f"{path} (context {context})"
        if cluster.get("certificate-authority"):
            ca_path = Path(cluster["certificate-authority"])
            if not ca_path.is_absolute():
                ca_path = path.parent / ca_path
            return read_ca_file(ca_path), f"{ca_path} (context {context})"
        tried.append(f"cluster {cluster_name!r} in {path} names no certificate authority")
    return None, f"context {context!r} (KUBE_CONTEXT): " + "; ".join(tried)
