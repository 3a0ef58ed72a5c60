"""Rendered manifests: `helm template` output split into documents that know their template and identity."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gitops_poc.errors import GitopsError
from gitops_poc.yamlio import load_k8s

DOCUMENT_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)
SOURCE_LINE = re.compile(r"^# Source: (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object as helm printed it (`text`) and as data (`body`)."""

    source: str  # the chart template that produced it, e.g. app/templates/pdb.yaml
    text: str
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body.get("kind") or "?")

    @property
    def api_version(self) -> str:
        return str(self.body.get("apiVersion") or "")

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.body.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        return str(self.metadata.get("name") or "?")

    @property
    def namespace(self) -> str | None:
        ns = self.metadata.get("namespace")
        return None if ns is None else str(ns)

    @property
    def key(self) -> str:
        """Identity within one release: `Kind/name`."""
        return f"{self.kind}/{self.name}"


def parse_manifests(output: str, origin: str = "helm template") -> list[Manifest]:
    """Split multi-document YAML into manifests; empty documents (disabled templates) are dropped."""
    manifests = []
    for chunk in DOCUMENT_SEPARATOR.split(output):
        source_match = SOURCE_LINE.search(chunk)
        source = source_match.group(1).strip() if source_match else origin
        text = SOURCE_LINE.sub("", chunk).strip("\n")
        if not text.strip():
            continue
        body = load_k8s(text, f"{origin}: {source}")
        if body is None:
            continue
        if not isinstance(body, dict):
            raise GitopsError(f"{origin}: {source} rendered a {type(body).__name__}, not a Kubernetes object")
        manifests.append(Manifest(source, text + "\n", body))
    return manifests
