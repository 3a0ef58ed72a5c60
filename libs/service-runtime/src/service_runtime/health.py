"""grpc.health.v1.Health on asyncio: a Watch stream waits on the event loop and holds no thread.

Statuses of the server ("") and of each named service; Check of an unknown name is NOT_FOUND, Watch of one
reports SERVICE_UNKNOWN and stays open (the health protocol). Watch sends the current status at once, then
each change of it and, with an `interval`, the status again every `interval` seconds (keeps idle proxies
from dropping the stream). A stream keeps no queue: it always sends the latest status, so a slow reader
costs no memory.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterable
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

SERVICE_NAME = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN

# Responses are immutable once built: one per status, shared by every call.
_RESPONSES: dict[int, health_pb2.HealthCheckResponse] = {
    status: health_pb2.HealthCheckResponse(status=status)
    for status in (SERVING, NOT_SERVING, SERVICE_UNKNOWN)
}


class Health(health_pb2_grpc.HealthServicer):
    """The health service of one server. Its methods may be called from any thread."""

    def __init__(self, services: Iterable[str] = (), interval: float | None = None) -> None:
        if interval is not None and interval <= 0:
            raise ValueError(f"watch interval must be positive, got {interval}")
        self._interval = interval
        self._statuses: dict[str, int] = {name: SERVING for name in ("", *services)}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed = asyncio.Event()  # replaced at each change: waiters of the old one wake up
        self._lock = threading.Lock()
        self._shutting_down = False
        self._ended = False

    @property
    def services(self) -> list[str]:
        return sorted(self._statuses)

    def status(self, service: str) -> int | None:
        return self._statuses.get(service)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop the server runs on (Watch streams wait there); other threads' changes go through it."""
        self._loop = loop

    def set_status(self, service: str, status: int) -> None:
        """Change a known service's status; every Watch on it sends the new one at once.

        Once shutting down every status stays NOT_SERVING: a late SERVING would bring traffic back.
        """
        if service not in self._statuses:
            raise KeyError(f"unknown service {service!r}")
        with self._lock:
            if not self._shutting_down:
                self._statuses[service] = status
        self._notify()

    def enter_shutdown(self) -> None:
        """Every service NOT_SERVING, for good; open Watch streams send it and stay open (see end_streams)."""
        with self._lock:
            self._shutting_down = True
            for name in self._statuses:
                self._statuses[name] = NOT_SERVING
        self._notify()

    def end_streams(self) -> None:
        """Open Watch streams send the last status and end (OK); new ones end after their first answer."""
        self._ended = True
        self._notify()

    def _notify(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake()
        else:
            loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def Check(  # noqa: N802 - gRPC method name
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> health_pb2.HealthCheckResponse:
        status = self._statuses.get(request.service)
        if status is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service!r}")
        return _RESPONSES[status]

    # List is newer than the typing stubs: its messages are looked up by name.
    async def List(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:  # noqa: N802
        response = getattr(health_pb2, "HealthListResponse")()  # noqa: B009
        for name, status in list(self._statuses.items()):
            response.statuses[name].status = status
        return response

    async def Watch(  # noqa: N802 - gRPC method name
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[health_pb2.HealthCheckResponse]:
        # The client leaving cancels this coroutine at its await: nothing to clean up, nothing held.
        sent: int | None = None
        due = True  # the first answer, and each interval's repeat
        while True:
            changed = self._changed  # taken before sending: a change while the write waits is not missed
            status = self._statuses.get(request.service, SERVICE_UNKNOWN)
            if due or status != sent:
                yield _RESPONSES[status]
                sent = status
            if self._ended:
                return
            try:
                async with asyncio.timeout(self._interval):
                    await changed.wait()
                due = False
            except TimeoutError:
                due = True
