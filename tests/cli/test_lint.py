"""`gitops-poc lint`: exit codes, text and JSON output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gitops_poc.cli import main

SEED = Path(__file__).resolve().parents[1] / "lint" / "fixtures" / "seed"


def test_clean_platform_exits_0(generated_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "-C", str(generated_root)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "0 error(s), 0 warning(s)" in captured.err


def test_errors_exit_1_grouped_by_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "-C", str(SEED), str(SEED / "services/api-gateway/.cicd/prod.yaml")]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "services/api-gateway/.cicd/prod.yaml"
    assert (
        "  services/api-gateway/.cicd/prod.yaml:36: error pdb-both-limits pdb renders minAvailable: 2 and "
        "maxUnavailable: 1 (the chart default); the API server rejects a PDB with both "
        "(hint: add `maxUnavailable: null` under pdb)" in lines
    )


def test_warnings_alone_exit_0_and_severity_filter_hides_them(
    generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = generated_root / "services/web-http/.cicd/default.yaml"
    path.write_text(path.read_text() + "nodeSelector: {}\n")
    assert main(["lint", "-C", str(generated_root)]) == 0
    assert "warning chart-dead-key" in capsys.readouterr().out
    assert main(["lint", "-C", str(generated_root), "--severity", "error"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "0 error(s), 1 warning(s)" in captured.err


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "-C", str(SEED), "--output", "json", str(SEED / "gitops-config")]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["summary"] == {"errors": 2, "warnings": 1, "files": 1}
    first = data["findings"][0]
    assert set(first) == {"rule_id", "severity", "file", "line", "message", "hint"}
    assert {(f["rule_id"], f["severity"], f["line"]) for f in data["findings"]} == {
        ("argocd-chart-unpinned", "error", 49),
        ("argocd-prod-auto-sync", "error", 61),
        ("argocd-ignore-differences", "warning", 68),
    }


def test_yaml_syntax_error_exits_1_with_its_line(
    generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (generated_root / "services/web-http/.cicd/dev.yaml").write_text("environment: dev\n  image: x\n")
    assert main(["lint", "-C", str(generated_root), "-o", "json"]) == 1
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert (finding["rule_id"], finding["file"], finding["line"]) == (
        "yaml-syntax",
        "services/web-http/.cicd/dev.yaml",
        2,
    )


def test_unusable_input_exits_2(
    tmp_path: Path, generated_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lint", "-C", str(tmp_path)]) == 2
    assert "not a platform root" in capsys.readouterr().err
    assert main(["lint", "-C", str(generated_root), str(generated_root / "nope")]) == 2
    assert "no such file" in capsys.readouterr().err
    (generated_root / ".env").write_text("SERVICES=Bad_Name\n")
    assert main(["lint", "-C", str(generated_root)]) == 2
    assert "SERVICES" in capsys.readouterr().err


def test_env_file_option_changes_what_is_expected(
    generated_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = tmp_path / "other.env"
    env.write_text('ENVIRONMENTS="dev staging prod qa"\n')
    assert main(["lint", "-C", str(generated_root), "--env-file", str(env), "-o", "json"]) == 1
    rules = {f["rule_id"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert {"env-file-missing", "argocd-env-missing"} <= rules


def test_help_describes_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--output" in out and "--severity" in out and "Exit 0" in out


def test_lint_copied_seed_to_a_new_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "seed"
    shutil.copytree(SEED, root)
    assert main(["lint", "-C", str(root), "-o", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["summary"]["errors"] > 0
