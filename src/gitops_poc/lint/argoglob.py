"""ArgoCD's pattern matching for AppProject sourceRepos and destinations (util/glob, gobwas/glob syntax).

`*` matches any run of characters except a separator, `**` any run at all, `?` one non-separator
character, `[...]` a class, `{a,b}` alternatives. sourceRepos match with separator `/` on URLs that were
normalized (lower case, no `.git` suffix); destination namespaces match with no separator. A pattern that
is exactly `*` matches everything, and a `!pattern` entry denies what it matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=512)
def _compile(pattern: str, separator: str) -> re.Pattern[str]:
    not_sep = f"[^{re.escape(separator)}]" if separator else "."
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append(f"{not_sep}*")
        elif char == "?":
            out.append(not_sep)
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end]
                body = "^" + body[1:] if body.startswith("!") else body
                out.append(f"[{body}]")
                i = end
        elif char == "{":
            end = pattern.find("}", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                options = pattern[i + 1 : end].split(",")
                out.append("(?:" + "|".join(re.escape(o) for o in options) + ")")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def glob_match(pattern: str, value: str, separator: str = "") -> bool:
    return pattern == "*" or bool(_compile(pattern, separator).match(value))


def normalize_repo(url: str) -> str:
    url = url.strip().lower()
    return url.removesuffix(".git")


def allowed(patterns: Iterable[str], value: str, separator: str = "", *, repo: bool = False) -> bool:
    """ArgoCD's verdict: some pattern allows `value` and no `!pattern` denies it."""
    if repo:
        value = normalize_repo(value)
    permitted = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw[1:] if negate else raw
        if repo:
            pattern = normalize_repo(pattern)
        if glob_match(pattern, value, separator):
            if negate:
                return False
            permitted = True
    return permitted
