"""Benchmark the platform's gRPC services on loopback: health Check and ext_authz Check.

Each server runs in this process, the load generator in another one (grpc.aio, one HTTP/2 connection,
CONCURRENCY calls in flight). Cases: a bare grpcio HealthServicer on a threaded server (the baseline),
health-demo's Check, and auth-adapter's Check with an HS256 JWT (one repeated, and a new one each call,
which the adapter's cache of verified tokens cannot answer) and with a static token (all allowed).
Figures: calls per second, p50 and p99 latency. Targets (2 cores, quiet machine): health-demo >= 0.9x the
baseline and >= 3,000 Check/s; auth-adapter >= 2,000 Check/s with a new JWT each call; p99 under 15 ms.
Each case runs --repeat rounds in alternating order; the figures are the medians over the rounds.
Run: .venv/bin/python bench/bench_services.py [--duration S] [--concurrency N] [--repeat R] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import gateway_config
import grpc
import jwt
from auth_adapter.cli import build
from auth_adapter.server import AuthAdapterServer
from auth_adapter.server import Settings as AdapterSettings
from envoy.service.auth.v3 import attribute_context_pb2, external_auth_pb2, external_auth_pb2_grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from health_demo.server import HealthDemoServer
from health_demo.server import Settings as HealthSettings
from service_runtime import bind, new_server

WORKERS = 16
SECRET = "bench-signing-key-0123456789abcdef-0123456789"
STATIC_TOKEN = "bench-static-token-0123456789"
CONFIG = """
apis:
  - name: Shop
    auth: {policy: optional}
    methods:
      - {name: Buy, auth: {policy: required, permission: read}}
"""


@dataclass
class Result:
    case: str
    calls: int
    errors: int
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float


# --- the client process --------------------------------------------------------------------------------


FRESH_TOKENS = 40_000  # more than one case's calls: every call carries a JWT the adapter has not seen


def _authz(token: str) -> Any:
    http = attribute_context_pb2.AttributeContext.HttpRequest(
        method="POST",
        path="/api/Shop/Buy",
        headers={
            "cookie": f"token={token}",
            "x-forwarded-for": "203.0.113.9",
            "content-type": "application/grpc",
        },
    )
    attributes = attribute_context_pb2.AttributeContext(
        request=attribute_context_pb2.AttributeContext.Request(http=http)
    )
    return external_auth_pb2.CheckRequest(attributes=attributes)


def _jwt(session: str) -> str:
    claims = {"sub": "bench-user", "sid": session, "exp": int(time.time()) + 3600, "permissions": ["read"]}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def _requests(kind: str) -> tuple[str, list[Any]]:
    """The requests one client cycles through: one repeated, or (jwt-fresh) a new signed JWT per call, so
    the adapter's cache of verified tokens never answers and every call pays the HS256 verification."""
    if kind == "health":
        return "health", [health_pb2.HealthCheckRequest(service="")]
    if kind == "jwt":
        return "authz", [_authz(_jwt("s1"))]
    if kind == "jwt-fresh":
        return "authz", [_authz(_jwt(f"s{i}")) for i in range(FRESH_TOKENS)]
    return "authz", [_authz(STATIC_TOKEN)]


async def _load(port: int, kind: str, concurrency: int, warmup: float, duration: float) -> dict[str, Any]:
    service, requests = _requests(kind)
    sequence = itertools.cycle(requests)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        await channel.channel_ready()
        if service == "health":
            call: Callable[..., Any] = health_pb2_grpc.HealthStub(channel).Check
            ok: Callable[[Any], bool] = lambda r: r.status == health_pb2.HealthCheckResponse.SERVING  # noqa: E731
        else:
            call = external_auth_pb2_grpc.AuthorizationStub(channel).Check
            ok = lambda r: r.HasField("ok_response")  # noqa: E731
        latencies: list[float] = []
        errors = 0
        measuring_from = time.perf_counter() + warmup
        stop_at = measuring_from + duration

        async def worker() -> None:
            nonlocal errors
            while True:
                started = time.perf_counter()
                if started >= stop_at:
                    return
                try:
                    response = await call(next(sequence), timeout=5)
                    good = ok(response)
                except grpc.aio.AioRpcError:
                    good = False
                if started >= measuring_from:
                    latencies.append(time.perf_counter() - started)
                    errors += not good

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {"latencies": latencies, "errors": errors}


def client(port: int, kind: str, concurrency: int, warmup: float, duration: float, out: Any) -> None:
    out.send(asyncio.run(_load(port, kind, concurrency, warmup, duration)))


