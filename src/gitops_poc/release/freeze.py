"""The freeze check every changing `ci` command makes at the moment it runs (not when its pipeline was
created): inside a deny window, or outside every allow window, of the Application it would change, it
changes nothing and exits 7, naming the window and when the hold ends. `--break-glass --reason` goes on,
and the commit records it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gitops_poc.config import load_config, service_name_error
from gitops_poc.errors import GitopsError, UsageError
from gitops_poc.platform import Platform
from gitops_poc.release.policy import (
    SYNC_WINDOWS_VARIABLE,
    parse_policy,
    read_release_config,
    windows_from_json,
)
from gitops_poc.release.windows import SyncWindow, Target, Verdict, WindowError, can_sync, matching

EXIT_FROZEN = 7
Trailer = tuple[str, str]


class Frozen(GitopsError):
    """A sync window holds the change."""

    exit_code = EXIT_FROZEN


@dataclass(frozen=True)
class FreezeCheck:
    verdict: Verdict
    trailers: tuple[Trailer, ...] = ()  # what the commit records (a break-glass override)
    note: str | None = None  # a line to show (an override, a manual sync let through)


def _stamp(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "not within 62 days"


def describe(verdict: Verdict, now: datetime) -> str:
    names = "; ".join(w.name(i) for i, w in verdict.blocking)
    until = verdict.until(now)
    if verdict.blocking and verdict.blocking[0][1].kind == "deny":
        when = f"the freeze ends at {_stamp(until)}"
    elif any(w.opens_at(now) == until for _, w in verdict.blocking):
        when = f"the next allow window opens at {_stamp(until)}"
    else:  # an allow window opens inside a deny window: the sync waits for the deny window to close
        when = f"a sync can run again at {_stamp(until)}"
    if until is None:
        when = "no end within 62 days (or a schedule that never fires, which Argo CD holds for ever)"
    return f"{verdict.reason}: {names}; {when}"


def check_freeze(
    windows: Sequence[SyncWindow],
    target: Target,
    now: datetime,
    *,
    manual: bool,
    break_glass: str | None,
    action: str,
) -> FreezeCheck:
    """Raise Frozen when the windows hold `target` now, unless `break_glass` (the reason) overrides."""
    if break_glass is not None and not break_glass.strip():
        raise UsageError("--break-glass needs --reason saying why the freeze is overridden")
    try:
        verdict = can_sync(matching(windows, target), now, manual=manual)
    except WindowError as exc:
        raise UsageError(f"invalid sync windows: {exc}") from None
    if verdict.allowed:
        note = None
        if verdict.overridden_by_manual:
            note = "a sync window holds automated syncs now; this manually started job goes on (manualSync)"
        return FreezeCheck(verdict, note=note)
    text = describe(verdict, now)
    if break_glass is None:
        raise Frozen(
            f"{action} {target.application} refused, {text} (nothing was changed; "
            "--break-glass --reason TEXT overrides and is recorded)"
        )
    reason = " ".join(break_glass.split())
    trailers = (("Break-glass", reason), ("Freeze-window", text))
    return FreezeCheck(verdict, trailers, f"break-glass: {text}; going on ({reason})")


def job_windows(environ: Mapping[str, str], release_config: Path | None) -> tuple[SyncWindow, ...]:
    """The windows a job checks: --release-config (release.yaml), else the pipeline's SYNC_WINDOWS."""
    if release_config is not None:
        return parse_policy(read_release_config(release_config), str(release_config)).windows
    return windows_from_json(environ.get(SYNC_WINDOWS_VARIABLE, ""))


def application_target(environ: Mapping[str, str], service: str, env: str) -> Target:
    """The Application the ApplicationSet makes for `service` in `env`, with its destination, from the
    platform configuration the pipeline carries (NAMESPACE_PREFIX, ENVIRONMENT_CLUSTERS)."""
    platform = Platform(load_config(None, environ))
    destination = platform.destination(env)
    return Target(
        platform.application_name(service, env),
        destination["namespace"],
        destination.get("name", ""),
        destination.get("server", ""),
    )


def job_freeze(
    environ: Mapping[str, str],
    *,
    release_config: Path | None,
    service: str,
    env: str,
    now: datetime,
    break_glass: bool,
    reason: str | None,
    action: str,
) -> FreezeCheck:
    """The freeze check of one `ci` job; a job started by hand (CI_JOB_MANUAL) is a manual sync."""
    if break_glass and not (reason or "").strip():
        raise UsageError("--break-glass needs --reason TEXT saying why the freeze is overridden")
    windows = job_windows(environ, release_config)
    if not windows:
        return FreezeCheck(Verdict(True))
    if problem := service_name_error(service):
        raise UsageError(f"--service: {problem} (the sync windows are matched against its Application)")
    return check_freeze(
        windows,
        application_target(environ, service, env),
        now,
        manual=environ.get("CI_JOB_MANUAL") == "true",
        break_glass=reason if break_glass else None,
        action=action,
    )
