"""The OpenAPI v3 -> JSON Schema conversion on its own, for the structural-schema keywords the pinned charts'
CRDs do not happen to use (nullable, preserve-unknown beside properties); tests/render/test_crds.py covers
the real CRDs."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft4Validator

from gitops_poc.render.crdschema import json_schema


def errors(schema: dict[str, Any], instance: object) -> list[str]:
    return [e.message for e in Draft4Validator(json_schema(schema)).iter_errors(instance)]


def test_nullable_takes_null_beside_its_type_and_enum() -> None:
    schema = {
        "type": "object",
        "properties": {"mode": {"type": "string", "enum": ["a", "b"], "nullable": True}},
    }
    assert errors(schema, {"mode": None}) == [] and errors(schema, {"mode": "a"}) == []
    assert errors(schema, {"mode": "c"}) == ["'c' is not one of ['a', 'b', None]"]
    assert errors({**schema, "properties": {"mode": {"type": "string"}}}, {"mode": None}) == [
        "None is not of type 'string'"
    ]


def test_preserve_unknown_fields_beside_properties_still_checks_the_known_ones() -> None:
    schema = {
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
        "properties": {"count": {"type": "integer"}},
    }
    assert errors(schema, {"count": 1, "anything": {"else": True}}) == []
    assert errors(schema, {"count": "1"}) == ["'1' is not of type 'integer'"]
    strict = {"type": "object", "properties": {"count": {"type": "integer"}}}
    assert errors(strict, {"count": 1, "other": 2}) == [
        "Additional properties are not allowed ('other' was unexpected)"
    ]


def test_int_or_string_replaces_the_generated_any_of() -> None:
    schema = {
        "anyOf": [{"type": "integer"}, {"type": "string"}],
        "x-kubernetes-int-or-string": True,
        "pattern": "^[0-9]+%?$",
    }
    assert errors(schema, 3) == [] and errors(schema, "30%") == []
    assert errors(schema, "lots") == ["'lots' does not match '^[0-9]+%?$'"]
    assert errors(schema, True) == ["True is not of type 'integer', 'string'"]


def test_additional_properties_given_by_the_schema_are_kept() -> None:
    schema = {"type": "object", "additionalProperties": {"type": "string"}}
    assert errors(schema, {"a": "x"}) == [] and errors(schema, {"a": 1}) == ["1 is not of type 'string'"]
