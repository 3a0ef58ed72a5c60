"""Lint findings as a GitLab Code Quality report (`artifacts:reports:codequality`): GitLab compares the
merge request's report with the target branch's and shows new and fixed findings in the merge request.

Format: https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from gitops_poc.lint.findings import Finding, Severity

SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor"}


def fingerprint(finding: Finding, occurrence: int) -> str:
    """Stable across pipelines: rule, file and message (not the line, which moves with edits above it),
    and which occurrence of that in the file."""
    text = "\0".join((finding.rule_id, finding.file, finding.message, str(occurrence)))
    return hashlib.sha256(text.encode()).hexdigest()


def codequality(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    seen: Counter[tuple[str, str, str]] = Counter()
    issues = []
    for finding in findings:
        identity = (finding.rule_id, finding.file, finding.message)
        seen[identity] += 1
        description = finding.message + (f" (hint: {finding.hint})" if finding.hint else "")
        issues.append(
            {
                "description": description,
                "check_name": finding.rule_id,
                "fingerprint": fingerprint(finding, seen[identity]),
                "severity": SEVERITY[finding.severity],
                "location": {"path": finding.file, "lines": {"begin": finding.line or 1}},
            }
        )
    return issues


def codequality_json(findings: Sequence[Finding]) -> str:
    return json.dumps(codequality(findings), indent=2) + "\n"
