"""The shape of Vault's answers, checked before use: a proxy, a wrong VAULT_ADDR or a broken server must give
one message naming the endpoint (exit 2), never an AttributeError deep in the code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops_poc.digits import natural
from gitops_poc.vault.client import VaultRequestFailed


class VaultAnswerInvalid(VaultRequestFailed):
    """Vault answered, but not in the shape its API documents."""


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "text" if isinstance(value, str) else "a number" if isinstance(value, (int, float)) else "a value"


def invalid(endpoint: str, where: str, expected: str, value: object) -> VaultAnswerInvalid:
    return VaultAnswerInvalid(
        f"Vault's answer to {endpoint} has an unexpected shape: {where} is {_kind(value)}, {expected} was "
        "expected (is VAULT_ADDR a Vault server, with no proxy rewriting its answers?)"
    )


def body(response: object, endpoint: str) -> Mapping[str, Any] | None:
    """The JSON object of an hvac answer; None for 404 (hvac's None) or a reply without a body."""
    if response is None or type(response).__name__ == "Response":
        return None
    if not isinstance(response, Mapping):
        raise invalid(endpoint, "the body", "a JSON object", response)
    return response


def obj(
    container: Mapping[str, Any], key: str, endpoint: str, *, optional: bool = False
) -> Mapping[str, Any]:
    """`container[key]` as an object; a missing or null one is {} when `optional`."""
    value = container.get(key)
    if value is None and optional:
        return {}
    if not isinstance(value, Mapping):
        raise invalid(endpoint, f"`{key}`", "an object", value)
    return value


def text(container: Mapping[str, Any], key: str, endpoint: str) -> str:
    """`container[key]` as text; missing or null is ""."""
    value = container.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid(endpoint, f"`{key}`", "text", value)
    return value


def texts(container: Mapping[str, Any], key: str, endpoint: str) -> list[str]:
    """`container[key]` as a list of text (Vault also writes a single one as a comma-separated text);
    missing or null is []."""
    value = container.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part for part in value.split(",") if part]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid(endpoint, f"`{key}`", "a list of text", value)
    return list(value)


def number(container: Mapping[str, Any], key: str, endpoint: str) -> int:
    """`container[key]` as a whole number; missing or null is 0."""
    value = container.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise invalid(endpoint, f"`{key}`", "a number", value)
    number = value if isinstance(value, int) else natural(value)
    if number is None:
        raise invalid(endpoint, f"`{key}`", "a number", value)
    return number
