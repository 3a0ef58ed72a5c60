"""`gitops-poc status` from git alone: bare repositories written by the real `publish` and `ci` commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gitops_poc import proc
from tests.status.conftest import DIGEST, Published

pytestmark = pytest.mark.usefixtures("published")


def _cell(doc: dict, service: str, env: str) -> dict:
    [row] = [r for r in doc["services"] if r["service"] == service]
    return row["environments"][env]


def test_bumps_promotions_and_pins_per_cell(published: Published, capsys: pytest.CaptureFixture[str]) -> None:
    svc = "api-gateway"
    assert (
        published.ci(svc, "bump", "--env", "dev", "--tag", "1.0.0", "--digest", DIGEST, "--pipeline", "5")
        == 0
    )
    assert published.ci(svc, "bump", "--env", "dev", "--tag", "1.1.0", "--pipeline", "7", user="alice") == 0
    promoted = None
    assert published.ci(svc, "promote", "--from", "dev", "--to", "staging") == 0
    promoted = published.head(svc)
    assert published.ci(svc, "bump", "--env", "dev", "--tag", "1.2.0", "--pipeline", "9") == 0
    bumped = published.head(svc)
    assert published.ci(svc, "pin", "--env", "prod", "--reason", "audit freeze", user="bob") == 0

    code, doc, err = published.status(capsys=capsys)

    assert code == 0
    assert doc["environments"] == ["dev", "staging", "prod"]
    assert [r["service"] for r in doc["services"]] == [
        "api-gateway",
        "auth-adapter",
        "web-grpc",
        "web-http",
        "health-demo",
    ]
    dev = _cell(doc, svc, "dev")
    assert dev["image"]["tag"] == "1.2.0" and dev["image"]["digest"] is None
    assert dev["set_by"]["commit"] == bumped and dev["set_by"]["pipeline"] == "9"
    assert dev["pipeline"] == 9 and dev["lag"] is None and dev["state"] == "ok"
    staging = _cell(doc, svc, "staging")
    assert staging["image"]["tag"] == "1.1.0"
    assert staging["set_by"]["commit"] == promoted and staging["pipeline"] == 7
    assert staging["lag"] == {"behind": 1, "of": "dev"} and staging["state"] == "behind"
    prod = _cell(doc, svc, "prod")
    assert prod["pin"]["reason"] == "audit freeze" and prod["pin"]["by"].startswith("bob")
    assert prod["pin"]["expired"] is False and prod["state"] == "pinned"
    assert prod["image"]["tag"] == "0.1.0" and prod["lag"] == {"behind": 1, "of": "staging"}
    untouched = _cell(doc, "auth-adapter", "staging")
    assert untouched["lag"] == {"behind": 0, "of": "dev"} and untouched["state"] == "ok"
    # No cluster here: said once, on stderr, and every cell is the git side alone.
    assert doc["cluster"] is None and doc["cluster_note"].startswith("git side only")
    assert err.count("git side only") == 1
    assert all(c["cluster"] is None for r in doc["services"] for c in r["environments"].values())


def test_short_digest_and_text_output(published: Published, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        published.ci(
            "web-http", "bump", "--env", "dev", "--tag", "2.0.0", "--digest", DIGEST, "--pipeline", "3"
        )
        == 0
    )
    code, doc, _ = published.status("--service", "web-http", "--env", "dev", capsys=capsys)
    assert code == 0
    assert [r["service"] for r in doc["services"]] == ["web-http"]
    assert list(doc["services"][0]["environments"]) == ["dev"]
    image = _cell(doc, "web-http", "dev")["image"]
    assert image["digest"] == DIGEST and image["short_digest"] == "ab12ab12ab12"

    from tests.clirun import run_cli

    text = run_cli("status", "-C", str(published.root), "--service", "web-http", "--no-cluster")
    assert text.code == 0, text.err
    assert "2.0.0@ab12ab12ab12" in text.out and "pipeline 3 by ci-bot" in text.out
    assert "staging" in text.out and text.err.count("git side only (--no-cluster)") == 1


def test_timeline_kinds_with_who_and_pipeline(published: Published) -> None:
    from gitops_poc.config import load_config
    from gitops_poc.delivery.pins import now_utc
    from gitops_poc.platform import Platform
    from gitops_poc.publish.remote import parse_remote_base
    from gitops_poc.status.collect import git_matrix
    from gitops_poc.status.gitside import Repositories

    svc = "web-grpc"
    assert published.ci(svc, "bump", "--env", "dev", "--tag", "1.0.0", "--pipeline", "1") == 0
    assert published.ci(svc, "bump", "--env", "dev", "--tag", "1.1.0", "--pipeline", "2") == 0
    # Back to 1.0.0: an image the environment ran before (a rollback), forced over the newer record.
    assert (
        published.ci(svc, "bump", "--env", "dev", "--tag", "1.0.0", "--pipeline", "1", "--force-older") == 0
    )
    assert published.ci(svc, "promote", "--from", "dev", "--to", "staging") == 0
    assert published.ci(svc, "pin", "--env", "staging", "--reason", "hold") == 0
    assert published.ci(svc, "unpin", "--env", "staging", user="carol") == 0

    platform = Platform(load_config(None, {}))
    repositories = Repositories(parse_remote_base(None, published.root), "main")
    matrix = git_matrix(platform, published.root, repositories, [svc], list(platform.environments), now_utc())
    [row] = matrix.rows
    kinds = [(c.env, c.kind.value) for c in reversed(row.timeline)]
    assert kinds[-6:] == [
        ("dev", "bump"),
        ("dev", "bump"),
        ("dev", "rollback"),
        ("staging", "promotion"),
        ("staging", "pin"),
        ("staging", "unpin"),
    ]
    assert {(c.env, c.kind.value) for c in row.timeline[6:]} <= {
        (e, "created") for e in ("dev", "staging", "prod")
    }
    newest = row.timeline[0]
    assert newest.commit.author == "carol" and newest.commit.id == published.head(svc)
    promotion = next(c for c in row.timeline if c.kind.value == "promotion")
    assert promotion.source == "dev" and promotion.commit.pipeline == "1"


def test_history_is_read_once_per_repository_not_per_commit(
    published: Published, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(1, 9):
        assert (
            published.ci("health-demo", "bump", "--env", "dev", "--tag", f"1.{n}.0", "--pipeline", str(n))
            == 0
        )
    with proc.recording() as started:  # every child process the tool starts
        code, doc, _ = published.status("--no-cluster", capsys=capsys)
    assert code == 0 and _cell(doc, "health-demo", "dev")["image"]["tag"] == "1.8.0"
    git_runs = [a for a in started if a[0] == "git"]
    # Per repository: verify the branch, one `git log` walk, one `git cat-file --batch`.
    assert len(git_runs) == 3 * 5
    assert sorted(a[2] for a in git_runs).count("log") == 5


def test_bad_selection_and_missing_repositories(published: Published, tmp_path: Path) -> None:
    from tests.clirun import run_cli

    run = run_cli("status", "-C", str(published.root), "--service", "nope", tmpdir=tmp_path / "t")
    run.one_error(2, "--service", "'nope'")
    run = run_cli("status", "-C", str(published.root), "--env", "qa", tmpdir=tmp_path / "t")
    run.one_error(2, "--env", "'qa'")
    run = run_cli(
        "status", "-C", str(published.root), "--remote-base", str(tmp_path / "empty"), tmpdir=tmp_path / "t"
    )
    run.one_error(2, "no repository at", "publish")


def test_a_service_removed_from_the_configuration_has_no_row(
    published: Published, capsys: pytest.CaptureFixture[str]
) -> None:
    (published.root / ".env").write_text("SERVICES=api-gateway auth-adapter\n")
    code, doc, _ = published.status(capsys=capsys)
    assert code == 0
    assert [r["service"] for r in doc["services"]] == ["api-gateway", "auth-adapter"]


def test_freeze_window_and_rollback_from_release(
    published: Published, capsys: pytest.CaptureFixture[str]
) -> None:
    # A deny window over prod that opened a minute or two ago for an hour: held now, whatever the hour.
    # (Daily for 24h would reopen the instant it closes: Argo CD holds that for ever, status says so.)
    fired = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    (published.root / "gitops-config" / "release.yaml").write_text(
        "syncWindows:\n"
        "  - kind: deny\n"
        f'    schedule: "{fired.minute} {fired.hour} * * *"\n'
        "    duration: 1h\n"
        "    namespaces: [poc-prod]\n"
        "    description: audit freeze\n"
    )
    assert published.ci("web-grpc", "bump", "--env", "dev", "--tag", "1.0.0", "--pipeline", "1") == 0
    assert published.ci("web-grpc", "bump", "--env", "dev", "--tag", "1.1.0", "--pipeline", "2") == 0
    assert published.ci("web-grpc", "rollback", "--env", "dev", "--reason", "1.1 is broken") == 0
    code, doc, _ = published.status(capsys=capsys)
    assert code == 0
    prod = _cell(doc, "api-gateway", "prod")
    end = (fired + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert prod["state"] == "frozen" and "deny" in prod["frozen"]
    assert f"freeze ends at {end}" in prod["frozen"]
    assert _cell(doc, "api-gateway", "dev")["frozen"] is None
    dev = _cell(doc, "web-grpc", "dev")
    assert dev["image"]["tag"] == "1.0.0" and dev["state"] == "pinned"  # a rollback pins the environment
    web = next(r for r in doc["services"] if r["service"] == "web-grpc")
    assert web["environments"]["dev"]["set_by"]["commit"] == published.head("web-grpc")


def test_rollback_is_a_rollback_in_the_timeline(published: Published) -> None:
    from gitops_poc.config import load_config
    from gitops_poc.delivery.pins import now_utc
    from gitops_poc.platform import Platform
    from gitops_poc.publish.remote import parse_remote_base
    from gitops_poc.status.collect import git_matrix
    from gitops_poc.status.gitside import Repositories

    assert published.ci("web-http", "bump", "--env", "dev", "--tag", "1.0.0", "--pipeline", "1") == 0
    assert published.ci("web-http", "bump", "--env", "dev", "--tag", "1.1.0", "--pipeline", "2") == 0
    assert published.ci("web-http", "rollback", "--env", "dev", "--reason", "broken") == 0
    platform = Platform(load_config(None, {}))
    repositories = Repositories(parse_remote_base(None, published.root), "main")
    [row] = git_matrix(platform, published.root, repositories, ["web-http"], ["dev"], now_utc()).rows
    newest = [c.kind.value for c in row.timeline[:2]]
    assert newest == ["rollback", "pin"] and row.timeline[0].commit.id == published.head("web-http")
