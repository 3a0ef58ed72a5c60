"""Unquoted values that Helm reads differently from YAML 1.2 tools.

Helm, kubectl and ArgoCD read YAML 1.1 (go-yaml v2): `enabled: off` is false, `0755` is 493, `1_000` is 1000.
yq, editors and most libraries today read YAML 1.2, where these are the string "off", 755 and the string
"1_000". The file then means two things depending on who reads it, so lint asks for an unambiguous spelling.
"""

from __future__ import annotations

from typing import Any

from gitops_poc.lint import chart
from gitops_poc.lint.catalog import rule
from gitops_poc.lint.documents import YamlDocument
from gitops_poc.lint.findings import Finding
from gitops_poc.yamlio import Yaml11Difference


def _dotted(keys: tuple[Any, ...]) -> str:
    return ".".join(str(k) for k in keys)


def _spelled(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'the string "{value}"'
    return str(value)


def _covered(diff: Yaml11Difference) -> bool:
    """Said better by another rule: configmap-yaml11-bool (what the chart renders), text-key-not-text and
    image-tag-number (an error: the chart needs text there)."""
    if diff.is_key:
        return False
    if len(diff.keys) == 2 and diff.keys[0] == "configmap":
        return isinstance(diff.value, bool)
    return diff.keys in chart.TEXT_KEYS and isinstance(diff.value, (bool, int, float))


def _finding(doc: YamlDocument, diff: Yaml11Difference) -> Finding:
    helm, yaml12 = _spelled(diff.value), _spelled(diff.yaml12)
    if diff.is_key:
        where = _dotted(diff.keys[:-1]) or "the top level"
        return rule("yaml11-value").at(
            doc.display,
            diff.line,
            f'{where}: the key {diff.text} is "{diff.keys[-1]}" for Helm (YAML 1.1), but {yaml12} for YAML'
            " 1.2 tools",
            f'quote the key: "{diff.text}":',
        )
    plain = helm.removeprefix("the string ")
    return rule("yaml11-value").at(
        doc.display,
        diff.line,
        f"{_dotted(diff.keys)}: {diff.text} is {helm} for Helm (YAML 1.1), but {yaml12} for YAML 1.2 tools",
        f'write {plain} if that is what you mean, or quote it ("{diff.text}") to keep the text',
    )


def check_file(doc: YamlDocument) -> list[Finding]:
    """A warning for every unquoted scalar (value or key) that YAML 1.1 and 1.2 read differently."""
    return [_finding(doc, diff) for diff in doc.yaml11_differences if not _covered(diff)]
