"""What `ci rollback` writes (pure, on the values files at one commit, like delivery/decide.py): the earlier
image exactly (repository, tag, digest, and the pipeline record it had), and a pin naming the rollback in the
same commit, so the next pipeline's bump stands down (exit 5) instead of undoing it."""

from __future__ import annotations

from datetime import datetime

from gitops_poc.delivery.decide import Decision, Outcome, Reader, values_path
from gitops_poc.delivery.image import Image
from gitops_poc.delivery.pins import Pin, find_pin, with_pin
from gitops_poc.delivery.values import read_image, set_image
from gitops_poc.errors import UsageError
from gitops_poc.release.history import Entry


def repository_change(current: Entry, target: Entry, allow: bool) -> str | None:
    """Why rolling back across a repository change is refused (None: same repository, or allowed)."""
    if allow or current.image.repository == target.image.repository:
        return None
    return (
        f"rolling back from {current.reference} to {target.reference} changes the image repository "
        f"({current.image.repository} -> {target.image.repository}); pass --allow-repository-change "
        "if that is meant"
    )


def pin_reason(current: Entry, target: Entry, reason: str | None) -> str:
    text = (
        f"rollback to {target.image.tag_field} (from {current.image.tag_field}, commit {target.commit[:12]})"
    )
    return f"{text}: {' '.join(reason.split())}" if reason and reason.strip() else text


def decide_rollback(read: Reader, env: str, target: Entry, pin: Pin, now: datetime) -> Decision:
    """Set `target`'s image and pin the environment, on the file as it is at this commit."""
    path = values_path(env)
    text = read(path)
    if text is None:
        raise UsageError(f"{path} does not exist in the repository: is {env!r} one of its environments?")
    before = read_image(text, path)
    old = find_pin(text, path)
    replaced = old is not None and old.reason != pin.reason
    warnings = (f"{path}: replacing the pin ({old.describe()})",) if old is not None and replaced else ()
    # The repository is written out even where it came from default.yaml: what ran is restored exactly.
    image = Image(target.image.repository, target.image.tag, target.image.digest)
    new_text = with_pin(set_image(text, path, image, target.pipeline), pin)
    if new_text == text:
        return Decision(
            Outcome.UNCHANGED, f"{path} already holds {image.reference}, pinned", env, image, before
        )
    was = before.image()
    return Decision(
        Outcome.UPDATED,
        f"{path}: rolled back {was.tag_field if was else '(none)'} -> {image.tag_field}, pinned",
        env,
        image,
        before,
        {path: new_text},
        pin=pin,
        warnings=warnings,
        pipeline=target.pipeline,
    )
