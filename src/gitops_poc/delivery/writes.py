"""The write-back use cases behind `ci bump`, `ci promote`, `ci pin` and `ci unpin`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from gitops_poc.delivery.decide import Decision, Outcome, Reader, decide_image, decide_pin, decide_promotion
from gitops_poc.delivery.image import Image
from gitops_poc.delivery.pins import Pin
from gitops_poc.delivery.target import Target
from gitops_poc.delivery.writeback import (
    RetryPolicy,
    WriteBack,
    commit_locally,
    commit_message,
    push_with_retry,
)
from gitops_poc.errors import UsageError

OnRetry = Callable[[int, float, str], None]
Trailer = tuple[str, str]


def _subject(decision: Decision, action: str) -> str:
    # `[skip ci]`: the commit only records a deployment; it must not start the service's pipeline again.
    return f"ci({decision.env}): {action} [skip ci]"


def write(
    target: Target,
    decide: Callable[[Reader], Decision],
    subject: Callable[[Decision], str],
    *,
    push: bool,
    policy: RetryPolicy,
    on_retry: OnRetry | None = None,
    trailers: Sequence[Trailer] = (),
) -> WriteBack:
    def message(decision: Decision) -> str:
        return commit_message(decision, subject(decision), target.pipeline_url, trailers)

    if not push:
        return commit_locally(target.repo, decide, message, target.identity)
    return push_with_retry(
        target.repo, target.url, target.branch, decide, message, target.identity, policy, on_retry=on_retry
    )


def bump(
    target: Target,
    env: str,
    image: Image,
    now: datetime,
    *,
    push: bool,
    force_older: bool = False,
    policy: RetryPolicy = RetryPolicy(),
    on_retry: OnRetry | None = None,
    trailers: Sequence[Trailer] = (),
) -> WriteBack:
    return write(
        target,
        lambda read: decide_image(read, env, image, target.pipeline, now, force_older=force_older),
        lambda d: _subject(d, f"update image to {image.tag_field}"),
        push=push,
        policy=policy,
        on_retry=on_retry,
        trailers=trailers,
    )


def promote(
    target: Target,
    source: str,
    env: str,
    now: datetime,
    *,
    push: bool,
    force_older: bool = False,
    policy: RetryPolicy = RetryPolicy(),
    on_retry: OnRetry | None = None,
    trailers: Sequence[Trailer] = (),
    expected: Image | None = None,
    require_pin: bool = False,
) -> WriteBack:
    def decide(read: Reader) -> Decision:
        decision = decide_promotion(read, source, env, now, force_older=force_older)
        image = decision.image
        moved = (
            image is not None
            and expected is not None
            and (image.tag, image.digest)
            != (
                expected.tag,
                expected.digest,
            )
        )
        if moved and decision.outcome is Outcome.UPDATED and image is not None and expected is not None:
            raise UsageError(
                f"{source}'s image changed to {image.tag_field} after its evidence was checked for "
                f"{expected.tag_field}; nothing was promoted (re-run the job)"
            )
        if require_pin and decision.outcome is Outcome.UPDATED:
            raise UsageError(
                f"{env} was unpinned after this job found it pinned, so no evidence was read; nothing was "
                "promoted (re-run the job)"
            )
        return decision

    return write(
        target,
        decide,
        lambda d: _subject(d, f"promote image {d.image.tag_field if d.image else ''} from {source}"),
        push=push,
        policy=policy,
        on_retry=on_retry,
        trailers=trailers,
    )


def set_pin(
    target: Target,
    env: str,
    pin: Pin | None,
    *,
    push: bool,
    policy: RetryPolicy = RetryPolicy(),
    on_retry: OnRetry | None = None,
) -> WriteBack:
    action = f"pin ({pin.reason})" if pin is not None else "unpin"
    return write(
        target,
        lambda read: decide_pin(read, env, pin),
        lambda d: _subject(d, action),
        push=push,
        policy=policy,
        on_retry=on_retry,
    )


def report(result: WriteBack, target: Target) -> dict[str, Any]:
    """The `--output json` document."""
    decision = result.decision
    before = decision.before
    return {
        "result": decision.outcome.value,
        "message": decision.message,
        "environment": decision.env,
        "commit": result.commit,
        "base": result.base,
        "pushed": result.pushed,
        "attempts": result.attempts,
        "remote": target.url if result.pushed or decision.outcome is Outcome.GAVE_UP else None,
        "branch": target.branch,
        "image": decision.image.as_dict() if decision.image else None,
        "previous": None
        if before is None
        else {
            "repository": before.repository,
            "tag": before.tag,
            "digest": before.digest,
            "pipeline": before.pipeline,
        },
        "pipeline": target.pipeline,
        "pin": decision.pin.as_dict() if decision.pin else None,
        "warnings": list(decision.warnings) + list(target.notes),
    }
