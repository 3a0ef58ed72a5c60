"""`gitops-poc demo`: the whole GitOps loop on this machine (what `make demo` runs)."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from gitops_poc.cli.output import out
from gitops_poc.demo.loop import Demo, Summary


class _Printer:
    """Progress on every step: its number, title and time; each command and the lines that matter."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def step(self, number: int, total: int, title: str) -> None:
        elapsed = time.monotonic() - self.started
        out.print(f"\n[bold]==> [{number}/{total}] {escape(title)}[/]  [dim]({elapsed:.1f} s)[/]")

    def command(self, shown: str) -> None:
        out.print(f"  [cyan]$ {escape(shown)}[/]")

    def output(self, line: str) -> None:
        out.print(f"    {escape(line)}")

    def note(self, text: str) -> None:
        out.print(f"  [yellow]>[/] {escape(text)}")


def _show_summary(summary: Summary) -> None:
    out.print("\n[bold]==> summary[/]")
    table = Table(show_header=True, header_style="bold", box=None, padding=(0, 2))
    table.add_column("what")
    table.add_column("result")
    if summary.repositories:
        table.add_row("repositories", ", ".join(f"{r} ({n} commits)" for r, n in summary.repositories))
    if summary.applications:
        table.add_row("Applications", f"{summary.applications} (ApplicationSet expanded as ArgoCD does)")
    for env, before, after in summary.images:
        table.add_row(
            f"image in {env}", f"{before} -> {after}" if before != after else f"{before} (unchanged)"
        )
    if summary.vault:
        table.add_row("Vault matrix", ", ".join(f"{k}: {v}" for k, v in summary.vault.items()))
    if summary.chart is not None:
        table.add_row(
            "k8app chart",
            summary.chart.url + (" (offline copy on loopback)" if summary.chart.offline else ""),
        )
    if summary.report is not None:
        table.add_row("report", f"open {summary.report.as_uri()}")
    table.add_row("workspace", f"{summary.workspace} (logs/ holds every command's full output)")
    table.add_row("servers", "stopped" if summary.servers_stopped else "NOT stopped")
    table.add_row("time", f"{summary.seconds:.1f} s, {summary.commands} commands")
    out.print(table)


def demo(
    workspace: Path = typer.Option(
        Path("demo-out"),
        "--workspace",
        "-w",
        help="Scratch folder for the demo: platform root, bare remotes, clones, logs. A new or empty "
        "folder, or one an earlier demo made (it carries a .gitops-poc-demo marker; emptied first). "
        "A folder holding anything else is refused untouched.",
    ),
) -> int:
    """Run the whole GitOps loop here, with neither GitLab nor a cluster.

    init, publish to local bare repositories, Vault (a real OpenBao dev server) provision and check, a code
    change to health-demo, its pipeline's update job run as GitLab CI would (gitlab-ci-local, shell
    executor), plan and diff of what ArgoCD would change in dev, promotion to staging, a pin on prod that
    a promotion respects, and a summary. Every server and command it starts is stopped when it ends,
    however it ends (Ctrl-C, SIGTERM from a cancelled CI job); a second demo on the same workspace stops
    at once.
    """
    checkout = Path(__file__).resolve().parents[3]
    runner = Demo(workspace, _Printer(), checkout if (checkout / "pyproject.toml").is_file() else None)
    out.print(f"Demo workspace: {escape(str(runner.layout.workspace))}")
    summary = runner.run()
    _show_summary(summary)
    return 0
