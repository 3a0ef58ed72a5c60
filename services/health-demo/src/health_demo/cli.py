"""`health-demo`: flags, each with an environment variable, then serve until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType

from health_demo import __version__, logs
from health_demo.server import HealthDemoServer, Settings, serve_until

log = logging.getLogger("health_demo")


def _positive(kind: type[int] | type[float], minimum: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {text!r}")
        return value

    return parse


def parser() -> argparse.ArgumentParser:
    env = os.environ
    p = argparse.ArgumentParser(
        prog="health-demo",
        description="Serve the standard gRPC health service (grpc.health.v1.Health) with reflection. "
        "Each flag defaults to the environment variable named in its help.",
    )
    # `-port=8081` is how the original was started; both spellings work.
    p.add_argument("-port", "--port", type=_positive(int, 0), default=env.get("PORT", "8081"),
                   help="TCP port to listen on, 0 for any free one (PORT, default 8081)")
    p.add_argument("--host", default=env.get("HOST", "0.0.0.0"), help="address to bind (HOST, default 0.0.0.0)")
    p.add_argument("--service", action="append", dest="services", metavar="NAME",
                   help="a service name Check knows besides the empty one; repeatable "
                   "(SERVICE_NAME, default health-demo)")
    p.add_argument("--watch-interval", type=_positive(float, 0.001), default=env.get("WATCH_INTERVAL", "1"),
                   help="seconds between repeated Watch updates (WATCH_INTERVAL, default 1)")
    p.add_argument("--shutdown-grace", type=_positive(float, 0), default=env.get("SHUTDOWN_GRACE", "5"),
                   help="seconds in-flight calls get after SIGTERM (SHUTDOWN_GRACE, default 5)")
    p.add_argument("--workers", type=_positive(int, 2), default=env.get("GRPC_WORKERS", "16"),
                   help="worker threads; each open Watch holds one (GRPC_WORKERS, default 16)")
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"], type=str.lower,
                   default=env.get("LOG_LEVEL", "info").lower(), help="log level (LOG_LEVEL, default info)")
    p.add_argument("--version", action="version", version=f"health-demo {__version__}")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    services = args.services or [os.environ.get("SERVICE_NAME") or "health-demo"]
    # ENVIRONMENT comes with SERVICE_NAME from the service's Vault secret; it labels every log line.
    logs.setup(args.log_level, {"environment": os.environ["ENVIRONMENT"]} if os.environ.get("ENVIRONMENT") else None)
    settings = Settings(
        port=args.port, host=args.host, services=tuple(services), watch_interval=args.watch_interval,
        shutdown_grace=args.shutdown_grace, workers=args.workers,
    )
    try:
        server = HealthDemoServer(settings)
    except (OSError, ValueError) as exc:
        log.error("cannot start", extra={"fields": {"reason": str(exc)}})
        return 1
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal received", extra={"fields": {"signal": signal.Signals(signum).name}})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    serve_until(server, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
