"""health-demo's server: the shared runtime's health service (with a Watch repeat interval) and reflection.

service_runtime does the serving: Watch streams wait on the event loop and hold no worker, the stream bound
answers RESOURCE_EXHAUSTED beyond --max-streams, and SIGTERM turns every status NOT_SERVING, drains, stops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from service_runtime import GrpcServer, Health, ServerSettings

PORT = 8081


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=lambda: ServerSettings(port=PORT))
    services: Sequence[str] = ("health-demo",)
    watch_interval: float = 1.0


def build(settings: Settings) -> GrpcServer:
    """The server, not started yet (ValueError for a bad interval)."""
    return GrpcServer(settings.server, Health(settings.services, settings.watch_interval))
