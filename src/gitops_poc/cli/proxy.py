"""`gitops-poc proxy vault|argocd|gateway`: managed port-forwards with the URLs to open.

The forwards live as long as this command (Ctrl-C, or --for); it ends only the processes it started.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path

import typer
from rich.markup import escape

from gitops_poc.cli.common import EnvFileOption, RootOption, load_platform
from gitops_poc.cli.output import err, out
from gitops_poc.errors import UsageError
from gitops_poc.platform import Platform


class Target(StrEnum):
    vault = "vault"
    argocd = "argocd"
    gateway = "gateway"


GATEWAY = "api-gateway"
GATEWAY_PORT = 8080  # the service port; Envoy's admin port (8000) is deliberately not forwarded


def forwards(platform: Platform, target: Target, env: str) -> tuple[str, str, int, int, str]:
    """(namespace, resource, local port, remote port, what to open)."""
    from gitops_poc.cluster.infrastructure import (
        ARGOCD_SERVER_SERVICE,
        VAULT_NAMESPACE,
        VAULT_PORT,
        VAULT_UI_SERVICE,
    )

    if target is Target.vault:
        return (
            VAULT_NAMESPACE,
            f"svc/{VAULT_UI_SERVICE}",
            8200,
            VAULT_PORT,
            "Vault UI: http://127.0.0.1:8200/ui",
        )
    if target is Target.argocd:
        return (
            platform.config.argocd_namespace,
            f"svc/{ARGOCD_SERVER_SERVICE}",
            8081,
            80,
            "ArgoCD: http://127.0.0.1:8081 (user admin)",
        )
    if GATEWAY not in platform.services:
        raise UsageError(f"proxy gateway: {GATEWAY} is not in SERVICES")
    return (
        platform.namespace(env),
        f"svc/{platform.service_host(GATEWAY)}",
        8080,
        GATEWAY_PORT,
        f"API gateway ({env}): http://127.0.0.1:8080",
    )


def proxy(
    targets: list[Target] = typer.Argument(..., help="vault, argocd and/or gateway."),
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    env: str | None = typer.Option(None, "--env", help="Environment of the gateway (default: the first)."),
    show_password: bool = typer.Option(False, "--show-password", help="Print the ArgoCD admin password."),
    seconds: float | None = typer.Option(None, "--for", help="Close the forwards after this many seconds."),
    local_port: int | None = typer.Option(
        None, "--local-port", min=1, max=65535, help="Local port, 1-65535 (one target only)."
    ),
) -> int:
    """Open port-forwards to Vault's UI, ArgoCD's server and/or the API gateway and print the URLs; they
    close with Ctrl-C (or after --for seconds). Only the forwards this command started are ended. The ArgoCD
    admin password is printed only with --show-password; the Vault token is never printed (it is in
    ROOT/.vault-keys.json)."""
    from gitops_poc.cluster.portforward import port_forward

    platform = load_platform(root, env_file)
    chosen_env = env or platform.environments[0]
    if chosen_env not in platform.environments:
        raise UsageError(f"--env {chosen_env}: not in ENVIRONMENTS ({' '.join(platform.environments)})")
    if local_port is not None and len(set(targets)) != 1:
        raise UsageError("--local-port needs exactly one target")
    context = platform.config.kube_context
    with ExitStack() as stack:
        for target in dict.fromkeys(targets):
            namespace, resource, local, remote, label = forwards(platform, target, chosen_env)
            if local_port is not None:
                label, local = label.replace(f":{local}", f":{local_port}"), local_port
            forward = stack.enter_context(
                port_forward(context, namespace, resource, remote, local_port=local)
            )
            out.print(f"{escape(label)}  (pid {forward.pid})")
        if show_password and Target.argocd in targets:
            out.print(f"ArgoCD admin password: {escape(_argocd_password(platform))}")
        err.print("Forwarding; Ctrl-C stops these forwards (and only these).")
        try:
            if seconds is not None:
                time.sleep(seconds)
            else:
                while True:
                    time.sleep(3600)
        except KeyboardInterrupt:
            err.print("Stopped.")
    return 0


def _argocd_password(platform: Platform) -> str:
    import base64

    from gitops_poc.cluster.kube import Kube

    secret = Kube.from_kubeconfig(platform.config.kube_context).get(
        "v1", "Secret", platform.config.argocd_namespace, "argocd-initial-admin-secret"
    )
    if secret is None or "password" not in (secret.get("data") or {}):
        raise UsageError("no argocd-initial-admin-secret (ArgoCD deletes it once the password was changed)")
    return base64.b64decode(secret["data"]["password"]).decode()
