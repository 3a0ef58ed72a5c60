"""One gRPC server per service on grpcio's threaded server, stopped the way Kubernetes stops a pod.

Unary calls run on `workers` threads (grpcio's threaded server costs about 0.7x the CPU per call of
grpc.aio; its WorkerPool less again than a ThreadPoolExecutor, see workers.py). Streams must be
non-blocking handlers (health Watch is one) and hold no thread, so open Watch streams never take capacity
from Check; every streaming method shares one bound (`max_streams`, RESOURCE_EXHAUSTED beyond it).
Reflection (v1 and v1alpha) streams are blocking and hold a worker while open: they share a bound of their
own, a quarter of the workers (at least 1). Health (grpc.health.v1) and reflection are always served. The
shutdown is driven from an asyncio loop (signals, the drain's clock).

Shutdown, on SIGTERM/SIGINT or `request_stop()`:
1. every health status NOT_SERVING at once (probes, Envoy health checks and Watch streams see it);
2. keep answering for `drain` seconds while Kubernetes endpoints and load balancers drop the pod
   (a second signal ends the drain early);
3. end the Watch streams, stop accepting calls (new connections are refused), give in-flight calls
   `grace` seconds, then cancel what is left and return.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2_grpc

from service_runtime.flags import DEFAULT_DRAIN_SECONDS, DEFAULT_GRACE_SECONDS, DEFAULT_MAX_STREAMS
from service_runtime.health import SERVICE_NAME as HEALTH_SERVICE
from service_runtime.health import Health
from service_runtime.limits import LimitedServer, StreamLimit
from service_runtime.reflection import METHODS as REFLECTION_METHODS
from service_runtime.reflection import enable_reflection
from service_runtime.workers import WorkerPool

log = logging.getLogger("service_runtime")

# so_reuseport off: a second instance on the same port must fail, not share it silently.
_OPTIONS = [("grpc.so_reuseport", 0)]

Register = Callable[[grpc.Server], Iterable[str]]
"""Adds a service's servicers to the server; returns their full service names (listed by reflection)."""


@dataclass(frozen=True)
class ServerSettings:
    host: str = "0.0.0.0"
    port: int = 0
    workers: int = 16
    drain: float = DEFAULT_DRAIN_SECONDS
    grace: float = DEFAULT_GRACE_SECONDS
    max_streams: int = DEFAULT_MAX_STREAMS

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ServerSettings:
        """From the flags add_server_flags defines."""
        return cls(
            host=args.host,
            port=args.port,
            workers=args.workers,
            drain=args.shutdown_drain,
            grace=args.shutdown_grace,
            max_streams=args.max_streams,
        )


def _no_services(_server: grpc.Server) -> list[str]:
    return []


class GrpcServer:
    """The services `register` adds, plus `health` and reflection, on one port; see the module doc."""

    def __init__(self, settings: ServerSettings, health: Health, register: Register = _no_services) -> None:
        self.settings = settings
        self.health = health
        self.streams = StreamLimit(
            settings.max_streams, blocking=REFLECTION_METHODS, blocking_limit=max(1, settings.workers // 4)
        )
        self.port = 0
        self.service_names: list[str] = []
        self._register = register
        self._server: grpc.Server | None = None
        self._pool: WorkerPool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = asyncio.Event()
        self._hurry = asyncio.Event()

    async def start(self) -> int:
        """Listen and serve; the port bound. OSError naming the address if it cannot listen."""
        self._loop = asyncio.get_running_loop()
        pool = WorkerPool(self.settings.workers, name="grpc")
        try:
            server = grpc.server(pool, options=_OPTIONS)  # type: ignore[arg-type]  # takes any executor
            limited = LimitedServer(server, self.streams)  # every streaming method bounded as registered
            names = list(self._register(limited))
            health_pb2_grpc.add_HealthServicer_to_server(self.health, limited)
            self.service_names = enable_reflection(limited, [*names, HEALTH_SERVICE])
            self.port = bind(server, self.settings.host, self.settings.port)
        except BaseException:  # the pool's threads are running already: none is left behind
            pool.shutdown(wait=False)
            raise
        self.health.open()
        server.start()
        self._server, self._pool = server, pool
        fields = {
            "port": self.port,
            "services": self.health.services,
            "max_streams": self.settings.max_streams,
        }
        log.info("serving", extra={"fields": fields})
        return self.port

    def request_stop(self) -> None:
        """Begin the shutdown (from any thread); asked again during the drain, end the drain now."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._on_stop_request)

    def _on_stop_request(self) -> None:
        if self._stop.is_set():
            self._hurry.set()
        self._stop.set()

    async def wait_and_shutdown(self) -> None:
        """Wait for request_stop(), then NOT_SERVING, drain, stop accepting, grace, done."""
        await self._stop.wait()
        assert self._server is not None, "start() first"
        log.info("draining: health NOT_SERVING", extra={"fields": {"drain_seconds": self.settings.drain}})
        self.health.enter_shutdown()
        try:
            async with asyncio.timeout(self.settings.drain):
                await self._hurry.wait()
        except TimeoutError:
            pass
        log.info("stopping: no new calls", extra={"fields": {"grace_seconds": self.settings.grace}})
        self.health.end_streams()
        stopped = self._server.stop(self.settings.grace)
        while not stopped.is_set():  # the loop stays free for a signal meanwhile
            await asyncio.sleep(0.02)
        self.health.close()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        log.info("stopped")

    async def serve(self) -> None:
        await self.start()
        await self.wait_and_shutdown()


def run(server: GrpcServer) -> None:
    """Serve in this thread until SIGTERM or SIGINT, then shut down as the module doc says.

    OSError if it cannot listen (nothing is left running then).
    """

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, _on_signal, server, signum)
        await server.serve()

    asyncio.run(main())


def _on_signal(server: GrpcServer, signum: int) -> None:
    log.info("signal received", extra={"fields": {"signal": signal.Signals(signum).name}})
    server.request_stop()


class ServerThread:
    """A GrpcServer on an event loop of its own in a thread (tests, benchmarks, embedding)."""

    def __init__(self, server: GrpcServer) -> None:
        self.server = server
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="grpc-server", daemon=True)

    @property
    def port(self) -> int:
        return self.server.port

    def start(self) -> int:
        """Start serving; the port, once it listens (the error if it cannot)."""
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error
        return self.server.port

    def stop(self, timeout: float | None = None) -> bool:
        """Shut down as on SIGTERM (drain, then grace); True once the server has stopped within `timeout`."""
        self.server.request_stop()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        try:
            await self.server.start()
        except BaseException as exc:  # handed to start()'s caller
            self._error = exc
            return
        finally:
            self._ready.set()
        await self.server.wait_and_shutdown()


def bind(server: grpc.Server | grpc.aio.Server, host: str, port: int) -> int:
    """Listen on host:port (0 = any free port); the port bound. OSError naming the address on failure."""
    if not 0 <= port <= 65535:  # gRPC would take it modulo 65536 and listen elsewhere
        raise OSError(f"cannot listen on {host}:{port}: not a TCP port (0-65535)")
    address = f"{host}:{port}"
    try:
        return server.add_insecure_port(address)
    except RuntimeError as exc:
        raise OSError(f"cannot listen on {address}: {exc}") from None
