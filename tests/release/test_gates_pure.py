"""gates.evaluate on Application objects directly: a single-source Application, a revision that is no
commit, the soak falling back to the last operation's end, the defaults per tier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gitops_poc.config import load_config
from gitops_poc.delivery.image import Image
from gitops_poc.platform import Platform
from gitops_poc.release.evidence import gate_spec
from gitops_poc.release.gates import DEFAULT_PRODUCTION, GateSpec, evaluate, synced_revision

NOW = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
IMAGE = Image("registry.example.com/g/api", "1.0.0", "sha256:" + "d" * 64)


def app(**status: object) -> dict[str, object]:
    return {"spec": {"source": {"repoURL": "https://git.example.com/g/api.git"}}, "status": status}


def test_single_source_revision_and_soak_from_the_last_operation() -> None:
    application = app(
        sync={"status": "Synced", "revision": "abc123"},
        health={"status": "Healthy"},
        summary={"images": [IMAGE.reference]},
        operationState={"phase": "Succeeded", "finishedAt": "2026-12-06T20:00:00Z"},
    )
    assert synced_revision(application, "https://git.example.com/g/api") == "abc123"
    seen: list[tuple[str, str]] = []
    evaluation = evaluate(
        application,
        name="api-staging",
        image=IMAGE,
        image_commit="abc123",
        values_repo="https://git.example.com/g/api.git",
        contains=lambda revision, commit: seen.append((revision, commit)) is None and revision == commit,
        spec=DEFAULT_PRODUCTION,
        now=NOW,
    )
    assert evaluation.ok, evaluation.failures()
    assert seen == [("abc123", "abc123")]
    assert dict(evaluation.trailers())["Gate-soak"] == "healthy since 2026-12-06T20:00:00Z: 1h00m >= 30m"


def test_nothing_known_fails_every_check() -> None:
    evaluation = evaluate(
        app(),
        name="api-staging",
        image=IMAGE,
        image_commit="abc",
        values_repo="https://git.example.com/g/api.git",
        contains=lambda revision, commit: True,
        spec=GateSpec(health=True, soak=timedelta(minutes=5)),
        now=NOW,
    )
    assert [c.name for c in evaluation.failures()] == [
        "sync",
        "health",
        "operation",
        "revision",
        "image",
        "soak",
    ]


def test_default_gates_per_tier() -> None:
    platform = Platform(load_config(None, {}))
    assert gate_spec(platform, "staging", "prod", {}) == DEFAULT_PRODUCTION
    assert not gate_spec(platform, "dev", "staging", {}).any
    configured = {"dev->staging": GateSpec(health=True)}
    assert gate_spec(platform, "dev", "staging", configured).health
