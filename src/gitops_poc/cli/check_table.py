"""How `doctor` and `verify` show their checks: a table on stdout, JSON, and a JUnit file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from gitops_poc import fileio
from gitops_poc.cli.output import OutputFormat, err, out, print_json
from gitops_poc.cluster.checks import Check, Status, junit_xml

_MARK = {
    Status.OK: "[green]ok[/]",
    Status.FAILED: "[bold red]FAILED[/]",
    Status.WARNING: "[yellow]warning[/]",
}


def write_junit(path: Path, suite: str, checks: Sequence[Check]) -> None:
    """Atomic: a reader never sees half a report."""
    fileio.write_atomic(path, junit_xml(suite, checks))


def show_checks(title: str, checks: Sequence[Check], output: OutputFormat, junit: Path | None = None) -> int:
    """Print the checks; 1 when any failed, else 0."""
    failures = [c for c in checks if c.failed]
    if junit is not None:
        write_junit(junit, title, checks)
    if output is OutputFormat.json:
        print_json({"ok": not failures, "failed": len(failures), "checks": [c.as_json() for c in checks]})
    else:
        table = Table(title=title, show_lines=False)
        for column in ("group", "check", "status", "detail"):
            table.add_column(column)
        for check in checks:
            table.add_row(escape(check.group), escape(check.name), _MARK[check.status], escape(check.detail))
        out.print(table)
        for check in checks:
            if check.status is not Status.OK and check.fix:
                err.print(f"[bold]{escape(check.group)}/{escape(check.name)}:[/] {escape(check.fix)}")
        summary = f"{len(checks) - len(failures)}/{len(checks)} checks passed"
        err.print(f"[red]{summary}[/]" if failures else f"[green]{summary}[/]")
    return 1 if failures else 0
