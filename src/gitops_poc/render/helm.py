"""Thin adapter over the real `helm` binary: `helm template` and `helm pull`, nothing else.

Helm's own environment (HELM_CACHE_HOME, HELM_CONFIG_HOME, HELM_REGISTRY_CONFIG, ...) is inherited as is.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gitops_poc.errors import ToolError

TOOLS_BIN = Path(".tools") / "bin"
# src/gitops_poc/render/helm.py -> the checkout that `make tools` installs into.
CHECKOUT = Path(__file__).resolve().parents[3]
TIMEOUT_SECONDS = 120.0


class HelmNotFound(ToolError):
    """No helm binary: neither in .tools/bin nor on PATH."""


class HelmError(ToolError):
    """helm ran and failed; the message is helm's own."""


def find_helm(root: Path | None = None) -> str:
    """`.tools/bin/helm` of the platform root or of this checkout, else `helm` on PATH."""
    for base in (root, CHECKOUT):
        if base is not None and (candidate := base / TOOLS_BIN / "helm").is_file():
            return str(candidate)
    found = shutil.which("helm")
    if found is None:
        raise HelmNotFound(
            "helm is not installed: run `make tools` (installs .tools/bin/helm) or put helm on PATH; "
            "`--values-only` works without it"
        )
    return found


def template_args(
    release: str, chart: Path, namespace: str, value_files: Sequence[Path], kube_version: str | None
) -> list[str]:
    """The arguments ArgoCD's repo-server passes: release name, namespace, value files in order, CRDs."""
    args = ["template", release, str(chart), "--namespace", namespace, "--include-crds"]
    for path in value_files:
        args += ["--values", str(path)]
    if kube_version:
        args += ["--kube-version", kube_version]
    return args


@dataclass(frozen=True)
class Helm:
    binary: str
    timeout: float = TIMEOUT_SECONDS

    def run(self, args: Sequence[str]) -> str:
        """Run helm; its stdout, or HelmError carrying helm's message."""
        command = [self.binary, *args]
        try:
            result = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,  # helm never prompts here; a child reading stdin must not hang
                capture_output=True,
                text=True,
                check=False,
                timeout=self.timeout,
            )
        except FileNotFoundError:
            raise HelmNotFound(f"helm binary {self.binary} does not exist") from None
        except subprocess.TimeoutExpired:
            raise HelmError(f"`helm {args[0]}` did not finish within {self.timeout:.0f} s") from None
        if result.returncode != 0:
            message = result.stderr.strip().removeprefix("Error: ") or f"exit code {result.returncode}"
            raise HelmError(f"helm {args[0]} failed: {message}")
        return result.stdout

    def template(
        self,
        release: str,
        chart: Path,
        namespace: str,
        value_files: Sequence[Path],
        kube_version: str | None = None,
    ) -> str:
        """`helm template` as ArgoCD runs it; the rendered multi-document YAML."""
        return self.run(template_args(release, chart, namespace, value_files, kube_version))

    def pull(self, pull_args: Sequence[str], destination: Path) -> None:
        """`helm pull <pull_args> --untar -d <destination>`."""
        self.run(["pull", *pull_args, "--untar", "-d", str(destination)])
