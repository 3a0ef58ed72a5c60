"""Whole numbers read from text: ASCII digits only.

`str.isdigit()` and `int()` also take other scripts' digits ('٤٢', '４２'), superscripts ('²', which
`isdigit` passes and `int` then refuses) and `int()` takes '1_000' and surrounding blanks: a value that
reaches git, a file or another tool must be the number it looks like, spelled as they spell it.
"""

from __future__ import annotations

import re

DIGITS = "[0-9]"  # for patterns: `\d` matches any script's digits in Python's str patterns
_NATURAL = re.compile(r"[0-9]+\Z")


def is_natural(text: str) -> bool:
    """Is `text` one or more ASCII digits and nothing else?"""
    return _NATURAL.match(text) is not None


def natural(text: str) -> int | None:
    """The number `text` spells in ASCII digits (leading zeros allowed), None for anything else."""
    return int(text) if is_natural(text) else None
