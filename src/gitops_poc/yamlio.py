"""YAML reading and writing: round-trip (comments and order kept) for files people own, plain for the rest,
and the YAML that Helm, kubectl and ArgoCD read (`load_k8s`) for values files and Kubernetes objects."""

from __future__ import annotations

import functools
import io
import math
import os
import re
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _ruamel_yaml import CParser  # type: ignore[import-not-found]  # ruamel.yaml.clib: a dependency
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.representer import RoundTripRepresenter, SafeRepresenter
from ruamel.yaml.resolver import BaseResolver
from ruamel.yaml.tag import Tag

from gitops_poc import fileio
from gitops_poc.errors import UsageError
from gitops_poc.fileio import YAML_FILE, FileKind, FileMissing
from gitops_poc.rootpath import check_inside


class YamlSyntaxError(UsageError):
    """A YAML file does not parse; carries the file and line."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path, self.line, self.problem = path, line, problem
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: invalid YAML: {problem}")


class _QuotingRoundTripRepresenter(RoundTripRepresenter):
    """Round-trip writing, with a plain string that YAML 1.1 readers would take for something else quoted."""

    def represent_str(self, data: Any) -> Any:
        if _go_resolve(data)[0] != _STR:
            return self.represent_scalar("tag:yaml.org,2002:str", data, style="'")
        return super().represent_str(data)


_QuotingRoundTripRepresenter.add_representer(str, _QuotingRoundTripRepresenter.represent_str)


def round_trip() -> YAML:
    """The writer of every file people own and generated file alike: comments and order kept, and every
    string quoted where Helm, kubectl or ArgoCD (YAML 1.1) would not read it back as that string."""
    yaml = YAML(typ="rt")
    yaml.Representer = _QuotingRoundTripRepresenter
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


_DUPLICATE = re.compile(r'found duplicate key "(?P<key>[^"\n]{1,200})" with value', re.DOTALL)


def _problem(exc: MarkedYAMLError) -> str:
    """What went wrong, without the values ruamel puts in a duplicate-key message (both of them, or a
    whole mapping): a file may hold secrets, and errors name keys and lines only."""
    problem = f"{exc.problem or exc.context}"
    if isinstance(exc, DuplicateKeyError):
        match = _DUPLICATE.match(problem)
        return f'found duplicate key "{match["key"]}"' if match else "found a duplicate key"
    return problem


def _raise_syntax(exc: YAMLError, path: str) -> YamlSyntaxError:
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        return YamlSyntaxError(path, line, _problem(exc))
    return YamlSyntaxError(path, None, str(exc))


@contextmanager
def syntax_errors(path: str) -> Iterator[None]:
    """Turn a YAML parse error into a YamlSyntaxError naming the file and line."""
    try:
        yield
    except YAMLError as exc:
        raise _raise_syntax(exc, path) from None


def load_plain(text: str, path: str = "<string>") -> Any:
    """Parse one YAML 1.2 document into plain Python data (fast; no comments). For this tool's own files;
    values files and Kubernetes/ArgoCD objects are read with `load_k8s`, as Helm and kubectl read them."""
    with syntax_errors(path):
        return _safe().load(text)


def load_all_plain(text: str, path: str = "<string>") -> list[Any]:
    with syntax_errors(path):
        return [doc for doc in _safe().load_all(text) if doc is not None]


def load_round_trip(text: str, path: str = "<string>", yaml: YAML | None = None) -> Any:
    with syntax_errors(path):
        return (yaml or round_trip()).load(text)


# --- YAML as Helm, kubectl and ArgoCD read it ---------------------------------------------------------------
# They all go through sigs.k8s.io/yaml: go-yaml v2 resolves plain scalars by YAML 1.1 rules (`on`/`off`/`yes`/
# `no`/`y`/`n` are booleans, `0755` is octal 493, `1_000` is 1000, `0b101` is 5; `1:20` and dates stay
# strings),
# then the data goes through JSON, where every map key becomes a string (`on:` -> "true", `80:` -> "80"). The
# rules below follow go-yaml's resolve() and were checked against `helm template` (tests/test_yamlio.py).

_STR, _BOOL, _INT, _FLOAT, _NULL, _MERGE = (
    f"tag:yaml.org,2002:{name}" for name in ("str", "bool", "int", "float", "null", "merge")
)
_GO_WORDS: dict[str, tuple[str, Any]] = {
    **{
        word: (_BOOL, True)
        for word in ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")
    },
    **{
        word: (_BOOL, False)
        for word in ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")
    },
    **{word: (_NULL, None) for word in ("", "~", "null", "Null", "NULL")},
    **{word: (_FLOAT, math.nan) for word in (".nan", ".NaN", ".NAN")},
    **{
        sign + word: (_FLOAT, -math.inf if sign == "-" else math.inf)
        for sign in ("", "+", "-")
        for word in (".inf", ".Inf", ".INF")
    },
    "<<": (_MERGE, "<<"),
}
# go-yaml looks a plain scalar up by its first character: M(ap words), D(igit), S(ign), '.'; anything else is
# a
# string. (It finds the merge key `<<` by its text elsewhere; here it is one more word.)
_HINTS = {
    **dict.fromkeys("yYnNtTfFoO~<", "M"),
    **dict.fromkeys("0123456789", "D"),
    "+": "S",
    "-": "S",
    ".": ".",
}
_GO_FLOAT = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z"
)  # go-yaml's yamlStyleFloat
_DOT_FLOAT = re.compile(
    r"\.[0-9]+(?:_[0-9]+)*(?:[eE][-+]?[0-9]+(?:_[0-9]+)*)?\Z"
)  # what strconv.ParseFloat takes
_DIGITS = {
    2: re.compile(r"[01]+\Z"),
    8: re.compile(r"[0-7]*\Z"),
    10: re.compile(r"[0-9]+\Z"),
    16: re.compile(r"[0-9a-fA-F]+\Z"),
}


def _go_int(plain: str) -> int | None:
    """strconv.ParseInt(plain, 0, 64), else ParseUint (go-yaml's order): None when neither takes it."""
    sign, body = (plain[0], plain[1:]) if plain[:1] in ("+", "-") else ("", plain)
    base = 10
    if body[:1] == "0":
        prefix = body[1:2].lower() if len(body) >= 3 else ""
        base = {"b": 2, "o": 8, "x": 16}.get(prefix, 8)
        body = body[2:] if prefix in ("b", "o", "x") else body[1:]  # a leading 0 alone means octal
    if not _DIGITS[base].match(body) or (not body and base != 8):
        return None
    value = int(body, base) if body else 0
    value = -value if sign == "-" else value
    if -(2**63) <= value < 2**63 or (not sign and value < 2**64):
        return value
    return None


@functools.lru_cache(maxsize=8192)
def _go_resolve(text: str) -> tuple[str, Any]:
    """(tag, value) of a plain scalar, as go-yaml v2 resolves it for an interface{} target."""
    hint = _HINTS.get(text[:1], "M" if not text else None)
    if hint is None:
        return _STR, text
    if text in _GO_WORDS:
        return _GO_WORDS[text]
    if hint == "." and _DOT_FLOAT.match(text):
        number = float(text.replace("_", ""))
        return (_FLOAT, number) if math.isfinite(number) else (_STR, text)
    if hint in ("D", "S"):
        # Timestamps (2024-01-02) stay strings for interface{} targets; none of them parses as a number below.
        plain = text.replace("_", "")
        integer = _go_int(plain) if plain else None
        if integer is not None:
            return _INT, integer
        if _GO_FLOAT.match(plain):
            number = float(plain)
            if math.isfinite(number):  # strconv reports a range error for 1e400: the text stays a string
                return _FLOAT, number
    return _STR, text


def _float_key(value: float) -> str:
    """strconv.FormatFloat(key, 'g', -1, 32): how sigs.k8s.io/yaml spells a float map key (1e3 -> "1000")."""
    try:
        single = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        single = math.copysign(math.inf, value)
    if math.isnan(single) or math.isinf(single):
        return ".nan" if math.isnan(single) else (".inf" if single > 0 else "-.inf")
    if single == 0:
        return "-0" if math.copysign(1.0, single) < 0 else "0"
    for precision in range(9):  # the shortest digits that read back as the same float32
        text = f"{single:.{precision}e}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            break
    mantissa, exponent = text.split("e")
    sign, digits, exp = (
        ("-" if single < 0 else ""),
        mantissa.lstrip("-").replace(".", "").rstrip("0"),
        int(exponent),
    )
    if exp < -4 or exp >= 6:
        fraction = "." + digits[1:] if len(digits) > 1 else ""
        return f"{sign}{digits[0]}{fraction}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    whole, fraction = digits[: exp + 1].ljust(exp + 1, "0"), digits[exp + 1 :]
    return f"{sign}{whole}{'.' + fraction if fraction else ''}"


def json_key(key: Any) -> str | None:
    """The string a map key becomes on the way to JSON (sigs.k8s.io/yaml); None for keys it rejects
    (null, uint64, lists and maps)."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key) if -(2**63) <= key < 2**63 else None
    if isinstance(key, float):
        return _float_key(key)
    return None


@functools.cache
def _shared_tag(name: str) -> Tag:
    """One Tag per tag name, its text worked out once. ruamel makes a Tag per node from the resolver's string
    and URI-decodes it character by character on first use: a quarter of loading a Kubernetes object."""
    tag = Tag(suffix=name)
    _ = tag.trval
    return tag


def _shared_tag_of(tag: Any) -> Any:
    return _shared_tag(tag) if isinstance(tag, str) else tag


class _K8sResolver(BaseResolver):
    def __init__(self, version: Any = None, loader: Any = None, loadumper: Any = None) -> None:
        BaseResolver.__init__(self, loader if loader is not None else loadumper)

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode and implicit[0]:
            return _shared_tag(_go_resolve(value)[0])
        return _shared_tag_of(super().resolve(kind, value, implicit))


def _scalar_value(node: ScalarNode, key: bool = False) -> Any:
    """The value of a resolved scalar node; explicit tags (!!int "0755") are read by the same rules.
    NaN and infinity are refused as values (JSON has none) but not as keys (they become ".nan", ".inf")."""
    tag = node.tag
    if tag == _STR or tag == "tag:yaml.org,2002:timestamp":
        return node.value
    if tag == _NULL:
        return None
    value = _go_resolve(node.value)[1]
    if tag == _BOOL:
        ok = isinstance(value, bool)
    else:
        ok = tag in (_INT, _FLOAT) and isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = ok and (tag == _FLOAT or isinstance(value, int))
    if not ok:
        raise ConstructorError(None, None, f"cannot read {node.value!r} as {tag}", node.start_mark)
    if isinstance(value, float) and not math.isfinite(value) and not key:
        raise ConstructorError(
            None,
            None,
            f"{node.value}: Helm and kubectl cannot convert NaN or infinite numbers to JSON",
            node.start_mark,
        )
    return float(value) if tag == _FLOAT else value


class _K8sConstructor(SafeConstructor):
    def construct_k8s_scalar(self, node: Any) -> Any:
        if not isinstance(node, ScalarNode):
            raise ConstructorError(
                None, None, f"expected a scalar node, but found {node.id}", node.start_mark
            )
        return _scalar_value(node)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if not isinstance(node, MappingNode):
            raise ConstructorError(
                None, None, f"expected a mapping node, but found {node.id}", node.start_mark
            )
        self.flatten_mapping(node)
        merged = getattr(node, "merge", None) is not None  # merged keys are overridden, not duplicates
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = node_key(key_node)
            if key is None:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"unsupported map key {_shown(key_node)}: Helm and kubectl take only strings, "
                    "numbers and booleans as keys",
                    key_node.start_mark,
                )
            if key in mapping and not merged:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f'found duplicate key "{key}"',
                    key_node.start_mark,
                )
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


for _tag in (_BOOL, _INT, _FLOAT, _NULL, _STR, "tag:yaml.org,2002:timestamp"):
    _K8sConstructor.add_constructor(_tag, _K8sConstructor.construct_k8s_scalar)


def _shown(node: Node) -> str:
    return repr(node.value) if isinstance(node, ScalarNode) else f"(a {getattr(node, 'id', 'node')})"


class _K8sLoader(CParser, _K8sConstructor, _K8sResolver):  # type: ignore[misc]
    """What `_k8s().load` builds for every document (libyaml's parser, the constructor and resolver above),
    made once: ruamel makes a new loader class on each load(), a tenth of loading a Kubernetes object."""

    def __init__(self, text: str) -> None:
        CParser.__init__(self, text)
        self._parser = self._composer = self
        _K8sConstructor.__init__(self, loader=self)
        self.allow_duplicate_keys = False
        _K8sResolver.__init__(self, loadumper=self)


class _Unusual(Exception):
    """A node `_plain_data` leaves to the constructor: a tag, a merge key, a key that is not a plain string,
    a duplicate key."""


_STR_TAGS = (_shared_tag(_STR), BaseResolver.DEFAULT_SCALAR_TAG)  # plain strings, and quoted ones
_MAP_TAG, _SEQ_TAG = BaseResolver.DEFAULT_MAPPING_TAG, BaseResolver.DEFAULT_SEQUENCE_TAG


def _plain_data(node: Any) -> Any:
    """The data of a document without aliases, as _K8sConstructor builds it, for the nodes our resolver
    tagged (raises _Unusual on anything else). The constructor's generators, memo and tag lookups per node
    were a quarter of loading a rendered manifest."""
    kind = node.__class__
    if kind is ScalarNode:
        return node.value if node.ctag in _STR_TAGS else _scalar_value(node)
    if kind is MappingNode and node.ctag is _MAP_TAG:
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.__class__ is not ScalarNode or key_node.ctag not in _STR_TAGS:
                raise _Unusual
            key = key_node.value
            if key in mapping:
                raise _Unusual
            mapping[key] = _plain_data(value_node)
        return mapping
    if kind is SequenceNode and node.ctag is _SEQ_TAG:
        return [_plain_data(item) for item in node.value]
    raise _Unusual


def _load_one(text: str) -> Any:
    loader = _K8sLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "*" not in text:  # no alias: no node is met twice
            try:
                return _plain_data(node)
            except (_Unusual, ConstructorError, RecursionError):
                pass  # the constructor builds it, or says what is wrong
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _k8s() -> YAML:
    yaml: YAML | None = getattr(_local, "k8s", None)
    if yaml is None:
        yaml = _local.k8s = YAML(typ="safe", pure=False)
        yaml.Resolver = _K8sResolver
        yaml.Constructor = _K8sConstructor
    return yaml


# go-yaml v2 (Helm, kubectl, ArgoCD) refuses a document whose decoding is mostly alias expansion: more than
# 100 nodes decoded under aliases, more than 1000 in all, and a share above a ratio that falls from 0.99 to
# 0.10 between 400,000 and 4,000,000 nodes (decode.go, allowedAliasRatio). The same bound here keeps a
# few hundred bytes of anchors from expanding into billions of nodes in any reader or rule.
_ALIAS_RATIO_LOW, _ALIAS_RATIO_HIGH = 400_000, 4_000_000


def _allowed_alias_ratio(decoded: int) -> float:
    if decoded <= _ALIAS_RATIO_LOW:
        return 0.99
    if decoded >= _ALIAS_RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * (decoded - _ALIAS_RATIO_LOW) / (_ALIAS_RATIO_HIGH - _ALIAS_RATIO_LOW)


def _expansion(node: Node, costs: dict[int, int], aliased: list[tuple[int, Node]]) -> tuple[int, int]:
    """(nodes decoded, nodes decoded under an alias) when `node` is decoded once; linear in the graph's size.
    A node met again is an alias: all of its nodes count as aliased."""
    key = id(node)
    if key in costs:
        aliased.append((costs[key], node))
        return costs[key], costs[key]
    costs[key] = 1  # an alias to a node still being decoded (a cycle) costs one node
    total, under_alias = 1, 0
    children = (
        [n for pair in node.value for n in pair]
        if isinstance(node, MappingNode)
        else (node.value if isinstance(node, SequenceNode) else [])
    )
    for child in children:
        cost, child_aliased = _expansion(child, costs, aliased)
        total, under_alias = total + cost, under_alias + child_aliased
    costs[key] = total
    return total, under_alias


def check_aliasing(node: Node | None, path: str) -> None:
    """Refuse, as go-yaml does, a document whose alias expansion dwarfs its text (an alias bomb)."""
    if node is None:
        return
    aliased: list[tuple[int, Node]] = []
    total, under_alias = _expansion(node, {}, aliased)
    if under_alias > 100 and total > 1000 and under_alias / total > _allowed_alias_ratio(total):
        _, anchor = max(aliased, key=lambda item: item[0])
        raise YamlSyntaxError(
            path,
            anchor.start_mark.line + 1,
            f"document contains excessive aliasing: its anchors expand to {total:,} nodes (Helm, kubectl and "
            "ArgoCD refuse it too)",
        )


def _checked_documents(text: str, path: str) -> None:
    # Only a text with an alias ('*') can expand; composing is cheap, the expansion is never built.
    if "*" in text:
        for node in _k8s().compose_all(text):
            check_aliasing(node, path)


def load_k8s(text: str, path: str = "<string>") -> Any:
    """One YAML document as Helm (values files), kubectl and ArgoCD read it: YAML 1.1 scalars, string keys.

    Unlike them it refuses duplicate keys (they silently keep the last one), with the line; like them it
    refuses excessive aliasing."""
    with syntax_errors(path):
        _checked_documents(text, path)
        return _load_one(text)


def load_all_k8s(text: str, path: str = "<string>") -> list[Any]:
    """Every non-empty document of a multi-document text, read as `load_k8s` reads one."""
    with syntax_errors(path):
        _checked_documents(text, path)
        return [doc for doc in _k8s().load_all(text) if doc is not None]


def compose_k8s(text: str, path: str = "<string>") -> Node | None:
    """The node tree of one document (positions, styles, scalars resolved as `load_k8s` does)."""
    with syntax_errors(path):
        node: Node | None = _k8s().compose(text)
    check_aliasing(node, path)
    return node


def node_key(node: Node) -> str | None:
    """The string key a mapping key node becomes (`on` -> "true", `0755` -> "493"); None when it is not
    one."""
    if not isinstance(node, ScalarNode):
        return None
    try:
        return json_key(_scalar_value(node, key=True))
    except ConstructorError:
        return None


class _K8sRepresenter(SafeRepresenter):
    """Quotes every string Helm and kubectl would read as something else (`on`, `y`, `08`), which YAML 1.2
    writers leave plain. Nodes get the shared Tag objects (`_shared_tag`): half of a diff's dump was ruamel
    decoding a fresh Tag per node."""

    def represent_scalar(self, tag: Any, value: Any, style: Any = None, anchor: Any = None) -> Any:
        return super().represent_scalar(_shared_tag_of(tag), value, style, anchor)

    def represent_sequence(self, tag: Any, sequence: Any, flow_style: Any = None) -> Any:
        return super().represent_sequence(_shared_tag_of(tag), sequence, flow_style)

    def represent_mapping(self, tag: Any, mapping: Any, flow_style: Any = None) -> Any:
        return super().represent_mapping(_shared_tag_of(tag), mapping, flow_style)

    def represent_str(self, data: Any) -> Any:
        if _go_resolve(data)[0] != _STR:
            return self.represent_scalar("tag:yaml.org,2002:str", data, style="'")
        return super().represent_str(data)


_K8sRepresenter.add_representer(str, _K8sRepresenter.represent_str)


class _ReadableRepresenter(_K8sRepresenter):
    """Multi-line strings (embedded config files) as literal blocks: a one-line change stays one line."""

    def represent_str(self, data: Any) -> Any:
        if "\n" in data:
            return self.represent_scalar("tag:yaml.org,2002:str", data, style="|")
        return super().represent_str(data)


_ReadableRepresenter.add_representer(str, _ReadableRepresenter.represent_str)


def _c_dumper(name: str, representer: Any, sort_keys: bool = False, explicit_start: bool = False) -> YAML:
    """This thread's libyaml (C) block-style dumper named `name`, made once (building one is slow)."""
    yaml: YAML | None = getattr(_local, name, None)
    if yaml is None:
        yaml = YAML(typ="safe", pure=False)
        yaml.Representer = representer
        yaml.default_flow_style = False
        yaml.width = 4096
        yaml.explicit_start = explicit_start
        yaml.sort_base_mapping_type_on_output = sort_keys  # type: ignore[assignment]
        setattr(_local, name, yaml)
    return yaml


def dump_readable(data: Any) -> str:
    """Plain data as block YAML for people to compare (diffs): key order kept, multi-line strings as
    literal blocks, through libyaml's emitter (about 5x faster than `dump`: a chart bump diffs thousands)."""
    stream = io.StringIO()
    _c_dumper("readable_dumper", _ReadableRepresenter).dump(data, stream)
    return stream.getvalue()


def dump_all_k8s(docs: list[Any]) -> str:
    """Documents as one `---`-separated YAML text that Helm and kubectl read back unchanged: block style, keys
    sorted, through libyaml's emitter (fast for thousands of manifests)."""
    stream = io.StringIO()
    _c_dumper("k8s_dumper", _K8sRepresenter, sort_keys=True, explicit_start=True).dump_all(docs, stream)
    return stream.getvalue()


# --- where YAML 1.1 and YAML 1.2 disagree -------------------------------------------------------------------
_CORE_SPECIAL = re.compile(r"(?P<sign>[-+]?)\.(?:inf|Inf|INF)\Z|\.(?P<nan>nan|NaN|NAN)\Z")
_CORE_NUMBER = re.compile(
    r"(?P<int>[-+]?[0-9]+)\Z|0o(?P<oct>[0-7]+)\Z|0x(?P<hex>[0-9a-fA-F]+)\Z"
    r"|(?P<float>[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)\Z"
)
# A superset of the plain scalars that differ (a word or number standing alone, as a scalar or a key), so that
# almost every file skips the node walk.
_MAY_DIFFER = re.compile(
    r"(?:^|(?<=[\s\[{,]))"
    r"(?:[yYnN]|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF"  # YAML 1.1 booleans
    r"|[-+]?0[0-9bBoOxX_][0-9a-fA-F_.+xXoObB-]*"  # a leading 0 (octal), base prefixes
    r"|[-+.0-9][0-9a-fA-F_.+xXoObB-]*_[0-9a-fA-F_.+xXoObB-]*"  # 1_000: go-yaml drops the underscores
    r"|[-+.0-9][0-9.]*[eE]\+?[0-9]{3,})"  # 1e400: a string for go-yaml, infinity for YAML 1.2
    r"(?=[ \t]*(?:$|[:,\]}#]))",
    re.MULTILINE,
)


def yaml12_value(text: str) -> Any:
    """A plain scalar under the YAML 1.2 core schema (yq, editors, most YAML libraries today)."""
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE", "false", "False", "FALSE"):
        return text[0] in "tT"
    special = _CORE_SPECIAL.match(text)
    if special is not None:
        return math.nan if special["nan"] else (-math.inf if special["sign"] == "-" else math.inf)
    match = _CORE_NUMBER.match(text)
    if match is None:
        return text
    if match["int"] is not None:
        return int(match["int"])
    if match["oct"] is not None or match["hex"] is not None:
        return int(match["oct"], 8) if match["oct"] is not None else int(match["hex"], 16)
    return float(match["float"])


def reads_as_text(text: str) -> bool:
    """Does a plain (unquoted) `text` read back as that string, for YAML 1.1 readers (Helm, kubectl, ArgoCD)
    and YAML 1.2 readers alike? `on`, `no`, `y`, `0755`, `1e3`, `null` do not."""
    return _go_resolve(text)[0] == _STR and yaml12_value(text) == text


def go_reads_as_string(text: str) -> bool:
    """Do Helm, kubectl and ArgoCD (go-yaml v2) read a plain `text` as that string (`on`, `0755` they do
    not)?"""
    return _go_resolve(text)[0] == _STR


def _differs(text: str) -> bool:
    helm, core = _go_resolve(text)[1], yaml12_value(text)
    if isinstance(helm, bool) or isinstance(core, bool):
        return type(helm) is not type(core) or bool(helm != core)
    if isinstance(helm, (int, float)) and isinstance(core, (int, float)):
        return helm != core and not (math.isnan(helm) and math.isnan(core))
    return bool(helm != core)


@dataclass(frozen=True)
class Yaml11Difference:
    """A plain scalar that Helm/kubectl (YAML 1.1) read differently from YAML 1.2 readers."""

    keys: tuple[str | int, ...]  # where it is (map keys as Helm sees them); for a key, the key itself last
    line: int  # 1-based, in the text given
    text: str  # as written
    value: Any  # what Helm and kubectl read
    yaml12: Any  # what a YAML 1.2 reader reads
    is_key: bool = False


def may_differ(text: str) -> bool:
    """Cheap test: can `text` hold a scalar that YAML 1.1 and 1.2 read differently? (False: surely not.)"""
    return _MAY_DIFFER.search(text) is not None


def yaml11_differences(root: Node | None) -> list[Yaml11Difference]:
    """Every plain scalar (keys included) of a composed document whose YAML 1.1 and 1.2 readings differ."""
    found: list[Yaml11Difference] = []
    for node, keys, is_key in _scalars(root, (), set()):
        if not node.style and node.tag in (_BOOL, _INT, _FLOAT, _STR) and _differs(node.value):
            found.append(
                Yaml11Difference(
                    keys,
                    node.start_mark.line + 1,
                    node.value,
                    _go_resolve(node.value)[1],
                    yaml12_value(node.value),
                    is_key,
                )
            )
    return found


def _scalars(
    node: Node | None, keys: tuple[str | int, ...], seen: set[int]
) -> Iterator[tuple[ScalarNode, tuple[str | int, ...], bool]]:
    """Scalar nodes with their paths, in document order; an alias is walked once (at its anchor)."""
    if node is None or id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, ScalarNode):
        yield node, keys, False
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield from _scalars(item, (*keys, index), seen)
    elif isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            key = node_key(key_node)
            child = (*keys, key if key is not None else _shown(key_node))
            if isinstance(key_node, ScalarNode):
                yield key_node, child, True
            yield from _scalars(value_node, child, seen)


# --- writing ----------------------------------------------------------------------------------------------
_KEY_LINE = re.compile(r"^( *)[^\s#-][^:]*:(\s*(#.*)?)$")  # `key:` opening a nested block
_BLOCK_SCALAR = re.compile(r":\s*[|>][-+0-9]*\s*(#.*)?$")


def indentation(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) indents of a file, so a rewrite keeps its style; house style by default.

    Read from the first nested mapping and the first block sequence under a key; block scalar contents
    (config files inside values) are skipped.
    """
    mapping: int | None = None
    sequence: tuple[int, int] | None = None
    parent: int | None = None  # indent of the previous line when it opened a block with `key:`
    scalar_indent: int | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if scalar_indent is not None:
            if indent > scalar_indent:
                continue
            scalar_indent = None
        if parent is not None and indent >= parent:
            if stripped.startswith("- ") and sequence is None:  # a block sequence, maybe at the key's column
                after_dash = len(stripped[1:]) - len(stripped[1:].lstrip(" "))
                sequence = (indent - parent + 1 + after_dash, indent - parent)
            elif indent > parent and not stripped.startswith("-") and mapping is None:
                mapping = indent - parent
        if mapping is not None and sequence is not None:
            break
        parent = indent if _KEY_LINE.match(line) else None
        if _BLOCK_SCALAR.search(line):
            scalar_indent = indent
    mapping = mapping or 2
    seq, offset = sequence or (mapping + 2, mapping)
    return mapping, seq, offset


@dataclass(frozen=True)
class TextForm:
    """How a file people own spells its text: a UTF-8 byte order mark, and CRLF or LF line endings. An edit
    works on LF text without the mark; `apply` gives the result back the file's own form."""

    bom: bool = False
    newline: str = "\n"

    @classmethod
    def of(cls, text: str) -> TextForm:
        """The form of `text` as read from the file (no universal-newline translation): the first line
        ending decides."""
        first = text.find("\n")
        return cls(text.startswith("\ufeff"), "\r\n" if first > 0 and text[first - 1] == "\r" else "\n")

    @classmethod
    def of_file(cls, path: Path, probe: int = 1 << 16) -> TextForm:
        """The form of the file at `path` from its first bytes (a file that cannot be read, or is not a
        regular file, has the default form: a rewrite then writes LF, as before)."""
        try:
            head = fileio.read_bytes(path, YAML_FILE, follow=False)[:probe]
        except UsageError:  # absent, not a regular file, a link: the write refuses or creates it
            return cls()
        return cls.of(head.decode("utf-8", errors="replace"))

    @staticmethod
    def strip(text: str) -> str:
        """`text` without the mark, with LF line endings."""
        text = text.removeprefix("\ufeff")
        return text.replace("\r\n", "\n") if "\r\n" in text else text

    def apply(self, text: str) -> str:
        text = self.strip(text)
        if self.newline != "\n":
            text = text.replace("\n", self.newline)
        return "\ufeff" + text if self.bom else text


def _references(node: Any, counts: dict[int, int]) -> None:
    """How many places hold each mapping and sequence (an alias, `<<: *anchor` and the anchor each count)."""
    counts[id(node)] = counts.get(id(node), 0) + 1
    if counts[id(node)] > 1:
        return  # its children were counted the first time
    if isinstance(node, dict):
        for _position, merged in getattr(node, "merge", []):
            _references(merged, counts)
        own = node._ok if isinstance(node, CommentedMap) else set(node)  # keys written here, not merged
        children = [node[key] for key in own if key in node]
    elif isinstance(node, list):
        children = list(node)
    else:
        return
    for child in children:
        if isinstance(child, dict | list):
            _references(child, counts)


def unshared(doc: Any, parent: CommentedMap, key: Any) -> CommentedMap:
    """`parent[key]`, a mapping, as one this key alone holds. A mapping shared through an anchor
    (`image: *base`, or the anchor another key aliases) is replaced here by a copy first: editing it in
    place would change the other key too. The other key keeps the original (its anchor moves with it), so
    the file means what it meant, except for the edit."""
    node = parent[key]
    counts: dict[int, int] = {}
    _references(doc, counts)
    if counts.get(id(node), 0) <= 1:
        return node  # type: ignore[no-any-return]
    copy = CommentedMap()
    for name in node._ok:
        copy[name] = node[name]
    for _position, merged in getattr(node, "merge", []):
        for name, value in merged.items():
            if name not in copy:
                copy[name] = value
    parent[key] = copy
    return copy


def edit_round_trip(text: str, where: str, edit: Callable[[CommentedMap], None]) -> str:
    """The one editor of YAML files people own (values files: `init`'s managed keys, `ci bump`): `edit` gets
    the top-level mapping and changes it in place; comments, order, quoting, indentation, the byte order mark
    and CRLF line endings of the rest stay as the file had them. `text` as read, without newline
    translation. A file of nothing but comments keeps them above the new keys."""
    form = TextForm.of(text)
    body = form.strip(text)
    yaml = round_trip()
    mapping, sequence, offset = indentation(body)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    doc = load_round_trip(body, where, yaml) if body.strip() else None
    head = ""
    if doc is None:  # empty, or nothing but comments: keep them above the keys
        head = body.rstrip("\n") + "\n" if body.strip() else ""
        doc = CommentedMap()
    if not isinstance(doc, CommentedMap):
        raise UsageError(f"{where}: expected a mapping at the top level, found {type(doc).__name__}")
    edit(doc)
    return form.apply(head + dump(doc, yaml))


def dump(data: Any, yaml: YAML | None = None) -> str:
    stream = io.StringIO()
    (yaml or round_trip()).dump(data, stream)
    return stream.getvalue()


def dump_plain(data: Any) -> str:
    """Plain dicts and lists as block YAML through the C emitter: ~3x faster than `dump`, for generated
    files written by the thousand. Key order is kept; sequences are not indented (kubectl's style)."""
    stream = io.StringIO()
    # _K8sRepresenter: strings YAML 1.1 readers would misread are quoted.
    _c_dumper("plain_dumper", _K8sRepresenter).dump(data, stream)
    return stream.getvalue()


def read_text(path: Path, root: Path | None = None, kind: FileKind = YAML_FILE) -> str | None:
    """The text of a regular file (fileio's rules: no FIFO, device or folder, at most `kind`'s size, UTF-8),
    None when it does not exist. With `root`, a symlink on the way must not lead outside it."""
    if root is not None:
        check_inside(root, Path(os.path.abspath(path)))
    try:
        return fileio.read_text(path, kind)
    except FileMissing:
        return None
