"""The waves of a chart rollout, read from the ApplicationSet of gitops-config at one commit: pure, no git.

The repository is the state: an environment whose Applications all deploy VERSION is a wave done, so a
re-run (after a failure, a refused push, a merge request merged meanwhile) continues with the next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap

from gitops_poc.argocd.appset import expand_all, load_applicationsets
from gitops_poc.errors import UsageError
from gitops_poc.layout import APPLICATIONSET_FILE, GITOPS_CONFIG_DIR
from gitops_poc.platform import Platform
from gitops_poc.yamlio import edit_round_trip

# Where the ApplicationSet sits in the gitops-config repository (its folder is the repository's root).
APPSET_PATH = APPLICATIONSET_FILE.relative_to(GITOPS_CONFIG_DIR).as_posix()
CHART_VERSION_PARAM = "{{.chartVersion}}"


@dataclass(frozen=True)
class Wave:
    """One environment's step: the versions its Applications deploy now, and whether that is VERSION."""

    env: str
    before: tuple[str, ...]
    version: str
    production: bool

    @property
    def done(self) -> bool:
        return self.before == (self.version,)

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "before": list(self.before),
            "version": self.version,
            "production": self.production,
            "done": self.done,
        }


def deployed_versions(text: str, where: str = APPSET_PATH) -> dict[str, tuple[str, ...]]:
    """env -> the chart versions its Applications deploy, expanded as Argo CD expands the ApplicationSet."""
    found: dict[str, list[str]] = {}
    for app in expand_all(load_applicationsets(text, where), where):
        versions = found.setdefault(app.environment, [])
        if app.chart_version not in versions:
            versions.append(app.chart_version)
    return {env: tuple(sorted(versions)) for env, versions in found.items()}


def plan_waves(platform: Platform, text: str, version: str, envs: tuple[str, ...] = ()) -> list[Wave]:
    """One wave per environment, in ENVIRONMENTS order (`envs`: only those, still in that order)."""
    deployed = deployed_versions(text)
    waves = []
    for env in platform.environments:
        if envs and env not in envs:
            continue
        if env not in deployed:
            raise UsageError(
                f"{APPSET_PATH}: no Application of environment {env!r}; run `gitops-poc init` and "
                "`publish` first"
            )
        waves.append(Wave(env, deployed[env], version, env in platform.config.production_environments))
    return waves


def _env_elements(node: Any) -> list[CommentedMap]:
    """Every list-generator element that names an environment (`env:`), wherever the generators nest it."""
    found: list[CommentedMap] = []
    if isinstance(node, dict):
        elements = node.get("elements") if isinstance(node.get("elements"), list) else None
        if elements is not None:
            found += [e for e in elements if isinstance(e, CommentedMap) and "env" in e]
        for value in node.values():
            found += _env_elements(value) if isinstance(value, dict | list) and value is not elements else []
    elif isinstance(node, list):
        for item in node:
            found += _env_elements(item)
    return found


def _chart_sources(doc: CommentedMap) -> list[CommentedMap]:
    spec = doc.get("spec", {}).get("template", {}).get("spec", {})
    sources = spec.get("sources") if isinstance(spec.get("sources"), list) else [spec.get("source")]
    return [s for s in sources if isinstance(s, CommentedMap) and s.get("chart")]


def with_chart_version(text: str, env: str, version: str, where: str = APPSET_PATH) -> str:
    """The ApplicationSet with `env`'s element on `version`, everything else as it was (a key-level edit).

    A file from before per-environment versions (one literal targetRevision) first gets `chartVersion` in
    every element, at that literal, and `targetRevision: '{{.chartVersion}}'`: the other environments keep
    what they deploy."""

    def edit(doc: CommentedMap) -> None:
        elements = _env_elements(doc.get("spec"))
        target = [e for e in elements if e.get("env") == env]
        if not target:
            raise UsageError(f"{where}: no generator element with env: {env} (run `gitops-poc init`)")
        for source in _chart_sources(doc):
            current = str(source.get("targetRevision") or "")
            if current != CHART_VERSION_PARAM:
                for element in elements:
                    element.setdefault("chartVersion", current)
                source["targetRevision"] = CHART_VERSION_PARAM
        for element in target:
            element["chartVersion"] = version

    return edit_round_trip(text, where, edit)
