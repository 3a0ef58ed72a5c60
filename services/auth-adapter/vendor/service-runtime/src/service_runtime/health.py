"""grpc.health.v1.Health for grpcio's threaded server, with a Watch stream that holds no thread.

Watch is an `experimental_non_blocking` handler (as grpcio's own HealthServicer): the server hands it a
`send_response_callback`, it registers the stream and returns at once. One notifier thread sends each
change, and with an `interval` the status again every `interval` seconds (keeps idle proxies from dropping
the stream). A stream keeps no queue: it always gets the latest status, so a slow reader costs no memory.
Statuses of the server ("") and of each named service; Check of an unknown name is NOT_FOUND, Watch of one
reports SERVICE_UNKNOWN and stays open (the health protocol).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
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
Send = Callable[[health_pb2.HealthCheckResponse | None], None]
"""grpcio's send_response_callback: a response, or None to end the stream with OK."""


class _Stream:
    """One open Watch; its lock keeps its sends in order (the first answer vs the notifier's)."""

    __slots__ = ("service", "send", "sent", "ended", "lock")

    def __init__(self, service: str, send: Send) -> None:
        self.service = service
        self.send = send
        self.sent: int | None = None
        self.ended = False
        self.lock = threading.Lock()

    def update(self, status: int, repeat: bool, end: bool) -> None:
        with self.lock:
            if self.ended:
                return
            if repeat or status != self.sent:
                self.send(_RESPONSES[status])
                self.sent = status
            if end:
                self.ended = True
                self.send(None)


class Health(health_pb2_grpc.HealthServicer):
    """The health service of one server. Its methods may be called from any thread."""

    def __init__(self, services: Iterable[str] = (), interval: float | None = None) -> None:
        if interval is not None and interval <= 0:
            raise ValueError(f"watch interval must be positive, got {interval}")
        self._interval = interval
        self._statuses: dict[str, int] = {name: SERVING for name in ("", *services)}
        self._streams: dict[int, _Stream] = {}
        self._changed = threading.Condition()
        self._generation = 0  # bumped at each change: the notifier misses none while it sends
        self._shutting_down = False
        self._ended = False
        self._closed = False
        self._notifier: threading.Thread | None = None

    @property
    def services(self) -> list[str]:
        return sorted(self._statuses)

    @property
    def watching(self) -> int:
        """Watch streams open now."""
        return len(self._streams)

    def status(self, service: str) -> int | None:
        return self._statuses.get(service)

    def open(self) -> None:
        """Start the notifier thread (the server does, before it serves)."""
        with self._changed:
            if self._notifier is None:
                self._notifier = threading.Thread(target=self._notify_loop, name="health-watch", daemon=True)
                self._notifier.start()

    def close(self) -> None:
        """Stop the notifier thread."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        if self._notifier is not None:
            self._notifier.join(5)

    def set_status(self, service: str, status: int) -> None:
        """Change a known service's status; every Watch on it sends the new one at once.

        Once shutting down every status stays NOT_SERVING: a late SERVING would bring traffic back.
        """
        if service not in self._statuses:
            raise KeyError(f"unknown service {service!r}")
        with self._changed:
            if not self._shutting_down:
                self._statuses[service] = status
            self._bump()

    def enter_shutdown(self) -> None:
        """Every service NOT_SERVING, for good; open Watch streams send it and stay open (see end_streams)."""
        with self._changed:
            self._shutting_down = True
            for name in self._statuses:
                self._statuses[name] = NOT_SERVING
            self._bump()

    def end_streams(self) -> None:
        """Open Watch streams send the last status and end (OK); new ones end after their first answer.

        Returns once every open stream has been ended."""
        with self._changed:
            self._ended = True
            streams = list(self._streams.values())
        for stream in streams:
            stream.update(self._statuses.get(stream.service, SERVICE_UNKNOWN), repeat=False, end=True)

    def _bump(self) -> None:
        self._generation += 1
        self._changed.notify_all()

    def _notify_loop(self) -> None:
        seen = -1

        def moved() -> bool:
            return self._closed or self._generation != seen

        next_repeat = time.monotonic() + (self._interval or 0.0)
        while True:
            with self._changed:
                timeout = None if self._interval is None else max(0.0, next_repeat - time.monotonic())
                self._changed.wait_for(moved, timeout)
                if self._closed:
                    return
                seen = self._generation
                streams = list(self._streams.values())
                statuses = dict(self._statuses)
            repeat = self._interval is not None and time.monotonic() >= next_repeat
            if repeat:
                next_repeat = time.monotonic() + (self._interval or 0.0)
            for stream in streams:
                stream.update(statuses.get(stream.service, SERVICE_UNKNOWN), repeat, end=False)

    def Check(  # noqa: N802 - gRPC method name
        self, request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext
    ) -> health_pb2.HealthCheckResponse:
        status = self._statuses.get(request.service)
        if status is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service!r}")
        return _RESPONSES[status]

    # List is newer than the typing stubs: its messages are looked up by name.
    def List(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        response = getattr(health_pb2, "HealthListResponse")()  # noqa: B009
        for name, status in list(self._statuses.items()):
            response.statuses[name].status = status
        return response

    def Watch(  # noqa: N802 - gRPC method name; the non-blocking signature
        self,
        request: health_pb2.HealthCheckRequest,
        context: grpc.ServicerContext,
        send_response_callback: Send | None = None,
    ) -> None:
        if send_response_callback is None:  # a server that would run this on a thread for its lifetime
            context.abort(grpc.StatusCode.UNIMPLEMENTED, "Watch needs a non-blocking server")
        stream = _Stream(request.service, send_response_callback)
        key = id(stream)
        with self._changed:
            self._streams[key] = stream
            ended = self._ended
        # Registered first, then the first answer: a change in between is sent after it, never lost.
        context.add_callback(lambda: self._forget(key))
        stream.update(self._statuses.get(request.service, SERVICE_UNKNOWN), repeat=True, end=ended)
        if ended:
            self._forget(key)

    def _forget(self, key: int) -> None:
        self._streams.pop(key, None)

    Watch.experimental_non_blocking = True  # type: ignore[attr-defined]  # read by grpcio's server
