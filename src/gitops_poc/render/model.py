"""What a render is made of: the chart asked for and the rendered desired state. Data only, so the pure
comparisons (diff.py, checks.py) need neither helm nor git."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_poc.argv import Opt, Part, Value
from gitops_poc.config import Config
from gitops_poc.render.manifests import Manifest
from gitops_poc.values import ValuesFile


@dataclass(frozen=True)
class ChartRef:
    """The pinned chart ArgoCD deploys: CHART_REPO, CHART_NAME, CHART_VERSION (CHART_VERSIONS per env)."""

    repo: str
    name: str
    version: str

    @classmethod
    def from_config(cls, config: Config, env: str | None = None) -> ChartRef:
        """The chart of `env` (None: CHART_VERSION, the default of every environment)."""
        version = config.chart_version if env is None else config.chart_version_of(env)
        return cls(config.chart_repo, config.chart_name, version)

    @property
    def is_oci(self) -> bool:
        return self.repo.startswith("oci://")

    def pull_args(self) -> list[Part]:
        """Arguments for `helm pull`: a classic repository by URL, an OCI one by reference."""
        if self.is_oci:
            return [
                Opt("--version", self.version),
                "--",
                Value(f"{self.repo.rstrip('/')}/{self.name}", "CHART_REPO"),
            ]
        return [
            Opt("--repo", self.repo),
            Opt("--version", self.version),
            "--",
            Value(self.name, "CHART_NAME"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version} from {self.repo}"


@dataclass(frozen=True)
class LocalChart:
    """A chart on disk that `helm template` can use (a folder or a .tgz)."""

    path: Path
    description: str


@dataclass(frozen=True)
class ChartUnavailable:
    """The chart could not be had; `note` says why and what to do."""

    note: str


ChartResult = LocalChart | ChartUnavailable


@dataclass(frozen=True)
class Rendered:
    """The desired state of one service × environment at one revision (None: the working tree)."""

    service: str
    env: str
    namespace: str
    release: str
    revision: str | None
    value_files: tuple[ValuesFile, ...]
    # The value files merged as `helm -f ... -f ...` merges them: explicit nulls kept (they delete chart
    # defaults only), chart defaults not included.
    values: dict[str, Any]
    chart: ChartResult | None = None  # None: values only, no chart asked for
    manifests: tuple[Manifest, ...] | None = None
    chart_label: str | None = None  # e.g. app-3.12.1, where sides differ only by the chart

    @property
    def label(self) -> str:
        label = f"{self.env}@{self.revision}" if self.revision else self.env
        return f"{label}@{self.chart_label}" if self.chart_label else label

    @property
    def note(self) -> str | None:
        return self.chart.note if isinstance(self.chart, ChartUnavailable) else None

    def file_label(self, values_file: ValuesFile) -> str:
        return f"{values_file.path}@{self.revision}" if self.revision else str(values_file.path)
