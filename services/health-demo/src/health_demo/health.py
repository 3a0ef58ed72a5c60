"""grpc.health.v1.Health with a Watch that also repeats the status at a fixed interval.

grpcio-health-checking's servicer only streams changes; the original service re-sent the status every
second, which keeps idle proxies from dropping the stream, so Watch here does both.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from functools import partial
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ServingStatus = health_pb2.HealthCheckResponse.ServingStatus
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN

# Responses are immutable once built: one per status, shared by every call.
_RESPONSES: dict[int, health_pb2.HealthCheckResponse] = {
    status: health_pb2.HealthCheckResponse(status=status)
    for status in (SERVING, NOT_SERVING, SERVICE_UNKNOWN)
}


class HealthService(health_pb2_grpc.HealthServicer):
    """Statuses of the server ("") and of each named service; unknown names are NOT_FOUND."""

    def __init__(self, services: Iterable[str], interval: float = 1.0) -> None:
        if interval <= 0:
            raise ValueError(f"watch interval must be positive, got {interval}")
        self._interval = interval
        self._statuses: dict[str, int] = {name: SERVING for name in ("", *services)}
        self._changed = threading.Condition()
        self._generation = 0
        self._closing = False

    @property
    def services(self) -> list[str]:
        return sorted(self._statuses)

    def status(self, service: str) -> int | None:
        return self._statuses.get(service)

    def set_status(self, service: str, status: int) -> None:
        """Change a known service's status; every Watch on it sends the new one at once."""
        if service not in self._statuses:
            raise KeyError(f"unknown service {service!r}")
        with self._changed:
            self._statuses[service] = status
            self._generation += 1
            self._changed.notify_all()

    def enter_shutdown(self) -> None:
        """Every service NOT_SERVING; open Watch streams send that and then end."""
        with self._changed:
            for name in self._statuses:
                self._statuses[name] = NOT_SERVING
            self._closing = True
            self._generation += 1
            self._changed.notify_all()

    def Check(  # noqa: N802 - gRPC method name
        self, request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext
    ) -> health_pb2.HealthCheckResponse:
        # A dict read is atomic under the GIL: the hot path takes no lock.
        status = self._statuses.get(request.service)
        if status is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service!r}")
        return _RESPONSES[status]

    # List is newer than the typing stubs: its messages are looked up by name.
    def List(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802 - gRPC method name
        response = getattr(health_pb2, "HealthListResponse")()  # noqa: B009
        for name, status in list(self._statuses.items()):
            response.statuses[name].status = status
        return response

    def Watch(  # noqa: N802 - gRPC method name
        self, request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext
    ) -> Iterator[health_pb2.HealthCheckResponse]:
        # The health protocol: an unknown service is reported as SERVICE_UNKNOWN, the stream stays open.
        context.add_callback(self._wake)  # the client left: stop waiting now, not at the next tick
        while context.is_active():
            with self._changed:
                generation = self._generation
                status = self._statuses.get(request.service, SERVICE_UNKNOWN)
                closing = self._closing
            yield _RESPONSES[status]
            if closing:
                return
            with self._changed:
                self._changed.wait_for(partial(self._moved_on, generation, context), timeout=self._interval)

    def _moved_on(self, generation: int, context: grpc.ServicerContext) -> bool:
        return self._generation != generation or not context.is_active()

    def _wake(self) -> None:
        with self._changed:
            self._changed.notify_all()
