"""The Kubernetes name rules (apimachinery's validation), defined once for config, plan and render checks."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LABEL_1123 = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"


@dataclass(frozen=True)
class NameRule:
    title: str
    pattern: re.Pattern[str]
    max_length: int
    starts_with: str  # what the first character must be, in words

    def matches(self, name: str) -> bool:
        # fullmatch, not `^...$`: `$` also matches before a trailing newline.
        return len(name) <= self.max_length and self.pattern.fullmatch(name) is not None

    def problem(self, name: str) -> str | None:
        """Why `name` breaks the rule (None when it does not), as the rest of a sentence about it."""
        if len(name) > self.max_length:
            return f"is {len(name)} characters long; at most {self.max_length} are allowed"
        if self.pattern.fullmatch(name) is None:
            return (
                f"is not a valid {self.title} (lowercase letters, digits and '-', starting with "
                f"{self.starts_with} and ending with a letter or digit)"
            )
        return None


DNS1123_LABEL = NameRule("DNS-1123 label", re.compile(_LABEL_1123), 63, "a lowercase letter or digit")
DNS1123_SUBDOMAIN = NameRule(
    "DNS-1123 subdomain", re.compile(rf"{_LABEL_1123}(\.{_LABEL_1123})*"), 253, "a lowercase letter or digit"
)
DNS1035_LABEL = NameRule(
    "DNS-1035 label", re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?"), 63, "a lowercase letter"
)
