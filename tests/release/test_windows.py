"""Sync-window semantics against Argo CD's own test cases (pkg/apis/application/v1alpha1/types_test.go:
TestSyncWindows_Active, TestSyncWindows_InactiveAllows, TestSyncWindow_Active, TestSyncWindows_CanSync,
TestSyncWindows_Matches(_AND_Operator), TestSyncWindow_Validate), ported case by case as the oracle.

Argo CD's cases take "today at hour H"; they are run here on a winter and a summer day (New York is UTC-5
or UTC-4), as Argo CD's suite runs on any day of the year."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from gitops_poc.release.schedule import ScheduleError, check_schedule, next_after, parse_duration
from gitops_poc.release.windows import SyncWindow, Target, WindowError, can_sync, matches, window_from

DAYS = [date(2026, 1, 14), date(2026, 7, 15)]
UTC_M4 = timezone(timedelta(hours=-4))


def at(day: date, hour: int, zone: timezone = UTC) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone)


def window(kind: str, schedule: str, duration: str, tz: str = "") -> SyncWindow:
    return SyncWindow(kind, schedule, duration, time_zone=tz)


def active(windows: list[SyncWindow], now: datetime) -> list[int]:
    return [i for i, w in enumerate(windows) if w.active(now)]


def inactive_allows(windows: list[SyncWindow], now: datetime) -> list[int]:
    return [i for i, w in enumerate(windows) if w.kind == "allow" and not w.active(now)]


TEN_FOURTEEN = [window("allow", "* 10 * * *", "2h"), window("allow", "* 14 * * *", "2h")]
NY = [
    window("allow", "* 10 * * *", "2h", "America/New_York"),
    window("allow", "* 14 * * *", "2h", "America/New_York"),
]
DHAKA = [window("allow", "* 8 * * *", "2h", "Asia/Dhaka"), window("allow", "* 12 * * *", "2h", "Asia/Dhaka")]

# TestSyncWindows_Active: (name, windows, hour, zone, indices of the active windows)
ACTIVE_CASES = [
    ("MatchFirst", TEN_FOURTEEN, 11, UTC, [0]),
    ("MatchSecond", TEN_FOURTEEN, 15, UTC, [1]),
    (
        "MatchBoth",
        [window("allow", "* 10 * * *", "3h"), window("allow", "* 11 * * *", "3h")],
        12,
        UTC,
        [0, 1],
    ),
    ("MatchNone", TEN_FOURTEEN, 17, UTC, []),
    ("MatchFirst-NonUTC", TEN_FOURTEEN, 11 - 4, UTC_M4, [0]),
    ("MatchSecond-NonUTC", TEN_FOURTEEN, 15 - 4, UTC_M4, [1]),
    ("MatchNone-NonUTC", TEN_FOURTEEN, 17 - 4, UTC_M4, []),
    ("MatchFirst-TimeZoneSpecified", NY, 16, UTC, [0]),
    ("MatchSecond-TimeZoneSpecified", NY, 20, UTC, [1]),
    ("MatchNone-TimeZoneSpecified", NY, 22, UTC, []),
    ("MatchFirst-PositiveTimeZoneSpecified", DHAKA, 3, UTC, [0]),
]


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize(
    ("name", "windows", "hour", "zone", "expected"), ACTIVE_CASES, ids=[c[0] for c in ACTIVE_CASES]
)
def test_active_as_argocd(
    day: date, name: str, windows: list[SyncWindow], hour: int, zone: timezone, expected: list[int]
) -> None:
    assert active(windows, at(day, hour, zone)) == expected


INACTIVE_CASES = [
    ("MatchFirst", [window("allow", "* 10 * * *", "2h"), window("allow", "* 5 * * *", "2h")], 6, UTC, [0]),
    ("MatchSecond", TEN_FOURTEEN, 11, UTC, [1]),
    ("MatchBoth", TEN_FOURTEEN, 17, UTC, [0, 1]),
    ("MatchNone", [window("allow", "* 10 * * *", "4h"), window("allow", "* 11 * * *", "4h")], 12, UTC, []),
    (
        "MatchFirst-NonUTC",
        [window("allow", "* 10 * * *", "2h"), window("allow", "* 5 * * *", "2h")],
        2,
        UTC_M4,
        [0],
    ),
    ("MatchSecond-NonUTC", TEN_FOURTEEN, 11 - 4, UTC_M4, [1]),
    ("MatchBoth-NonUTC", TEN_FOURTEEN, 17 - 4, UTC_M4, [0, 1]),
    (
        "MatchNone-NonUTC",
        [window("allow", "* 10 * * *", "4h"), window("allow", "* 11 * * *", "4h")],
        8,
        UTC_M4,
        [],
    ),
    (
        "MatchFirst-TimeZoneSpecified",
        [
            window("allow", "* 10 * * *", "2h", "America/New_York"),
            window("allow", "* 5 * * *", "2h", "America/New_York"),
        ],
        11,
        UTC,
        [0],
    ),
    ("MatchSecond-TimeZoneSpecified", NY, 16, UTC, [1]),
    ("MatchBoth-TimeZoneSpecified", NY, 6, UTC, [0, 1]),
    ("MatchFirst-PositiveTimeZoneSpecified", DHAKA, 7, UTC, [0]),
]


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize(
    ("name", "windows", "hour", "zone", "expected"), INACTIVE_CASES, ids=[c[0] for c in INACTIVE_CASES]
)
def test_inactive_allows_as_argocd(
    day: date, name: str, windows: list[SyncWindow], hour: int, zone: timezone, expected: list[int]
) -> None:
    assert inactive_allows(windows, at(day, hour, zone)) == expected


@pytest.mark.parametrize(
    ("kind", "hour", "zone", "expected"),
    [
        ("allow", 11, UTC, True),
        ("allow", 13, UTC, False),
        ("deny", 11, UTC, True),
        ("deny", 13, UTC, False),
        ("allow", 11 - 4, UTC_M4, True),
        ("allow", 13 - 4, UTC_M4, False),
        ("deny", 11 - 4, UTC_M4, True),
        ("deny", 13 - 4, UTC_M4, False),
    ],
)
def test_one_window_active_as_argocd(kind: str, hour: int, zone: timezone, expected: bool) -> None:
    assert window(kind, "* 10 * * *", "2h").active(at(DAYS[0], hour, zone)) is expected


@pytest.mark.parametrize(
    ("schedule", "duration"), [("* 10 * * 7", "2h"), ("* 10 * * *", "2a"), ("* 10 * * *", "3a")]
)
def test_invalid_schedule_or_duration_is_an_error_as_argocd(schedule: str, duration: str) -> None:
    with pytest.raises(WindowError):
        window("allow", schedule, duration).active(at(DAYS[0], 12))
    with pytest.raises(WindowError):
        can_sync([(0, window("deny", schedule, duration))], at(DAYS[0], 12), manual=False)


NOW = datetime(2026, 12, 6, 20, 30, tzinfo=UTC)
ACTIVE = "* * * * *"
INACTIVE = f"0 {(NOW + timedelta(hours=10)).hour} * * *"  # Argo CD's inactiveCronSchedule()


def w(kind: str, schedule: str, manual: bool) -> SyncWindow:
    # Argo CD's newSyncWindow: 1h, applications [app1], namespaces [public]
    return SyncWindow(kind, schedule, "1h", ("app1",), ("public",), manual_sync=manual)


# TestSyncWindows_CanSync: (name, windows, manual, expected)
CAN_SYNC = [
    ("manual, inactive deny manual", [w("deny", INACTIVE, True)], True, True),
    ("manual, inactive deny", [w("deny", INACTIVE, False)], True, True),
    (
        "manual, one of two inactive allows without manual",
        [w("allow", INACTIVE, True), w("allow", INACTIVE, False)],
        True,
        False,
    ),
    ("manual, active allow manual", [w("allow", ACTIVE, True)], True, True),
    ("manual, active allow", [w("allow", ACTIVE, False)], True, True),
    ("auto, active allow", [w("allow", ACTIVE, False)], False, True),
    (
        "manual, active allow and inactive deny",
        [w("allow", ACTIVE, False), w("deny", INACTIVE, False)],
        True,
        True,
    ),
    (
        "auto, active allow and inactive deny",
        [w("allow", ACTIVE, False), w("deny", INACTIVE, False)],
        False,
        True,
    ),
    ("manual, inactive allow", [w("allow", INACTIVE, False)], True, False),
    ("auto, inactive allow", [w("allow", INACTIVE, False)], False, False),
    ("manual, inactive allow manual", [w("allow", INACTIVE, True)], True, True),
    ("auto, inactive allow manual", [w("allow", INACTIVE, True)], False, False),
    (
        "manual, inactive allow and inactive deny",
        [w("allow", INACTIVE, False), w("deny", INACTIVE, False)],
        True,
        False,
    ),
    (
        "auto, inactive allow and inactive deny",
        [w("allow", INACTIVE, False), w("deny", INACTIVE, False)],
        False,
        False,
    ),
    (
        "auto, active allow and inactive allow",
        [w("allow", ACTIVE, False), w("allow", INACTIVE, False)],
        False,
        True,
    ),
    ("manual, active deny", [w("deny", ACTIVE, False)], True, False),
    ("auto, active deny", [w("deny", ACTIVE, False)], False, False),
    ("manual, active deny manual", [w("deny", ACTIVE, True)], True, True),
    ("auto, active deny manual", [w("deny", ACTIVE, True)], False, False),
    (
        "manual, many active denies, one without manual",
        [w("deny", ACTIVE, True)] * 3 + [w("deny", ACTIVE, False)],
        True,
        False,
    ),
    (
        "auto, many active denies, one without manual",
        [w("deny", ACTIVE, True)] * 3 + [w("deny", ACTIVE, False)],
        False,
        False,
    ),
    ("manual, active deny and allow", [w("allow", ACTIVE, False), w("deny", ACTIVE, False)], True, False),
    (
        "manual, active deny manual and allow",
        [w("allow", ACTIVE, False), w("deny", ACTIVE, True)],
        True,
        True,
    ),
    (
        "auto, active deny manual and allow",
        [w("allow", ACTIVE, False), w("deny", ACTIVE, True)],
        False,
        False,
    ),
    ("no windows", [], False, True),
]


@pytest.mark.parametrize(("name", "windows", "manual", "expected"), CAN_SYNC, ids=[c[0] for c in CAN_SYNC])
def test_can_sync_as_argocd(name: str, windows: list[SyncWindow], manual: bool, expected: bool) -> None:
    assert can_sync(list(enumerate(windows)), NOW, manual=manual).allowed is expected


APP = Target("test-app", "default", cluster_name="clusterName", cluster_server="cluster1")


@pytest.mark.parametrize(
    ("applications", "namespaces", "clusters", "and_operator", "expected"),
    [
        # TestSyncWindows_Matches
        ((), ("default",), (), False, True),
        ((), (), ("cluster1",), False, True),
        ((), (), ("clusterName",), False, True),
        (("test-app",), (), (), False, True),
        (("test-*",), (), (), False, True),
        ((), ("default",), ("cluster2",), False, True),
        (("test-app",), ("other",), ("cluster2",), False, True),
        (("other-app",), ("default",), (), False, True),
        (("other-app",), ("other",), ("other",), False, False),
        ((), (), (), False, False),
        # TestSyncWindows_Matches_AND_Operator
        (("test-app",), ("default",), ("cluster1",), True, True),
        (("test-app",), ("default",), (), True, True),
        (("test-app",), ("other",), (), True, False),
        (("other-app",), ("default",), (), True, False),
        (("test-app",), (), ("cluster2",), True, False),
        ((), ("default",), ("clusterName",), True, True),
        ((), ("default",), ("cluster2",), True, False),
        (("test-*",), ("def*",), ("cluster?",), True, True),
    ],
)
def test_matches_as_argocd(
    applications: tuple[str, ...],
    namespaces: tuple[str, ...],
    clusters: tuple[str, ...],
    and_operator: bool,
    expected: bool,
) -> None:
    sync_window = SyncWindow(
        "deny", "* * * * *", "1h", applications, namespaces, clusters, and_operator=and_operator
    )
    assert matches(sync_window, APP) is expected


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"kind": "wrong", "schedule": "* * * * *", "duration": "1h"}, "kind"),
        ({"kind": "allow", "schedule": "* * *", "duration": "1h"}, "schedule"),
        ({"kind": "allow", "schedule": "* * * * *", "duration": "1000days"}, "duration"),
        (
            {"kind": "allow", "schedule": "* * * * *", "duration": "1h", "timeZone": "Mars/Olympus"},
            "timeZone",
        ),
        ({"kind": "allow", "schedule": "* * * * *"}, "duration"),
        ({"kind": "allow", "schedule": "* * * * *", "duration": "1h", "namespaces": "prod"}, "namespaces"),
        ({"kind": "allow", "schedule": "* * * * *", "duration": "1h", "manualSync": "yes"}, "manualSync"),
        (
            {"kind": "allow", "schedule": "* * * * *", "duration": "1h", "description": "x" * 256},
            "description",
        ),
    ],
)
def test_validate_names_key_and_value(data: dict[str, object], key: str) -> None:
    with pytest.raises(WindowError) as caught:
        window_from(data, "release.yaml: syncWindows[0]")
    assert f"syncWindows[0].{key}" in str(caught.value)


def test_validate_accepts_argocd_example() -> None:
    parsed = window_from({"kind": "allow", "schedule": "* * * * *", "duration": "1h"}, "x")
    assert parsed.as_argocd() == {"kind": "allow", "schedule": "* * * * *", "duration": "1h"}


@pytest.mark.parametrize(
    "schedule",
    [
        "* 10 * * 7",
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * * 13 *",
        "*/0 * * * *",
        "@daily",
        "1-2-3 * * * *",
        "5-1 * * * *",
        "1/2/3 * * * *",
        "* * * * * *",
        "TZ=UTC * * * * *",
        "* * * * L",
        "x * * * *",
        "*-5 * * * *",
    ],
)
def test_schedules_argocd_refuses(schedule: str) -> None:
    with pytest.raises(ScheduleError):
        check_schedule(schedule)


@pytest.mark.parametrize(
    "schedule",
    [
        "0 22 * * fri",
        "0 9-17/2 * JAN-mar mon-FRI",
        "5/10 * * * *",
        "? * * * *",
        "0 0 30 2 *",
        "0,30 * 1,15 * *",
    ],
)
def test_schedules_argocd_accepts(schedule: str) -> None:
    check_schedule(schedule)


def test_next_is_strictly_after_and_at_second_zero() -> None:
    moment = datetime(2026, 1, 1, 10, 0)
    assert next_after("0 * * * *", moment) == datetime(2026, 1, 1, 11, 0)
    assert next_after("* * * * *", datetime(2026, 1, 1, 10, 0, 30)) == datetime(2026, 1, 1, 10, 1)


def test_day_fields_or_and_as_robfig() -> None:
    # Both restricted: either matches (OR). "*/2" has no star bit in robfig (step > 1), so OR as well,
    # where cronsim alone would AND it.
    start = datetime(2026, 1, 1, 0, 0)  # a Thursday
    assert next_after("0 0 13 * 5", start) == datetime(2026, 1, 2)  # Friday 2nd, not only Friday 13th
    assert next_after("0 0 */2 * 5", datetime(2026, 1, 1, 1)) == datetime(2026, 1, 2)  # Fri 2 (OR)
    assert next_after("0 0 * * 5", start) == datetime(2026, 1, 2)


def test_a_schedule_that_never_fires_is_always_active_as_argocd() -> None:
    # robfig returns the zero time, which is before any time: Argo CD holds every sync. lint reports it.
    never = window("deny", "0 0 30 2 *", "1h")
    assert never.active(NOW) and never.ends_at(NOW) is None


def test_zero_duration_is_never_active() -> None:
    assert not window("deny", "* * * * *", "0s").active(NOW)


def test_a_window_opens_an_instant_after_its_schedule_fires() -> None:
    deny = window("deny", "0 21 * * *", "30m")
    assert not deny.active(datetime(2026, 12, 6, 21, 0, tzinfo=UTC))
    assert deny.active(datetime(2026, 12, 6, 21, 0, 1, tzinfo=UTC))
    assert not deny.active(datetime(2026, 12, 6, 21, 30, tzinfo=UTC))


def test_when_a_freeze_ends_and_an_allow_window_opens() -> None:
    weekend = window("deny", "0 18 * * 5", "62h", "Europe/Berlin")  # Friday 18:00 Berlin to Monday 08:00
    saturday = datetime(2026, 12, 5, 12, tzinfo=UTC)
    assert weekend.active(saturday)
    assert weekend.ends_at(saturday) == datetime(2026, 12, 7, 7, tzinfo=UTC)  # 08:00 CET
    hourly = window("deny", "* 10 * * *", "2h")  # every minute of 10:xx for 2 h: closes at 12:59
    assert hourly.ends_at(datetime(2026, 12, 6, 11, tzinfo=UTC)) == datetime(2026, 12, 6, 12, 59, tzinfo=UTC)
    office = window("allow", "0 9 * * 1-5", "8h")
    verdict = can_sync([(0, office)], datetime(2026, 12, 6, 20, tzinfo=UTC), manual=False)  # a Sunday
    assert not verdict.allowed and verdict.until(datetime(2026, 12, 6, 20, tzinfo=UTC)) == datetime(
        2026, 12, 7, 9, tzinfo=UTC
    )
    deny = can_sync([(3, weekend)], saturday, manual=False)
    assert (
        not deny.allowed
        and deny.blocking == ((3, weekend),)
        and deny.until(saturday) == datetime(2026, 12, 7, 7, tzinfo=UTC)
    )


def test_a_freeze_that_does_not_end_within_the_horizon() -> None:
    assert window("deny", "* * * * *", "1h").ends_at(NOW) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1h", timedelta(hours=1)),
        ("1h30m", timedelta(minutes=90)),
        ("2.5h", timedelta(hours=2.5)),
        ("0", timedelta(0)),
        ("90s", timedelta(seconds=90)),
        ("-1h", timedelta(hours=-1)),
        (".5h", timedelta(minutes=30)),
    ],
)
def test_go_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "1", "1d", "h", "1h30", "1 h", "1000days", "."])
def test_go_refuses_durations(text: str) -> None:
    with pytest.raises(ScheduleError):
        parse_duration(text)


# --- when the hold ends: every matching window, not only the blocking ones ---------------------------------
SUNDAY = datetime(2026, 12, 6, tzinfo=UTC)


def _until(windows: list[SyncWindow], now: datetime, *, manual: bool = False) -> datetime | None:
    verdict = can_sync(list(enumerate(windows)), now, manual=manual)
    assert not verdict.allowed
    return verdict.until(now)


def test_a_deny_window_that_opens_before_the_blocking_one_closes_extends_the_freeze() -> None:
    first = window("deny", "0 0 * * *", "2h")  # 00:00-02:00
    second = window("deny", "30 1 * * *", "150m")  # 01:30-04:00: not active yet at 01:00
    now = SUNDAY.replace(hour=1)
    assert can_sync(list(enumerate([first, second])), now, manual=False).blocking == ((0, first),)
    assert _until([first, second], now) == SUNDAY.replace(hour=4)
    assert _until([first], now) == SUNDAY.replace(hour=2)  # the window alone: when it closes


def test_an_allow_window_that_opens_inside_a_deny_window_waits_for_it() -> None:
    office = window("allow", "0 9 * * *", "8h")  # 09:00-17:00
    release = window("deny", "0 8 * * *", "2h")  # 08:00-10:00
    now = SUNDAY.replace(hour=7)
    verdict = can_sync(list(enumerate([office, release])), now, manual=False)
    assert verdict.reason == "outside every allow window"
    assert verdict.until(now) == SUNDAY.replace(hour=10)
    assert _until([office], now) == SUNDAY.replace(hour=9)


def test_a_freeze_that_ends_outside_every_allow_window_lasts_until_one_opens() -> None:
    office = window("allow", "0 9 * * *", "8h")  # 09:00-17:00
    late = window("deny", "0 16 * * *", "2h")  # 16:00-18:00: ends after the office window has closed
    now = SUNDAY.replace(hour=16, minute=30)
    assert _until([office, late], now) == SUNDAY.replace(day=7, hour=9)


def test_a_manual_sync_waits_only_for_the_windows_that_hold_manual_syncs() -> None:
    first = SyncWindow("deny", "0 0 * * *", "2h", manual_sync=False)
    second = SyncWindow("deny", "30 1 * * *", "150m", manual_sync=True)  # lets manual syncs through
    now = SUNDAY.replace(hour=1)
    assert _until([first, second], now, manual=True) == SUNDAY.replace(hour=2)
    assert _until([first, second], now, manual=False) == SUNDAY.replace(hour=4)


def test_windows_that_never_let_a_sync_through_have_no_end() -> None:
    always = window("deny", "* * * * *", "1h")  # never closes
    office = window("allow", "0 9 * * *", "8h")  # opens and closes every day meanwhile
    assert _until([always, office], SUNDAY) is None
    flapping = [window("deny", "*/2 * * * *", "1m"), window("deny", "1-59/2 * * * *", "1m")]
    assert _until(flapping, SUNDAY.replace(minute=0, second=30)) is None  # closes and reopens each minute
