"""The synthetic platform every benchmark measures: N services named svc-000... over a list of
environments."""

from __future__ import annotations

from pathlib import Path

from gitops_poc.changes import apply_changes
from gitops_poc.config import parse_config
from gitops_poc.generate import plan_init
from gitops_poc.platform import Platform

FIVE_ENVIRONMENTS = "dev qa staging preprod prod"


def env_text(services: int, environments: str = FIVE_ENVIRONMENTS) -> str:
    names = " ".join(f"svc-{i:03d}" for i in range(services))
    return f'SERVICES="{names}"\nENVIRONMENTS="{environments}"\n'


def make_platform(services: int, environments: str = FIVE_ENVIRONMENTS) -> Platform:
    return Platform(parse_config(env_text(services, environments), ".env", {}))


def write_platform(
    root: Path, services: int, environments: str = FIVE_ENVIRONMENTS, *, generate: bool = True
) -> Platform:
    """Write ROOT/.env for the synthetic platform and, unless told not to, run `init` into ROOT."""
    (root / ".env").write_text(env_text(services, environments))
    platform = make_platform(services, environments)
    if generate:
        apply_changes(root, plan_init(platform, root))
    return platform
