"""Applying an ApplicationSet `templatePatch` to a rendered Application, as ArgoCD does.

A patch whose text starts with `[` is a JSON patch (RFC 6902: add, remove, replace, move, copy, test);
anything else is YAML or JSON applied as a Kubernetes strategic merge patch against the Application type:
maps merge key by key, `null` deletes a key, lists are replaced whole (the Application type declares no
merge keys), except `metadata.finalizers`, which ObjectMeta merges as a set. `$patch: replace|delete` work
on maps. `spec.project` cannot be patched: ArgoCD puts the template's project back.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonpatch
import jsonpointer

from gitops_poc.argocd import goyaml
from gitops_poc.errors import UsageError
from gitops_poc.yamlio import YamlSyntaxError


class PatchError(UsageError):
    pass


def parse_patch(text: str) -> Any:
    """The patch as data: JSON when it starts with `{` or `[`, otherwise YAML (sigs.k8s.io/yaml rules)."""
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(stripped, parse_int=float)
        except ValueError as exc:
            raise PatchError(f"invalid templatePatch (JSON): {exc}") from None
    try:
        return goyaml.load_json_like(text, "templatePatch")
    except YamlSyntaxError as exc:
        raise PatchError(
            f"invalid templatePatch after rendering: {exc.problem} (line {exc.line} of:\n{text})"
        ) from None


def apply_template_patch(app: dict[str, Any], text: str, parsed: Any = None) -> dict[str, Any]:
    """`app` patched by `text` (`parsed`, when given, is parse_patch(text), reused across Applications)."""
    patch = parse_patch(text) if parsed is None else parsed
    if isinstance(patch, list):
        patched = json_patch(app, patch)
    elif isinstance(patch, dict):
        patched = strategic_merge(app, patch, ())
    elif patch is None:
        patched = dict(app)
    else:
        raise PatchError(f"invalid templatePatch: expected a map or a JSON patch list, got {patch!r}")
    # ArgoCD puts the template's project back whatever the patch did (an empty `spec:` clears the rest).
    project = app.get("spec", {}).get("project")
    if project is not None:
        spec = patched.get("spec")
        patched["spec"] = {**(spec if isinstance(spec, dict) else {}), "project": project}
    return patched


# --- strategic merge -------------------------------------------------------------------------------------
_SET_LISTS = {("metadata", "finalizers")}


def strategic_merge(original: Any, patch: dict[str, Any], path: tuple[str, ...]) -> Any:
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive is not None:
        raise PatchError(f"templatePatch: unknown $patch directive {directive!r} at {'.'.join(path) or '.'}")
    # Only maps on the patch's path are copied; the rest is shared with `original`, which is not modified.
    result = dict(original) if isinstance(original, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            raise PatchError(f"templatePatch: directive {key} is not supported by gitops-poc")
        here = path + (key,)
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge(result.get(key), value, here)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list) and here in _SET_LISTS and isinstance(result.get(key), list):
            result[key] = result[key] + [v for v in value if v not in result[key]]
        else:
            result[key] = copy.deepcopy(value)
    return result


# --- RFC 6902 (the jsonpatch library; ArgoCD uses evanphx/json-patch, both follow the RFC) ---------------
def json_patch(app: dict[str, Any], operations: list[Any]) -> dict[str, Any]:
    """`app` patched by a JSON patch (a copy; `app` is not modified)."""
    for number, operation in enumerate(operations):
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise PatchError(f"templatePatch: operation {number} needs 'op' and 'path': {operation!r}")
    try:
        doc = jsonpatch.JsonPatch(operations).apply(app)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise PatchError(f"templatePatch: {exc}") from None
    except (TypeError, ValueError, KeyError, IndexError) as exc:  # e.g. a path through a string
        raise PatchError(f"templatePatch: cannot apply the JSON patch: {exc}") from None
    if not isinstance(doc, dict):
        raise PatchError("templatePatch: the patched Application is not a map")
    return doc
