"""`gitops-poc up`: doctor -> infrastructure (with Vault) -> registry -> pull or push -> verify, resumable."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.markup import escape

from gitops_poc.cli.common import EnvFileOption, RootOption, load_platform
from gitops_poc.cli.output import OutputFormat, err
from gitops_poc.errors import GitopsError


class StageFailed(GitopsError):
    """A stage of `up` failed; the stages before it are recorded as done. Its exit code is the stage's: 2
    when a tool, the cluster or the input failed (a required tool missing by doctor's account included), 1
    for a stage's own finding (a tripped prune guard, a failed verification)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def up(
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    restart: bool = typer.Option(False, "--restart", help="Forget which stages are done; run them all."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print every stage's plan; change nothing."),
) -> int:
    """Stand the whole platform up: doctor, setup infrastructure (Vault, VSO, ArgoCD, Vault provisioning),
    setup registry, setup pull or push (GITOPS_MODE), then verify. A re-run skips the stages already done
    for this configuration and says so (doctor and verify always run); --restart runs everything."""
    from gitops_poc.cli import doctor as doctor_cmd
    from gitops_poc.cli import setup as setup_cmd
    from gitops_poc.cli import verify as verify_cmd
    from gitops_poc.cluster.applyset import DEFAULT_MAX_PRUNE
    from gitops_poc.cluster.infrastructure import remote_vault_address
    from gitops_poc.cluster.progress import STAGES, UpState

    platform = load_platform(root, env_file)
    remote_vault_address(platform)  # bad input: exit 2 before any stage, not a failed stage (exit 1)
    state = UpState.load(root, platform.config)
    if restart and not dry_run:
        state.forget()
    text = OutputFormat.text
    mode = platform.config.gitops_mode
    runs = {
        "doctor": lambda: doctor_cmd.doctor(root=root, env_file=env_file, output=text),
        "infrastructure": lambda: setup_cmd.infrastructure(
            root=root, env_file=env_file, dry_run=dry_run, output=text
        ),
        "registry": lambda: setup_cmd.registry(root=root, env_file=env_file, dry_run=dry_run, output=text),
        "delivery": (
            lambda: setup_cmd.pull(root=root, env_file=env_file, cluster=[], dry_run=dry_run, output=text)
        )
        if mode == "pull"
        else (
            lambda: setup_cmd.push(
                root=root,
                env_file=env_file,
                token_file=None,
                max_prune=DEFAULT_MAX_PRUNE,
                dry_run=dry_run,
                output=text,
            )
        ),
        "verify": lambda: verify_cmd.verify(
            root=root, env_file=env_file, output=text, junit=None, skip_vault=False
        ),
    }
    for number, stage in enumerate(STAGES, start=1):
        label = f"{stage} ({mode})" if stage == "delivery" else stage
        if state.skip(stage) and not restart:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(state.done[stage]))
            err.print(
                f"[bold]{number}/{len(STAGES)} {escape(label)}[/]: [green]done[/] at {when}, skipped "
                "(--restart runs it again)"
            )
            continue
        if dry_run and stage == "verify":
            err.print(f"[bold]{number}/{len(STAGES)} verify[/]: runs after the others")
            continue
        err.print(f"[bold]{number}/{len(STAGES)} {escape(label)}[/]")
        try:
            code = runs[stage]()
        except GitopsError as exc:
            raise StageFailed(f"{stage} failed: {exc}\n`gitops-poc up` resumes here", exc.exit_code) from None
        if code != 0 and stage == "doctor" and dry_run:
            err.print("[yellow]note:[/] doctor found problems; a real run stops here")
            continue
        if code != 0 and stage == "doctor":
            raise StageFailed(
                "doctor found something required missing: fix it, then run `gitops-poc up` again", 2
            )
        if code != 0:
            raise StageFailed(f"{stage} failed; `gitops-poc up` resumes here", code)
        if not dry_run:
            state.mark(stage)
    return 0
