"""Write-back against real bare remotes: races, retries, no force, no merge commits, local commits."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from gitops_poc.cli import main
from gitops_poc.delivery.decide import Decision, Outcome, Reader, decide_image
from gitops_poc.delivery.gitops import Identity, Repository
from gitops_poc.delivery.image import Image
from gitops_poc.delivery.pins import now_utc
from gitops_poc.delivery.values import read_image
from gitops_poc.delivery.writeback import RetryPolicy, commit_message, push_with_retry
from tests.delivery.conftest import ServiceRemote, git

IDENTITY = Identity("Pipeline User", "pipeline@example.invalid")


def someone_else_pushes(remote: ServiceRemote, name: str, n: int) -> None:
    other = remote.tmp / name
    if not other.exists():
        remote.new_clone(name)
    git(other, "pull", "-q", "--ff-only")
    (other / "NOTES.md").write_text(f"change {n}\n")
    git(other, "add", "NOTES.md")
    git(other, "commit", "-q", "-m", f"someone else {n}")
    git(other, "push", "-q", "origin", "main")


def test_a_lost_race_is_retried_on_the_new_head_and_keeps_the_other_commit(
    service_remote: ServiceRemote,
) -> None:
    calls: list[int] = []

    def decide(read: Reader) -> Decision:
        calls.append(1)
        if len(calls) == 1:  # between our fetch and our push, another pipeline lands a commit
            someone_else_pushes(service_remote, "other", 1)
        return decide_image(read, "dev", Image(None, "1.2.3"), 5, now_utc())

    repo = Repository(service_remote.clone)
    result = push_with_retry(
        repo,
        str(service_remote.bare),
        "main",
        decide,
        lambda d: commit_message(d, "ci(dev): update image to 1.2.3 [skip ci]", None),
        IDENTITY,
        RetryPolicy(attempts=5, base_seconds=0.001),
        rng=random.Random(1),
    )
    assert result.outcome is Outcome.UPDATED and result.attempts == 2 and result.pushed
    assert len(result.rejections) == 1 and "fetch first" in result.rejections[0]
    subjects = [line.split(" ", 1)[1] for line in service_remote.log()]
    assert subjects == ["ci(dev): update image to 1.2.3 [skip ci]", "someone else 1", "initial values"]
    assert git(service_remote.bare, "rev-list", "--merges", "main") == ""
    assert git(service_remote.bare, "log", "-1", "--format=%an <%ae>|%cn", "main").strip() == (
        "Pipeline User <pipeline@example.invalid>|Pipeline User"
    )
    assert read_image(service_remote.remote_file(".cicd/dev.yaml"), "dev").tag == "1.2.3"
    assert service_remote.remote_file("NOTES.md") == "change 1\n"


def test_giving_up_after_the_attempts_loses_nothing(service_remote: ServiceRemote) -> None:
    counter = iter(range(100))

    def decide(read: Reader) -> Decision:
        someone_else_pushes(service_remote, "other", next(counter))
        return decide_image(read, "dev", Image(None, "9"), None, now_utc())

    result = push_with_retry(
        Repository(service_remote.clone),
        str(service_remote.bare),
        "main",
        decide,
        lambda d: "x\n",
        IDENTITY,
        RetryPolicy(attempts=3, base_seconds=0.001),
    )
    assert result.outcome is Outcome.GAVE_UP and result.attempts == 3 and result.commit is None
    assert "gave up after 3 attempts" in result.decision.message
    assert len(service_remote.log()) == 4  # the three other commits and the first; ours never landed


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object] | None, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    data = json.loads(captured.out) if captured.out.strip().startswith("{") else None
    return code, data, captured.err


def test_cli_bump_push_unchanged_superseded_and_json(
    service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITLAB_USER_NAME", "Jane CI")
    monkeypatch.setenv("GITLAB_USER_EMAIL", "jane@example.invalid")
    base = ["ci", "bump", "-C", str(service_remote.clone), "--env", "staging", "--push", "-o", "json"]
    digest = "sha256:" + "e" * 64
    code, data, _ = run(capsys, *base, "--tag", "2.0.0", "--digest", digest, "--pipeline", "12")
    assert code == 0 and data is not None and data["result"] == "updated" and data["attempts"] == 1
    assert data["commit"] == service_remote.head() and data["image"]["digest"] == digest  # type: ignore[index]
    assert git(service_remote.bare, "log", "-1", "--format=%s|%an", "main").strip() == (
        f"ci(staging): update image to 2.0.0@{digest} [skip ci]|Jane CI"
    )

    code, data, err = run(capsys, *base, "--tag", "2.0.0", "--digest", digest, "--pipeline", "13")
    assert code == 0 and data is not None and data["result"] == "unchanged" and "nothing to commit" in err
    assert len(service_remote.log()) == 2  # no empty commit

    code, data, err = run(capsys, *base, "--tag", "1.9.0", "--pipeline", "11")
    assert code == 4 and data is not None and data["result"] == "superseded" and "pipeline 12" in err
    code, data, _ = run(capsys, *base, "--tag", "1.9.0", "--pipeline", "11", "--force-older")
    assert code == 0 and data is not None and data["result"] == "updated"


@pytest.mark.parametrize(
    "args",
    [
        ["--tag", '1.0"; rm -rf /'],
        ["--tag", "$(id)"],
        ["--tag", "x" * 200],
        ["--tag", "1", "--digest", "sha256:12"],
        ["--tag", "1", "--digest", "sha256:" + "G" * 64],
        ["--tag", "1", "--repository", "Registry/UPPER"],
        ["--tag", "1", "--env", "../../etc"],
        ["--tag", "1", "--pipeline", "12; id"],
    ],
)
def test_bad_input_is_exit_2_and_nothing_is_committed(
    service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    before, clone_head = service_remote.head(), git(service_remote.clone, "rev-parse", "HEAD")
    env = [] if "--env" in args else ["--env", "dev"]
    code = main(["ci", "bump", "-C", str(service_remote.clone), "--push", *env, *args])
    err = capsys.readouterr().err
    assert code == 2 and "error:" in err
    assert service_remote.head() == before and git(service_remote.clone, "rev-parse", "HEAD") == clone_head
    assert git(service_remote.clone, "status", "--porcelain") == ""


def test_without_push_it_commits_onto_the_checked_out_branch(
    service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    clone = service_remote.clone
    assert main(["ci", "bump", "-C", str(clone), "--env", "dev", "--tag", "3.0.0"]) == 0
    assert git(clone, "log", "-1", "--format=%s").strip() == "ci(dev): update image to 3.0.0 [skip ci]"
    assert git(clone, "status", "--porcelain") == ""
    assert read_image((clone / ".cicd/dev.yaml").read_text(), "dev").tag == "3.0.0"
    assert len(service_remote.log()) == 1  # nothing pushed
    (clone / ".cicd/dev.yaml").write_text((clone / ".cicd/dev.yaml").read_text() + "# local edit\n")
    assert main(["ci", "bump", "-C", str(clone), "--env", "dev", "--tag", "3.0.1"]) == 2
    assert "uncommitted changes" in capsys.readouterr().err


def test_pin_blocks_bump_and_promote_until_unpinned(
    service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    c = ["-C", str(service_remote.clone), "--push"]
    assert main(["ci", "bump", *c, "--env", "dev", "--tag", "5.0.0", "--pipeline", "30"]) == 0
    assert main(["ci", "pin", *c, "--env", "staging", "--reason", "rollback: 4.x leaks memory"]) == 0
    pinned_head = service_remote.head()
    capsys.readouterr()
    code, data, err = run(capsys, "ci", "promote", *c, "--from", "dev", "--to", "staging", "-o", "json")
    assert code == 5 and data is not None and data["result"] == "pinned" and "4.x leaks memory" in err
    assert main(["ci", "bump", *c, "--env", "staging", "--tag", "5.0.1", "--pipeline", "31"]) == 5
    assert service_remote.head() == pinned_head
    assert "gitops-poc:pin" in service_remote.remote_file(".cicd/staging.yaml")
    assert main(["ci", "unpin", *c, "--env", "staging"]) == 0
    assert main(["ci", "promote", *c, "--from", "dev", "--to", "staging"]) == 0
    staging = read_image(service_remote.remote_file(".cicd/staging.yaml"), "s")
    assert (staging.tag, staging.pipeline) == ("5.0.0", 30)
    capsys.readouterr()
    assert main(["ci", "promote", *c, "--from", "dev", "--to", "prod"]) == 2
    assert "skips staging" in capsys.readouterr().err


def test_a_credential_in_the_remote_url_is_not_used_or_shown(
    service_remote: ServiceRemote, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitops_poc.delivery.gitops import strip_credentials

    assert strip_credentials("https://gitlab-ci-token:s3cr3t@gitlab.example.com/g/s.git") == (
        "https://gitlab.example.com/g/s.git",
        True,
    )
    assert strip_credentials(str(Path("/srv/x.git"))) == ("/srv/x.git", False)


def test_lint_shows_pins(generated_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gitops_poc.delivery.pins import Pin, with_pin

    staging = generated_root / "services" / "web-http" / ".cicd" / "staging.yaml"
    staging.write_text(
        with_pin(staging.read_text(), Pin("hold 1.4 for the audit", "jane", "2026-11-30T08:00:00Z"))
    )
    prod = generated_root / "services" / "web-http" / ".cicd" / "prod.yaml"
    prod.write_text(with_pin(prod.read_text(), Pin("old", "joe", "2025-01-01T00:00:00Z", "2025-01-02")))
    code = main(["lint", "--root", str(generated_root), "--output", "json"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    pins = {(f["rule_id"], f["file"], f["line"]) for f in findings if "pin" in f["rule_id"]}
    assert pins == {
        ("env-pinned", "services/web-http/.cicd/staging.yaml", 1),
        ("pin-expired", "services/web-http/.cicd/prod.yaml", 1),
    }
    assert code == 0  # warnings only
    assert any("hold 1.4 for the audit" in f["message"] and "jane" in f["message"] for f in findings)
