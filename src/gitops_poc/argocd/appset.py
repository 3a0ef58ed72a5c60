"""Expanding an ApplicationSet into the Applications ArgoCD's ApplicationSet controller would create.

Follows the controller step by step: each generator yields parameter sets (`list` with `elements` and
`elementsYaml`; `matrix` of exactly two children, the second interpolated with each parameter set of the
first; an optional label `selector`); the template (merged under a generator's own `template`) is rendered
field by field, map keys included, with Go templates (`goTemplate: true`, `goTemplateOptions`) or
fasttemplate; `templatePatch` is rendered the same way and applied; the Application lands in the
ApplicationSet's namespace and gets the resources finalizer unless `preserveResourcesOnDeletion` is set.
Any error stops the whole ApplicationSet, as it does in ArgoCD (no Application is created, changed or
deleted).
Generators that need a cluster, a git host or a plugin (clusters, git, scmProvider, ...) are refused by name.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitops_poc.argocd import fasttemplate, goyaml, sprig
from gitops_poc.argocd.applications import RESOURCES_FINALIZER, Application
from gitops_poc.argocd.gofmt import sprint_value
from gitops_poc.argocd.gotemplate import Template, TemplateError
from gitops_poc.argocd.patch import apply_template_patch, parse_patch
from gitops_poc.argocd.sprig import empty
from gitops_poc.dnsnames import DNS1123_SUBDOMAIN
from gitops_poc.errors import UsageError

API_GROUP = "argoproj.io"
KIND = "ApplicationSet"
APPLICATION_API_VERSION = "argoproj.io/v1alpha1"
SUPPORTED_GENERATORS = ("list", "matrix")
# Generators ArgoCD knows that need something a plan cannot see (a cluster, a git host, an SCM API, a plugin).
UNSUPPORTED_GENERATORS = (
    "clusters",
    "git",
    "scmProvider",
    "pullRequest",
    "clusterDecisionResource",
    "plugin",
    "merge",
)
GENERATOR_KEYS = SUPPORTED_GENERATORS + UNSUPPORTED_GENERATORS
TEMPLATE_METADATA = ("name", "namespace", "labels", "annotations", "finalizers")


class ApplicationSetError(UsageError):
    """The ApplicationSet cannot be expanded; the message names the file, the ApplicationSet and the field."""


@dataclass
class _Context:
    """One ApplicationSet being expanded: its template mode and a cache of parsed templates."""

    where: str  # "<file>: ApplicationSet <name>"
    go_template: bool
    missing_key: str
    apply_nested_selectors: bool
    templates: dict[str, Template] = field(default_factory=dict)
    patches: dict[str, Any] = field(default_factory=dict)  # rendered templatePatch text -> parsed patch

    def fail(self, path: str, message: str) -> ApplicationSetError:
        return ApplicationSetError(f"{self.where}: {path}: {message}")

    # --- rendering ------------------------------------------------------------------------------------
    def render_string(self, text: str, params: Mapping[str, Any], path: str) -> str:
        if not self.go_template:
            return fasttemplate.render(text, params)
        template = self.templates.get(text)
        try:
            if template is None:
                template = self.templates[text] = Template.parse(text, sprig.FUNCS)
            return template.execute(params, missing_key=self.missing_key)
        except TemplateError as exc:
            raise self.fail(path, f"template {text!r} with {_describe(params)}: {exc}") from None

    def render(self, node: Any, params: Mapping[str, Any], path: str) -> Any:
        """Every string of `node` rendered, map keys included; null map values dropped (as Go's copy does)."""
        if isinstance(node, str):
            return self.render_string(node, params, path) if "{{" in node else node
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for key, value in node.items():
                if value is None:
                    continue
                here = f"{path}.{key}"
                new_key = self.render_string(key, params, here) if "{{" in key else key
                out[new_key] = self.render(value, params, here)
            return out
        if isinstance(node, list):
            return [self.render(v, params, f"{path}[{i}]") for i, v in enumerate(node)]
        return node


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _describe(params: Mapping[str, Any]) -> str:
    shown = ", ".join(f"{k}={sprint_value(v)}" for k, v in list(params.items())[:6])
    return "{" + shown + (", ..." if len(params) > 6 else "") + "}"


# --- loading ---------------------------------------------------------------------------------------------
def is_applicationset(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and doc.get("kind") == KIND
        and str(doc.get("apiVersion", "")).startswith(API_GROUP + "/")
    )


def load_applicationsets(text: str, path: str) -> list[dict[str, Any]]:
    """Every ApplicationSet in a (multi-document) YAML file; other kinds are skipped."""
    return [doc for doc in goyaml.load_all(text, path) if is_applicationset(doc)]


# --- generators ------------------------------------------------------------------------------------------
def _generator_kinds(gen: Mapping[str, Any], ctx: _Context, path: str) -> list[str]:
    kinds = [k for k in gen if k != "selector" and gen[k] is not None]
    unknown = [k for k in kinds if k not in GENERATOR_KEYS]
    unsupported = [k for k in kinds if k in UNSUPPORTED_GENERATORS]
    if unknown:
        raise ctx.fail(
            path, f"unknown generator {', '.join(unknown)} (ArgoCD knows {', '.join(GENERATOR_KEYS)})"
        )
    if unsupported:
        raise ctx.fail(
            path,
            f"the {', '.join(unsupported)} generator is not supported by `plan`: it needs a "
            "cluster, a git host, an API or a plugin to answer (supported: list, matrix)",
        )
    if not kinds:
        raise ctx.fail(path, "no generator given")
    return kinds


def _list_params(gen: Mapping[str, Any], ctx: _Context, path: str) -> list[dict[str, Any]]:
    elements = gen.get("elements") or []
    if not isinstance(elements, list):
        raise ctx.fail(f"{path}.elements", "must be a list")
    out: list[dict[str, Any]] = []
    for i, element in enumerate(elements):
        where = f"{path}.elements[{i}]"
        if not isinstance(element, dict):
            raise ctx.fail(where, f"error unmarshaling list element: expected a map, found {element!r}")
        element = goyaml.json_like(element)
        if ctx.go_template:
            out.append(element)
            continue
        params: dict[str, Any] = {}
        for key, value in element.items():
            if key == "values":
                if not isinstance(value, dict):
                    raise ctx.fail(f"{where}.values", "error parsing values map: must be a map of strings")
                for k, v in value.items():
                    if not isinstance(v, str):
                        raise ctx.fail(
                            f"{where}.values.{k}", f"error parsing value as string: {v!r} (quote it)"
                        )
                    params[f"values.{k}"] = v
            elif not isinstance(value, str):
                raise ctx.fail(
                    f"{where}.{key}",
                    f"error parsing value as string: {sprint_value(value)!r} is not "
                    "a string (without goTemplate every element value must be one)",
                )
            else:
                params[key] = value
        out.append(params)
    text = gen.get("elementsYaml")
    if text:
        if not isinstance(text, str):
            raise ctx.fail(f"{path}.elementsYaml", "must be a string")
        data = goyaml.load_json_like(text, f"{ctx.where}: {path}.elementsYaml")
        if data is not None and (not isinstance(data, list) or not all(isinstance(e, dict) for e in data)):
            raise ctx.fail(
                f"{path}.elementsYaml", "error unmarshaling decoded ElementsYaml: expected a list of maps"
            )
        out.extend(data or [])
    return out


def _selector_matches(
    selector: Mapping[str, Any], params: Mapping[str, Any], ctx: _Context, path: str
) -> bool:
    labels = {k: v for k, v in params.items() if isinstance(v, str)}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != str(value):
            return False
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        key, op, values = expr.get("key"), expr.get("operator"), [str(v) for v in expr.get("values") or []]
        if op == "In":
            ok = key in labels and labels[key] in values
        elif op == "NotIn":
            ok = key not in labels or labels[key] not in values
        elif op == "Exists":
            ok = key in labels
        elif op == "DoesNotExist":
            ok = key not in labels
        else:
            raise ctx.fail(
                f"{path}.selector.matchExpressions[{i}]", f"error parsing label selector: operator {op!r}"
            )
        if not ok:
            return False
    return True


def _merge_params(
    prev: Mapping[str, Any], curr: Mapping[str, Any], ctx: _Context, path: str
) -> dict[str, Any]:
    if ctx.go_template:
        # mergo.Merge(tmp, prev) then mergo.Merge(tmp, curr): the first child's non-empty values win,
        # nested maps are merged key by key.
        merged = copy.deepcopy(dict(prev))
        _mergo(merged, curr)
        return merged
    a = {k: v if isinstance(v, str) else sprint_value(v) for k, v in prev.items()}
    for key, value in curr.items():
        text = value if isinstance(value, str) else sprint_value(value)
        if key in a and a[key] != text:
            raise ctx.fail(path, f"found duplicate key {key} with different value, a: {a[key]} ,b: {text}")
        a[key] = text
    return a


def _mergo(dst: dict[str, Any], src: Mapping[str, Any]) -> None:
    for key, value in src.items():
        if value is None:
            continue
        current = dst.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            _mergo(current, value)
        elif key not in dst or empty(current):
            dst[key] = copy.deepcopy(value)


def generate(
    gen: Any, ctx: _Context, path: str, *, nested_in_matrix: bool = False, keep_selector: bool = True
) -> list[dict[str, Any]]:
    """The parameter sets of one generator entry."""
    if not isinstance(gen, dict):
        raise ctx.fail(path, f"a generator must be a map, found {gen!r}")
    params: list[dict[str, Any]] = []
    for kind in _generator_kinds(gen, ctx, path):
        if kind == "list":
            params.extend(_list_params(gen["list"] or {}, ctx, f"{path}.list"))
        else:
            params.extend(_matrix_params(gen["matrix"] or {}, ctx, f"{path}.matrix", nested_in_matrix))
    selector = gen.get("selector")
    if isinstance(selector, dict) and keep_selector:
        params = [p for p in params if _selector_matches(selector, p, ctx, path)]
    return params


def _matrix_params(matrix: Mapping[str, Any], ctx: _Context, path: str, nested: bool) -> list[dict[str, Any]]:
    children = matrix.get("generators") or []
    if not isinstance(children, list) or len(children) < 2:
        raise ctx.fail(path, "found less than two generators, Matrix support only two")
    if len(children) > 2:
        raise ctx.fail(
            path, "found more than the max allowed of child generators (a matrix combines exactly two)"
        )
    # A matrix inside a matrix keeps its children's selectors only with spec.applyNestedSelectors.
    keep = not nested or ctx.apply_nested_selectors
    for i, child in enumerate(children):
        if (
            isinstance(child, dict)
            and len([k for k in child if k in GENERATOR_KEYS and child[k] is not None]) > 1
        ):
            raise ctx.fail(f"{path}.generators[{i}]", "found more than one generator in matrix.Generators")
    first = generate(children[0], ctx, f"{path}.generators[0]", nested_in_matrix=True, keep_selector=keep)
    out: list[dict[str, Any]] = []
    for prev in first:
        # The second child is interpolated with each parameter set of the first (when it has any).
        second = ctx.render(children[1], prev, f"{path}.generators[1]") if prev else children[1]
        for curr in generate(second, ctx, f"{path}.generators[1]", nested_in_matrix=True, keep_selector=keep):
            out.append(_merge_params(prev, curr, ctx, path))
    return out


# --- the whole ApplicationSet ----------------------------------------------------------------------------
def _fill(dst: Any, src: Any) -> Any:
    """mergo.Merge(dst, src): fields `dst` leaves empty are taken from `src` (a generator's template wins)."""
    if isinstance(dst, dict) and isinstance(src, dict):
        out = dict(dst)
        for key, value in src.items():
            out[key] = _fill(out[key], value) if key in out and not empty(out[key]) else value
        return out
    return src if empty(dst) else dst


def _options(spec: Mapping[str, Any], where: str) -> tuple[bool, str]:
    go_template = spec.get("goTemplate", False)
    if not isinstance(go_template, bool):
        raise ApplicationSetError(f"{where}: spec.goTemplate must be true or false, found {go_template!r}")
    missing_key = "default"
    for option in spec.get("goTemplateOptions") or []:
        name, _, value = str(option).partition("=")
        if name != "missingkey" or value not in ("default", "invalid", "zero", "error"):
            raise ApplicationSetError(
                f"{where}: spec.goTemplateOptions: unrecognized option {option!r} "
                "(Go knows missingkey=default|invalid|zero|error)"
            )
        missing_key = value
    return go_template, missing_key


def expand(appset: Mapping[str, Any], source: str) -> list[Application]:
    """The Applications one ApplicationSet generates, in ArgoCD's order (generator by generator)."""
    meta = _map(appset.get("metadata"))
    name = str(meta.get("name") or "<unnamed>")
    where = f"{source}: ApplicationSet {name}"
    spec = appset.get("spec")
    if not isinstance(spec, dict):
        raise ApplicationSetError(f"{where}: spec is missing")
    go_template, missing_key = _options(spec, where)
    ctx = _Context(where, go_template, missing_key, bool(spec.get("applyNestedSelectors")))
    generators = spec.get("generators")
    if not isinstance(generators, list) or not generators:
        raise ctx.fail("spec.generators", "at least one generator is needed")
    template = spec.get("template")
    if not isinstance(template, dict):
        raise ctx.fail("spec.template", "is missing")
    patch = spec.get("templatePatch")
    if patch is not None and not isinstance(patch, str):
        raise ctx.fail("spec.templatePatch", "must be a string")
    preserve = bool(_map(spec.get("syncPolicy")).get("preserveResourcesOnDeletion"))

    apps: list[Application] = []
    for i, gen in enumerate(generators):
        path = f"spec.generators[{i}]"
        own = next(
            (
                gen[k].get("template")
                for k in SUPPORTED_GENERATORS
                if isinstance(gen, dict) and isinstance(gen.get(k), dict) and gen[k].get("template")
            ),
            None,
        )
        merged_template = _fill(own, template) if isinstance(own, dict) else template
        for params in generate(gen, ctx, path):
            apps.append(_application(merged_template, params, ctx, patch, preserve, meta, name))
    _check_names(apps, ctx)
    return apps


def _application(
    template: Mapping[str, Any],
    params: dict[str, Any],
    ctx: _Context,
    patch: str | None,
    preserve: bool,
    appset_meta: Mapping[str, Any],
    appset_name: str,
) -> Application:
    tmpl_meta = _map(template.get("metadata"))
    manifest: dict[str, Any] = {
        "apiVersion": APPLICATION_API_VERSION,
        "kind": "Application",
        "metadata": {k: tmpl_meta[k] for k in TEMPLATE_METADATA if tmpl_meta.get(k) is not None},
        "spec": _map(template.get("spec")),
    }
    if params:  # ArgoCD returns the template untouched (and without finalizer) for an empty parameter set
        manifest = ctx.render(manifest, params, "spec.template")
        meta = manifest["metadata"]
        if not preserve and not meta.get("finalizers"):
            meta["finalizers"] = [RESOURCES_FINALIZER]
        if patch is not None:
            rendered = ctx.render_string(patch, params, "spec.templatePatch")
            try:
                if rendered not in ctx.patches:
                    ctx.patches[rendered] = parse_patch(rendered)
                manifest = apply_template_patch(manifest, rendered, ctx.patches[rendered])
            except UsageError as exc:
                raise ctx.fail("spec.templatePatch", f"with {_describe(params)}: {exc}") from None
    else:
        manifest = copy.deepcopy(manifest)
    metadata = manifest.setdefault("metadata", {})
    if appset_meta.get("namespace"):
        metadata["namespace"] = appset_meta["namespace"]  # always the ApplicationSet's namespace
    else:
        metadata.pop("namespace", None)
    return Application(manifest, appset_name, params)


def _check_names(apps: Sequence[Application], ctx: _Context) -> None:
    seen: dict[str, dict[str, Any]] = {}
    for app in apps:
        if app.name in seen:
            raise ctx.fail(
                "spec.template.metadata.name",
                f"contains applications with duplicate name: {app.name} "
                f"(from {_describe(seen[app.name])} and {_describe(app.params)})",
            )
        seen[app.name] = dict(app.params)
        if not DNS1123_SUBDOMAIN.matches(app.name):
            raise ctx.fail(
                "spec.template.metadata.name",
                f"Application name {app.name!r} is not a valid Kubernetes "
                f"name (lower-case DNS subdomain), from {_describe(app.params)}",
            )


def expand_all(appsets: Sequence[Mapping[str, Any]], source: str) -> list[Application]:
    """Every Application of every ApplicationSet; two ApplicationSets may not generate the same
    Application."""
    apps: list[Application] = []
    owners: dict[tuple[str, str], str] = {}
    for appset in appsets:
        for app in expand(appset, source):
            if app.key in owners:
                raise ApplicationSetError(
                    f"{source}: Application {app.name} is generated by both ApplicationSet "
                    f"{owners[app.key]} and {app.appset}"
                )
            owners[app.key] = app.appset
            apps.append(app)
    return apps
