"""What the platform's gRPC services share: JSON logs, common flags, and one asyncio gRPC server per service
with health, reflection (v1 and v1alpha), a bound on open streams and a Kubernetes-shaped shutdown."""

from service_runtime.flags import add_server_flags
from service_runtime.health import Health
from service_runtime.logs import JsonFormatter, setup_logging
from service_runtime.server import (
    GrpcServer,
    ServerSettings,
    ServerThread,
    bind,
    run,
)

__all__ = [
    "GrpcServer",
    "Health",
    "JsonFormatter",
    "ServerSettings",
    "ServerThread",
    "add_server_flags",
    "bind",
    "run",
    "setup_logging",
]
