"""What a change does to the desired state: merged values as path-level changes, manifests as unified diffs.

Lists are compared whole because Helm replaces them whole; values are compared with their types, so
`"3"` and `3` differ (the chart would render them differently).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gitops_poc.render.manifests import Manifest
from gitops_poc.render.model import Rendered
from gitops_poc.yamlblock import block_yaml
from gitops_poc.yamlio import dump_readable

PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class Change(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


def canonical(value: Any) -> str:
    """A stable, type-preserving text of a value (for equality and JSON output)."""
    return json.dumps(value, sort_keys=True, default=str)


def format_path(path: Sequence[str]) -> str:
    """`resources.limits.cpu`; keys that are not plain words in brackets:
    `configfiles.data["config.yaml"]`."""
    text = ""
    for key in path:
        text += f".{key}" if PLAIN_KEY.match(key) else f"[{json.dumps(key)}]"
    return text.lstrip(".")


@dataclass(frozen=True)
class ValueChange:
    path: tuple[str, ...]
    change: Change
    old: Any = None
    new: Any = None

    @property
    def dotted(self) -> str:
        return format_path(self.path)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.dotted, "change": self.change.value}
        if self.change is not Change.ADDED:
            data["old"] = json.loads(canonical(self.old))
        if self.change is not Change.REMOVED:
            data["new"] = json.loads(canonical(self.new))
        return data


def diff_values(
    old: Mapping[str, Any], new: Mapping[str, Any], prefix: tuple[str, ...] = ()
) -> list[ValueChange]:
    """Leaf-level changes from `old` to `new`; maps are descended into, everything else compared whole."""
    changes: list[ValueChange] = []
    keys = list(old) + [k for k in new if k not in old]
    for key in keys:
        path = (*prefix, str(key))
        if key not in new:
            changes.append(ValueChange(path, Change.REMOVED, old=old[key]))
        elif key not in old:
            changes.append(ValueChange(path, Change.ADDED, new=new[key]))
        elif isinstance(old[key], Mapping) and isinstance(new[key], Mapping):
            changes.extend(diff_values(old[key], new[key], path))
        elif canonical(old[key]) != canonical(new[key]):
            changes.append(ValueChange(path, Change.CHANGED, old=old[key], new=new[key]))
    return changes


@dataclass(frozen=True)
class ManifestChange:
    key: str  # Kind/name
    change: Change
    diff: str  # unified diff of the two objects as YAML (multi-line strings as blocks)

    def as_dict(self) -> dict[str, Any]:
        return {"manifest": self.key, "change": self.change.value, "diff": self.diff}


def readable(manifest: Manifest | dict[str, Any]) -> str:
    """The object as YAML in helm's key order, multi-line strings (config files) as literal blocks, so a
    one-line change in an embedded file is a one-line change in the diff. Objects of simple scalars only
    (most of them) take the fast writer, which gives the same text."""
    body = manifest.body if isinstance(manifest, Manifest) else manifest
    fast = block_yaml(body)
    return fast if fast is not None else dump_readable(body)


def _in_order_of(value: Any, model: Any) -> Any:
    """`value` with its map keys in `model`'s order (keys `model` lacks last): two templates writing the
    same object in another key order must not show up as a difference."""
    if isinstance(value, dict) and isinstance(model, dict):
        keys = [k for k in model if k in value] + [k for k in value if k not in model]
        return {k: _in_order_of(value[k], model.get(k)) for k in keys}
    if isinstance(value, list) and isinstance(model, list):
        return [_in_order_of(v, model[i] if i < len(model) else None) for i, v in enumerate(value)]
    return value


def _unified(old: str, new: str, old_label: str, new_label: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), old_label, new_label
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def diff_manifests(
    old: Sequence[Manifest], new: Sequence[Manifest], old_label: str = "a", new_label: str = "b"
) -> list[ManifestChange]:
    """Objects matched by Kind/name: added, removed, or changed (with a unified diff)."""
    before = {m.key: m for m in old}
    after = {m.key: m for m in new}
    changes = []
    for key in list(after) + [k for k in before if k not in after]:
        if key not in before:
            diff = _unified("", readable(after[key]), "/dev/null", f"{new_label}/{key}")
            changes.append(ManifestChange(key, Change.ADDED, diff))
        elif key not in after:
            diff = _unified(readable(before[key]), "", f"{old_label}/{key}", "/dev/null")
            changes.append(ManifestChange(key, Change.REMOVED, diff))
        elif canonical(before[key].body) != canonical(after[key].body):
            old_text = readable(_in_order_of(before[key].body, after[key].body))
            diff = _unified(old_text, readable(after[key]), f"{old_label}/{key}", f"{new_label}/{key}")
            changes.append(ManifestChange(key, Change.CHANGED, diff))
    return changes


@dataclass(frozen=True)
class DiffReport:
    """`base` -> `head` for one service. `manifests` is None when they could not be rendered (see `note`)."""

    service: str
    base: str
    head: str
    values: tuple[ValueChange, ...]
    manifests: tuple[ManifestChange, ...] | None
    note: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.values or self.manifests)

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "base": self.base,
            "head": self.head,
            "changed": self.changed,
            "values": [c.as_dict() for c in self.values],
            "manifests": None if self.manifests is None else [c.as_dict() for c in self.manifests],
            "note": self.note,
        }


def compare(base: Rendered, head: Rendered) -> DiffReport:
    """Values always; manifests when both sides were rendered."""
    values = tuple(diff_values(base.values, head.values))
    manifests = None
    if base.manifests is not None and head.manifests is not None:
        manifests = tuple(diff_manifests(base.manifests, head.manifests, base.label, head.label))
    return DiffReport(base.service, base.label, head.label, values, manifests, base.note or head.note)
