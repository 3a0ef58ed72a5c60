"""The pure matrix rules: which version set an image, how far an environment lags, what changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gitops_poc.delivery.image import Image
from gitops_poc.delivery.pins import Pin
from gitops_poc.status.model import ChangeKind, Commit, Version, changes, git_row, lag, same_image, set_by

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _v(
    n: int, tag: str | None, pin: Pin | None = None, subject: str = "edit", present: bool = True
) -> Version:
    commit = Commit(f"{n:040x}", "dev", T0 + timedelta(hours=n), subject, order=n)
    return Version(commit, present, Image(None, tag) if tag else None, pin=pin)


def test_set_by_is_the_first_version_of_the_newest_run() -> None:
    versions = [_v(1, "1.0"), _v(2, "1.1"), _v(3, "1.1"), _v(4, "1.1")]
    assert set_by(versions) is versions[1]
    assert set_by([*versions, _v(5, None, present=False)]) is None


def test_lag_counts_distinct_images_after_the_one_running() -> None:
    dev = [_v(1, "1.0"), _v(2, "1.1"), _v(3, "1.1"), _v(4, "1.2"), _v(5, "1.3")]
    assert lag(dev, Image(None, "1.3")) == 0
    assert lag(dev, Image(None, "1.1")) == 2
    assert lag(dev, Image(None, "1.0")) == 3
    assert lag(dev, Image(None, "0.9")) is None  # never ran in the previous environment


def test_same_image_needs_tag_and_digest_and_a_repository_only_when_both_say() -> None:
    assert same_image(Image("r/a", "1", "sha256:" + "0" * 64), Image(None, "1", "sha256:" + "0" * 64))
    assert not same_image(Image("r/a", "1"), Image("r/b", "1"))
    assert not same_image(Image(None, "1", "sha256:" + "0" * 64), Image(None, "1"))


def test_changes_classify_promotion_rollback_pin_and_removal() -> None:
    pin = Pin("incident", "ops", "2026-12-01T00:00:00Z")
    versions = [
        _v(1, "1.0"),
        _v(2, "1.1", subject="ci(staging): promote image 1.1 from dev [skip ci]"),
        _v(3, "1.0"),
        _v(4, "1.0", pin=pin),
        _v(5, "1.0"),
        _v(6, "1.0"),
        _v(7, None, present=False),
    ]
    found = [(c.kind, c.source) for c in changes("staging", versions)]
    assert found == [
        (ChangeKind.CREATED, None),
        (ChangeKind.PROMOTION, "dev"),
        (ChangeKind.ROLLBACK, None),
        (ChangeKind.PIN, None),
        (ChangeKind.UNPIN, None),
        (ChangeKind.EDIT, None),
        (ChangeKind.REMOVED, None),
    ]


def test_row_timeline_newest_first_and_expired_pin() -> None:
    expired = Pin("old", "ops", "2026-11-01T00:00:00Z", until="2026-11-02")
    row = git_row(
        "svc",
        {"dev": [_v(1, "1.0"), _v(3, "1.1")], "prod": [_v(2, "1.0", pin=expired)]},
        now=T0,
    )
    assert [c.commit.id[-1] for c in row.timeline] == ["3", "2", "1"]
    prod = row.cells["prod"]
    assert prod.git.pin_expired and prod.git.lag == 1 and prod.state == "behind"
