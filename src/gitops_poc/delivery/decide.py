"""What a bump or a promotion does to the values files at one commit: pure, no git, no clock of its own.

The write-back loop calls these again on every fetched head, so a retry re-applies the key-level change to
whatever others pushed meanwhile instead of replaying a text diff.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from gitops_poc.config import environment_error
from gitops_poc.delivery.image import Image
from gitops_poc.delivery.pins import Pin, find_pin, with_pin, without_pin
from gitops_poc.delivery.values import ImageState, read_image, set_image
from gitops_poc.errors import UsageError
from gitops_poc.layout import VALUES_DIR

Reader = Callable[[str], "str | None"]  # a repository-relative path -> its text at the commit (None: absent)


class Outcome(StrEnum):
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SUPERSEDED = "superseded"
    PINNED = "pinned"
    GAVE_UP = "gave-up"


# Exit codes of `ci bump` / `ci promote` (0-3 and 130 are the CLI's own: ok, failure, bad input, internal).
# "unchanged" is 0 as well, so re-running a job is green; --output json (`result`) tells the two apart.
EXIT_CODES = {
    Outcome.UPDATED: 0,
    Outcome.UNCHANGED: 0,
    Outcome.SUPERSEDED: 4,
    Outcome.PINNED: 5,
    Outcome.GAVE_UP: 6,
}


def values_path(env: str) -> str:
    return f"{VALUES_DIR}/{env}.yaml"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    message: str
    env: str
    image: Image | None  # the image the environment holds afterwards (asked for, or kept)
    before: ImageState | None = None
    files: dict[str, str] = field(default_factory=dict)  # path -> new text, when UPDATED
    pin: Pin | None = None
    warnings: tuple[str, ...] = ()
    pipeline: int | None = None  # the pipeline recorded with the new value


def _existing(read: Reader, env: str) -> str:
    path = values_path(env)
    text = read(path)
    if text is None:
        raise UsageError(f"{path} does not exist in the repository: is {env!r} one of its environments?")
    return text


def _active_pin(text: str, path: str, now: datetime) -> tuple[Pin | None, tuple[str, ...]]:
    pin = find_pin(text, path)
    if pin is not None and pin.expired(now):
        return None, (f"{path}: ignoring an expired pin ({pin.describe()})",)
    return pin, ()


def decide_image(
    read: Reader, env: str, wanted: Image, pipeline: int | None, now: datetime, *, force_older: bool = False
) -> Decision:
    """Set `wanted` in `.cicd/<env>.yaml` unless it is already there, the file is pinned, or a newer pipeline
    (than `pipeline`, the one that produced `wanted`) wrote the current value."""
    path = values_path(env)
    text = _existing(read, env)
    before = read_image(text, path)
    repository = wanted.repository if wanted.repository is not None else before.repository
    after = Image(repository, wanted.tag, wanted.digest)
    if (repository, wanted.tag, wanted.digest) == (before.repository, before.tag, before.digest):
        return Decision(
            Outcome.UNCHANGED, f"{path} already has {after.reference}; nothing to commit", env, after, before
        )
    pin, warnings = _active_pin(text, path, now)
    if pin is not None:
        return Decision(
            Outcome.PINNED,
            f"{path} is {pin.describe()}; not changed (run `gitops-poc ci unpin --env {env}` to release it)",
            env,
            before.image(),
            before,
            pin=pin,
            warnings=warnings,
        )
    # A value without a pipeline number (a manual bump, an image promoted from a file with no record) may
    # be older than the recorded one, so it cannot replace it unless forced.
    if before.pipeline is not None and not force_older and (pipeline is None or pipeline < before.pipeline):
        ours = f"this pipeline ({pipeline})" if pipeline is not None else "this change (no pipeline number)"
        return Decision(
            Outcome.SUPERSEDED,
            f"{path} holds {before.tag} from pipeline {before.pipeline}, newer than {ours}; "
            "standing down (--force-older overrides)",
            env,
            before.image(),
            before,
            warnings=warnings,
        )
    new_text = set_image(text, path, wanted, pipeline)
    was = before.image()
    return Decision(
        Outcome.UPDATED,
        f"{path}: image {was.tag_field if was else '(none)'} -> {wanted.tag_field}",
        env,
        after,
        before,
        {path: new_text},
        warnings=warnings,
        pipeline=pipeline,
    )


def decide_promotion(
    read: Reader, source: str, target: str, now: datetime, *, force_older: bool = False
) -> Decision:
    """Copy the exact image (repository, tag, digest) of `source` into `target`, with its pipeline record."""
    source_path = values_path(source)
    state = read_image(_existing(read, source), source_path)
    image = state.image()
    if image is None:
        raise UsageError(f"{source_path} sets no image.tag: there is nothing to promote from {source}")
    return decide_image(read, target, image, state.pipeline, now, force_older=force_older)


def promotion_order_error(
    environments: tuple[str, ...], source: str, target: str, allow_skip: bool
) -> str | None:
    """Why promoting `source` -> `target` is not allowed by the configured order (None: it is)."""
    for name in (source, target):
        if problem := environment_error(name, environments):
            return problem
    i, j = environments.index(source), environments.index(target)
    if j <= i:
        return (
            f"{source} -> {target} goes backwards (ENVIRONMENTS: {' '.join(environments)}); "
            "promote forwards, "
            "or pin the environment to roll back"
        )
    if j > i + 1 and not allow_skip:
        skipped = " ".join(environments[i + 1 : j])
        return f"{source} -> {target} skips {skipped} (ENVIRONMENTS order); pass --allow-skip to do it anyway"
    return None


def decide_pin(read: Reader, env: str, pin: Pin | None) -> Decision:
    """Add (or replace) a pin, or remove it (`pin` None)."""
    path = values_path(env)
    text = _existing(read, env)
    current = find_pin(text, path) if pin is not None else None
    new_text = with_pin(text, pin) if pin is not None else without_pin(text)
    state = read_image(text, path)
    if new_text == text or (
        pin is not None and current is not None and (current.reason, current.until) == (pin.reason, pin.until)
    ):
        what = f"already {current.describe()}" if current else "not pinned"
        return Decision(
            Outcome.UNCHANGED, f"{path} is {what}; nothing to commit", env, state.image(), state, pin=current
        )
    verb = f"pinned ({pin.reason})" if pin is not None else "unpinned"
    return Decision(Outcome.UPDATED, f"{path}: {verb}", env, state.image(), state, {path: new_text}, pin=pin)
