"""Block YAML for plain data whose every scalar is simple, byte for byte what `yamlio.dump_readable` writes
through ruamel and libyaml, in a tenth of the time; None for anything else (the caller then dumps it there).

Why by hand: a chart bump diffs every object of the fleet, and ruamel builds a node per scalar, resolves each
one twice (Python callbacks from the C emitter) before libyaml writes a line. For the scalars Kubernetes
objects are mostly made of (names, labels, images, numbers, booleans) the text is fixed by a few rules,
checked here with the same resolvers; whatever they do not cover (multi-line or unusual strings, floats,
empty strings, shared objects) is left to ruamel. tests/test_yamlblock.py compares both on real renders and
on random data.
"""

from __future__ import annotations

import re
from typing import Any

from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import Resolver

from gitops_poc.yamlio import go_reads_as_string

# Strings libyaml writes plain in block context (unless a resolver takes them for something else): ASCII,
# no spaces or quotes; first a letter, digit, '/', '^', '$' or a '-' that is neither alone nor '---';
# ':' never last (then it is an indicator).
_SIMPLE = re.compile(
    r"(?:[A-Za-z0-9/^$]|-(?!--)(?=.))[A-Za-z0-9._/@+=,^$~-]*(?<!:)(?::[A-Za-z0-9._/@+=,^$~-]+)*"
)
_LONGEST_KEY = 128  # libyaml writes a longer key as a complex key (`? key`)
_STR, _INT, _BOOL, _NULL = (f"tag:yaml.org,2002:{n}" for n in ("str", "int", "bool", "null"))
_resolver = Resolver()  # the resolver ruamel's C dumper checks plain scalars with (YAML 1.1 words)
_styles: dict[str, str | None] = {}  # string -> its text as a scalar; None: not simple


def _implicit(text: str, tag: str) -> bool:
    return str(_resolver.resolve(ScalarNode, text, (True, False))) == tag


def _string(text: str) -> str | None:
    """`text` plain when both YAML 1.1 readers take it for a string, else single-quoted; None when not
    simple."""
    if (known := _styles.get(text, "")) != "":
        return known
    if len(text) > _LONGEST_KEY or not _SIMPLE.fullmatch(text):
        shown = None
    elif go_reads_as_string(text) and _implicit(text, _STR):
        shown = text
    else:
        shown = f"'{text}'"
    if len(_styles) > 200_000:  # names are unique per service: keep the table bounded
        _styles.clear()
    _styles[text] = shown
    return shown


def _scalar(value: Any) -> str | None:
    kind = type(value)
    if kind is str:
        return _string(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        text = str(value)
        return text if _implicit(text, _INT) else None
    return None  # floats and anything else


class _NotSimple(Exception):
    pass


def _enter(collection: Any, seen: set[int]) -> None:
    if id(collection) in seen:  # one object twice: ruamel writes an anchor and an alias
        raise _NotSimple
    seen.add(id(collection))


def _inline(value: Any, seen: set[int]) -> str:
    """A scalar or an empty collection, written on its key's or dash's line."""
    if (shown := _scalar(value)) is not None:
        return shown
    kind = type(value)
    if (kind is dict or kind is list) and not value:
        _enter(value, seen)
        return "{}" if kind is dict else "[]"
    raise _NotSimple


def _nested(value: Any) -> bool:
    kind = type(value)
    return (kind is dict or kind is list) and bool(value)


def _mapping(data: dict[Any, Any], indent: int, out: list[str], seen: set[int]) -> None:
    _enter(data, seen)
    pad = " " * indent
    for key, value in data.items():
        shown = _string(key) if type(key) is str else None
        if shown is None:
            raise _NotSimple
        if not _nested(value):
            out.append(f"{pad}{shown}: {_inline(value, seen)}\n")
            continue
        out.append(f"{pad}{shown}:\n")
        if type(value) is dict:
            _mapping(value, indent + 2, out, seen)
        else:
            _sequence(value, indent, out, seen)  # libyaml: a list in a map is not indented


def _sequence(data: list[Any], indent: int, out: list[str], seen: set[int]) -> None:
    _enter(data, seen)
    pad = " " * indent
    for item in data:
        if not _nested(item):
            out.append(f"{pad}- {_inline(item, seen)}\n")
            continue
        nested: list[str] = []
        if type(item) is dict:
            _mapping(item, indent + 2, nested, seen)
        else:
            _sequence(item, indent + 2, nested, seen)
        nested[0] = f"{pad}- {nested[0][indent + 2 :]}"  # the first line beside the dash
        out.extend(nested)


def block_yaml(data: Any) -> str | None:
    """`data` (a non-empty mapping) as block YAML when every scalar in it is simple, else None."""
    if type(data) is not dict or not data:
        return None
    out: list[str] = []
    try:
        _mapping(data, 0, out, set())
    except _NotSimple:
        return None
    return "".join(out)
