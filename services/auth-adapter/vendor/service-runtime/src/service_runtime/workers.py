"""The worker threads a server's unary calls (and blocking streams) run on, for less CPU per call.

grpcio's threaded server needs from its executor only `submit` and, on what that returns,
`add_done_callback`. concurrent.futures.ThreadPoolExecutor pays for more on every call: a Future with its
own Condition, a Python-level Semaphore taken and released, and notify_all at the end. This pool queues the
call on a C SimpleQueue to threads started up front, and what it returns only runs done-callbacks: a bare
unary Check makes 181 Python and C calls in the server instead of 215, and costs 159 instead of 175 us of
server CPU (bench/bench_services.py's bare Check on each, median of 8 interleaved pinned rounds, the pool
cheaper in every one; 2026-12-07).

For `grpc.server` only: grpc.aio's migration pool, asyncio's run_in_executor and a method's
`experimental_thread_pool` want a concurrent.futures executor. The threads are daemons: what still runs
when the process exits (after the server's grace period) is abandoned, not waited for.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("service_runtime")

Callback = Callable[["Task"], object]


class Task:
    """A submitted call: done once it has run (or was cancelled at shutdown); done-callbacks then run."""

    __slots__ = ("_callbacks", "_done")

    def __init__(self) -> None:
        self._callbacks: list[Callback] = []
        self._done = False

    def done(self) -> bool:
        return self._done

    def add_done_callback(self, callback: Callback) -> None:
        """`callback(task)` once the call has run; at once, in this thread, when it already has."""
        self._callbacks.append(callback)
        if self._done:
            self._run_callbacks()

    def _finish(self) -> None:
        self._done = True
        self._run_callbacks()

    def _run_callbacks(self) -> None:
        # Without a lock: list.pop is atomic, so a callback added while the task finishes runs exactly once,
        # in whichever thread pops it; first added, first run, as concurrent.futures runs them.
        pop = self._callbacks.pop
        while True:
            try:
                callback = pop(0)
            except IndexError:
                return
            try:
                callback(self)
            except BaseException:  # one failing callback neither stops the rest nor ends a worker thread
                log.exception("a done-callback of a worker task failed")


_Item = tuple[Task, Callable[..., object], tuple[Any, ...], dict[str, Any]]


class WorkerPool:
    """`workers` threads named `<name>_<n>`, started at once, running submitted calls first in, first out."""

    def __init__(self, workers: int, name: str = "worker") -> None:
        if workers < 1:
            raise ValueError(f"a worker pool needs at least 1 thread, got {workers}")
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._shut = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}_{n}", daemon=True) for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., object], /, *args: Any, **kwargs: Any) -> Task:
        """Run `fn(*args, **kwargs)` on a worker; RuntimeError after shutdown."""
        task = Task()
        with self._lock:  # no call is queued behind the threads' stop marks
            if self._shut:
                raise RuntimeError("cannot submit to a worker pool that is shut down")
            self._queue.put((task, fn, args, kwargs))
        return task

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop the threads once the queued calls have run (`cancel_futures`: drop those not started; their
        tasks are done, their callbacks run); `wait`: until the threads have ended."""
        dropped: list[Task] = []
        with self._lock:
            if not self._shut:
                self._shut = True
                if cancel_futures:
                    dropped = self._take_queued()
                for _ in self._threads:
                    self._queue.put(None)
        for task in dropped:  # outside the lock: a callback may call submit (and be refused)
            task._finish()
        # A worker shutting its own pool down does not wait: it would wait for itself, or for another
        # worker doing the same.
        if wait and threading.current_thread() not in self._threads:
            for thread in self._threads:
                thread.join()

    def _take_queued(self) -> list[Task]:
        tasks: list[Task] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return tasks
            if item is not None:
                tasks.append(item[0])

    def _work(self) -> None:
        get = self._queue.get
        while (item := get()) is not None:
            task, fn, args, kwargs = item
            try:
                fn(*args, **kwargs)
            except BaseException:  # grpcio's handlers answer their own errors; anything else is a bug
                log.exception("a call on a worker thread failed")
            task._finish()
            del item, task, fn, args, kwargs  # hold nothing of the last call while waiting
