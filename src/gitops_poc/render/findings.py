"""What validation says about one rendered manifest (lint has its own Finding: a line in a file)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ManifestSeverity(StrEnum):
    ERROR = "error"  # the API server would reject the object (or the chart output is unusable)
    WARNING = "warning"  # accepted, but almost certainly not what was meant
    SKIPPED = "skipped"  # not validated: a custom resource whose schema is not known offline


@dataclass(frozen=True)
class ManifestFinding:
    severity: ManifestSeverity
    manifest: str  # Kind/name
    source: str  # the chart template that rendered it
    message: str

    def __str__(self) -> str:
        return f"{self.manifest} ({self.source}): {self.message}"
