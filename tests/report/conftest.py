"""A report page written by the real `report` command from real repositories, and a least-privilege matrix in
the shape `vault check --output json` writes (built by the real CheckReport)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.vault.check import CheckReport, Identity, IdentityResult, Outcome
from tests.status.conftest import DIGEST, Published, published  # noqa: F401 - the fixture, reused

__all__ = ["DIGEST", "Published", "published", "vault_check_json", "write_report"]


def vault_check_json(services: list[str], envs: list[str], folder: Path) -> Path:
    """`vault check -o json` output: every identity reads only its own secret, but for one leak (web-http in
    prod also reads api-gateway/prod) and one failure (auth-adapter in dev cannot read its own)."""
    targets = tuple((s, e) for s in services for e in envs)
    results = []
    for service, env in targets:
        reads = {(service, env): Outcome.READ}
        if (service, env) == ("web-http", "prod"):
            reads[("api-gateway", "prod")] = Outcome.READ
        if (service, env) == ("auth-adapter", "dev"):
            reads = {}
        results.append(
            IdentityResult(service, env, f"{service}-{env}", reads, checked=True, write_own=Outcome.DENIED)
        )
    report = CheckReport(Identity.POLICY, targets, tuple(results))
    path = folder / "vault-check.json"
    path.write_text(json.dumps(report.as_json()))
    return path


def write_report(root: Path, folder: Path, *args: str) -> Path:
    assert main(["report", "--html", str(folder), "-C", str(root), "--no-cluster", *args]) == 0
    return folder / "index.html"


@pytest.fixture
def report_page(published: Published, tmp_path: Path) -> Path:  # noqa: F811
    """api-gateway bumped, promoted and pinned; the page with a Vault matrix and lint findings."""
    svc = "api-gateway"
    assert (
        published.ci(svc, "bump", "--env", "dev", "--tag", "1.0.0", "--digest", DIGEST, "--pipeline", "5")
        == 0
    )
    assert published.ci(svc, "promote", "--from", "dev", "--to", "staging") == 0
    assert published.ci(svc, "bump", "--env", "dev", "--tag", "1.1.0", "--pipeline", "6") == 0
    assert published.ci(svc, "pin", "--env", "prod", "--reason", "audit <freeze>") == 0
    services = ["api-gateway", "auth-adapter", "web-grpc", "web-http", "health-demo"]
    vault = vault_check_json(services, ["dev", "staging", "prod"], tmp_path)
    return write_report(published.root, tmp_path / "site", "--vault-json", str(vault), "--no-lint")
