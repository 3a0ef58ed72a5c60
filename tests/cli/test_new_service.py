from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.config import load_config
from gitops_poc.yamlio import load_plain


def test_new_service_scaffolds_registers_and_regenerates(tmp_path: Path) -> None:
    assert main(["init", "-C", str(tmp_path), "--yes"]) == 0
    (tmp_path / ".env").write_text('# team settings\nGITLAB_GROUP=acme\nSERVICES="web-http"  # trimmed\n')
    assert main(["init", "-C", str(tmp_path), "--yes"]) == 0
    template = tmp_path / "templates/service-repo/.gitlab-ci.yml"
    template.write_text("variables:\n  SERVICE_NAME: {{ service }}\n")

    assert main(["new-service", "billing", "-C", str(tmp_path), "--yes"]) == 0

    env_text = (tmp_path / ".env").read_text()
    assert env_text == '# team settings\nGITLAB_GROUP=acme\nSERVICES="web-http billing"  # trimmed\n'
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


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Billing", "not a valid Kubernetes name"),
        ("bill_ing", "not a valid Kubernetes name"),
        ("bill ing", "not a valid Kubernetes name"),
        ("9bill", "not a valid Kubernetes name"),
        ("", "must not be empty"),
        ("x" * 61, "too long"),
        ("default", "reserved"),
        ("gitops-config", "reserved"),
    ],
)
def test_invalid_name_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, reason: str
) -> None:
    assert main(["new-service", name, "-C", str(tmp_path), "--yes"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: NAME {name!r}: ")
    assert reason in err
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_invalid_name_is_blamed_on_the_argument_not_on_env(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = tmp_path / ".env"
    env.write_text('GITLAB_GROUP=acme\nSERVICES="web-http"\n')
    assert main(["new-service", "Billing", "-C", str(tmp_path), "--yes"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: NAME 'Billing': ")
    assert ".env" not in err
    assert env.read_text() == 'GITLAB_GROUP=acme\nSERVICES="web-http"\n'
    assert list(tmp_path.iterdir()) == [env]


def test_a_name_whose_applications_collide_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = tmp_path / ".env"
    env.write_text('SERVICES="a-b"\nENVIRONMENTS="c b-c prod"\n')
    assert main(["new-service", "a", "-C", str(tmp_path), "--yes"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: NAME 'a': ")
    assert "'a-b-c'" in err
    assert list(tmp_path.iterdir()) == [env]


def test_a_missing_env_file_given_explicitly_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "platform.env"
    assert main(["new-service", "billing", "-C", str(tmp_path), "--env-file", str(missing), "--yes"]) == 2
    assert f"--env-file {missing}: no such file" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_without_any_env_file_the_default_one_is_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-service", "billing", "-C", str(tmp_path), "--yes"]) == 0
    assert f"no {tmp_path / '.env'}: using the built-in defaults" in capsys.readouterr().err
    assert load_config(tmp_path / ".env", {}).services[-1] == "billing"


def test_a_key_set_twice_in_env_stops_before_any_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-service", "billing", "-C", str(tmp_path), "--yes"]) == 0
    env = tmp_path / ".env"
    text = env.read_text() + 'SERVICES="billing"\n'
    env.write_text(text)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    capsys.readouterr()
    assert main(["new-service", "payments", "-C", str(tmp_path), "--yes"]) == 2
    err = capsys.readouterr().err
    assert f"{env}:2: SERVICES='billing' is set again; line 1 already sets SERVICES=" in err
    assert env.read_text() == text
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_services_from_the_environment_cannot_be_edited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SERVICES", "web-http")
    assert main(["new-service", "billing", "-C", str(tmp_path), "--yes"]) == 2
    assert "process environment" in capsys.readouterr().err
