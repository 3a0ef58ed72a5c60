"""What a failed `helm upgrade --install --rollback-on-failure` (Helm 3: `--atomic`) left behind, told truly.

Helm fails in two very different ways: before it records a revision (cluster unreachable, chart not found,
values that do not render: nothing changed), or after (the rollout did not become ready: it then rolls the
release back to the revision before, or uninstalls a first install). The release history read before and
after the upgrade tells them apart; when it cannot be read, helm's own words do
("... has been rolled back due to rollback-on-failure being set", Helm 3: "... due to atomic being set").
Pure: the caller runs helm and reads the history.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Revision:
    """One line of `helm history -o json`."""

    number: int
    status: str  # deployed, failed, superseded, pending-upgrade, ...
    description: str

    @classmethod
    def from_json(cls, item: dict[str, object]) -> Revision:
        return cls(
            int(str(item.get("revision", 0))), str(item.get("status", "")), str(item.get("description", ""))
        )


@dataclass(frozen=True)
class History:
    """The release's revisions (empty: not installed), or why they could not be read."""

    revisions: tuple[Revision, ...] = ()
    unreadable: str | None = None

    @property
    def latest(self) -> Revision | None:
        return max(self.revisions, key=lambda r: r.number) if self.revisions else None

    def as_json(self) -> dict[str, object]:
        """The latest revision (None: no release), or why the history could not be read, for scripts."""
        latest = self.latest
        return {
            "revision": None
            if latest is None
            else {"number": latest.number, "status": latest.status, "description": latest.description},
            "unreadable": self.unreadable,
        }


ROLLED_BACK = "has been rolled back due to"
UNINSTALLED = "has been uninstalled due to"
ROLLBACK_FAILED = "an error occurred while rolling back the release"
UNREACHABLE = "kubernetes cluster unreachable"


def failure_message(
    release: str, namespace: str, code: int, output: str, before: History, after: History
) -> str:
    """One sentence on what the failed upgrade changed; `output` is what helm printed."""
    head = f"helm upgrade of {release} in {namespace} failed (exit {code})"
    said = output.lower()
    if before.unreadable is None and after.unreadable is None:
        old, new = before.latest, after.latest
        if old == new:
            if UNINSTALLED in said:
                return (
                    f"{head}: helm installed it, the rollout failed, and helm uninstalled it again "
                    "(rollback on failure): nothing of it is left"
                )
            if old is None:
                return f"{head} before installing anything: there is still no release {release}"
            return (
                f"{head} before changing anything: the release is still at revision {old.number} "
                f"({old.status})"
            )
        if new is None:
            return f"{head}: the release {release} is gone (it was at revision {old.number if old else '?'})"
        failed_at = old.number + 1 if old else 1
        if new.status == "deployed" and new.description.lower().startswith("rollback"):
            kept = f"revision {old.number}" if old else "the previous revision"
            return (
                f"{head}: revision {failed_at} did not roll out and helm rolled it back "
                f"(revision {new.number} restores {kept})"
            )
        if new.status == "deployed":
            return f"{head} although revision {new.number} is deployed; see helm's output above"
        back = (
            f"`helm rollback {release} {old.number} -n {namespace}`"
            if old
            else f"`helm uninstall {release} -n {namespace}`"
        )
        return (
            f"{head}: revision {new.number} is left {new.status}, NOT rolled back "
            f"({new.description or 'no description'}); {back} restores what ran before"
        )
    unknown = f"(its history could not be read: {before.unreadable or after.unreadable})"
    if ROLLBACK_FAILED in said:
        return (
            f"{head}: the rollout failed and so did helm's rollback; see "
            f"`helm history {release} -n {namespace}`"
        )
    if ROLLED_BACK in said:
        return f"{head}: helm says it rolled the release back {unknown}"
    if UNINSTALLED in said:
        return f"{head}: helm says it uninstalled the failed first install {unknown}"
    if UNREACHABLE in said:
        return f"{head} before changing anything: helm could not reach the cluster"
    return f"{head}; whether it changed the release is unknown {unknown}; see helm's output above"
