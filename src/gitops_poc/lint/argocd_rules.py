"""The ApplicationSet and the AppProject agree with each other and with .env.

No template engine here (the `argocd` package expands ApplicationSets fully): lint reads the list/matrix
generator elements and the literal fields of the template, substituting plain `{{.param}}` /
`{{param}}` references, which is all the generated files and the seed's use. Automated sync added by a
`templatePatch` is understood for `{{ if eq .param "value" }}` conditions, as the generator writes them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from gitops_poc.config import SEMVER, Config
from gitops_poc.layout import APPLICATIONSET_FILE, PROJECT_FILE
from gitops_poc.lint.argoglob import PatternSet, allowed
from gitops_poc.lint.catalog import rule
from gitops_poc.lint.documents import KeyPath, YamlDocument, read_document, read_documents
from gitops_poc.lint.findings import Finding, Severity
from gitops_poc.lint.model import display_path, get_in
from gitops_poc.platform import Platform
from gitops_poc.yamlio import YamlSyntaxError

PARAM = re.compile(r"{{\s*\.?([A-Za-z_][A-Za-z0-9_]*)\s*}}")
ACTION = re.compile(r"{{-?\s*(if|else|end)\b(.*?)\s*-?}}", re.DOTALL)
CONDITION = re.compile(r'^(eq|ne)\s+(?:\.?([A-Za-z_]\w*)\s+"([^"]*)"|"([^"]*)"\s+\.?([A-Za-z_]\w*))$')
RESPECT = "RespectIgnoreDifferences=true"
TEMPLATE_SPEC: KeyPath = ("spec", "template", "spec")


def _same(revision: str, env: str | None, config: Config) -> bool:
    wanted = config.chart_version if env is None else config.chart_version_of(env)
    return revision.lstrip("v") == wanted.lstrip("v")


@dataclass(frozen=True)
class Params:
    """One Application's generator parameters, and the generator elements they came from."""

    elements: tuple[tuple[dict[str, Any], KeyPath], ...]

    @property
    def values(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for element, _ in self.elements:
            merged.update(element)
        return merged

    def origin(self, key: str) -> KeyPath | None:
        return next((path + (key,) for element, path in self.elements if key in element), None)


def substitute(text: Any, params: dict[str, Any]) -> str | None:
    """`text` with `{{.x}}` replaced from `params`; None when something else remains to be templated."""
    if not isinstance(text, str):
        return None
    result = PARAM.sub(lambda m: str(params[m[1]]) if m[1] in params else m[0], text)
    return None if "{{" in result else result


def _expand(generator: Any, path: KeyPath) -> list[Params] | None:
    """Parameter sets of a list or matrix generator; None for kinds lint does not read."""
    kinds = set(generator) - {"selector"} if isinstance(generator, dict) else set()
    if kinds not in ({"list"}, {"matrix"}):
        return None
    if isinstance(get_in(generator, ("list", "elements")), list):
        elements = generator["list"]["elements"]
        return [
            Params(((element, (*path, "list", "elements", i)),))
            for i, element in enumerate(elements)
            if isinstance(element, dict)
        ]
    children = get_in(generator, ("matrix", "generators"))
    if isinstance(children, list):
        expanded = [_expand(child, (*path, "matrix", "generators", i)) for i, child in enumerate(children)]
        known = [e for e in expanded if e is not None]
        if len(known) < len(expanded):
            return None
        return [
            Params(tuple(itertools.chain.from_iterable(p.elements for p in combo)))
            for combo in itertools.product(*known)
        ]
    return None


def patch_enables(patch: str, params: dict[str, Any]) -> bool | None:
    """Does `templatePatch` add syncPolicy.automated for `params`? None when its conditions are beyond
    lint."""
    if "automated" not in patch:
        return False
    stack: list[bool | None] = []
    position = 0
    for match in ACTION.finditer(patch):
        if "automated" in patch[position : match.start()]:
            return _active(stack)
        position = match.end()
        kind, argument = match[1], match[2].strip()
        if kind == "if":
            stack.append(_evaluate(argument, params))
        elif kind == "else" and stack:
            stack[-1] = None if stack[-1] is None else not stack[-1]
        elif kind == "end" and stack:
            stack.pop()
    return _active(stack) if "automated" in patch[position:] else False


def _active(stack: list[bool | None]) -> bool | None:
    if any(level is False for level in stack):
        return False
    return None if any(level is None for level in stack) else True


def _evaluate(condition: str, params: dict[str, Any]) -> bool | None:
    match = CONDITION.match(condition)
    if not match:
        return None
    name, literal = (match[2], match[3]) if match[2] else (match[5], match[4])
    if name not in params:
        return None
    equal = str(params[name]) == literal
    return equal if match[1] == "eq" else not equal


def _load(root: Path, relative: Path, kind: str, findings: list[Finding]) -> YamlDocument | None:
    path = root / relative
    display = display_path(root, path)
    if not path.is_file():
        findings.append(rule("argocd-file-missing").at(display, None, f"{display} does not exist"))
        return None
    try:
        doc = read_document(path, display, root)
    except YamlSyntaxError as exc:
        findings.append(rule("yaml-syntax").at(display, exc.line, f"invalid YAML: {exc.problem}"))
        return None
    if not isinstance(doc.data, dict) or doc.data.get("kind") != kind:
        found = doc.data.get("kind") if isinstance(doc.data, dict) else type(doc.data).__name__
        line = doc.line(("kind",)) if isinstance(doc.data, dict) else 1
        findings.append(rule("argocd-invalid").at(display, line, f"expected an {kind}, found {found!r}"))
        return None
    return doc


@dataclass(frozen=True)
class Project:
    """The AppProject's verdicts, as ArgoCD reaches them."""

    doc: YamlDocument

    @property
    def name(self) -> Any:
        return get_in(self.doc.data, ("metadata", "name"))

    @cached_property
    def _source_repos(self) -> PatternSet:
        patterns = [str(p) for p in get_in(self.doc.data, ("spec", "sourceRepos")) or []]
        return PatternSet.compile(patterns, "/", repo=True)

    def allows_repo(self, url: str) -> bool:
        return self._source_repos.allows(url)

    def allows_destination(self, server: str | None, name: str | None, namespace: str) -> bool:
        for item in get_in(self.doc.data, ("spec", "destinations")) or []:
            if not isinstance(item, dict):
                continue
            by_server = bool(server) and allowed([str(item.get("server") or "")], server or "")
            by_name = bool(name) and allowed([str(item.get("name") or "")], name or "")
            if (by_server or by_name) and allowed([str(item.get("namespace") or "")], namespace):
                return True
        return False


def _at(
    doc: YamlDocument,
    rule_id: str,
    keys: KeyPath,
    message: str,
    hint: str | None = None,
    severity: Severity | None = None,
) -> Finding:
    return rule(rule_id).at(doc.display, doc.line(keys), message, hint, severity)


class _Check:
    def __init__(self, platform: Platform, appset: YamlDocument, project: Project | None) -> None:
        self.platform, self.appset, self.project = platform, appset, project
        self.spec = get_in(appset.data, TEMPLATE_SPEC) or {}

    def at(
        self,
        rule_id: str,
        keys: KeyPath,
        message: str,
        hint: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        return _at(self.appset, rule_id, keys, message, hint, severity)

    def run(self) -> Iterator[Finding]:
        generators = get_in(self.appset.data, ("spec", "generators"))
        params: list[Params] = []
        for i, generator in enumerate(generators if isinstance(generators, list) else []):
            expanded = _expand(generator, ("spec", "generators", i))
            if expanded is None:
                yield self.at(
                    "argocd-generator-unsupported",
                    ("spec", "generators", i),
                    "a generator other than list/matrix of lists; its Applications are not checked",
                )
                return
            params.extend(expanded)
        yield from self._coverage(params)
        yield from self._destinations(params)
        yield from self._sources(params)
        yield from self._sync(params)
        yield from self._template()

    def _coverage(self, params: list[Params]) -> Iterator[Finding]:
        for key, configured, kind, prefix in (
            ("env", self.platform.environments, "environment", "argocd-env"),
            ("service", self.platform.services, "service", "argocd-service"),
        ):
            seen: dict[str, KeyPath | None] = {}
            for p in params:
                value = p.values.get(key)
                if isinstance(value, str):
                    seen.setdefault(value, p.origin(key))
            for name in configured:
                if name not in seen:
                    yield self.at(
                        f"{prefix}-missing",
                        ("spec", "generators"),
                        f"no generator element for {kind} {name!r}: its Applications do not exist",
                    )
            for name, origin in seen.items():
                if name not in configured:
                    listed = " ".join(configured)
                    yield self.at(
                        f"{prefix}-unknown",
                        origin or ("spec", "generators"),
                        f"{kind} {name!r} is not configured ({listed})",
                    )

    def _destinations(self, params: list[Params]) -> Iterator[Finding]:
        template = get_in(self.spec, ("destination", "namespace"))
        server = get_in(self.spec, ("destination", "server"))
        name = get_in(self.spec, ("destination", "name"))
        reported: set[str] = set()
        for p in params:
            values = p.values
            env, namespace = values.get("env"), substitute(template, values)
            if namespace is None or namespace in reported:
                continue
            reported.add(namespace)
            keys = p.origin("namespace") or (*TEMPLATE_SPEC, "destination", "namespace")
            if env in self.platform.environments and namespace != self.platform.namespace(env):
                yield self.at(
                    "argocd-namespace-mismatch",
                    keys,
                    f"environment {env} deploys to namespace {namespace!r}, .env derives"
                    f" {self.platform.namespace(env)!r}",
                )
            if env in self.platform.environments:
                yield from self._cluster(env, substitute(server, values), substitute(name, values), keys)
            if self.project is not None and not self.project.allows_destination(
                substitute(server, values), substitute(name, values), namespace
            ):
                yield self.at(
                    "argocd-destination-not-allowed",
                    keys,
                    f"namespace {namespace!r} is not among the AppProject's destinations",
                    f"add {{server: {substitute(server, values) or '...'}, namespace: {namespace}}} "
                    f"to {self.project.doc.display}",
                )

    def _cluster(
        self, env: str, server: str | None, name: str | None, keys: tuple[str | int, ...]
    ) -> Iterator[Finding]:
        """ENVIRONMENT_CLUSTERS: each environment goes to its cluster (by name, or the in-cluster server)."""
        wanted = self.platform.destination(env)
        got = {"name": name} if name else {"server": server or ""}
        expected = {k: v for k, v in wanted.items() if k != "namespace"}
        if got != expected:
            shown = ", ".join(f"{k} {v!r}" for k, v in got.items())
            want = ", ".join(f"{k} {v!r}" for k, v in expected.items())
            yield self.at(
                "argocd-cluster-mismatch",
                keys,
                f"environment {env} deploys to cluster {shown}; ENVIRONMENT_CLUSTERS says {want}",
            )

    def _sources(self, params: list[Params]) -> Iterator[Finding]:
        sources = self.spec.get("sources")
        if not isinstance(sources, list):
            sources = [self.spec["source"]] if isinstance(self.spec.get("source"), dict) else []
        key = "sources" if "sources" in self.spec else "source"
        checked: set[str] = set()
        refs = {s.get("ref") for s in sources if isinstance(s, dict)}
        for i, source in enumerate(sources):
            if not isinstance(source, dict):
                continue
            keys: KeyPath = (*TEMPLATE_SPEC, key, i) if key == "sources" else (*TEMPLATE_SPEC, key)
            if "chart" in source:
                yield from self._chart(source, keys, params)
            value_files = get_in(source, ("helm", "valueFiles")) or []
            if (
                any(isinstance(f, str) and f.startswith("$values/") for f in value_files)
                and "values" not in refs
            ):
                yield self.at(
                    "argocd-values-ref",
                    (*keys, "helm", "valueFiles"),
                    "valueFiles read $values/..., but no source declares ref: values",
                )
            for p in params:
                url = substitute(source.get("repoURL"), p.values)
                if url is None:
                    continue
                service = p.values.get("service")
                origin = p.origin("repoURL") if "{{" in str(source.get("repoURL")) else None
                if (
                    service in self.platform.services
                    and origin is not None
                    and url != self.platform.repo_url(service)
                ):
                    yield self.at(
                        "argocd-repo-mismatch",
                        origin,
                        f"service {service} comes from {url}, .env derives {self.platform.repo_url(service)}",
                    )
                if self.project is not None and url not in checked:
                    checked.add(url)
                    if not self.project.allows_repo(url):
                        yield self.at(
                            "argocd-repo-not-allowed",
                            origin or (*keys, "repoURL"),
                            f"source {url} is not allowed by the AppProject's sourceRepos",
                            f"add {url} to spec.sourceRepos of {self.project.doc.display}",
                        )

    def _chart(self, source: dict[str, Any], keys: KeyPath, params: list[Params]) -> Iterator[Finding]:
        """The chart version of each environment (`{{.chartVersion}}` from its element, or one literal for
        all) is one exact version: the one CHART_VERSIONS, else CHART_VERSION, gives that environment."""
        raw = source.get("targetRevision")
        field = (*keys, "targetRevision") if "targetRevision" in source else keys
        config = self.platform.config
        envs = list(dict.fromkeys(str(p.values.get("env", "")) for p in params))
        if not (isinstance(raw, str) and "{{" in raw):  # one literal version for every environment
            revision = str(raw or "")
            if not SEMVER.match(revision):
                yield self._unpinned(source, field, revision, "", config.chart_version)
                return
            differs = [e for e in envs if e in self.platform.environments and not _same(revision, e, config)]
            if differs or (not envs and not _same(revision, None, config)):
                yield self._version_differs(revision, differs, field)
            return
        for p in params:
            env = str(p.values.get("env", ""))
            if env not in envs:
                continue
            envs.remove(env)
            revision = substitute(raw, p.values) or ""
            where = next((o for name in PARAM.findall(raw) if (o := p.origin(name))), field)
            known = env in self.platform.environments
            if not SEMVER.match(revision):
                wanted = config.chart_version_of(env) if known else config.chart_version
                yield self._unpinned(source, where, revision or raw, f" of {env}", wanted)
            elif known and not _same(revision, env, config):
                yield self._version_differs(revision, [env], where)

    def _unpinned(
        self, source: dict[str, Any], where: KeyPath, revision: str, label: str, wanted: str
    ) -> Finding:
        return self.at(
            "argocd-chart-unpinned",
            where,
            f"chart {source.get('chart')} targetRevision{label} is {revision or 'empty'!r}: not one exact"
            " version",
            f"pin targetRevision: {wanted}",
        )

    def _version_differs(self, revision: str, envs: list[str], where: KeyPath) -> Finding:
        config = self.platform.config
        wanted = [(e, config.chart_version_of(e)) for e in envs]
        if not wanted or all(e not in dict(config.chart_versions) for e in envs):
            said = f"CHART_VERSION {config.chart_version}"
        else:
            said = "CHART_VERSIONS/CHART_VERSION " + " ".join(f"{e}={v}" for e, v in wanted)
        label = f" of {' '.join(envs)}" if envs else ""
        return self.at("argocd-chart-version", where, f"chart version {revision}{label} differs from {said}")

    def _sync(self, params: list[Params]) -> Iterator[Finding]:
        literal = get_in(self.spec, ("syncPolicy", "automated")) is not None
        patch = get_in(self.appset.data, ("spec", "templatePatch"))
        done: set[str] = set()
        for p in params:
            env = p.values.get("env")
            if env not in self.platform.environments or env in done:
                continue
            done.add(env)
            from_patch = patch_enables(patch, p.values) if isinstance(patch, str) else False
            auto = True if literal else from_patch
            keys = (*TEMPLATE_SPEC, "syncPolicy", "automated") if literal else ("spec", "templatePatch")
            production = env in self.platform.config.production_environments
            flag = p.values.get("autoSync")
            dead = f" (its autoSync: {flag!r} is read by nothing)" if literal and flag is not None else ""
            if production and auto:
                yield self.at(
                    "argocd-prod-auto-sync", keys, f"production environment {env} syncs automatically{dead}"
                )
            elif production and auto is None:
                yield self.at(
                    "argocd-prod-auto-sync",
                    keys,
                    "cannot tell whether templatePatch enables automated sync for production environment"
                    f" {env}",
                    "check the patch's condition by hand",
                    Severity.WARNING,
                )
            elif not production and auto is not None and auto != self.platform.auto_sync(env):
                state = "syncs" if auto else "does not sync"
                yield self.at(
                    "argocd-auto-sync-mismatch",
                    keys,
                    f"{env} {state} automatically, but AUTO_SYNC_ENVIRONMENTS says the opposite",
                )

    def _template(self) -> Iterator[Finding]:
        if self.project is not None:
            project_name = self.project.name
            used = self.spec.get("project")
            if used != project_name:
                yield self.at(
                    "argocd-project-mismatch",
                    (*TEMPLATE_SPEC, "project"),
                    f"Applications use project {used!r}, the AppProject is {project_name!r}",
                    f"set spec.template.spec.project: {project_name}",
                )
        options = get_in(self.spec, ("syncPolicy", "syncOptions")) or []
        if self.spec.get("ignoreDifferences") and RESPECT not in options:
            yield self.at(
                "argocd-ignore-differences",
                (*TEMPLATE_SPEC, "ignoreDifferences"),
                "ignoreDifferences without RespectIgnoreDifferences=true: every sync resets the ignored"
                " fields",
            )


def _applications(doc: YamlDocument, project: Project) -> Iterator[Finding]:
    """A plain Application (e.g. the platform objects per environment) against the AppProject."""
    spec = doc.data.get("spec") or {}
    used = spec.get("project")
    if used != project.name:
        yield _at(
            doc,
            "argocd-project-mismatch",
            ("spec", "project"),
            f"Application {get_in(doc.data, ('metadata', 'name'))} uses project {used!r}, the AppProject is"
            f" {project.name!r}",
            f"set spec.project: {project.name}",
        )
    sources: list[Any] = spec["sources"] if isinstance(spec.get("sources"), list) else [spec.get("source")]
    for i, source in enumerate(sources):
        url = source.get("repoURL") if isinstance(source, dict) else None
        keys: KeyPath = (
            ("spec", "sources", i, "repoURL") if "sources" in spec else ("spec", "source", "repoURL")
        )
        if isinstance(url, str) and not project.allows_repo(url):
            yield _at(
                doc,
                "argocd-repo-not-allowed",
                keys,
                f"source {url} is not allowed by the AppProject's sourceRepos",
                f"add {url} to spec.sourceRepos of {project.doc.display}",
            )
    destination = spec.get("destination") or {}
    namespace = destination.get("namespace")
    if isinstance(namespace, str) and not project.allows_destination(
        destination.get("server"), destination.get("name"), namespace
    ):
        yield _at(
            doc,
            "argocd-destination-not-allowed",
            ("spec", "destination", "namespace"),
            f"namespace {namespace!r} is not among the AppProject's destinations",
            f"add it to spec.destinations of {project.doc.display}",
        )


def _other_applications(root: Path, findings: list[Finding]) -> Iterator[YamlDocument]:
    """Application documents in the other files of gitops-config/argocd/."""
    folder = root / APPLICATIONSET_FILE.parent
    skip = {root / APPLICATIONSET_FILE, root / PROJECT_FILE}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        if path in skip:
            continue
        display = display_path(root, path)
        try:
            docs = read_documents(path, display, root)
        except YamlSyntaxError as exc:
            findings.append(rule("yaml-syntax").at(display, exc.line, f"invalid YAML: {exc.problem}"))
            continue
        yield from (d for d in docs if isinstance(d.data, dict) and d.data.get("kind") == "Application")


def check_argocd(platform: Platform, root: Path) -> list[Finding]:
    """ApplicationSet, AppProject and other Applications against each other and against .env."""
    findings: list[Finding] = []
    appset = _load(root, APPLICATIONSET_FILE, "ApplicationSet", findings)
    project_doc = _load(root, PROJECT_FILE, "AppProject", findings)
    project = Project(project_doc) if project_doc is not None else None
    if appset is not None:
        findings.extend(_Check(platform, appset, project).run())
    if project is not None:
        for doc in _other_applications(root, findings):
            findings.extend(_applications(doc, project))
    return findings
