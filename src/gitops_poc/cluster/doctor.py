"""`doctor`: are the tools there, does the kube context answer (KUBE_CONTEXT and the context of every
cluster of ENVIRONMENT_CLUSTERS), is there room for what `setup` asks for.

`evaluate` is pure (facts in, checks out); `gather_facts` runs the version commands and asks the cluster.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gitops_poc import proc
from gitops_poc.cluster.checks import Check, failed, passed
from gitops_poc.cluster.tools import find_tool
from gitops_poc.config import Config
from gitops_poc.platform import Platform

GROUP_TOOLS, GROUP_CLUSTER, GROUP_RESOURCES = "tools", "cluster", "resources"
GROUP_CLUSTERS = "clusters"  # the other clusters of ENVIRONMENT_CLUSTERS, one row each

# tool -> (version command, why, install hint, required)
TOOLS: dict[str, tuple[tuple[str, ...], str, str, bool]] = {
    "kubectl": (
        ("version", "--client", "-o", "json"),
        "port-forwards and ServiceAccount tokens",
        "`make tools` installs .tools/bin/kubectl",
        True,
    ),
    "helm": (
        ("version", "--short"),
        "Vault, VSO, ArgoCD and agent releases",
        "`make tools` installs .tools/bin/helm",
        True,
    ),
    "minikube": (
        ("version", "--short"),
        "the local cluster",
        "https://minikube.sigs.k8s.io/docs/start/",
        True,
    ),
    "docker": (
        ("version", "--format", "{{.Client.Version}}"),
        "`build-images` (minikube's image store)",
        "https://docs.docker.com/engine/install/",
        False,
    ),
}


@dataclass(frozen=True)
class ClusterFacts:
    """A cluster of ENVIRONMENT_CLUSTERS: its kube context, whether the kubeconfig has it, does it answer."""

    cluster: str
    context: str
    environments: tuple[str, ...]
    in_kubeconfig: bool
    version: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Facts:
    tools: Mapping[str, str | None]  # name -> version (None: missing)
    context: str
    cluster_version: str | None = None
    cluster_error: str | None = None
    host_cpus: int | None = None
    host_memory_mib: int | None = None  # available memory
    minikube_context: bool = True
    notes: tuple[str, ...] = field(default=())
    clusters: tuple[ClusterFacts, ...] = ()


def evaluate(config: Config, facts: Facts) -> list[Check]:
    checks: list[Check] = []
    for tool, (_, why, hint, required) in TOOLS.items():
        needed = required and (tool != "minikube" or facts.minikube_context)
        version = facts.tools.get(tool)
        if version:
            checks.append(passed(GROUP_TOOLS, tool, f"{version} ({why})"))
        else:
            checks.append(
                failed(
                    GROUP_TOOLS, tool, f"not found (needed for {why})", f"install it: {hint}", required=needed
                )
            )
    if facts.cluster_version:
        checks.append(
            passed(GROUP_CLUSTER, "context", f"{facts.context}: Kubernetes {facts.cluster_version} answers")
        )
    else:
        fix = (
            "`gitops-poc setup infrastructure` starts minikube"
            if facts.minikube_context
            else f"check `kubectl --context {facts.context} version`"
        )
        # Not required: `setup infrastructure` starts minikube itself.
        checks.append(
            failed(
                GROUP_CLUSTER,
                "context",
                f"{facts.context}: {facts.cluster_error or 'no answer'}",
                fix,
                required=not facts.minikube_context,
            )
        )
    checks += [remote_cluster_check(cluster) for cluster in facts.clusters]
    if facts.minikube_context:
        want_cpus, want_mib = config.minikube_cpus, config.minikube_memory
        if facts.host_cpus is not None:
            detail = f"{facts.host_cpus} CPUs here, minikube asks for {want_cpus} (MINIKUBE_CPUS)"
            checks.append(
                passed(GROUP_RESOURCES, "cpu", detail)
                if facts.host_cpus >= want_cpus
                else failed(GROUP_RESOURCES, "cpu", detail, f"set MINIKUBE_CPUS={facts.host_cpus} in .env")
            )
        if facts.host_memory_mib is not None:
            detail = (
                f"{facts.host_memory_mib} MiB available, minikube asks for {want_mib} MiB (MINIKUBE_MEMORY)"
            )
            fix = f"free memory or set MINIKUBE_MEMORY={max(2048, facts.host_memory_mib - 512)} in .env"
            checks.append(
                passed(GROUP_RESOURCES, "memory", detail)
                if facts.host_memory_mib >= want_mib
                else failed(GROUP_RESOURCES, "memory", detail, fix)
            )
    return checks


def remote_cluster_check(facts: ClusterFacts) -> Check:
    """Required: the environments ENVIRONMENT_CLUSTERS puts there cannot be set up or verified without it."""
    name, context = facts.cluster, facts.context
    runs = f"runs {' '.join(facts.environments)}"
    if not facts.in_kubeconfig:
        return failed(
            GROUP_CLUSTERS,
            name,
            f"kube context {context} is not in the kubeconfig ({facts.error or 'not found'}); {runs}",
            f"add the context {context} to your kubeconfig (KUBECONFIG), or name the one you have: "
            f"CLUSTER_CONTEXTS={name}=<context> in .env",
        )
    if facts.version:
        return passed(GROUP_CLUSTERS, name, f"{context}: Kubernetes {facts.version} answers; {runs}")
    return failed(
        GROUP_CLUSTERS,
        name,
        f"{context}: {facts.error or 'no answer'}; {runs}",
        f"check `kubectl --context {context} version` (cluster stopped, VPN, expired credentials?)",
    )


# --- gathering (I/O) -------------------------------------------------------------------------------------

Runner = Callable[[list[str]], str | None]


def run_quietly(argv: list[str]) -> str | None:
    """stdout of a version command, None when it is missing or fails."""
    binary = find_tool(argv[0])
    if binary is None:
        return None
    try:
        result = proc.run([binary, *argv[1:]], text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def tool_version(tool: str, output: str | None) -> str | None:
    if output is None:
        return None
    if tool == "kubectl":
        try:
            return str(json.loads(output)["clientVersion"]["gitVersion"])
        except (ValueError, KeyError, TypeError):
            return None
    match = re.search(r"v?[0-9]+\.[0-9]+\.[0-9]+[^\s+]*", output)
    return match.group(0) if match else output.splitlines()[0][:40] or None


def host_memory_mib(meminfo: str = "/proc/meminfo") -> int | None:
    try:
        with open(meminfo, encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def is_minikube_context(context: str, run: Runner = run_quietly) -> bool:
    """A context is a minikube profile when minikube lists it (or, without minikube, is named minikube)."""
    listing = run(["minikube", "profile", "list", "-o", "json"])
    if listing is None:
        return context == "minikube"
    try:
        profiles = json.loads(listing)
        names = {p.get("Name") for key in ("valid", "invalid") for p in profiles.get(key) or []}
    except (ValueError, AttributeError):
        return context == "minikube"
    return context in names or context == "minikube"


def ask_version(context: str) -> tuple[str | None, str | None]:
    """(Kubernetes version, None) when the context's cluster answers, else (None, why not)."""
    from gitops_poc.cluster.kube import ClusterError, Kube

    try:
        answer = Kube.from_kubeconfig(context).version()
    except ClusterError as exc:
        return None, str(exc)
    return str(answer.get("gitVersion") or f"{answer.get('major')}.{answer.get('minor')}"), None


def gather_cluster(platform: Platform, cluster: str) -> ClusterFacts:
    """A remote cluster's context: looked up in the kubeconfig first (asked only when it is there)."""
    from gitops_poc.vault.kube_ca import find_context

    context = platform.cluster_context(cluster)
    environments = platform.environments_of_cluster(cluster)
    path, tried = find_context(context, os.environ)
    if path is None:
        return ClusterFacts(cluster, context, environments, False, error="; ".join(tried) or None)
    version, error = ask_version(context)
    return ClusterFacts(cluster, context, environments, True, version, error)


def gather_facts(config: Config, run: Runner = run_quietly) -> Facts:
    tools = {tool: tool_version(tool, run([tool, *args])) for tool, (args, _, _, _) in TOOLS.items()}
    version, error = ask_version(config.kube_context)
    platform = Platform(config)
    return Facts(
        tools,
        config.kube_context,
        version,
        error,
        os.cpu_count(),
        host_memory_mib(),
        is_minikube_context(config.kube_context, run),
        clusters=tuple(gather_cluster(platform, cluster) for cluster in platform.remote_clusters),
    )
