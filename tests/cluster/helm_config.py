"""What the REAL helm stores as a release's user-supplied values (`helm get values`) for the arguments a
step passes: `helm install --dry-run=client --output json` with the same chart, values files, private values
file and --set-string, no cluster needed."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

from gitops_poc.argv import Part, render
from gitops_poc.cluster.model import HelmRelease, nested
from gitops_poc.yamlio import dump

DROPPED_WITH_VALUE = {"--kube-context", "--timeout"}
DROPPED = {"--create-namespace", "--wait"}


def stored_config(helm: str, release: HelmRelease, folder: Path, chart: str | None = None) -> Any:
    """The `config` helm records for `release`; `chart` (a local chart folder) replaces chart and repo."""
    private = None
    if release.private_values.items:
        private = folder / "private-values.yaml"
        private.write_text(dump(nested(release.private_values.as_dict())))
    return config_for_args(
        helm, release.helm_args("minikube", str(private) if private else None), folder, chart
    )


def config_for_call(helm: str, call: dict[str, Any], folder: Path, chart: str | None = None) -> Any:
    """The same for a recorded `helm upgrade --install` (tests/cluster/standins.py `recorder`): its values
    files as they were then (the private one is gone since)."""
    args = list(call["args"])
    for number, (path, seen) in enumerate(call["files"].items()):
        copy = folder / f"recorded-{number}.yaml"
        copy.write_text(seen["text"])
        args = [f"--values={copy}" if arg == f"--values={path}" else arg for arg in args]
    return config_for_args(helm, args, folder, chart)


def config_for_args(helm: str, parts: list[Part], folder: Path, chart: str | None = None) -> Any:
    """`helm install` with the options of `upgrade --install` that store values (`--opt=value` words, then
    `-- RELEASE CHART`)."""
    args = render(parts)
    assert args[:2] == ["upgrade", "--install"]
    command = ["install", "--dry-run=client", "--output=json"]
    for arg in args[2:]:
        if arg.partition("=")[0] not in DROPPED_WITH_VALUE and arg not in DROPPED:
            command.append(arg)
    if chart is not None:
        command[-1] = chart
        command = [arg for arg in command if not arg.startswith(("--repo=", "--version="))]
    result = subprocess.run(
        [helm, *command],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KUBECONFIG": str(folder / "no-kubeconfig")},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout).get("config")


def with_repo(release: HelmRelease, repo: str) -> HelmRelease:
    return replace(release, repo=repo)
