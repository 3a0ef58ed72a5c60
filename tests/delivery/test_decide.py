from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gitops_poc.delivery.decide import (
    Outcome,
    decide_image,
    decide_pin,
    decide_promotion,
    promotion_order_error,
)
from gitops_poc.delivery.image import Image
from gitops_poc.delivery.pins import Pin, find_pin
from gitops_poc.delivery.values import read_image, set_image
from gitops_poc.errors import UsageError
from tests.delivery.conftest import SEED

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
DIGEST = "sha256:" + "cd" * 32


def files(**texts: str) -> dict[str, str]:
    base = {f".cicd/{env}.yaml": (SEED / f"{env}.yaml").read_text() for env in ("dev", "staging", "prod")}
    base.update({f".cicd/{env}.yaml": text for env, text in texts.items()})
    return base


def test_update_then_unchanged() -> None:
    repo = files()
    first = decide_image(repo.get, "dev", Image(None, "1.2.3"), 7, NOW)
    assert first.outcome is Outcome.UPDATED and list(first.files) == [".cicd/dev.yaml"]
    second = decide_image({**repo, **first.files}.get, "dev", Image(None, "1.2.3"), 8, NOW)
    assert second.outcome is Outcome.UNCHANGED and not second.files


def test_an_older_pipeline_stands_down_unless_forced() -> None:
    repo = files(dev=set_image((SEED / "dev.yaml").read_text(), "d", Image(None, "new"), 10))
    older = decide_image(repo.get, "dev", Image(None, "old"), 9, NOW)
    assert older.outcome is Outcome.SUPERSEDED and "pipeline 10" in older.message and not older.files
    forced = decide_image(repo.get, "dev", Image(None, "old"), 9, NOW, force_older=True)
    assert forced.outcome is Outcome.UPDATED
    assert decide_image(repo.get, "dev", Image(None, "newer"), 11, NOW).outcome is Outcome.UPDATED
    assert (
        decide_image(repo.get, "dev", Image(None, "again"), 10, NOW).outcome is Outcome.UPDATED
    )  # a retried job


def test_a_value_without_a_pipeline_number_does_not_replace_a_recorded_one() -> None:
    staging = set_image((SEED / "staging.yaml").read_text(), "s", Image(None, "2.0.16"), 16)
    repo = files(staging=staging)  # dev has no record: nobody knows how old its image is
    promoted = decide_promotion(repo.get, "dev", "staging", NOW)
    assert promoted.outcome is Outcome.SUPERSEDED and "no pipeline number" in promoted.message
    assert decide_image(repo.get, "staging", Image(None, "9"), None, NOW).outcome is Outcome.SUPERSEDED
    assert (
        decide_image(repo.get, "staging", Image(None, "9"), None, NOW, force_older=True).outcome
        is Outcome.UPDATED
    )
    assert (
        decide_promotion(files().get, "dev", "staging", NOW).outcome is Outcome.UNCHANGED
    )  # neither recorded


def test_a_pin_stops_bump_and_promote_and_says_why() -> None:
    pin = Pin("rollback after incident 42", "jane", "2026-11-30T09:00:00Z")
    pinned = decide_pin(files().get, "staging", pin).files[".cicd/staging.yaml"]
    repo = files(staging=pinned, dev=set_image((SEED / "dev.yaml").read_text(), "d", Image(None, "9.9.9"), 4))
    for decision in (
        decide_image(repo.get, "staging", Image(None, "2"), 5, NOW),
        decide_promotion(repo.get, "dev", "staging", NOW),
    ):
        assert decision.outcome is Outcome.PINNED and not decision.files
        assert "rollback after incident 42" in decision.message and "jane" in decision.message


def test_an_expired_pin_is_ignored_with_a_warning() -> None:
    pin = Pin("old", "jane", "2026-11-01T00:00:00Z", until="2026-11-15")
    repo = files(dev=decide_pin(files().get, "dev", pin).files[".cicd/dev.yaml"])
    decision = decide_image(repo.get, "dev", Image(None, "2"), None, NOW)
    assert decision.outcome is Outcome.UPDATED and "expired pin" in decision.warnings[0]
    assert find_pin(decision.files[".cicd/dev.yaml"], "x") == pin  # the marker itself is not removed by bump


def test_pin_and_unpin_are_idempotent() -> None:
    pin = Pin("hold", "jane", "2026-12-01T00:00:00Z")
    pinned = decide_pin(files().get, "prod", pin)
    repo = files(prod=pinned.files[".cicd/prod.yaml"])
    assert (
        decide_pin(repo.get, "prod", Pin("hold", "joe", "2026-12-02T00:00:00Z")).outcome is Outcome.UNCHANGED
    )
    unpinned = decide_pin(repo.get, "prod", None)
    assert unpinned.files[".cicd/prod.yaml"] == (SEED / "prod.yaml").read_text()
    assert decide_pin(files().get, "prod", None).outcome is Outcome.UNCHANGED


def test_promotion_copies_repository_tag_digest_and_record() -> None:
    dev = set_image(
        (SEED / "dev.yaml").read_text(), "d", Image("registry.example.com/t/api", "1.4.0", DIGEST), 21
    )
    decision = decide_promotion(files(dev=dev).get, "dev", "staging", NOW)
    state = read_image(decision.files[".cicd/staging.yaml"], "s")
    assert (state.repository, state.tag, state.digest, state.pipeline) == (
        "registry.example.com/t/api",
        "1.4.0",
        DIGEST,
        21,
    )


def test_promoting_an_older_image_over_a_newer_one_stands_down() -> None:
    dev = set_image((SEED / "dev.yaml").read_text(), "d", Image(None, "1"), 3)
    staging = set_image((SEED / "staging.yaml").read_text(), "s", Image(None, "2"), 8)
    assert (
        decide_promotion(files(dev=dev, staging=staging).get, "dev", "staging", NOW).outcome
        is Outcome.SUPERSEDED
    )


def test_promotion_needs_a_source_image_and_the_files() -> None:
    with pytest.raises(UsageError, match="nothing to promote"):
        decide_promotion(files(dev="replicas: 1\n").get, "dev", "staging", NOW)
    with pytest.raises(UsageError, match="does not exist"):
        decide_image(files().get, "qa", Image(None, "1"), None, NOW)


@pytest.mark.parametrize(
    ("source", "target", "allow_skip", "problem"),
    [
        ("dev", "staging", False, None),
        ("staging", "prod", False, None),
        ("dev", "prod", False, "skips staging"),
        ("dev", "prod", True, None),
        ("prod", "dev", True, "backwards"),
        ("dev", "dev", False, "backwards"),
        ("dev", "qa", False, "unknown environment 'qa'"),
    ],
)
def test_promotion_order(source: str, target: str, allow_skip: bool, problem: str | None) -> None:
    error = promotion_order_error(("dev", "staging", "prod"), source, target, allow_skip)
    assert (error is None) if problem is None else (problem in (error or ""))
