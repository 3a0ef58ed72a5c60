"""ArgoCD's pattern matching for AppProject sourceRepos and destinations (util/glob, gobwas/glob syntax).

`*` matches any run of characters except a separator, `**` any run at all, `?` one non-separator
character, `[...]` a class, `{a,b}` alternatives. sourceRepos match with separator `/` on URLs that were
normalized (lower case, no `.git` suffix); destination namespaces match with no separator. A pattern that
is exactly `*` matches everything, and a `!pattern` entry denies what it matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_GLOB_CHARS = frozenset("*?[{")


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


@dataclass(frozen=True)
class _Matcher:
    """One side (allow or deny) of a pattern list: literal patterns in a set, the globs compiled once."""

    everything: bool
    literals: frozenset[str]
    globs: tuple[re.Pattern[str], ...]

    @classmethod
    def of(cls, patterns: list[str], separator: str) -> _Matcher:
        globs = [p for p in patterns if _GLOB_CHARS & set(p)]
        return cls(
            "*" in patterns,
            frozenset(p for p in patterns if not _GLOB_CHARS & set(p)),
            tuple(_compile(p, separator) for p in globs if p != "*"),
        )

    def matches(self, value: str) -> bool:
        return self.everything or value in self.literals or any(g.match(value) for g in self.globs)


@dataclass(frozen=True)
class PatternSet:
    """A list of patterns compiled once, for many verdicts (an AppProject's sourceRepos against every
    Application's sources): literal URLs cost a set lookup, not a regular expression each."""

    allow: _Matcher
    deny: _Matcher
    repo: bool

    @classmethod
    def compile(cls, patterns: Iterable[str], separator: str = "", *, repo: bool = False) -> PatternSet:
        allow: list[str] = []
        deny: list[str] = []
        for raw in patterns:
            negate = raw.startswith("!")
            pattern = raw[1:] if negate else raw
            (deny if negate else allow).append(normalize_repo(pattern) if repo else pattern)
        return cls(_Matcher.of(allow, separator), _Matcher.of(deny, separator), repo)

    def allows(self, value: str) -> bool:
        """ArgoCD's verdict: some pattern allows `value` and no `!pattern` denies it (order is irrelevant)."""
        if self.repo:
            value = normalize_repo(value)
        return self.allow.matches(value) and not self.deny.matches(value)


def normalize_repo(url: str) -> str:
    url = url.strip().lower()
    return url.removesuffix(".git")


def allowed(patterns: Iterable[str], value: str, separator: str = "", *, repo: bool = False) -> bool:
    """ArgoCD's verdict: some pattern allows `value` and no `!pattern` denies it."""
    return PatternSet.compile(patterns, separator, repo=repo).allows(value)
