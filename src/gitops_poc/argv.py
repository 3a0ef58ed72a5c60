"""argv from typed parts, so that a value from a user, a file or the environment is only ever read as a
value by the program it is given to (pure: building, not running; proc.py runs).

- `str`: written by this tool's code (a subcommand, a flag, `--end-of-options`), taken as is;
- `Value`: an operand from outside (a remote, a branch, a release name): refused when it is empty, starts
  with '-' or holds a NUL, so no program can read it as an option;
- `Opt`: `--name=value` in one word: whatever the value holds, the program reads it as that option's value;
- a path (`pathlib`): written `./-x` when it would start with '-'.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from gitops_poc.errors import UsageError

END_OF_OPTIONS = "--end-of-options"  # git >= 2.24: every word after it is an operand


@dataclass(frozen=True)
class Value:
    """An operand from a user, a file or the environment; `what` names it in the error (a key, an option)."""

    text: str
    what: str = "value"


@dataclass(frozen=True)
class Opt:
    """`--name=value`: one word, so the value is never read as an option of its own."""

    name: str
    value: str | PurePath


Part = str | PurePath | Value | Opt


def check_value(text: str, what: str) -> str:
    """`text` when no tool could read it as an option; UsageError naming `what` and the value otherwise."""
    if not text:
        raise UsageError(f"{what} is empty")
    if text.startswith("-"):
        raise UsageError(f"{what} {text!r} starts with '-': it would be read as an option, not a value")
    if "\0" in text:
        raise UsageError(f"{what} {text!r} holds a NUL character")
    return text


def _path(path: PurePath) -> str:
    text = os.fspath(path)
    return f"./{text}" if text.startswith("-") else text


def render(parts: Sequence[Part]) -> list[str]:
    """The argv `parts` stand for, each value checked."""
    words: list[str] = []
    for part in parts:
        if isinstance(part, Value):
            words.append(check_value(part.text, part.what))
        elif isinstance(part, Opt):
            value = _path(part.value) if isinstance(part.value, PurePath) else part.value
            if "\0" in value:
                raise UsageError(f"{part.name} {value!r} holds a NUL character")
            words.append(f"{part.name}={value}")
        elif isinstance(part, PurePath):
            words.append(_path(part))
        else:
            words.append(part)
    return words
