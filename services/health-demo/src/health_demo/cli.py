"""`health-demo`: flags, each with an environment variable, then serve until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence

from service_runtime import ServerSettings, add_server_flags, run, setup_logging
from service_runtime.flags import number

from health_demo import __version__
from health_demo.server import PORT, Settings, build

log = logging.getLogger("health_demo")


def parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="health-demo",
        description="Serve the standard gRPC health service (grpc.health.v1.Health) with reflection. "
        "Each flag defaults to the environment variable named in its help.",
    )
    add_server_flags(p, env, port=PORT, workers=4)  # no blocking handlers: the threads stay idle
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
        help="seconds between repeated Watch updates (WATCH_INTERVAL, default 1)",
    )
    p.add_argument("--version", action="version", version=f"health-demo {__version__}")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    env = os.environ
    args = parser(env).parse_args(argv)
    # ENVIRONMENT comes with SERVICE_NAME from the service's Vault secret; it labels every log line.
    setup_logging(args.log_level, {"environment": env["ENVIRONMENT"]} if env.get("ENVIRONMENT") else None)
    settings = Settings(
        server=ServerSettings.from_args(args),
        services=tuple(args.services or [env.get("SERVICE_NAME") or "health-demo"]),
        watch_interval=args.watch_interval,
    )
    try:
        run(build(settings))
    except (OSError, ValueError) as exc:
        log.error("cannot start", extra={"fields": {"reason": str(exc)}})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
