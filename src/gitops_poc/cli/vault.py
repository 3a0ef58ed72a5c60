"""`gitops-poc vault provision|check`: configure Vault through its API and prove least privilege.

Replaces setup-vault-secrets.sh and the Vault part of infrastructure/vault/setup.sh. Vault is reached at
VAULT_ADDR with VAULT_TOKEN (or --token-file); the token is never an option, never printed.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gitops_poc.cli.common import EnvFileOption, RootOption, load_platform
from gitops_poc.cli.output import OutputFormat, err, out, print_json
from gitops_poc.errors import GitopsError
from gitops_poc.platform import IN_CLUSTER_SERVER
from gitops_poc.vault.apply import ApplyReport
from gitops_poc.vault.check import CheckReport, Identity, Outcome, check_vault
from gitops_poc.vault.client import client_from_env, preflight
from gitops_poc.vault.model import Change, SecretSeed, Step, ValueSource, VaultPlan, step_action
from gitops_poc.vault.provision import PreparedProvision, ProvisionRequest, apply_provision, prepare_provision
from gitops_poc.vault.secrets_file import DEFAULT_SECRETS_FILE

app = typer.Typer(
    help="Configure Vault for the platform (policies, roles, initial secrets) and prove least privilege.",
    no_args_is_help=True,
)
SHOWN_STEPS = 40
TokenFileOption = typer.Option(
    None,
    "--token-file",
    help="Read the Vault token from this file ('-' = stdin) instead of VAULT_TOKEN.",
    dir_okay=False,
    allow_dash=True,
)


class LeastPrivilegeViolated(GitopsError):
    """`vault check` found a leak, a broken identity or a stale role (a live grant of a removed pair)."""


_STEP_MARK = {Change.CREATE: "[green]+[/]", Change.UPDATE: "[yellow]~[/]", Change.DELETE: "[red]-[/]"}


def _step_line(step: Step) -> str:
    return f"  {_STEP_MARK[step_action(step)]} {escape(step.describe())}"


def show_plan(plan: VaultPlan, addr: str, *, full: bool) -> None:
    counts = ", ".join(f"{n} {kind}" for kind, n in plan.count().items()) or "nothing"
    err.print(
        f"Vault {addr}: {len(plan)} write(s) planned ({counts}); {len(plan.kept_secrets)} existing secret(s)"
        " kept",
        markup=False,
    )
    steps = plan.steps if full else plan.steps[:SHOWN_STEPS]
    for step in steps:
        err.print(_step_line(step))
    if len(steps) < len(plan.steps):
        err.print(
            f"  [dim]... and {len(plan.steps) - len(steps)} more (--dry-run or --output json lists all)[/]"
        )
    for leftover in plan.stale_kept:
        err.print(f"  [yellow]![/] stale (not deleted) {escape(leftover.describe())}")
    for note in plan.notes:
        err.print(f"[yellow]note:[/] {escape(note)}")


def _apply_with_progress(prepared: PreparedProvision) -> ApplyReport:
    plan = prepared.plan
    if not err.is_terminal:
        step_every = max(1, len(plan) // 10)

        def log(done: int, total: int, step: Step) -> None:
            if done % step_every == 0 or done == total:
                err.print(f"  {done}/{total} applied")

        return apply_provision(prepared, log)
    columns = (
        TextColumn("Applying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("", total=len(plan))

        def advance(done: int, total: int, step: Step) -> None:
            bar.update(task, completed=done, description=escape(step.describe())[:60])

        return apply_provision(prepared, advance)


@app.command("provision")
def provision(
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    secrets_file: Path | None = typer.Option(
        None,
        "--secrets-file",
        dir_okay=False,
        help=(
            "Initial values: {service: {env: {KEY: value}}} (keep it out of git) (default:"
            f" ROOT/{DEFAULT_SECRETS_FILE} when present)."
        ),
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; write nothing."),
    overwrite_secrets: bool = typer.Option(
        False,
        "--overwrite-secrets",
        help=(
            "Write the secrets file's values over existing secrets (other keys are kept). Off: existing"
            " secrets are never changed."
        ),
    ),
    demo_values: bool = typer.Option(
        False,
        "--demo-values/--no-demo-values",
        help=(
            "For demos only: the original's publicly known demo values for secret keys in the first "
            "(development) environment. Off (default): random values, or the secrets file's."
        ),
    ),
    prune: bool = typer.Option(
        False,
        "--prune",
        help=(
            "Delete the roles and policies of services or environments no longer configured (listed as stale "
            "otherwise). Secrets are never deleted."
        ),
    ),
    kubernetes_host: str | None = typer.Option(
        None,
        "--kubernetes-host",
        help=(
            "API server Vault asks to review ServiceAccount tokens (default: the one Vault already has, else"
            f" {IN_CLUSTER_SERVER})."
        ),
    ),
    kubernetes_ca_file: Path | None = typer.Option(
        None,
        "--kubernetes-ca-file",
        dir_okay=False,
        help=(
            "PEM CA of that API server (default: the one Vault already has, else the KUBE_CONTEXT context's"
            " in your kubeconfig)."
        ),
    ),
    token_ttl: str = typer.Option(
        "1h", "--token-ttl", help="Lifetime of the tokens the roles issue (positive: 1h, 30m, 3600)."
    ),
    token_file: Path | None = TokenFileOption,
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--output", "-o", help="text, or json for scripts."
    ),
) -> int:
    """Mount KV v2, enable and configure kubernetes auth, write one policy and one role per service x
    environment (bound to that service's own ServiceAccount), and create missing initial secrets.

    Only differences are written: a second run writes nothing. Existing secrets are never changed unless
    --overwrite-secrets is given. Secret values are never printed. Roles and policies left by removed
    services or environments are listed as stale, and deleted only with --prune.
    """
    platform = load_platform(root, env_file)
    request = ProvisionRequest(
        secrets_file=secrets_file,
        overwrite_secrets=overwrite_secrets,
        demo_values=demo_values,
        prune=prune,
        kubernetes_host=kubernetes_host,
        kubernetes_ca_file=kubernetes_ca_file,
        token_ttl=token_ttl,
        dry_run=dry_run,
        token_file=token_file,
    )
    prepared = prepare_provision(platform, root, request, os.environ)
    plan, secrets = prepared.plan, prepared.secrets
    text = output is OutputFormat.text
    if text:
        err.print(
            f"Token policies: {', '.join(prepared.token.policies)};"
            f" state read in {prepared.state.calls} call(s)",
            markup=False,
        )
        if secrets is not None:
            err.print(f"Secrets file: {secrets.path} ({len(secrets.entries)} secret(s))", markup=False)
            if secrets.world_readable:
                err.print(
                    f"[yellow]warning:[/] {escape(str(secrets.path))} is readable by other users;"
                    " chmod 600 it"
                )
        show_plan(plan, prepared.client.url, full=dry_run)
        demo = sum(1 for s in plan if isinstance(s, SecretSeed) and ValueSource.DEMO.value in s.sources)
        if demo:
            err.print(
                f"[yellow]warning:[/] --demo-values: {demo} secret(s) get the original's publicly known demo "
                "values; use them for demos only"
            )
    report = ApplyReport()
    if plan.steps and not dry_run:
        report = _apply_with_progress(prepared)
        if text:
            err.print(f"[green]Done:[/] {report.writes} write(s).")
            for step, reason in report.kept:
                err.print(f"[yellow]kept[/] {escape(step.describe())}: {reason}")
    elif text and not plan.steps and plan.stale_kept:
        err.print(
            f"[yellow]Nothing to write;[/] {len(plan.stale_kept)} stale role(s)/policy(ies) stay (--prune"
            " deletes them)."
        )
    elif text and not plan.steps:
        err.print("[green]Nothing to do:[/] Vault already matches the platform.")
    if not text:
        result = {
            "vault_addr": prepared.client.url,
            "dry_run": dry_run,
            "applied": bool(plan.steps) and not dry_run,
        }
        result["plan"] = plan.as_json()
        result["writes"] = report.writes
        result["kept"] = [{"path": getattr(s, "path", ""), "reason": r} for s, r in report.kept]
        print_json(result)
    return 0


MATRIX_MAX_TARGETS = 60  # wider than that, only the summary and the findings are printed
_MARK = {"ok": "[green]R[/]", "denied": "[dim].[/]", "leak": "[bold red]X[/]", "broken": "[bold red]![/]"}


def _mark(outcome: Outcome | None, own: bool) -> str:
    if outcome is None:
        return " "
    if own:
        return _MARK["ok"] if outcome is Outcome.READ else _MARK["broken"]
    return _MARK["denied"] if outcome is Outcome.DENIED else _MARK["leak"]


def show_matrix(report: CheckReport) -> None:
    how = (
        "tokens minted from each role's own policy set (auth/token/create); bindings verified by reading each"
        " role"
        if report.identity is Identity.POLICY
        else "real kubernetes logins with ServiceAccount tokens (Vault's TokenReview)"
    )
    out.print(f"Least privilege, {len(report.results)} identities x {len(report.targets)} secrets: {how}")
    if len(report.targets) > MATRIX_MAX_TARGETS:
        return
    width = max(len(r.role) for r in report.results) + 2
    extra = ["write", "list", "binding"] + (["default"] if report.identity is Identity.KUBERNETES else [])
    out.print(
        " " * width + "".join(f"{i:>3}" for i in range(1, len(report.targets) + 1)) + "  " + " ".join(extra)
    )
    for result in report.results:
        own = (result.service, result.env)
        marks = "".join(f"  {_mark(result.outcome(t), t == own)}" for t in report.targets)
        binding = Outcome.ALLOWED if result.wide_binding else Outcome.DENIED
        tail = [_mark(result.write_own, False), _mark(result.list_all, False), _mark(binding, False)]
        if report.identity is Identity.KUBERNETES:
            tail.append(_mark(result.default_login, False))
        tails = " ".join(f"{m}{' ' * (len(label) - 1)}" for m, label in zip(tail, extra, strict=True))
        out.print(f"{escape(result.role):<{width}}{marks}  {tails}")
    out.print(
        "secrets: " + "  ".join(f"{i}={s}/{e}" for i, (s, e) in enumerate(report.targets, start=1)),
        markup=False,
    )
    out.print(
        "R = reads its own secret   . = denied, as it must be   X = allowed: a leak   ! = own secret not"
        " readable\nwrite = writes its own secret, list = lists every service's secrets, binding = role"
        " accepts other ServiceAccounts/namespaces or any audience"
        + (", default = the namespace's default SA logs in" if report.identity is Identity.KUBERNETES else "")
    )


@app.command("check")
def check(
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    identity: Identity = typer.Option(
        Identity.POLICY,
        "--identity",
        help=(
            "policy: tokens minted from each role's policies (no cluster needed); kubernetes: real logins"
            " with `kubectl create token` ServiceAccount tokens from KUBE_CONTEXT, plus a login attempt as"
            " `default`."
        ),
    ),
    token_file: Path | None = TokenFileOption,
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--output", "-o", help="text, or json for scripts."
    ),
) -> int:
    """For every service x environment, get a token carrying exactly what its role grants and prove it reads
    its own secret and is denied every other service's and environment's (and cannot write or list).

    Also checks each role is bound only to the service's own ServiceAccount in its namespace, with an
    audience, and warns about stale roles of removed services or environments (still live grants). Exit 1
    on any leak, broken identity or stale role.
    """
    platform = load_platform(root, env_file)
    client = client_from_env(os.environ, token_file)
    preflight(client)
    jwt_source = None
    if identity is Identity.KUBERNETES:
        from gitops_poc.vault.kube_tokens import kubectl_jwt_source

        jwt_source = kubectl_jwt_source(platform.config.kube_context)
    total = len(platform.services) * len(platform.environments)
    with Progress(
        TextColumn("Checking"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("", total=total)
        report = check_vault(
            platform,
            client,
            identity=identity,
            jwt_source=jwt_source,
            progress=lambda done, _total: bar.update(task, completed=done),
        )
    if output is OutputFormat.json:
        print_json(report.as_json())
    else:
        show_matrix(report)
        for line in report.leaks:
            err.print(f"[bold red]leak:[/] {escape(line)}")
        for line in report.failures:
            err.print(f"[red]problem:[/] {escape(line)}")
        for role in report.stale_roles:
            err.print(
                f"[yellow]warning:[/] stale {escape(role.describe())}: it still lets ServiceAccount"
                f" {escape(platform.service_account(role.service))} in {escape(platform.namespace(role.env))}"
                " log in and read what its policies grant"
            )
        for policy in (s for s in report.stale if s.kind == "policy"):
            err.print(f"[yellow]note:[/] stale {escape(policy.describe())}")
        if report.stale:
            err.print("  `gitops-poc vault provision --prune` deletes them (secrets are never deleted)")
        if report.ok:
            err.print(f"[green]OK:[/] {total} identities x {total} secrets: each reads only its own.")
    if not report.ok:
        raise LeastPrivilegeViolated(
            f"{len(report.leaks)} leak(s), {len(report.failures)} problem(s) and {len(report.stale_roles)}"
            " stale role(s); `gitops-poc vault provision` rewrites the platform's policies and roles"
            " (--prune deletes stale ones)"
        )
    return 0
