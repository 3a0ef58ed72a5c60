"""A CustomResourceDefinition's schema as the API server applies it, for validating custom resources offline
(crds.py gets them from the pinned charts). Pure: no helm, no files.

The OpenAPI v3 schema becomes a JSON Schema (draft 4, whose boolean exclusiveMinimum/Maximum and keywords
match OpenAPI 3.0) as the API server reads it: `x-kubernetes-int-or-string` takes an integer or a string,
`nullable` takes null, and an object with `properties` rejects other fields unless it says
`x-kubernetes-preserve-unknown-fields` or has `additionalProperties` (strict field validation, as the
built-in kinds are checked). CEL rules (`x-kubernetes-validations`) are not evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft4Validator


@dataclass(frozen=True)
class CrdSchema:
    group: str
    version: str
    kind: str
    schema: dict[str, Any]  # the CRD's openAPIV3Schema, as shipped
    chart: str  # e.g. "vault-secrets-operator 1.4.1"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"


@dataclass
class CrdSchemas:
    """The custom resource schemas of the pinned charts, and why a chart's could not be had."""

    schemas: dict[tuple[str, str], CrdSchema] = field(default_factory=dict)  # (apiVersion, kind)
    groups: dict[str, str] = field(default_factory=dict)  # API group -> the chart that defines it
    unavailable: list[str] = field(default_factory=list)
    _validators: dict[tuple[str, str], Draft4Validator] = field(default_factory=dict, repr=False)

    def add(self, schema: CrdSchema) -> None:
        self.schemas[(schema.api_version, schema.kind)] = schema
        self.groups.setdefault(schema.group, schema.chart)

    def find(self, api_version: str, kind: str) -> CrdSchema | None:
        return self.schemas.get((api_version, kind))

    def served(self, group: str, kind: str) -> list[str]:
        """The versions of `kind` the charts' CRDs serve in `group`."""
        return sorted(s.version for s in self.schemas.values() if s.group == group and s.kind == kind)

    def validator(self, schema: CrdSchema) -> Draft4Validator:
        key = (schema.api_version, schema.kind)
        if key not in self._validators:
            from jsonschema import Draft4Validator

            self._validators[key] = Draft4Validator(json_schema(schema.schema))
        return self._validators[key]

    @property
    def charts(self) -> list[str]:
        return sorted(set(self.groups.values()))


def json_schema(node: Any) -> Any:
    """An OpenAPI v3 structural schema as the JSON Schema the API server effectively applies."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {name: json_schema(sub) for name, sub in value.items()}
        elif key.startswith("x-kubernetes-") or key in ("nullable", "format", "example", "externalDocs"):
            continue  # handled below, or not a validation keyword here (format: as the API server, loosely)
        else:
            out[key] = json_schema(value)
    if node.get("x-kubernetes-int-or-string"):
        out.pop("anyOf", None)
        out["type"] = ["integer", "string"]
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not node.get("x-kubernetes-preserve-unknown-fields")
        and not node.get("x-kubernetes-embedded-resource")
    ):
        out["additionalProperties"] = False
    if node.get("nullable"):
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def schemas_of(crds: Iterable[Mapping[str, Any]], chart: str) -> list[CrdSchema]:
    """Every served version of every CustomResourceDefinition document."""
    found = []
    for crd in crds:
        spec = crd.get("spec") or {}
        group, kind = str(spec.get("group") or ""), str((spec.get("names") or {}).get("kind") or "")
        for version in spec.get("versions") or ():
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if group and kind and isinstance(schema, dict) and version.get("served", True):
                found.append(CrdSchema(group, str(version.get("name")), kind, schema, chart))
    return found