# --- the servers ---------------------------------------------------------------------------------------


def baseline() -> tuple[int, Callable[[], Any]]:
    server = new_server(WORKERS)
    servicer = health.HealthServicer()
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = bind(server, "127.0.0.1", 0)
    server.start()
    return port, lambda: server.stop(0).wait()


def health_demo() -> tuple[int, Callable[[], Any]]:
    server = HealthDemoServer(HealthSettings(port=0, host="127.0.0.1", workers=WORKERS))
    server.start()
    return server.port, lambda: server.stop(0).wait()


def auth_adapter() -> tuple[int, Callable[[], Any]]:
    authorizer = build(gateway_config.loads(CONFIG), {"JWT_SECRET": SECRET, "VALID_TOKENS": STATIC_TOKEN})
    server = AuthAdapterServer(AdapterSettings(port=0, host="127.0.0.1", workers=WORKERS), authorizer)
    server.start()
    return server.port, lambda: server.stop(0).wait()


def measure(
    case: str, start: Callable[[], tuple[int, Callable[[], Any]]], kind: str, args: argparse.Namespace
) -> Result:
    port, stop = start()
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(
        target=client, args=(port, kind, args.concurrency, args.warmup, args.duration, send)
    )
    try:
        process.start()
        data = receive.recv()
        process.join(30)
    finally:
        stop()
    latencies = sorted(data["latencies"])
    calls = len(latencies)
    p99 = latencies[min(calls - 1, int(calls * 0.99))] if calls else float("nan")
    return Result(
        case=case,
        calls=calls,
        errors=data["errors"],
        seconds=args.duration,
        per_second=calls / args.duration,
        p50_ms=statistics.median(latencies) * 1000 if calls else float("nan"),
        p99_ms=p99 * 1000,
    )


def median_of(results: list[Result]) -> Result:
    def mid(values: list[float]) -> float:
        return float(statistics.median(values))

    return Result(
        case=results[0].case,
        calls=int(mid([r.calls for r in results])),
        errors=sum(r.errors for r in results),
        seconds=sum(r.seconds for r in results),
        per_second=mid([r.per_second for r in results]),
        p50_ms=mid([r.p50_ms for r in results]),
        p99_ms=mid([r.p99_ms for r in results]),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds measured per case (default 3)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds not measured first (default 1)")
    parser.add_argument("--concurrency", type=int, default=8, help="calls in flight (default 8)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds, alternating the order; medians (default 3)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    cases = [
        ("grpcio HealthServicer (baseline)", baseline, "health"),
        ("health-demo Check", health_demo, "health"),
        ("auth-adapter Check, JWT (repeated)", auth_adapter, "jwt"),
        ("auth-adapter Check, JWT (new each call)", auth_adapter, "jwt-fresh"),
        ("auth-adapter Check, static token", auth_adapter, "token"),
    ]
    # Rounds in alternating order, so a neighbour's load burst or a warm cache favours no case; medians.
    rounds: dict[str, list[Result]] = {name: [] for name, _, _ in cases}
    for r in range(args.repeat):
        for name, start, kind in cases if r % 2 == 0 else cases[::-1]:
            rounds[name].append(measure(name, start, kind, args))
    results = [median_of(rounds[name]) for name, _, _ in cases]
    base, demo, jwt_case = results[0], results[1], results[3]
    targets = {
        "health-demo >= 0.9x baseline": demo.per_second >= 0.9 * base.per_second,
        "health-demo >= 3000/s": demo.per_second >= 3000,
        "auth-adapter JWT (new each call) >= 2000/s": jwt_case.per_second >= 2000,
        "p99 < 15 ms (all cases)": all(r.p99_ms < 15 for r in results),
        "no failed calls": all(r.errors == 0 for r in results),
    }
    load = os.getloadavg()[0]
    if args.json:
        print(
            json.dumps({"results": [asdict(r) for r in results], "targets": targets, "load": load}, indent=2)
        )
        return 0
    print(
        f"loopback, client in another process, {args.concurrency} calls in flight, median of {args.repeat} x "
        f"{args.duration:g} s, "
        f"{os.cpu_count()} CPUs, load average {load:.1f} at the end"
    )
    print(f"{'case':40} {'calls/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in results:
        print(f"{r.case:40} {r.per_second:9.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} {r.errors:7d}")
    print(f"health-demo / baseline: {demo.per_second / base.per_second:.2f}x")
    for name, met in targets.items():
        print(f"  {'met' if met else 'MISSED':6} {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
