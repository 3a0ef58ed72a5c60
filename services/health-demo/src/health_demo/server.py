"""The gRPC server: health and reflection on one port, stopped gracefully."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from service_runtime import bind, new_server

from health_demo.health import HealthService

log = logging.getLogger("health_demo")


@dataclass(frozen=True)
class Settings:
    port: int = 8081
    host: str = "0.0.0.0"
    services: Sequence[str] = ("health-demo",)
    watch_interval: float = 1.0
    shutdown_grace: float = 5.0
    # Every open Watch holds a worker thread; Check calls need the rest.
    workers: int = 16


class HealthDemoServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.health = HealthService(settings.services, settings.watch_interval)
        self._server = new_server(settings.workers)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        names = (health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME)
        reflection.enable_server_reflection(names, self._server)
        self.port = bind(self._server, settings.host, settings.port)

    def start(self) -> None:
        self._server.start()
        log.info("serving", extra={"fields": {"port": self.port, "services": self.health.services}})

    def stop(self, grace: float | None = None) -> threading.Event:
        """NOT_SERVING first (Watch streams see it), then stop accepting calls; in-flight ones get `grace`."""
        grace = self.settings.shutdown_grace if grace is None else grace
        log.info("shutting down", extra={"fields": {"grace_seconds": grace}})
        self.health.enter_shutdown()
        return self._server.stop(grace)
