"""The flags every service has, each defaulting to an environment variable named in its help."""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable, Mapping

_INTEGER = re.compile(r"[+-]?[0-9]+")  # ASCII digits only: int() would also take '８０８１' or '٨٠'

# Kubernetes removes a terminating pod from its Service's endpoints while the container gets SIGTERM;
# kube-proxy, Envoy and the other load balancers learn it within a few seconds. Until then calls keep
# arriving, so the server keeps answering (health NOT_SERVING) this long before it stops accepting calls.
DEFAULT_DRAIN_SECONDS = 5.0
DEFAULT_GRACE_SECONDS = 5.0
# Open streams (Watch, reflection) the server holds at once; one more is answered RESOURCE_EXHAUSTED.
DEFAULT_MAX_STREAMS = 2000


def number(
    kind: type[int] | type[float], minimum: float, maximum: float | None = None
) -> Callable[[str], float]:
    """An argparse type: a finite `kind` within [minimum, maximum], else an error naming the value."""

    def parse(text: str) -> float:
        try:
            if kind is int and not _INTEGER.fullmatch(text.strip()):
                raise ValueError(text)
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {text!r}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {text!r}")
        return value

    return parse


def add_server_flags(p: argparse.ArgumentParser, env: Mapping[str, str], *, port: int, workers: int) -> None:
    """-port/--port, --host, --shutdown-drain, --shutdown-grace, --max-streams, --workers, --log-level.

    Bad values, from a flag or from its environment variable, exit 2 naming the flag.
    """
    # `-port=8081` is how the original services were started; both spellings work.
    p.add_argument(
        "-port",
        "--port",
        type=number(int, 0, 65535),
        default=env.get("PORT", str(port)),
        help=f"TCP port to listen on, 0 for any free one (PORT, default {port})",
    )
    p.add_argument(
        "--host", default=env.get("HOST", "0.0.0.0"), help="address to bind (HOST, default 0.0.0.0)"
    )
    p.add_argument(
        "--shutdown-drain",
        type=number(float, 0),
        default=env.get("SHUTDOWN_DRAIN", str(DEFAULT_DRAIN_SECONDS)),
        help="seconds the server keeps answering after SIGTERM, its health NOT_SERVING, while load balancers "
        f"and Kubernetes endpoints drop it (SHUTDOWN_DRAIN, default {DEFAULT_DRAIN_SECONDS:g})",
    )
    p.add_argument(
        "--shutdown-grace",
        type=number(float, 0),
        default=env.get("SHUTDOWN_GRACE", str(DEFAULT_GRACE_SECONDS)),
        help="seconds in-flight calls get once the drain is over and no new call is accepted "
        f"(SHUTDOWN_GRACE, default {DEFAULT_GRACE_SECONDS:g})",
    )
    p.add_argument(
        "--max-streams",
        type=number(int, 1),
        default=env.get("MAX_STREAMS", str(DEFAULT_MAX_STREAMS)),
        help="open streams (Watch, reflection) held at once; beyond it a new one gets RESOURCE_EXHAUSTED "
        f"(MAX_STREAMS, default {DEFAULT_MAX_STREAMS})",
    )
    p.add_argument(
        "--workers",
        type=number(int, 2),
        default=env.get("GRPC_WORKERS", str(workers)),
        help=f"threads for blocking (non-asyncio) handlers; streams hold none "
        f"(GRPC_WORKERS, default {workers})",
    )
    p.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        type=str.lower,
        default=env.get("LOG_LEVEL", "info").lower(),
        help="log level (LOG_LEVEL, default info)",
    )
