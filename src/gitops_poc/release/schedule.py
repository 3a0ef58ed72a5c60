"""The two value grammars of an Argo CD sync window, read as Argo CD reads them: the cron schedule
(robfig/cron v3 with the fields Minute|Hour|Dom|Month|Dow, no descriptors) and the duration (Go's
time.ParseDuration). Evaluation of the schedule is cronsim's; this module only refuses what Argo CD's
parser refuses (cronsim accepts more: `L`, `W`, `#`, day-of-week 7) and tells cronsim the one rule where
the two differ (whether day-of-month and day-of-week are ANDed)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from cronsim import CronSim, CronSimError

FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("day-of-week", 0, 6),
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NAMES = {
    "month": {name: i + 1 for i, name in enumerate(_MONTHS)},
    "day-of-week": {name: i for i, name in enumerate(_DAYS)},
}
# robfig/cron gives up after five years and returns the zero time, which Argo CD takes as "active".
YEAR_LIMIT = 5


class ScheduleError(ValueError):
    """A schedule or duration Argo CD's parser refuses; the message says why."""


def _number(text: str, field: str, low: int, high: int) -> int:
    names = _NAMES.get(field, {})
    if text.lower() in names:
        value = names[text.lower()]
    elif re.fullmatch(r"[0-9]+", text):
        value = int(text)
    else:
        raise ScheduleError(
            f"{field} {text!r} is not a number" + (f" or a name ({'/'.join(names)})" if names else "")
        )
    if not low <= value <= high:
        raise ScheduleError(f"{field} {value} is outside {low}-{high}")
    return value


def _field(text: str, field: str, low: int, high: int) -> bool:
    """Checks one field; True when it counts as `*` for robfig (its star bit: `*`, `?`, or `*/1`)."""
    star = True
    for part in text.split(","):
        range_step = part.split("/")
        if len(range_step) > 2:
            raise ScheduleError(f"{field} {part!r} has more than one '/'")
        bounds = range_step[0].split("-")
        starred = bounds[0] in ("*", "?")
        if starred:
            if len(bounds) > 1:
                raise ScheduleError(f"{field} {part!r}: a range cannot start with {bounds[0]!r}")
            start, end = low, high
        elif len(bounds) > 2:
            raise ScheduleError(f"{field} {part!r} has more than one '-'")
        else:
            start = _number(bounds[0], field, low, high)
            end = _number(bounds[1], field, low, high) if len(bounds) == 2 else start
        step = 1
        if len(range_step) == 2:
            if not re.fullmatch(r"[0-9]+", range_step[1]) or int(range_step[1]) == 0:
                raise ScheduleError(f"{field} {part!r}: the step must be a positive number")
            step = int(range_step[1])
            if len(bounds) == 1 and not starred:
                end = high  # robfig: "N/step" means N-max/step
        if start > end:
            raise ScheduleError(f"{field} {part!r}: the range starts after it ends")
        star = star and starred and step == 1
    return star


def check_schedule(schedule: str) -> None:
    """Raise ScheduleError unless Argo CD accepts `schedule`."""
    parts = schedule.split()
    if parts and parts[0].startswith(("TZ=", "CRON_TZ=")):
        raise ScheduleError("a TZ= prefix is not supported here: set the window's timeZone instead")
    if schedule.strip().startswith("@"):
        raise ScheduleError("descriptors such as @daily are not accepted by Argo CD's sync windows")
    if len(parts) != 5:
        raise ScheduleError(
            f"expected 5 fields (minute hour day-of-month month day-of-week), found {len(parts)}"
        )
    for text, (field, low, high) in zip(parts, FIELDS, strict=True):
        _field(text, field, low, high)


def _fire(schedule: str, moment: datetime, reverse: bool) -> datetime | None:
    check_schedule(schedule)
    parts = schedule.split()
    dom_star = _field(parts[2], *FIELDS[2])
    dow_star = _field(parts[4], *FIELDS[4])
    try:
        sim = CronSim(schedule.replace("?", "*"), moment.replace(microsecond=0), reverse=reverse)
    except CronSimError:
        return None  # e.g. 30 February: robfig parses it and never fires
    # robfig ANDs the two day fields when either has its star bit; cronsim looks for a leading '*',
    # which `*/2` has and robfig's star bit has not.
    sim.day_and = dom_star or dow_star
    try:
        found = next(sim)
    except StopIteration:
        return None
    return None if abs(found.year - moment.year) > YEAR_LIMIT else found


def next_after(schedule: str, moment: datetime) -> datetime | None:
    """The first time after `moment` (naive, on the schedule's clock) the schedule fires, at second 0, as
    robfig's Schedule.Next; None where robfig returns the zero time (nothing within five years)."""
    return _fire(schedule, moment, reverse=False)


def last_before(schedule: str, moment: datetime) -> datetime | None:
    """The last time before `moment` the schedule fired (None: not within five years)."""
    return _fire(
        schedule,
        moment if moment.microsecond == 0 else moment.replace(microsecond=0) + timedelta(seconds=1),
        reverse=True,
    )


_DURATION = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_UNIT = {
    "ns": timedelta(microseconds=0.001),
    "us": timedelta(microseconds=1),
    "µs": timedelta(microseconds=1),
    "μs": timedelta(microseconds=1),
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
}


def parse_duration(text: str) -> timedelta:
    """Go's time.ParseDuration: `90m`, `1h30m`, `2.5h`, `0`; a sign, no spaces, no days."""
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return timedelta(0)
    if not body:
        raise ScheduleError(f"invalid duration {text!r}")
    total, at = timedelta(0), 0
    while at < len(body):
        match = _DURATION.match(body, at)
        if match is None or match.group(1) in ("", "."):
            raise ScheduleError(f"invalid duration {text!r} (units: h, m, s, ms, us, ns; e.g. 1h30m)")
        total += float(match.group(1)) * _UNIT[match.group(2)]
        at = match.end()
    return -total if text.startswith("-") else total
