"""What minikube says about a profile: running or not, which addons are on (for the infrastructure plan)."""

from __future__ import annotations

import json
import subprocess

from gitops_poc import proc
from gitops_poc.cluster.infrastructure import InfraState
from gitops_poc.cluster.tools import find_tool
from gitops_poc.proc import Opt, Part


def _run(argv: list[Part]) -> subprocess.CompletedProcess[str] | None:
    binary = find_tool("minikube")
    if binary is None:
        return None
    return proc.run([binary, *argv], text=True, timeout=60)


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
