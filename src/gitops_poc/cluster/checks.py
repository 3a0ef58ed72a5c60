"""Check results shared by `doctor` and `verify`: a table, JSON and JUnit XML all come from these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from xml.etree import ElementTree


class Status(StrEnum):
    OK = "ok"
    FAILED = "failed"
    WARNING = "warning"  # failed, but nothing required depends on it


@dataclass(frozen=True)
class Check:
    group: str
    name: str
    status: Status
    detail: str
    fix: str = ""

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED

    def as_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "name": self.name,
            "status": self.status.value,
            "detail": self.detail,
            "fix": self.fix,
        }


def passed(group: str, name: str, detail: str) -> Check:
    return Check(group, name, Status.OK, detail)


def failed(group: str, name: str, detail: str, fix: str = "", *, required: bool = True) -> Check:
    return Check(group, name, Status.FAILED if required else Status.WARNING, detail, fix)


def junit_xml(suite: str, checks: Sequence[Check]) -> str:
    """JUnit XML as CI servers read it: one testcase per check, failures with the reason."""
    root = ElementTree.Element(
        "testsuite",
        name=suite,
        tests=str(len(checks)),
        failures=str(sum(c.failed for c in checks)),
        skipped="0",
    )
    for check in checks:
        case = ElementTree.SubElement(root, "testcase", classname=f"{suite}.{check.group}", name=check.name)
        if check.failed:
            failure = ElementTree.SubElement(case, "failure", message=check.detail)
            failure.text = check.fix or check.detail
        elif check.status is Status.WARNING:
            ElementTree.SubElement(case, "system-out").text = f"warning: {check.detail}"
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"
