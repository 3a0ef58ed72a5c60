"""Thin adapter over the real `helm` binary: `helm template` and `helm pull`, nothing else.

Helm's own environment (HELM_CACHE_HOME, HELM_CONFIG_HOME, HELM_REGISTRY_CONFIG, ...) is inherited as is.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gitops_poc import proc
from gitops_poc.errors import ToolError
from gitops_poc.proc import Opt, Part, Value

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
) -> list[Part]:
    """The arguments ArgoCD's repo-server passes: release name, namespace, value files in order, CRDs."""
    args: list[Part] = ["template", Opt("--namespace", namespace), "--include-crds"]
    args += [Opt("--values", path) for path in value_files]
    if kube_version:
        args.append(Opt("--kube-version", kube_version))
    return [*args, "--", Value(release, "release"), chart]


@dataclass(frozen=True)
class Helm:
    binary: str
    timeout: float = TIMEOUT_SECONDS

    def run(self, args: Sequence[Part]) -> str:
        """Run helm; its stdout, or HelmError carrying helm's message."""
        try:
            # No stdin: helm never prompts here, and a child reading stdin must not hang.
            result = proc.run([self.binary, *args], text=True, timeout=self.timeout)
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

    def pull(self, pull_args: Sequence[Part], destination: Path) -> None:
        """`helm pull --untar --destination=<destination> <pull_args>` (they end with the chart's operand)."""
        self.run(["pull", "--untar", Opt("--destination", destination), *pull_args])
