"""The blueprints of the platform's five original services, and sizing per environment tier."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from gitops_poc.platform import Tier

CATALOG = Path(str(resources.files("gitops_poc") / "catalog"))
SERVICE_TEMPLATE = CATALOG / "service-repo"
ENV_FILE_PATTERN = ".cicd/{{ environment }}.yaml"


@dataclass(frozen=True)
class Sizing:
    replicas: int
    requests_cpu: str
    requests_memory: str
    limits_cpu: str
    limits_memory: str
    log_level: str | None = None
    hpa_max: int | None = None
    hpa_cpu: int = 70
    pdb_min_available: int | None = None


_DEV = Sizing(1, "50m", "64Mi", "200m", "128Mi")
_STAGING = Sizing(2, "100m", "128Mi", "500m", "256Mi")


def _sizes(development: Sizing, staging: Sizing, production: Sizing) -> dict[Tier, Sizing]:
    return {Tier.DEVELOPMENT: development, Tier.STAGING: staging, Tier.PRODUCTION: production}


# Replicas, HPA and PDB as the original env files asked for them, in keys the chart honours.
SIZING: dict[str, dict[Tier, Sizing]] = {
    "api-gateway": _sizes(
        Sizing(1, "100m", "128Mi", "500m", "256Mi", log_level="debug"),
        Sizing(2, "200m", "256Mi", "1", "512Mi", hpa_max=4, hpa_cpu=70),
        Sizing(3, "500m", "512Mi", "2", "1Gi", log_level="warn", hpa_max=10, hpa_cpu=60, pdb_min_available=2),
    ),
    "auth-adapter": _sizes(
        Sizing(1, "50m", "64Mi", "200m", "128Mi", log_level="debug"),
        Sizing(2, "100m", "128Mi", "500m", "256Mi"),
        Sizing(
            3, "250m", "256Mi", "1", "512Mi", log_level="warn", hpa_max=6, hpa_cpu=70, pdb_min_available=2
        ),
    ),
    "health-demo": _sizes(
        _DEV,
        _STAGING,
        Sizing(2, "100m", "64Mi", "200m", "128Mi", pdb_min_available=1),
    ),
    "web-grpc": _sizes(
        _DEV,
        _STAGING,
        Sizing(3, "250m", "128Mi", "500m", "256Mi", hpa_max=10, hpa_cpu=70, pdb_min_available=2),
    ),
    "web-http": _sizes(
        _DEV,
        _STAGING,
        Sizing(3, "250m", "128Mi", "500m", "256Mi", hpa_max=10, hpa_cpu=70, pdb_min_available=2),
    ),
}

BUILT_IN_SERVICES = tuple(SIZING)


def blueprint_files(service: str) -> list[tuple[str, Path]]:
    """(target path pattern, template file) for a built-in service."""
    return [
        (".cicd/default.yaml", CATALOG / "services" / service / ".cicd" / "default.yaml"),
        (ENV_FILE_PATTERN, CATALOG / "services" / "environment.yaml"),
        ("README.md", SERVICE_TEMPLATE / "README.md"),
    ]


def template_files(template_dir: Path) -> list[tuple[str, Path]]:
    """Every file of a service template folder, hidden ones included, as (relative pattern, file)."""
    files = [p for p in sorted(template_dir.rglob("*")) if p.is_file()]
    return [(p.relative_to(template_dir).as_posix(), p) for p in files]
