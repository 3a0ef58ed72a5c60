"""Progress while a step waits (a helm release up to 10 minutes, a readiness wait): on a terminal a status
line with the step and the seconds elapsed; elsewhere (CI logs) a plain line every PLAIN_INTERVAL seconds.
The labels name releases, namespaces and objects only, never a value."""

from __future__ import annotations

import threading
import time
from types import TracebackType

from rich.console import Console
from rich.markup import escape

from gitops_poc.cluster.model import (
    ApplyObject,
    DeleteObject,
    HelmRelease,
    PatchObject,
    RegisterCluster,
    RunCommand,
    Step,
    VaultBootstrap,
    WaitReady,
    object_ref,
)

PLAIN_INTERVAL = 30.0
TERMINAL_REFRESH = 1.0


def step_label(step: Step) -> str:
    context = step.context if isinstance(step, (HelmRelease, ApplyObject, PatchObject, DeleteObject)) else ""
    where = f" [context {context}]" if context else ""
    if isinstance(step, HelmRelease):
        return f"helm release {step.name} in {step.namespace}{where}"
    if isinstance(step, WaitReady):
        return f"workloads in {step.namespace}"
    if isinstance(step, VaultBootstrap):
        return f"vault in {step.namespace}"
    if isinstance(step, RegisterCluster):
        return f"cluster {step.name} registration"
    if isinstance(step, RunCommand):
        return " ".join(step.argv[:3])
    if isinstance(step, ApplyObject):
        return f"apply {object_ref(step.body)}{where}"
    if isinstance(step, PatchObject):
        return f"patch {step.kind} {step.namespace}/{step.name}{where}"
    if isinstance(step, DeleteObject):
        return f"delete {step.kind} {step.namespace}/{step.name}{where}"
    return type(step).__name__


class Waiting:
    """One step at a time: `start` shows a step's elapsed time until the next `start` or `stop`."""

    def __init__(self, console: Console, *, terminal: bool | None = None) -> None:
        self.console = console
        self.terminal = console.is_terminal if terminal is None else terminal
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, label: str, *, live: bool = True) -> None:
        """`live=False`: plain lines even on a terminal, for a step that shows a live display of its own
        (rich before 14.1 refuses two at once)."""
        self.stop()
        self._done = threading.Event()
        target = self._live if self.terminal and live else self._plain
        self._thread = threading.Thread(
            target=target, args=(label, self._done, time.monotonic()), daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _plain(self, label: str, done: threading.Event, started: float) -> None:
        while not done.wait(PLAIN_INTERVAL):
            elapsed = int(time.monotonic() - started)
            self.console.print(f"still waiting: {escape(label)} ({elapsed} s)", highlight=False)

    def _live(self, label: str, done: threading.Event, started: float) -> None:
        with self.console.status(f"{escape(label)} (0 s)") as status:
            while not done.wait(TERMINAL_REFRESH):
                status.update(f"{escape(label)} ({int(time.monotonic() - started)} s)")

    def __enter__(self) -> Waiting:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
