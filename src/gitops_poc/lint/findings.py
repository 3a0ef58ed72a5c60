"""What `lint` reports: one finding per problem, with where it is and how to fix it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """`error` breaks a deploy or a principle (exit 1); `warning` is worth a look (exit 0)."""

    ERROR = "error"
    WARNING = "warning"

    @property
    def rank(self) -> int:
        return 0 if self is Severity.ERROR else 1


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: Severity
    file: str  # relative to the platform root when it lies inside it, POSIX separators
    line: int | None  # 1-based; None for a file that is missing as a whole
    message: str
    hint: str = ""

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line or 0, self.severity.rank, self.rule_id, self.message)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Sorted by file and line, each finding once (several environments can report the same line)."""
    return sorted(set(findings), key=Finding.sort_key)


def count(findings: list[Finding], severity: Severity) -> int:
    return sum(1 for f in findings if f.severity is severity)
