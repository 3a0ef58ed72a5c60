"""The flags every service has, each defaulting to an environment variable named in its help."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping


def number(kind: type[int] | type[float], minimum: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {text!r}")
        return value

    return parse


def add_server_flags(p: argparse.ArgumentParser, env: Mapping[str, str], *, port: int, workers: int) -> None:
    """-port/--port, --host, --shutdown-grace, --workers, --log-level. Bad values exit 2 naming the flag."""
    # `-port=8081` is how the original services were started; both spellings work.
    p.add_argument(
        "-port",
        "--port",
        type=number(int, 0),
        default=env.get("PORT", str(port)),
        help=f"TCP port to listen on, 0 for any free one (PORT, default {port})",
    )
    p.add_argument(
        "--host", default=env.get("HOST", "0.0.0.0"), help="address to bind (HOST, default 0.0.0.0)"
    )
    p.add_argument(
        "--shutdown-grace",
        type=number(float, 0),
        default=env.get("SHUTDOWN_GRACE", "5"),
        help="seconds in-flight calls get after SIGTERM (SHUTDOWN_GRACE, default 5)",
    )
    p.add_argument(
        "--workers",
        type=number(int, 2),
        default=env.get("GRPC_WORKERS", str(workers)),
        help=f"worker threads (GRPC_WORKERS, default {workers})",
    )
    p.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        type=str.lower,
        default=env.get("LOG_LEVEL", "info").lower(),
        help="log level (LOG_LEVEL, default info)",
    )
