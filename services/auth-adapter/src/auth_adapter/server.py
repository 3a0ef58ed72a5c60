"""The gRPC server: Authorization, grpc.health.v1 and reflection on one port, stopped gracefully."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from service_runtime import bind, new_server

from auth_adapter.authorizer import Authorizer
from auth_adapter.service import AuthorizationService

log = logging.getLogger("auth_adapter")
AUTHORIZATION = external_auth_pb2.DESCRIPTOR.services_by_name["Authorization"].full_name


@dataclass(frozen=True)
class Settings:
    port: int = 9000
    host: str = "0.0.0.0"
    shutdown_grace: float = 5.0
    workers: int = 32  # a reCAPTCHA call holds its worker for up to its timeout


class AuthAdapterServer:
    def __init__(self, settings: Settings, authorizer: Authorizer) -> None:
        self.settings = settings
        self._server = new_server(settings.workers)
        external_auth_pb2_grpc.add_AuthorizationServicer_to_server(
            AuthorizationService(authorizer), self._server
        )
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        for name in ("", AUTHORIZATION):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        names = (AUTHORIZATION, health.SERVICE_NAME, reflection.SERVICE_NAME)
        reflection.enable_server_reflection(names, self._server)
        self.port = bind(self._server, settings.host, settings.port)

    def start(self) -> None:
        self._server.start()
        log.info("serving", extra={"fields": {"port": self.port}})

    def stop(self, grace: float | None = None) -> threading.Event:
        """NOT_SERVING first, then no new calls; in-flight checks get `grace` seconds."""
        grace = self.settings.shutdown_grace if grace is None else grace
        log.info("shutting down", extra={"fields": {"grace_seconds": grace}})
        self.health.enter_graceful_shutdown()
        return self._server.stop(grace)
