"""`gitops-poc doctor`: the tools, the kube context and the room `setup` needs, with what to do."""

from __future__ import annotations

from pathlib import Path

import typer

from gitops_poc.cli.check_table import show_checks
from gitops_poc.cli.common import EnvFileOption, RootOption, load
from gitops_poc.cli.output import OutputFormat


def doctor(
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--output", "-o", help="text, or json for scripts."
    ),
) -> int:
    """Check minikube, kubectl, helm and docker (versions), whether KUBE_CONTEXT answers, whether the kube
    context of every cluster of ENVIRONMENT_CLUSTERS (CLUSTER_CONTEXTS) is in the kubeconfig and answers, and
    the free CPU and memory against MINIKUBE_CPUS/MINIKUBE_MEMORY. Exit 1 when something required is
    missing."""
    from gitops_poc.cluster.doctor import evaluate, gather_facts

    config = load(root, env_file)
    checks = evaluate(config, gather_facts(config))
    return show_checks("gitops-poc doctor", checks, output)
