"""The review as a JUnit report (`artifacts:reports:junit`): lint findings, every reviewed Application's
render and the deletion guard as test cases, so GitLab's test widget lists what fails."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from gitops_poc.lint.findings import Finding, Severity
from gitops_poc.review.model import Review


def _suite(root: ET.Element, name: str, cases: Sequence[tuple[str, str, str | None]]) -> None:
    """cases: (classname, name, failure message or None)."""
    failures = sum(1 for case in cases if case[2] is not None)
    suite = ET.SubElement(root, "testsuite", name=name, tests=str(len(cases)), failures=str(failures))
    for classname, case_name, failure in cases:
        case = ET.SubElement(suite, "testcase", classname=classname, name=case_name)
        if failure is not None:
            ET.SubElement(case, "failure", message=failure).text = failure


def _lint_cases(findings: Sequence[Finding]) -> list[tuple[str, str, str | None]]:
    return [
        (
            f.file,
            f"{f.rule_id} {f.location}",
            f"{f.message} (hint: {f.hint})" if f.severity is Severity.ERROR else None,
        )
        for f in findings
    ]


def junit_xml(review: Review, findings: Sequence[Finding]) -> str:
    """`findings`: every lint finding on the merge request's side (warnings pass, errors fail)."""
    root = ET.Element("testsuites", name="gitops-poc review")
    _suite(root, "lint", _lint_cases(findings) or [("lint", "no findings", None)])
    errors = {e.split(": ", 1)[0]: e for e in review.errors}
    renders = [
        (app.service, f"render {app.name}", errors.get(app.name))
        for app in review.applications
        if app.change.value != "deleted"
    ]
    _suite(root, "render", renders or [("render", "nothing to render", None)])
    guard = review.guard
    message = None
    if guard.tripped:
        message = f"{guard.deletions} Application(s) deleted, more than --max-deletions {guard.max_deletions}"
    _suite(root, "deletion guard", [("guard", "deletions within --max-deletions", message)])
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
