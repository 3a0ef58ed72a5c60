"""Pins: a marker line at the top of an environment's values file that stops automation from changing it.

The marker is a YAML comment, not a values key: Helm and ArgoCD never see it, so pinning or unpinning
changes no rendered manifest, the chart contract (and lint's unknown-key rule) stays as it is, and whoever
opens the file sees the pin and its reason first. It is one line of JSON after a fixed prefix, so a reason
with quotes or line breaks cannot break out of the comment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from gitops_poc.errors import UsageError

PREFIX = "# gitops-poc:pin "


@dataclass(frozen=True)
class Pin:
    reason: str
    by: str
    at: str  # ISO 8601 UTC, when it was pinned
    until: str | None = None  # ISO 8601 date or UTC time; None: until someone unpins

    def expires(self) -> datetime | None:
        return parse_until(self.until) if self.until else None

    def expired(self, now: datetime) -> bool:
        end = self.expires()
        return end is not None and now >= end

    def describe(self) -> str:
        until = f" until {self.until}" if self.until else ""
        return f"pinned by {self.by} at {self.at}{until}: {self.reason}"

    def line(self) -> str:
        data = {"reason": self.reason, "by": self.by, "at": self.at}
        if self.until:
            data["until"] = self.until
        return PREFIX + json.dumps(data, ensure_ascii=False)

    def as_dict(self) -> dict[str, str | None]:
        return {"reason": self.reason, "by": self.by, "at": self.at, "until": self.until}


def parse_until(value: str) -> datetime:
    """`2026-12-31` (the end of that day, UTC) or an ISO 8601 time (UTC when it names no zone)."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value) + timedelta(days=1), time(0), tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--until {value!r} is not a date (2026-12-31) or an ISO 8601 time (2026-12-31T18:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def find_pin(text: str | None, where: str) -> Pin | None:
    """The pin of a values file's text, or None. A marker that cannot be read is an error, not "unpinned":
    silently ignoring it would let the next pipeline overwrite a rollback."""
    for line in (text or "").splitlines():
        if line.startswith(PREFIX):
            try:
                data = json.loads(line[len(PREFIX) :])
                pin = Pin(str(data["reason"]), str(data["by"]), str(data["at"]), data.get("until"))
                if pin.until is not None:
                    parse_until(str(pin.until))
                return pin
            except (ValueError, KeyError, TypeError, UsageError):
                raise UsageError(
                    f"{where}: the pin marker {line[:60]!r}... cannot be read; fix it or run `ci unpin`"
                ) from None
    return None


def with_pin(text: str, pin: Pin) -> str:
    """The text with `pin` as its first line (replacing an older marker); every other line kept."""
    return pin.line() + "\n" + without_pin(text)


def without_pin(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith(PREFIX))


def now_utc() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
