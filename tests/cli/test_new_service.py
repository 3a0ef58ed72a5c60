from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.config import load_config
from gitops_poc.yamlio import load_plain


def test_new_service_scaffolds_registers_and_regenerates(tmp_path: Path) -> None:
    assert main(["init", "-C", str(tmp_path), "--yes"]) == 0
    (tmp_path / ".env").write_text("# team settings\nGITLAB_GROUP=acme\nSERVICES=\"web-http\"  # trimmed\n")
    assert main(["init", "-C", str(tmp_path), "--yes"]) == 0
    template = tmp_path / "templates/service-repo/.gitlab-ci.yml"
    template.write_text("variables:\n  SERVICE_NAME: {{ service }}\n")

    assert main(["new-service", "billing", "-C", str(tmp_path), "--yes"]) == 0

    env_text = (tmp_path / ".env").read_text()
    assert env_text.startswith("# team settings\nGITLAB_GROUP=acme\n")
    assert load_config(tmp_path / ".env", {}).services == ("web-http", "billing")
    service = tmp_path / "services/billing"
    assert (service / ".gitlab-ci.yml").read_text() == "variables:\n  SERVICE_NAME: billing\n"
    for env in ("dev", "staging", "prod"):
        values = load_plain((service / f".cicd/{env}.yaml").read_text())
        assert values["image"]["repository"] == "registry.gitlab.com/acme/billing"
    appset = (tmp_path / "gitops-config/argocd/applicationset.yaml").read_text()
    assert "https://gitlab.com/acme/billing.git" in appset


def test_new_service_twice_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new-service", "billing", "-C", str(tmp_path), "--yes"]) == 0
    before = (tmp_path / ".env").read_text()
    capsys.readouterr()
    assert main(["new-service", "billing", "-C", str(tmp_path), "--yes"]) == 0
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / ".env").read_text() == before


@pytest.mark.parametrize("name", ["Billing", "bill_ing", "9bill", "x" * 61])
def test_invalid_name_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    assert main(["new-service", name, "-C", str(tmp_path), "--yes"]) == 2
    assert "SERVICES" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_services_from_the_environment_cannot_be_edited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SERVICES", "web-http")
    assert main(["new-service", "billing", "-C", str(tmp_path), "--yes"]) == 2
    assert "process environment" in capsys.readouterr().err
