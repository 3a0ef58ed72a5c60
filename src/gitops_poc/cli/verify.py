"""`gitops-poc verify`: the smoke test of a running platform. Every check runs; exit 1 when any fails."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from gitops_poc.cli.check_table import show_checks
from gitops_poc.cli.common import EnvFileOption, RootOption, load_platform
from gitops_poc.cli.output import OutputFormat
from gitops_poc.cluster.checks import Check
from gitops_poc.platform import Platform


def vault_least_privilege(root: Path, platform: Platform) -> Check:
    """`vault check --identity kubernetes` over a port-forward (or VAULT_ADDR when set)."""
    from contextlib import ExitStack

    from gitops_poc.cluster.checks import failed, passed
    from gitops_poc.cluster.infrastructure import VAULT_NAMESPACE, VAULT_PORT, VAULT_SERVICE
    from gitops_poc.cluster.portforward import port_forward
    from gitops_poc.vault.bootstrap import KEYS_FILE, read_keys
    from gitops_poc.vault.check import Identity, check_vault
    from gitops_poc.vault.client import VaultTarget, make_client, preflight, read_token
    from gitops_poc.vault.kube_tokens import kubectl_jwt_source

    context = platform.config.kube_context
    with ExitStack() as stack:
        addr = os.environ.get("VAULT_ADDR")
        if not addr:
            forward = stack.enter_context(
                port_forward(context, VAULT_NAMESPACE, f"svc/{VAULT_SERVICE}", VAULT_PORT)
            )
            addr = forward.url
        keys = root / KEYS_FILE
        token = os.environ.get("VAULT_TOKEN") or (
            str(read_keys(keys)["root_token"]) if keys.is_file() else None
        )
        if token is None:
            token = read_token(os.environ, None)
        client = make_client(VaultTarget(addr), token)
        preflight(client)
        report = check_vault(
            platform, client, identity=Identity.KUBERNETES, jwt_source=kubectl_jwt_source(context)
        )
    total = len(platform.services) * len(platform.environments)
    if report.ok:
        return passed("vault", "least-privilege", f"{total} ServiceAccounts each read only their own secret")
    problems = [*report.leaks, *report.failures, *(f"stale {s.describe()}" for s in report.stale_roles)][:3]
    return failed(
        "vault",
        "least-privilege",
        "; ".join(problems),
        "gitops-poc vault check --identity kubernetes",
    )


def verify(
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--output", "-o", help="text, or json for scripts."
    ),
    junit: Path | None = typer.Option(
        None, "--junit", dir_okay=False, help="Also write the checks as JUnit XML."
    ),
    skip_vault: bool = typer.Option(False, "--skip-vault", help="Leave out the Vault least-privilege check."),
) -> int:
    """Infrastructure pods ready; every Application Synced and Healthy per environment (push mode: the GitLab
    agent's pods in each cluster instead); each service's
    Deployment ready in <prefix>-<env>; VSO secrets synced into their Secrets; the pull secret and the
    ServiceAccounts listing it; Vault least privilege with real ServiceAccount logins. Every check runs even
    after a failure. Exit 1 when any check fails."""
    from gitops_poc.cluster.kube import Kube
    from gitops_poc.cluster.verify import per_cluster, plan_checks, run_checks

    platform = load_platform(root, env_file)
    context = platform.config.kube_context
    reader = per_cluster(lambda other: Kube.from_kubeconfig(other or context))
    vault = None if skip_vault else (lambda: vault_least_privilege(root, platform))
    checks = run_checks(plan_checks(platform, reader, vault))
    return show_checks("gitops-poc verify", checks, output, junit)
