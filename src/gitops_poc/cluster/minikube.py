"""What minikube says about a profile: running or not, which addons are on (for the infrastructure plan)."""

from __future__ import annotations

import json
import subprocess

from gitops_poc import proc
from gitops_poc.cluster.infrastructure import InfraState, minikube_profile
from gitops_poc.cluster.tools import find_tool
from gitops_poc.errors import ToolError
from gitops_poc.platform import Platform
from gitops_poc.proc import Opt, Part


def _run(argv: list[Part]) -> subprocess.CompletedProcess[str] | None:
    binary = find_tool("minikube")
    if binary is None:
        return None
    return proc.run([binary, *argv], text=True, timeout=60)


def require_running_minikube(platform: Platform) -> None:
    """Raise ToolError (exit 2) unless minikube is installed and its profile runs: without it every build
    or load would fail alike, a missing cluster and not a finding about the images."""
    profile = minikube_profile(platform)
    if find_tool("minikube") is None:
        raise ToolError("minikube is not installed: `make tools` or see `gitops-poc doctor`")
    if not read_infra_state(profile, True).minikube_running:
        raise ToolError(
            f"minikube profile {profile!r} is not running: `gitops-poc setup infrastructure` starts it"
        )


def read_infra_state(profile: str, is_minikube: bool) -> InfraState:
    """InfraState(None) for a context that is not a minikube profile; minikube missing counts as stopped."""
    if not is_minikube:
        return InfraState(None)
    status = _run(["status", Opt("--profile", profile), "--output=json"])
    running = False
    if status is not None and status.stdout.strip():
        try:
            data = json.loads(status.stdout)
            running = (data[0] if isinstance(data, list) else data).get("Host") == "Running"
        except (ValueError, AttributeError, IndexError):
            running = False
    addons: set[str] = set()
    if running:
        listing = _run(["addons", "list", Opt("--profile", profile), "--output=json"])
        if listing is not None and listing.returncode == 0:
            try:
                addons = {
                    name
                    for name, info in json.loads(listing.stdout).items()
                    if str(info.get("Status", "")).lower() == "enabled"
                }
            except (ValueError, AttributeError):
                addons = set()
    return InfraState(running, frozenset(addons))
