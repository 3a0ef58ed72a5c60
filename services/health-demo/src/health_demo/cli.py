"""`health-demo`: flags, each with an environment variable, then serve until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence

from service_runtime import add_server_flags, serve_until_signal, setup_logging
from service_runtime.flags import number

from health_demo import __version__
from health_demo.server import HealthDemoServer, Settings

log = logging.getLogger("health_demo")


def parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="health-demo",
        description="Serve the standard gRPC health service (grpc.health.v1.Health) with reflection. "
        "Each flag defaults to the environment variable named in its help.",
    )
    add_server_flags(p, env, port=8081, workers=16)
    p.add_argument(
        "--service",
        action="append",
        dest="services",
        metavar="NAME",
        help="a name Check knows besides the empty one, repeatable (SERVICE_NAME, default health-demo)",
    )
    p.add_argument(
        "--watch-interval",
        type=number(float, 0.001),
        default=env.get("WATCH_INTERVAL", "1"),
        help="seconds between repeated Watch updates (WATCH_INTERVAL, default 1); a Watch holds a worker",
    )
    p.add_argument("--version", action="version", version=f"health-demo {__version__}")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    env = os.environ
    args = parser(env).parse_args(argv)
    # ENVIRONMENT comes with SERVICE_NAME from the service's Vault secret; it labels every log line.
    setup_logging(args.log_level, {"environment": env["ENVIRONMENT"]} if env.get("ENVIRONMENT") else None)
    settings = Settings(
        port=args.port,
        host=args.host,
        services=tuple(args.services or [env.get("SERVICE_NAME") or "health-demo"]),
        watch_interval=args.watch_interval,
        shutdown_grace=args.shutdown_grace,
        workers=args.workers,
    )
    try:
        server = HealthDemoServer(settings)
    except (OSError, ValueError) as exc:
        log.error("cannot start", extra={"fields": {"reason": str(exc)}})
        return 1
    serve_until_signal(server.start, server.stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
