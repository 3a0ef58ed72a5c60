"""Branch names as git accepts them (`git check-ref-format --branch`), checked without running git: a
value from `.env`, an option or CI's variables that git would refuse, misread (`..` is a range, a leading
'-' an option) or expand (`@{-1}`) never reaches it."""

from __future__ import annotations

import re

# Control characters, space and the characters git gives a meaning to in revisions and patterns.
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def branch_problem(name: str) -> str | None:
    """Why git would not take `name` as a branch name (None when it would)."""
    if not name:
        return "it is empty"
    if name.startswith("-"):
        return "it starts with '-' (it would be read as an option)"
    if match := _FORBIDDEN.search(name):
        return f"it holds {match.group()!r} (no spaces, control characters or any of ~ ^ : ? * [ \\)"
    if ".." in name:
        return "it holds '..' (that is a range of commits)"
    if "@{" in name or name == "@":
        return "it holds '@{' or is '@' (git reads those as revision syntax)"
    if name.startswith("/") or name.endswith(("/", ".")) or "//" in name:
        return "it starts or ends with '/', ends with '.', or holds '//'"
    if any(part.startswith(".") or part.endswith(".lock") for part in name.split("/")):
        return "a part of it starts with '.' or ends with '.lock'"
    return None


def check_branch(name: str, what: str) -> str:
    """`name` when git takes it as a branch; ValueError naming `what` and the value otherwise."""
    if problem := branch_problem(name):
        raise ValueError(f"{what} {name!r} is not a branch name git accepts: {problem}")
    return name
