"""YAML reading and writing: round-trip (comments and order kept) for files people own, plain for the rest,
and the YAML that Helm, kubectl and ArgoCD read (`load_k8s`) for values files and Kubernetes objects."""

from __future__ import annotations

import functools
import io
import math
import re
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import ConstructorError, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import BaseResolver

from gitops_poc.errors import UsageError


class YamlSyntaxError(UsageError):
    """A YAML file does not parse; carries the file and line."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path, self.line, self.problem = path, line, problem
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: invalid YAML: {problem}")


def round_trip() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    # Write null as `null`: ruamel's default (nothing) turns `maxUnavailable: null` into `maxUnavailable:`.
    yaml.representer.add_representer(
        type(None), lambda representer, _: representer.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    return yaml


_local = threading.local()


def _safe() -> YAML:
    # Building a loader costs about as much as loading a small file; ruamel instances are not thread-safe.
    yaml: YAML | None = getattr(_local, "safe", None)
    if yaml is None:
        yaml = _local.safe = YAML(typ="safe", pure=False)
    return yaml


def _raise_syntax(exc: YAMLError, path: str) -> YamlSyntaxError:
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        return YamlSyntaxError(path, line, f"{exc.problem or exc.context}")
    return YamlSyntaxError(path, None, str(exc))


def load_plain(text: str, path: str = "<string>") -> Any:
    """Parse one YAML document into plain Python data (fast; no comments)."""
    try:
        return _safe().load(text)
    except YAMLError as exc:
        raise _raise_syntax(exc, path) from None


def load_all_plain(text: str, path: str = "<string>") -> list[Any]:
    try:
        return [doc for doc in _safe().load_all(text) if doc is not None]
    except YAMLError as exc:
        raise _raise_syntax(exc, path) from None


def load_round_trip(text: str, path: str = "<string>", yaml: YAML | None = None) -> Any:
    try:
        return (yaml or round_trip()).load(text)
    except YAMLError as exc:
        raise _raise_syntax(exc, path) from None


def dump(data: Any, yaml: YAML | None = None) -> str:
    stream = io.StringIO()
    (yaml or round_trip()).dump(data, stream)
    return stream.getvalue()


def dump_plain(data: Any) -> str:
    """Plain dicts and lists as block YAML through the C emitter: ~3x faster than `dump`, for generated
    files written by the thousand. Key order is kept; sequences are not indented (kubectl's style)."""
    yaml: YAML | None = getattr(_local, "plain_dumper", None)
    if yaml is None:
        yaml = _local.plain_dumper = YAML(typ="safe", pure=False)
        yaml.default_flow_style = False
        yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
        yaml.width = 4096
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


def read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
