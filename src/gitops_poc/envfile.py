"""Edit one key of a `.env` file in place, keeping every other line and comment."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

from dotenv.parser import Binding, parse_stream

from gitops_poc.errors import UsageError

# python-dotenv strips an unquoted value's comment with re.sub(r"\s+#.*"), quadratic in a run of blanks: a
# 10 MB line took 93 s, 64 KiB of blanks 11 s. So a run of blanks is capped, and the line length on its own
# (SERVICES of 2,000 names is ~26,000 characters; 256 KiB with blank runs at the cap parses in 0.04 s).
MAX_LINE = 256 * 1024
MAX_BLANK_RUN = 64
_BLANK_RUN = re.compile(rf"[^\S\r\n]{{{MAX_BLANK_RUN + 1},}}")

_ASSIGNMENT = re.compile(r"(?P<lead>\s*(?:export\s+)?)(?P<key>[^\s=]+)\s*=[^\S\r\n]*(?P<value>.*)", re.DOTALL)
_QUOTED = {'"': re.compile(r'"(?:\\.|[^"\\])*"', re.DOTALL), "'": re.compile(r"'(?:\\'|[^'])*'", re.DOTALL)}
_UNQUOTED_COMMENT = re.compile(r"[^\S\r\n]+#[^\r\n]*")  # python-dotenv's rule: whitespace, then '#'


class LineTooLong(UsageError):
    """A .env line longer than MAX_LINE characters (refused before python-dotenv reads it)."""

    def __init__(self, source: str, line: int, length: int) -> None:
        self.source, self.line = source, line
        super().__init__(
            f"{source}:{line}: the line is {length} characters long; a .env line holds at most {MAX_LINE}"
        )


class BlankRunTooLong(UsageError):
    """A .env line with more than MAX_BLANK_RUN blanks in a row (refused before python-dotenv reads it)."""

    def __init__(self, source: str, line: int, length: int) -> None:
        self.source, self.line = source, line
        super().__init__(
            f"{source}:{line}: {length} blanks in a row; a .env line holds at most {MAX_BLANK_RUN} in a row"
        )


def check_lines(text: str, source: str = ".env") -> None:
    """Raise LineTooLong / BlankRunTooLong for the first line python-dotenv would take too long over (linear
    in the text)."""
    for number, line in enumerate(text.split("\n"), 1):
        if len(line) > MAX_LINE:
            raise LineTooLong(source, number, len(line.rstrip("\r")))
        run = _BLANK_RUN.search(line)
        if run:
            raise BlankRunTooLong(source, number, len(run[0]))


def bindings(text: str, source: str = ".env") -> Iterator[tuple[Binding, int]]:
    """python-dotenv's reading of `text`, each with the line its key (or error) is on.

    The pieces' `original.string` joined give `text` back; a piece starts with the blank lines before it.
    A line longer than MAX_LINE raises LineTooLong (one with a longer run of blanks than MAX_BLANK_RUN,
    BlankRunTooLong) naming `source` and the line.
    """
    check_lines(text, source)
    for binding in parse_stream(io.StringIO(text)):
        original = binding.original.string
        yield binding, binding.original.line + original[: len(original) - len(original.lstrip())].count("\n")


def _replace(original: str, key: str, line: str) -> str:
    """`original` (one binding's text, maybe spanning lines) with its value replaced; comment and newline
    kept."""
    body = original.rstrip("\r\n")
    ending = original[len(body) :]
    match = _ASSIGNMENT.fullmatch(body)
    if match is None:  # parse_stream found the key, so this does not happen; keep the file intact if it does
        raise ValueError(f"cannot locate the value of {key} in {body!r}")
    value = match["value"]
    quoted = _QUOTED.get(value[:1])
    if quoted and (closing := quoted.match(value)):
        tail = value[closing.end() :]
    else:
        tail = comment[0] if (comment := _UNQUOTED_COMMENT.search(value)) else ""
    return f"{match['lead']}{line}{tail}{ending}"


def set_key(text: str | None, key: str, value: str) -> str:
    """Return `text` with `key` set to `value` (double-quoted); appended when the key is absent.

    Only that assignment changes: an inline comment after it, `export`, other lines and line endings stay.
    """
    if any(c in value for c in '"\\\n\r\0'):
        # Written between double quotes: these would end the value early or run it onto the next line.
        raise ValueError(f"the value for {key} holds a quote, backslash or line break; it cannot be written")
    line = f'{key}="{value}"'
    if text is None:
        return line + "\n"
    parts: list[str] = []
    found: int | None = None
    for binding, number in bindings(text):
        original = binding.original.string
        if binding.key != key or binding.error:
            parts.append(original)
            continue
        if found is not None:
            raise ValueError(f"{key} is set on lines {found} and {number}; which one to edit is unclear")
        found = number
        parts.append(_replace(original, key, line))
    if found is not None:
        return "".join(parts)
    separator = "" if not text or text.endswith("\n") else "\n"
    return f"{text}{separator}{line}\n"
