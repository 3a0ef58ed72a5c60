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


# --- RFC 6902 --------------------------------------------------------------------------------------------
def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchError(f"templatePatch: invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]] if path else []


def _parent(doc: Any, parts: list[str], op: str) -> tuple[Any, str]:
    node = doc
    for part in parts[:-1]:
        node = _child(node, part, op)
    return node, parts[-1]


def _child(node: Any, part: str, op: str) -> Any:
    try:
        if isinstance(node, list):
            return node[int(part)]
        return node[part]
    except (KeyError, IndexError, ValueError, TypeError):
        raise PatchError(f"templatePatch: {op}: path segment {part!r} does not exist") from None


def _get(doc: Any, parts: list[str], op: str) -> Any:
    node = doc
    for part in parts:
        node = _child(node, part, op)
    return node


def _add(doc: Any, parts: list[str], value: Any, op: str) -> Any:
    if not parts:
        return value
    parent, last = _parent(doc, parts, op)
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last) if last.isdigit() else -1
        if not 0 <= index <= len(parent):
            raise PatchError(f"templatePatch: {op}: index {last!r} out of range")
        parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise PatchError(f"templatePatch: {op}: cannot add under a {type(parent).__name__}")
    return doc


def _remove(doc: Any, parts: list[str], op: str) -> Any:
    if not parts:
        raise PatchError(f"templatePatch: {op}: cannot remove the whole document")
    parent, last = _parent(doc, parts, op)
    _child(parent, last, op)
    if isinstance(parent, list):
        return parent.pop(int(last))
    return parent.pop(last)


def json_patch(app: dict[str, Any], operations: list[Any]) -> dict[str, Any]:
    doc: Any = copy.deepcopy(app)
    for number, operation in enumerate(operations):
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise PatchError(f"templatePatch: operation {number} needs 'op' and 'path': {operation!r}")
        op = operation["op"]
        parts = _pointer(operation["path"])
        if op in ("add", "replace", "test") and "value" not in operation:
            raise PatchError(f"templatePatch: operation {number} ({op}) needs a 'value'")
        if op == "add":
            doc = _add(doc, parts, copy.deepcopy(operation["value"]), op)
        elif op == "remove":
            _remove(doc, parts, op)
        elif op == "replace":
            _remove(doc, parts, op) if parts else None
            doc = _add(doc, parts, copy.deepcopy(operation["value"]), op)
        elif op in ("move", "copy"):
            source = _pointer(operation.get("from"))
            value = _remove(doc, source, op) if op == "move" else copy.deepcopy(_get(doc, source, op))
            doc = _add(doc, parts, value, op)
        elif op == "test":
            if _get(doc, parts, op) != operation["value"]:
                raise PatchError(f"templatePatch: test failed at {operation['path']}")
        else:
            raise PatchError(f"templatePatch: unknown operation {op!r}")
    if not isinstance(doc, dict):
        raise PatchError("templatePatch: the patched Application is not a map")
    return doc
