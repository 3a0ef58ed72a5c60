"""gitops-config/release.yaml: every freeze window as Argo CD would read it. A schedule Argo CD cannot
parse makes its CanSync fail (no sync at all), an unknown time zone is silently UTC there, a zero duration
never holds anything, and a schedule that never fires holds every sync for ever (robfig's zero time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from gitops_poc.layout import RELEASE_FILE
from gitops_poc.lint.catalog import rule
from gitops_poc.lint.findings import Finding
from gitops_poc.release.policy import KNOWN_KEYS
from gitops_poc.release.schedule import ScheduleError, check_schedule, next_after, parse_duration
from gitops_poc.release.windows import KINDS, SyncWindow, WindowError, window_from
from gitops_poc.yamlio import YamlSyntaxError, load_round_trip, read_text

FILE = RELEASE_FILE.as_posix()


def _line(node: Any, key: str | None = None) -> int | None:
    if isinstance(node, CommentedMap):
        if key is not None and key in node:
            return int(node.lc.key(key)[0]) + 1
        return int(node.lc.line) + 1
    return None


def _window_findings(item: CommentedMap, where: str, now: datetime) -> list[Finding]:
    found: list[Finding] = []
    schedule, duration = item.get("schedule"), item.get("duration")
    kind = item.get("kind")
    if kind not in KINDS:
        found.append(
            rule("window-invalid").at(FILE, _line(item, "kind"), f"{where}.kind {kind!r}: allow or deny")
        )
    try:
        check_schedule(str(schedule))
        if next_after(str(schedule), now.replace(tzinfo=None) - timedelta(days=1)) is None:
            found.append(
                rule("window-never-opens").at(
                    FILE,
                    _line(item, "schedule"),
                    f"{where}.schedule {schedule!r} never fires (within 5 years): Argo CD takes such a "
                    "window as always active",
                )
            )
    except ScheduleError as exc:
        found.append(
            rule("window-schedule").at(FILE, _line(item, "schedule"), f"{where}.schedule {schedule!r}: {exc}")
        )
    try:
        length = parse_duration(str(duration))
        if length <= timedelta(0):
            found.append(
                rule("window-duration").at(
                    FILE, _line(item, "duration"), f"{where}.duration {duration!r}: the window is never open"
                )
            )
    except ScheduleError as exc:
        found.append(
            rule("window-duration").at(FILE, _line(item, "duration"), f"{where}.duration {duration!r}: {exc}")
        )
    zone = item.get("timeZone")
    if zone not in (None, ""):
        try:
            SyncWindow("deny", "* * * * *", "1h", time_zone=str(zone)).zone()
        except WindowError as exc:
            found.append(
                rule("window-time-zone").at(FILE, _line(item, "timeZone"), f"{where}.timeZone: {exc}")
            )
    if not found:
        try:
            window_from(dict(item), where)
        except WindowError as exc:
            found.append(rule("window-invalid").at(FILE, _line(item), str(exc)))
    return found


def _gate_findings(data: CommentedMap, production: tuple[str, ...]) -> list[Finding]:
    gates = data.get("gates")
    if not isinstance(gates, CommentedMap):
        return []
    found = []
    for pair, spec in gates.items():
        target = str(pair).split("->")[-1].strip()
        health = spec.get("health", False) if isinstance(spec, CommentedMap) else False
        if target in production and health is not True:
            found.append(
                rule("gates-production-none").at(
                    FILE,
                    _line(gates, pair),
                    f"gates.{pair}: a promotion into production {target} needs no evidence",
                )
            )
    return found


def check_release(root: Path, production: tuple[str, ...] = (), now: datetime | None = None) -> list[Finding]:
    text = read_text(root / RELEASE_FILE)
    if text is None or not text.strip():
        return []
    try:
        data = load_round_trip(text, FILE)
    except YamlSyntaxError as exc:
        return [rule("window-invalid").at(FILE, exc.line, str(exc))]
    if data is None:
        return []
    if not isinstance(data, CommentedMap):
        return [rule("window-invalid").at(FILE, 1, f"not a mapping (keys: {', '.join(KNOWN_KEYS)})")]
    found = [
        rule("window-invalid").at(
            FILE, _line(data, key), f"unknown key {key!r} (known: {', '.join(KNOWN_KEYS)})"
        )
        for key in data
        if key not in KNOWN_KEYS
    ]
    found += _gate_findings(data, production)
    windows = data.get("syncWindows")
    if windows is None:
        return found
    if not isinstance(windows, CommentedSeq):
        return [
            *found,
            rule("window-invalid").at(FILE, _line(data, "syncWindows"), "syncWindows is not a list"),
        ]
    moment = now or datetime.now(UTC)
    for index, item in enumerate(windows):
        where = f"syncWindows[{index}]"
        if not isinstance(item, CommentedMap):
            found.append(
                rule("window-invalid").at(
                    FILE, int(windows.lc.item(index)[0]) + 1, f"{where} is not a mapping"
                )
            )
            continue
        found += _window_findings(item, where, moment)
    return found
