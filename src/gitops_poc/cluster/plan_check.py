"""The custom resources a cluster plan would apply (AppProject, Applications, ApplicationSet, VaultAuths,
...), checked against the CRDs of the pinned charts before anything is applied: an object the API server
would reject must stop the plan before its first step, not halfway through it. Pure: the schemas come in
(render/crds.py loads them)."""

from __future__ import annotations

from gitops_poc.cluster.model import ApplyObject, ClusterPlan, object_ref
from gitops_poc.render.crdschema import CrdSchemas
from gitops_poc.render.findings import ManifestSeverity
from gitops_poc.render.manifests import Manifest
from gitops_poc.render.validate import BUILTIN_GROUPS, api_group, custom_resource_findings


def custom_resource_problems(plan: ClusterPlan, crds: CrdSchemas) -> tuple[list[str], int]:
    """(one line per schema error: the object, the field, the message; how many custom resources could not
    be checked)."""
    problems: list[str] = []
    unchecked = 0
    for step in plan.steps:
        if not isinstance(step, ApplyObject):
            continue
        body = step.full_body()
        api_version = str(body.get("apiVersion") or "")
        if api_group(api_version) in BUILTIN_GROUPS:
            continue
        findings, checked = custom_resource_findings(Manifest("setup plan", "", body), crds)
        unchecked += int(not checked and all(f.severity is ManifestSeverity.SKIPPED for f in findings))
        problems += [
            f"{object_ref(body)}: {f.message}" for f in findings if f.severity is ManifestSeverity.ERROR
        ]
    return problems, unchecked
