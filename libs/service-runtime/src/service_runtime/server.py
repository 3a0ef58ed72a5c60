"""A threaded gRPC server, bound with a clear error, run until SIGTERM/SIGINT and then stopped gracefully."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import FrameType

import grpc

log = logging.getLogger("service_runtime")


def new_server(workers: int) -> grpc.Server:
    # so_reuseport off: a second instance on the same port must fail, not share it silently.
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grpc")
    return grpc.server(pool, options=[("grpc.so_reuseport", 0)])


def bind(server: grpc.Server, host: str, port: int) -> int:
    """Listen on host:port (0 = any free port); the port bound. OSError naming the address on failure."""
    address = f"{host}:{port}"
    try:
        return server.add_insecure_port(address)
    except RuntimeError as exc:
        raise OSError(f"cannot listen on {address}: {exc}") from None


def serve_until_signal(start: Callable[[], None], stop: Callable[[], threading.Event]) -> None:
    """start(), wait for SIGTERM or SIGINT, then stop() (health NOT_SERVING first, then the grace)."""
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal received", extra={"fields": {"signal": signal.Signals(signum).name}})
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    start()
    stopping.wait()
    stop().wait()
    log.info("stopped")
