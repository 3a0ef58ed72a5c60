"""Argo CD's sync windows, evaluated exactly as Argo CD does (pkg/apis/application/v1alpha1/types.go:
SyncWindow.active, SyncWindows.Matches/Active/InactiveAllows/CanSync), so the pipeline's commands stop
when Argo CD itself would hold the sync, plus what Argo CD does not say: when the freeze ends.

Argo CD's clock: the current UTC time shifted by the window time zone's offset at that moment, the
schedule evaluated on that shifted clock. A window is active when the schedule fired within the last
`duration` before now (strictly: a window firing exactly now opens an instant later). Pure: no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gitops_poc.release.schedule import ScheduleError, check_schedule, last_before, next_after, parse_duration

KINDS = ("allow", "deny")
# How far `ends_at` looks: a window whose schedule keeps it open longer "does not end within" it.
HORIZON = timedelta(days=62)
# `Verdict.until` walks from one window boundary to the next: a few steps for real schedules; windows
# that close and reopen every minute would never end (about a millisecond a step): past this many, no answer.
MAX_STEPS = 200
_INSTANT = timedelta(microseconds=1)  # a window is open just after its schedule fires


class WindowError(ValueError):
    """A window Argo CD cannot evaluate (its CanSync answers `invalid sync windows`)."""


@dataclass(frozen=True)
class SyncWindow:
    """One entry of an AppProject's spec.syncWindows, in Argo CD's own terms."""

    kind: str
    schedule: str
    duration: str
    applications: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()
    manual_sync: bool = False
    time_zone: str = ""
    and_operator: bool = False
    description: str = ""
    sync_overrun: bool = False

    def as_argocd(self) -> dict[str, Any]:
        """The window as the AppProject CRD spells it (empty values left out, as Argo CD's omitempty)."""
        data: dict[str, Any] = {"kind": self.kind, "schedule": self.schedule, "duration": self.duration}
        for key, value in (
            ("applications", list(self.applications)),
            ("namespaces", list(self.namespaces)),
            ("clusters", list(self.clusters)),
            ("manualSync", self.manual_sync),
            ("timeZone", self.time_zone),
            ("andOperator", self.and_operator),
            ("description", self.description),
            ("syncOverrun", self.sync_overrun),
        ):
            if value:
                data[key] = value
        return data

    def name(self, index: int) -> str:
        """How messages name it: its description, else its position and terms."""
        terms = f"{self.kind} window #{index + 1} ({self.schedule!r} for {self.duration}"
        terms += f", {self.time_zone})" if self.time_zone else ", UTC)"
        return f"{terms}: {self.description}" if self.description else terms

    def zone(self) -> ZoneInfo | None:
        """The time zone; None for UTC (empty, as Argo CD defaults it). An unknown zone is an error here
        (Argo CD falls back to UTC with a log line: a freeze meant for Berlin would start an hour off)."""
        if self.time_zone in ("", "UTC"):
            return None
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise WindowError(
                f"unknown time zone {self.time_zone!r} (an IANA name such as Europe/Berlin)"
            ) from None

    def check(self) -> None:
        """Raise WindowError for what Argo CD's SyncWindow.Validate refuses, and an unknown time zone."""
        if self.kind not in KINDS:
            raise WindowError(f"kind {self.kind!r}: can only be allow or deny")
        try:
            check_schedule(self.schedule)
            parse_duration(self.duration)
        except ScheduleError as exc:
            raise WindowError(f"cannot parse {self.schedule!r}/{self.duration!r}: {exc}") from None
        self.zone()
        if len(self.description) > 255:
            raise WindowError("description must not exceed 255 characters")

    def _clock(self, now: datetime) -> tuple[datetime, timedelta]:
        """(now on the window's shifted clock, naive; the offset), as Argo CD's scheduleOffsetByTimeZone."""
        zone = self.zone()
        offset = timedelta(0)
        if zone is not None:
            offset = now.astimezone(zone).utcoffset() or offset
        return (now.astimezone(UTC) + offset).replace(tzinfo=None), offset

    def _length(self) -> timedelta:
        try:
            return parse_duration(self.duration)
        except ScheduleError as exc:
            raise WindowError(f"cannot parse duration {self.duration!r}: {exc}") from None

    def _next(self, moment: datetime) -> datetime | None:
        try:
            return next_after(self.schedule, moment)
        except ScheduleError as exc:
            raise WindowError(f"cannot parse schedule {self.schedule!r}: {exc}") from None

    def _last(self, moment: datetime) -> datetime | None:
        try:
            return last_before(self.schedule, moment)
        except ScheduleError as exc:
            raise WindowError(f"cannot parse schedule {self.schedule!r}: {exc}") from None

    def active(self, now: datetime) -> bool:
        shifted, _ = self._clock(now)
        found = self._next(shifted - self._length())
        return found is None or found < shifted  # Go's zero time is before any time

    def ends_at(self, now: datetime) -> datetime | None:
        """When an active window closes (aware, UTC); None: not within HORIZON, or never."""
        shifted, offset = self._clock(now)
        length = self._length()
        fired = self._next(shifted - length)
        if fired is None or length <= timedelta(0):
            return None
        # Open while the schedule fires again before the last firing's duration is over: hop to the last
        # firing within each duration (a few hops, not one per firing).
        while fired - shifted <= HORIZON:
            latest = self._last(fired + length)
            if latest is None or latest <= fired:
                return (fired + length - offset).replace(tzinfo=UTC)
            fired = latest
        return None

    def opens_at(self, now: datetime) -> datetime | None:
        """When an inactive window next opens (aware, UTC); None: never."""
        shifted, offset = self._clock(now)
        fired = self._next(shifted)
        return None if fired is None else (fired - offset).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Target:
    """What a window is matched against: an Application's name and destination."""

    application: str
    namespace: str
    cluster_name: str = ""
    cluster_server: str = ""


def glob_match(pattern: str, value: str) -> bool:
    # Imported here: the lint package (which checks release.yaml with this module) imports it first.
    from gitops_poc.lint.argoglob import glob_match as argocd_glob

    return argocd_glob(pattern, value)


def _any(patterns: Iterable[str], value: str) -> bool:
    return any(glob_match(p, value) for p in patterns)


def matches(window: SyncWindow, target: Target) -> bool:
    """SyncWindows.Matches for one window: applications, then clusters, then namespaces; OR unless
    andOperator, where every list that is set must match."""
    results = []
    if window.applications:
        results.append(_any(window.applications, target.application))
    if window.clusters:
        results.append(
            any(
                (target.cluster_name and glob_match(c, target.cluster_name))
                or (target.cluster_server and glob_match(c, target.cluster_server))
                for c in window.clusters
            )
        )
    if window.namespaces:
        results.append(_any(window.namespaces, target.namespace))
    return bool(results) and (all(results) if window.and_operator else any(results))


@dataclass(frozen=True)
class Verdict:
    """Whether a sync may run now, and if not, which windows hold it and until when."""

    allowed: bool
    blocking: tuple[tuple[int, SyncWindow], ...] = ()
    reason: str = ""
    overridden_by_manual: bool = False
    windows: tuple[tuple[int, SyncWindow], ...] = ()  # every window that matches the Application
    manual: bool = False

    def until(self, now: datetime) -> datetime | None:
        """When a sync can first run again; None when a deny window holds it past HORIZON or for ever, or
        the windows open and close past MAX_STEPS times. Not only the blocking windows decide it: a deny
        window that opens before the blocking one closes, or one active when an allow window opens, holds
        the sync on; so the windows are walked from one boundary (a window closing or opening) to the next
        until CanSync allows."""
        if self.allowed or not self.blocking:
            return None
        windows = self.windows or self.blocking
        moment = now
        for _ in range(MAX_STEPS):
            boundaries = []
            for _, window in windows:
                if not window.active(moment):
                    if (opens := window.opens_at(moment)) is not None:
                        boundaries.append(opens)
                    continue
                ends = window.ends_at(moment)
                if ends is not None:
                    boundaries.append(ends)
                elif window.kind == "deny" and not (self.manual and window.manual_sync):
                    return None  # holds the sync beyond HORIZON, or for ever
            if not boundaries:
                return None
            boundary = min(boundaries)
            # A window that fires at the boundary is open an instant later: CanSync is asked then.
            moment = boundary + _INSTANT
            if can_sync(windows, moment, manual=self.manual).allowed:
                return boundary
        return None


def can_sync(windows: Iterable[tuple[int, SyncWindow]], now: datetime, *, manual: bool) -> Verdict:
    """SyncWindows.CanSync(isManual, nil) over the windows that match the Application (with their
    positions in the project's list, for messages)."""
    listed = tuple(windows)
    if not listed:
        return Verdict(True)
    active = [(i, w) for i, w in listed if w.active(now)]
    denies = [(i, w) for i, w in active if w.kind == "deny"]
    if denies:
        if manual and all(w.manual_sync for _, w in denies):
            return Verdict(True, overridden_by_manual=True)
        return Verdict(False, tuple(denies), "inside a deny window", windows=listed, manual=manual)
    if any(w.kind == "allow" for _, w in active):
        return Verdict(True)
    inactive_allows = [(i, w) for i, w in listed if w.kind == "allow" and not w.active(now)]
    if inactive_allows:
        if manual and all(w.manual_sync for _, w in inactive_allows):
            return Verdict(True, overridden_by_manual=True)
        return Verdict(
            False, tuple(inactive_allows), "outside every allow window", windows=listed, manual=manual
        )
    return Verdict(True)


def matching(windows: Iterable[SyncWindow], target: Target) -> list[tuple[int, SyncWindow]]:
    return [(i, w) for i, w in enumerate(windows) if matches(w, target)]


def window_from(data: Mapping[str, Any], where: str) -> SyncWindow:
    """A window from its YAML/JSON mapping (Argo CD's keys); WindowError names the key and value."""
    known = {
        "kind",
        "schedule",
        "duration",
        "applications",
        "namespaces",
        "clusters",
        "manualSync",
        "timeZone",
        "andOperator",
        "description",
        "syncOverrun",
    }
    for key in data:
        if key not in known:
            raise WindowError(f"{where}: unknown key {key!r} (Argo CD's keys: {', '.join(sorted(known))})")

    def text(key: str, required: bool = False) -> str:
        value = data.get(key)
        if value is None:
            if required:
                raise WindowError(f"{where}.{key}: missing (Argo CD needs kind, schedule and duration)")
            return ""
        if not isinstance(value, str):
            raise WindowError(f"{where}.{key}: {value!r} is not a string")
        return value

    def names(key: str) -> tuple[str, ...]:
        value = data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise WindowError(f"{where}.{key}: {value!r} is not a list of names or patterns")
        return tuple(value)

    def flag(key: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            raise WindowError(f"{where}.{key}: {value!r} is not true or false")
        return value

    window = SyncWindow(
        kind=text("kind", True),
        schedule=text("schedule", True),
        duration=text("duration", True),
        applications=names("applications"),
        namespaces=names("namespaces"),
        clusters=names("clusters"),
        manual_sync=flag("manualSync"),
        time_zone=text("timeZone"),
        and_operator=flag("andOperator"),
        description=text("description"),
        sync_overrun=flag("syncOverrun"),
    )
    problems = {
        "kind": None if window.kind in KINDS else "can only be allow or deny",
        "schedule": _problem(check_schedule, window.schedule),
        "duration": _problem(parse_duration, window.duration),
    }
    for key, problem in problems.items():
        if problem:
            raise WindowError(f"{where}.{key}: {data[key]!r}: {problem}")
    try:
        window.zone()
    except WindowError as exc:
        raise WindowError(f"{where}.timeZone: {exc}") from None
    if len(window.description) > 255:
        raise WindowError(f"{where}.description: longer than Argo CD's 255 characters")
    return window


def _problem(check: Callable[[str], object], value: str) -> str | None:
    try:
        check(value)
    except ScheduleError as exc:
        return str(exc)
    return None
