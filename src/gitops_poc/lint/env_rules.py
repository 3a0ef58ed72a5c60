"""The seed README's split of values: what an environment file must hold, and what it must not repeat."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gitops_poc.delivery.pins import PREFIX as PIN_PREFIX
from gitops_poc.delivery.pins import find_pin, now_utc
from gitops_poc.errors import UsageError
from gitops_poc.lint.catalog import rule
from gitops_poc.lint.documents import KeyPath, YamlDocument
from gitops_poc.lint.findings import Finding
from gitops_poc.lint.model import ServiceFiles, get_in, has_path
from gitops_poc.platform import Platform

# What every environment file must set (README "What must be in env-specific files").
REQUIRED: tuple[KeyPath, ...] = (
    ("environment",),
    ("image", "repository"),
    ("image", "tag"),
    ("replicas",),
    ("resources",),
)
# Environment-owned blocks: setting them in every environment file is the rule, not a repetition.
# configmap overrides are explicitly allowed by the README; CI writes the image.
OWNED_TOP_LEVEL = frozenset({"environment", "image", "replicas", "resources", "configmap"})


def _missing(doc: YamlDocument, env: str) -> Iterator[Finding]:
    for keys in REQUIRED:
        value = get_in(doc.data, keys)
        if value in (None, "", {}):
            name = ".".join(map(str, keys))
            yield rule("env-missing-key").at(
                doc.display,
                doc.line(keys),
                f"{name} is not set; every environment file sets it",
                f"add {name} to the {env} file"
                + (f" (environment: {env})" if keys == ("environment",) else ""),
            )


def _leaves(data: Any, keys: KeyPath = ()) -> Iterator[tuple[KeyPath, Any]]:
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from _leaves(value, (*keys, key))
    else:
        yield keys, data


def _repeats(doc: YamlDocument, default: dict[str, Any]) -> Iterator[Finding]:
    for key, value in doc.data.items():
        if key in OWNED_TOP_LEVEL:
            continue
        for keys, leaf in _leaves(value, (key,)):
            if leaf is not None and has_path(default, keys) and get_in(default, keys) == leaf:
                name = ".".join(map(str, keys))
                yield rule("env-repeats-default").at(
                    doc.display,
                    doc.line(keys),
                    f"{name}: {leaf!r} repeats the value of default.yaml",
                    f"delete {name} here; default.yaml already sets it for every environment",
                )


def _pins(doc: YamlDocument, env: str) -> Iterator[Finding]:
    """A pinned environment is shown (automation will not touch it); an expired or broken marker too."""
    if PIN_PREFIX not in doc.text:
        return
    line = (
        next(i for i, text in enumerate(doc.text.splitlines(), 1) if text.startswith(PIN_PREFIX)) + doc.offset
    )
    try:
        pin = find_pin(doc.text, doc.display)
    except UsageError as exc:
        yield rule("pin-unreadable").at(doc.display, line, str(exc), f"run `gitops-poc ci unpin --env {env}`")
        return
    if pin is None:
        return
    if pin.expired(now_utc()):
        yield rule("pin-expired").at(
            doc.display, line, f"{env} was {pin.describe()}; the pin has expired and is ignored"
        )
    else:
        yield rule("env-pinned").at(
            doc.display,
            line,
            f"{env} is {pin.describe()}",
            f"run `gitops-poc ci unpin --env {env}` once the reason is resolved",
        )


def check_env_file(files: ServiceFiles, env: str, doc: YamlDocument, platform: Platform) -> list[Finding]:
    findings = [*_missing(doc, env), *_repeats(doc, files.default_data), *_pins(doc, env)]
    declared = doc.data.get("environment")
    if declared not in (None, "") and declared != env:
        findings.append(
            rule("env-mismatch").at(
                doc.display,
                doc.line(("environment",)),
                f"environment is {declared!r} in the file of environment {env!r}",
                f"set environment: {env}",
            )
        )
    repository = get_in(doc.data, ("image", "repository"))
    if files.name in platform.services and repository and repository != platform.image_repository(files.name):
        findings.append(
            rule("env-image-repository").at(
                doc.display,
                doc.line(("image", "repository")),
                f"image.repository is {repository!r}; .env derives {platform.image_repository(files.name)!r}",
            )
        )
    return findings
