"""Benchmark the platform's gRPC services on loopback, each against a bare grpcio baseline in the same run.

Each server runs in this process with the same worker threads, the load generator in another process
(grpc.aio, one HTTP/2 connection, CONCURRENCY calls in flight). Cases:
- health Check: health-demo vs a bare grpcio `HealthServicer` on a threaded server;
- ext_authz Check: auth-adapter with an HS256 JWT new each call (its cache of verified tokens never answers;
  every call pays the verification), the same with its C path off (Python alone, as built without a C
  compiler), a repeated JWT and a static token, vs a bare grpcio `Check` server that
  returns OK (the target's baseline) and the same on a bare grpc.aio server (for reference: grpc.aio costs
  ~1.4x the CPU per call of the threaded server, why service_runtime serves on the threaded one), and the
  same on service_runtime's WorkerPool, the pool the services serve on (the adapter against it is its
  handler's cost alone, the pool's saving set apart);
- Watch capacity, health-demo vs the bare HealthServicer, each server in a fresh process of its own: another
  process opens health `Watch` streams in steps (each answered once: held); at each step a `Check` with a
  1 s deadline on a new connection (a kubelet probe), the server process's RSS growth since it started
  (before any stream) in MB per 1,000 open streams, and at 1,000 open streams the p99 of `Check` under load.
The bare Check gets the very requests the auth-adapter case gets (same CheckRequest bytes, a new JWT each),
so both parse the same message; both answer a CheckResponse.
Figures: calls per second, p50 and p99 latency; ratios to the baselines. Targets (2 cores, quiet machine):
auth-adapter (new JWT each call) >= 0.8x the bare Check; health-demo >= 0.9x the bare HealthServicer; the
probe answered at every step; no failed calls. The machine's load average is printed beside the figures.
Measured 2026-12-06 on 2 shared cores (calls/s swings up to 3x between identical rounds under load, so
compare server CPU per call too): at load 4-5 (00:30 UTC, after the per-call cuts of a061f91 and 2db5e1f)
auth-adapter (new JWT) / bare Check (same requests) 0.75x calls/s and 0.76x by CPU per call (full run), and
0.85x / 0.78x (5 interleaved rounds); a repeated JWT and a static token cost what the bare Check costs
within the noise; before the cuts 0.50x-0.67x by CPU (load 12-18). Watch streams: ~21 MB per 1,000 for
health-demo and the bare servicer alike, the probe answered at 4,000.
2026-12-07, quiet (load 0.8 before): 0.79x calls/s, 0.77x by CPU (569 vs 436 us per call); a bare server
answering the adapter's own 182-byte response costs what the bare Check costs (454 vs 458 us), and so does
the service runtime (health, reflection, limits) around an OK handler (441 us): the whole difference is the
adapter's ~25-35 us of Python per Check, which costs the threaded server about 4x that in its process.
2026-12-07 14:34 (another machine, ~5,000 bare calls/s, load 2.5 before): 0.66x calls/s, 0.63x by CPU.
Why the handler costs more in the server: it takes ~10 us of its thread's CPU in a loop, ~45 us after the
CPU caches are walked between calls, and ~38 us inside the server (the last section prints all three).
Between two Checks the server's own per-call work (~170 us) evicts the handler's code and data, so the
handler pays cache misses, not instructions. Tried and measured, no gain worth keeping: the handler
compiled with mypyc (-15% in a loop, none in the server), grpc.aio (0.74x-0.83x, within the noise), the
server options optimization_target and http2.bdp_probe (none), a busy sibling CPU (none in a loop).
Where the server's CPU goes (the last section, from /proc per thread): the bare Check's 150-200 us per call
is mostly calls handed between threads (2026-12-07 17:00: workers 103 us and 5.4 voluntary switches,
grpc's polling thread 68 us, grpc core's event engine 41 us). The adapter adds its handler's own CPU and
10-25 us more in grpc's threads, with no more voluntary switches per call; a 30 us busy loop as the handler
adds 50-58 us the same way. perf (cpu-clock sampling: this VM has no hardware counters) puts most of the
adapter's extra (58%) in libpython, the interpreter: the C it calls (_sha256, _json, binascii) is ~1% of its
samples. So the cost is bytecode per Check, each op several times dearer in the server than in a loop.
Tried, not adopted: rsjwt 0.0.4 (Rust jsonwebtoken; 20.5 us per new JWT with the caches walked, against
31.6 for this code before its cuts), orjson (no faster cold), the collector off (no change), mypyc on the
handler's modules (12.8 -> 11.7 us per Check in a loop, 2026-12-07 19:20).
2026-12-07 19:00-19:40, after 1cea614..d366565 (the usual answer from a pattern per length of the identity
values, the JWT split and decoded as bytes, the claims read in one map; 696 -> 601 bytecodes per Check):
the handler inside the server 29-35 us (37-38 before), 10-12 us in a loop (14.6); five pinned full runs
(the first at 002ed69, the last at 6b72783) 0.81x, 0.75x, 0.76x, 0.71x, 0.71x calls/s (0.80x, 0.74x,
0.75x, 0.70x, 0.69x by CPU), the bare Check at 146-160 us per call; a repeated JWT 0.78-0.92x, a static
token 0.78-0.87x. The target is met in one run of five; the last run's rounds spread from 0.67x to 0.88x.
2026-12-07 21:10-22:48, the services on service_runtime's WorkerPool (fc8cbc9: a bare Check on it costs 159
against 175 us per call on a ThreadPoolExecutor, median of 8 interleaved pinned rounds, cheaper in each):
six pinned full runs (the last at 47d48e5), auth-adapter (new JWT) / bare Check 0.85x, 0.79x, 0.85x, 0.85x,
0.81x, 0.82x calls/s (0.81x, 0.77x, 0.83x, 0.83x, 0.80x just under, 0.81x by CPU; rounds 0.65x-0.89x);
against the bare Check on the same pool 0.77x, 0.80x, 0.81x, 0.84x, 0.74x, 0.76x (0.72x-0.81x by CPU): the
pool's saving moved the ratio, the handler's cost is where it was (27.5-34.5 us inside the server). A
repeated JWT 0.89x-1.00x, a static token 0.91x-1.01x; health-demo 1.03x-1.10x. The handler's CPU inside
the server does not depend on the worker count (29-33 us with 16, 4 or 2 workers, 4 interleaved rounds),
so handing calls to the most recently idle thread would not warm its caches.
2026-12-07 23:43-23:58, the usual new JWT verified in C (auth_adapter._jws, ffb591a; it accepts only what
the Python code accepts and hands every other token back): four pinned full runs, auth-adapter (new JWT) /
bare Check 0.88x, 0.83x, 0.85x, 0.90x calls/s (0.87x, 0.83x, 0.84x, 0.89x by CPU; every round 0.80x-0.99x),
against the bare Check on the pool 0.85x, 0.81x, 0.82x, 0.89x; the handler inside the server 19.2-21.3 us
(27.5-34.5 before), 164-179 us of server CPU per call against the bare Check's 137-153. A repeated JWT
0.87x-0.93x, a static token 0.87x-0.95x; health-demo 1.03x-1.11x. Load average 0.3 before the first run,
4.3-4.6 (the previous run's) before the others. Two more at 879cae5 (00:11-00:20, with the Python-only
case): 0.84x and 0.89x calls/s (0.82x, 0.88x by CPU; rounds 0.80x-0.91x), the same adapter with its C path
off 0.77x and 0.85x in the same runs (159 against 174 us, 176 against 185 us of server CPU per call).
Each throughput case runs --repeat rounds in alternating order; the figures are the medians over the rounds.
--pin puts the servers on one CPU and the clients on the others, as in a cluster, where Envoy never shares
the adapter's CPU (on 2 shared CPUs the kernel moves client and server threads between both). It lowers
every server's CPU per call but not the gap: 2026-12-07 16:00, pinned, bare Check 7089/s at 138 us per call,
the adapter 5030/s at 198 us (0.71x); unpinned right after, 0.68x calls/s, 0.63x by CPU. (Two shorter A/B
runs, pinned, had shown 0.81x and 0.87x: the spread between runs is wider than the gap to the target.)
Run: .venv/bin/python bench/bench_services.py [--duration S] [--concurrency N] [--repeat R]
     [--watch-steps 1000,2000,4000] [--pin] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import resource
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import gateway_config
import grpc
import jwt
from auth_adapter import tokens
from auth_adapter.authorizer import Authorizer
from auth_adapter.cli import build
from auth_adapter.server import build_server
from auth_adapter.service import AuthorizationService
from envoy.service.auth.v3 import attribute_context_pb2, external_auth_pb2, external_auth_pb2_grpc
from google.rpc import code_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from health_demo.server import Settings as HealthSettings
from health_demo.server import build as build_health_demo
from service_runtime import ServerSettings, ServerThread, bind
from service_runtime.workers import WorkerPool

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
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Result:
    case: str
    calls: int
    errors: int
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_us: float  # the server process's CPU time (user + system) over the measured seconds, per call started


@dataclass
class WatchStep:
    server: str
    streams: int  # Watch streams open and answered
    refused: int  # streams the server refused (RESOURCE_EXHAUSTED) or that failed
    probe_ok: bool  # a Check on a new connection with a 1 s deadline answered SERVING
    probe_ms: float
    rss_mb: float  # the server process's RSS with these streams open
    rss_mb_per_1000: float  # its growth since it started (no stream yet), per 1,000 open streams


# --- the client processes ------------------------------------------------------------------------------


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
    """The requests one client cycles through: one repeated, or (jwt-fresh) a new signed JWT per call."""
    if kind == "health":
        return "health", [health_pb2.HealthCheckRequest(service="")]
    if kind == "jwt":
        return "authz", [_authz(_jwt("s1"))]
    if kind == "jwt-fresh":
        return "authz", [_authz(_jwt(f"s{i}")) for i in range(FRESH_TOKENS)]
    return "authz", [_authz(STATIC_TOKEN)]


async def _load(
    port: int, kind: str, concurrency: int, warmup: float, duration: float, out: Any
) -> dict[str, Any]:
    """Calls for warmup + duration seconds; "start" and "stop" on `out` bracket the measured seconds (the
    server reads its CPU then), the figures follow."""
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
        errors = total = 0
        measuring_from = time.perf_counter() + warmup
        stop_at = measuring_from + duration

        async def worker() -> None:
            nonlocal errors, total
            while True:
                started = time.perf_counter()
                if started >= stop_at:
                    return
                try:
                    response = await call(next(sequence), timeout=5)
                    good = ok(response)
                except grpc.aio.AioRpcError:
                    good = False
                total += 1
                if started >= measuring_from:
                    latencies.append(time.perf_counter() - started)
                    errors += not good

        async def marks() -> None:
            await asyncio.sleep(measuring_from - time.perf_counter())
            out.send("start")
            await asyncio.sleep(stop_at - time.perf_counter())
            out.send("stop")

        await asyncio.gather(marks(), *(worker() for _ in range(concurrency)))
    return {"latencies": latencies, "errors": errors, "total": total}


def client(port: int, kind: str, concurrency: int, warmup: float, duration: float, out: Any) -> None:
    out.send(asyncio.run(_load(port, kind, concurrency, warmup, duration, out)))


async def _hold(port: int, steps: list[int], conn: Any) -> None:
    """Open Watch streams up to each step (100 per connection, as a fleet of clients would hold them), wait
    for each one's first answer, report, and wait for the go-ahead."""
    channels: list[grpc.aio.Channel] = []
    calls: list[Any] = []
    opened = refused = 0

    async def first_answer(call: Any) -> bool:
        try:
            await asyncio.wait_for(call.read(), 5)
            return True
        except (grpc.aio.AioRpcError, TimeoutError):
            call.cancel()
            return False

    try:
        for target in steps:
            while opened < target:
                if opened % 100 == 0:
                    channels.append(grpc.aio.insecure_channel(f"127.0.0.1:{port}"))
                stub = health_pb2_grpc.HealthStub(channels[-1])
                batch = [
                    stub.Watch(health_pb2.HealthCheckRequest()) for _ in range(min(100, target - opened))
                ]
                opened += len(batch)
                for call, held in zip(batch, await asyncio.gather(*map(first_answer, batch)), strict=True):
                    if held:
                        calls.append(call)
                    else:
                        refused += 1
            conn.send({"streams": len(calls), "refused": refused})
            conn.recv()  # the parent measured this step
    finally:
        for call in calls:
            call.cancel()
        for channel in channels:
            await channel.close()


def holder(port: int, steps: list[int], conn: Any) -> None:
    asyncio.run(_hold(port, steps, conn))


# --- the servers ---------------------------------------------------------------------------------------

Started = tuple[int, Callable[[], Any]]


def _threaded(
    add: Callable[[grpc.Server], None], pool: ThreadPoolExecutor | WorkerPool | None = None
) -> Started:
    """A bare grpcio server on WORKERS threads (a ThreadPoolExecutor unless `pool` is given): what a service
    written straight on grpcio would be."""
    pool = pool or ThreadPoolExecutor(max_workers=WORKERS)
    server = grpc.server(pool)  # type: ignore[arg-type]  # grpcio takes any executor
    add(server)
    port = bind(server, "127.0.0.1", 0)
    server.start()

    def halt() -> None:
        server.stop(0).wait()
        pool.shutdown(wait=True)

    return port, halt


def bare_health() -> Started:
    servicer = health.HealthServicer()
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    return _threaded(lambda server: health_pb2_grpc.add_HealthServicer_to_server(servicer, server))


class _AllowAll(external_auth_pb2_grpc.AuthorizationServicer):
    RESPONSE = external_auth_pb2.CheckResponse(
        status=status_pb2.Status(code=code_pb2.OK), ok_response=external_auth_pb2.OkHttpResponse()
    )

    def Check(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC method name
        return self.RESPONSE


class _AllowAllAsync(external_auth_pb2_grpc.AuthorizationServicer):
    async def Check(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC method name
        return _AllowAll.RESPONSE


async def _serve_aio(ready: Any, stop: Any, port: list[int]) -> None:
    server = grpc.aio.server(ThreadPoolExecutor(max_workers=WORKERS))
    external_auth_pb2_grpc.add_AuthorizationServicer_to_server(_AllowAllAsync(), server)
    port.append(bind(server, "127.0.0.1", 0))
    await server.start()
    ready.set()
    while not stop.is_set():
        await asyncio.sleep(0.05)
    await server.stop(0)


def bare_aio_check() -> Started:
    """The same OK answer from an asyncio handler on a bare grpc.aio server: what grpc.aio costs per call
    by itself, beside the threaded server (for reference)."""
    import threading

    ready, stop, port = threading.Event(), threading.Event(), []
    thread = threading.Thread(target=lambda: asyncio.run(_serve_aio(ready, stop, port)), daemon=True)
    thread.start()
    ready.wait(30)

    def halt() -> None:
        stop.set()
        thread.join(30)

    return port[0], halt


def bare_check() -> Started:
    return _threaded(
        lambda server: external_auth_pb2_grpc.add_AuthorizationServicer_to_server(_AllowAll(), server)
    )


def bare_check_on_pool() -> Started:
    """The bare Check on the worker pool the services serve on (service_runtime.WorkerPool) instead of a
    ThreadPoolExecutor: the adapter against it is its handler's cost alone, the pool's saving set apart."""
    return _threaded(
        lambda server: external_auth_pb2_grpc.add_AuthorizationServicer_to_server(_AllowAll(), server),
        WorkerPool(WORKERS, name="grpc"),
    )


def _in_thread(server: Any) -> Started:
    thread = ServerThread(server)
    port = thread.start()
    return port, lambda: thread.stop(30)


def _settings(max_streams: int = 20_000) -> ServerSettings:
    return ServerSettings(
        host="127.0.0.1", port=0, workers=WORKERS, drain=0.0, grace=0.0, max_streams=max_streams
    )


def health_demo() -> Started:
    return _in_thread(build_health_demo(HealthSettings(server=_settings(), watch_interval=60.0)))


WATCH_SERVERS: dict[str, Callable[[], Started]] = {
    "bare HealthServicer": bare_health,
    "health-demo": health_demo,
}


def serve(name: str, conn: Any) -> None:
    """One of WATCH_SERVERS in a process of its own (its RSS then counts only what the streams add): the
    port, then serve until told to stop."""
    port, stop = WATCH_SERVERS[name]()
    conn.send(port)
    conn.recv()
    stop()


def _authorizer() -> Authorizer:
    return build(gateway_config.loads(CONFIG), {"JWT_SECRET": SECRET, "VALID_TOKENS": STATIC_TOKEN})


def auth_adapter() -> Started:
    return _in_thread(build_server(_settings(), _authorizer()))


def auth_adapter_python() -> Started:
    """The adapter with its C path (auth_adapter._jws) off: every JWT verified by the Python code, as in a
    build without a C compiler (for reference)."""
    built = tokens._Verifier  # noqa: SLF001 - read by TokenValidator when it is built
    tokens._Verifier = None  # noqa: SLF001
    try:
        return auth_adapter()
    finally:
        tokens._Verifier = built  # noqa: SLF001


# --- where the adapter's extra CPU goes ----------------------------------------------------------------


@dataclass
class HandlerCost:
    where: str
    us_per_call: float  # CPU of the thread running the handler (time.thread_time), per Check


def _handler() -> tuple[Callable[[bytes], Any], list[bytes]]:
    """The adapter's Check handler as the server calls it (request bytes parsed first), and fresh requests."""
    check = AuthorizationService(_authorizer()).handlers()["Check"]
    parse, handle = check.request_deserializer, check.unary_unary
    assert parse is not None and handle is not None
    return (lambda raw: handle(parse(raw), None)), [
        _authz(_jwt(f"h{i}")).SerializeToString() for i in range(HANDLER_CALLS)
    ]


HANDLER_CALLS = 3_000
CACHE_WALK = 8 << 20  # bytes touched between two calls: more than this machine's caches hold


def handler_costs() -> list[HandlerCost]:
    """The Check handler's CPU per call with a new JWT each call: in a loop (its code and data stay in the
    CPU caches), after walking CACHE_WALK bytes and a few JSON documents between calls (as the server's own
    per-call work does), and inside the server while the fresh-JWT case runs."""
    call, requests = _handler()
    started = time.thread_time()
    for raw in requests:
        call(raw)
    hot = (time.thread_time() - started) / len(requests)
    call, requests = _handler()
    walk = bytearray(CACHE_WALK)
    documents = [json.dumps({f"k{i}": list(range(20))}) for i in range(50)]
    cold = 0.0
    for raw in requests:
        walk[::64] = bytes(len(walk) // 64)  # one write per cache line
        for document in documents:
            json.loads(document)
        started = time.thread_time()
        call(raw)
        cold += time.thread_time() - started
    return [
        HandlerCost("in a loop (caches warm)", hot * 1e6),
        HandlerCost("after the caches are walked", cold / len(requests) * 1e6),
    ]


_served: list[float] = []


def timed_auth_adapter() -> Started:
    """The auth_adapter() server, its Check handler's thread CPU recorded per call in `_served` (beside
    handler_costs' figures) until it stops."""
    original = AuthorizationService.Check

    def check(self: AuthorizationService, request: Any, context: Any) -> bytes:
        started = time.thread_time()
        try:
            return original(self, request, context)
        finally:
            _served.append(time.thread_time() - started)

    AuthorizationService.Check = check  # type: ignore[method-assign]  # this server's handlers bind it
    port, stop = auth_adapter()

    def halt() -> None:
        stop()
        AuthorizationService.Check = original  # type: ignore[method-assign]

    return port, halt


# --- where the server's CPU goes, by thread ----------------------------------------------------------


@dataclass
class ThreadShare:
    case: str
    role: str
    threads: int
    cpu_us: float  # CPU per call (user + system; /proc's clock ticks, 10 ms each, over thousands of calls)
    waits: float  # voluntary context switches per call: a thread blocked on the GIL, a lock, a queue, epoll


def _role(name: str) -> str:
    if name.endswith("(_serve)"):
        return "polling thread"  # grpc's _serve: completion-queue events, then hands each call on
    if name.startswith(("ThreadPoolExecutor-", "grpc_")):  # the bare servers' pools, service_runtime's
        return "workers"  # receive, the handler, send
    if name == "event_engine":
        return "grpc core event engine"  # sockets and HTTP/2, no Python
    return "other"


def thread_ticks() -> dict[int, tuple[str, int, int]]:
    """This process's threads by id: (role, CPU clock ticks, voluntary context switches)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    found: dict[int, tuple[str, int, int]] = {}
    for task in os.listdir("/proc/self/task"):
        try:
            command, ticks = proc_stat(f"/proc/self/task/{task}/stat")
            with open(f"/proc/self/task/{task}/status") as f:
                waits = next(int(line.split()[1]) for line in f if line.startswith("voluntary_ctxt_switches"))
        except (OSError, StopIteration):
            continue  # a thread that ended in between
        tid = int(task)
        found[tid] = (_role(names.get(tid) or command), ticks, waits)  # native threads by their command
    return found


def thread_shares(
    case: str, start: Callable[[], Started], kind: str, args: argparse.Namespace
) -> list[ThreadShare]:
    """One more run of `case`: its server's CPU and waits per call by thread role (threads alive from the
    first mark to the last)."""
    marks: list[dict[int, tuple[str, int, int]]] = []

    def cpu() -> float:
        marks.append(thread_ticks())
        return cpu_seconds()

    port, stop = start()
    try:
        calls = load(port, case, kind, args, cpu).calls
    finally:
        stop()
    before, after = marks
    roles: dict[str, list[int]] = {}
    for tid, (role, ticks, waits) in after.items():
        if tid in before:
            total = roles.setdefault(role, [0, 0, 0])
            total[0] += 1
            total[1] += ticks - before[tid][1]
            total[2] += waits - before[tid][2]
    tick = os.sysconf("SC_CLK_TCK")
    return [
        ThreadShare(case, role, n, ticks / tick * 1e6 / calls, waits / calls)
        for role, (n, ticks, waits) in sorted(roles.items(), key=lambda item: -item[1][1])
        if calls and (ticks or waits)
    ]


# With --pin: (the servers' CPUs, the clients' CPUs); None lets the kernel place every process anywhere.
PLACEMENT: tuple[set[int], set[int]] | None = None


def pin(server_cpus: set[int], client_cpus: set[int]) -> None:
    """Servers (this process, and server processes spawned later) on `server_cpus`, clients elsewhere."""
    global PLACEMENT
    PLACEMENT = (server_cpus, client_cpus)
    os.sched_setaffinity(0, server_cpus)


def _spawn(target: Callable[..., None], *args: Any, role: str = "client") -> tuple[Any, Any]:
    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe()
    process = context.Process(target=target, args=(*args, theirs))
    process.start()
    if PLACEMENT is not None:  # before the child has finished importing: it runs where it is put
        os.sched_setaffinity(process.pid, PLACEMENT[0] if role == "server" else PLACEMENT[1])
    return process, mine


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def proc_stat(path: str) -> tuple[str, int]:
    """A /proc stat file's command name and user + system CPU in clock ticks (proc(5): utime and stime,
    the 14th and 15th fields)."""
    with open(path) as f:
        head, tail = f.read().rsplit(")", 1)  # the command name may hold spaces and parentheses
    fields = tail.split()
    return head.split("(", 1)[1], int(fields[11]) + int(fields[12])


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of another process."""
    return proc_stat(f"/proc/{pid}/stat")[1] / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE / 1e6


def load(
    port: int,
    case: str,
    kind: str,
    args: argparse.Namespace,
    cpu_of_server: Callable[[], float] = cpu_seconds,
) -> Result:
    """`kind` requests from a client process; the server CPU from `cpu_of_server` (default: this process)."""
    process, conn = _spawn(client, port, kind, args.concurrency, args.warmup, args.duration)
    conn.recv()  # "start": warmed up (the client's start-up and warm-up are not counted)
    cpu_before = cpu_of_server()
    conn.recv()  # "stop"
    cpu = cpu_of_server() - cpu_before
    data = conn.recv()
    process.join(30)
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
        cpu_us=cpu * 1e6 / calls if calls else float("nan"),
    )


def measure(case: str, start: Callable[[], Started], kind: str, args: argparse.Namespace) -> Result:
    port, stop = start()
    try:
        return load(port, case, kind, args)
    finally:
        stop()


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
        cpu_us=mid([r.cpu_us for r in results]),
    )


def probe(port: int) -> tuple[bool, float]:
    """A kubelet-style probe: a new connection, a Check with a 1 s deadline."""
    started = time.perf_counter()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1.0)
        ok = answer.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        ok = False
    return ok, (time.perf_counter() - started) * 1000


def watch_capacity(
    name: str, steps: list[int], args: argparse.Namespace
) -> tuple[list[WatchStep], Result | None]:
    """Start the server `name` in a fresh process, hold Watch streams in steps; at each, probe and RSS
    against the server's RSS before any stream; under 1,000 streams, Check's p99 under load."""
    server, control = _spawn(serve, name, role="server")
    found: list[WatchStep] = []
    under_load: Result | None = None
    holder_process = None
    try:
        if not control.poll(60):
            raise TimeoutError(f"{name}: the server process did not start within 60 s")
        port = control.recv()
        probe(port)  # the first connection and call allocate what every later one reuses
        time.sleep(0.5)
        before = rss_mb(server.pid)
        holder_process, conn = _spawn(holder, port, steps)
        for _ in steps:
            if not conn.poll(300):
                raise TimeoutError(f"{name}: the stream holder did not report within 300 s")
            held = conn.recv()
            ok, ms = probe(port)
            rss = rss_mb(server.pid)
            per_1000 = (rss - before) * 1000 / held["streams"] if held["streams"] else float("nan")
            found.append(WatchStep(name, held["streams"], held["refused"], ok, ms, rss, per_1000))
            if held["streams"] == 1000 and under_load is None:
                under_load = load(
                    port,
                    f"{name} Check, 1,000 Watch open",
                    "health",
                    args,
                    lambda: process_cpu_seconds(server.pid),
                )
            conn.send("next")
        holder_process.join(60)
    finally:
        if holder_process is not None and holder_process.is_alive():
            holder_process.kill()
        if server.is_alive():
            control.send("stop")
            server.join(60)
        if server.is_alive():
            server.kill()
    return found, under_load


def placement(cpus: tuple[set[int], set[int]] | None) -> str:
    if cpus is None:
        return " shared by servers and clients"
    return f" (servers on CPU {_cpu_list(cpus[0])}, clients on CPU {_cpu_list(cpus[1])})"


def _cpu_list(cpus: set[int]) -> str:
    return ",".join(str(c) for c in sorted(cpus))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds measured per case (default 3)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds not measured first (default 1)")
    parser.add_argument("--concurrency", type=int, default=8, help="calls in flight (default 8)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds, alternating the order; medians (default 3)"
    )
    parser.add_argument(
        "--watch-steps",
        default="1000,2000,4000",
        help="Watch streams held at each step, comma-separated; with 1000 among them, Check's p99 is "
        "measured under 1,000 open streams (default 1000,2000,4000)",
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="servers on the first CPU, every client on the others (as Envoy runs apart from the adapter in "
        "a cluster): no cache shared or thread migrated between client and server; needs 2+ CPUs",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    steps = sorted({int(s) for s in args.watch_steps.split(",") if s.strip()})
    if args.pin:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            parser.error(f"--pin needs 2 CPUs or more; this process may use {len(cpus)}")
        pin({cpus[0]}, set(cpus[1:]))
    load_before = os.getloadavg()
    cases = [
        ("bare grpcio HealthServicer", bare_health, "health"),
        ("health-demo Check", health_demo, "health"),
        ("bare grpcio Check returning OK", bare_check, "jwt-fresh"),
        ("bare grpc.aio async Check returning OK", bare_aio_check, "jwt-fresh"),
        ("bare Check on the services' WorkerPool", bare_check_on_pool, "jwt-fresh"),
        ("auth-adapter Check, JWT new each call", auth_adapter, "jwt-fresh"),
        ("auth-adapter, new JWT, Python path only", auth_adapter_python, "jwt-fresh"),
        ("auth-adapter Check, JWT repeated", auth_adapter, "jwt"),
        ("auth-adapter Check, static token", auth_adapter, "token"),
    ]
    # Rounds in alternating order, so a neighbour's load burst or a warm cache favours no case; medians.
    rounds: dict[str, list[Result]] = {name: [] for name, _, _ in cases}
    for index in range(args.repeat):
        for name, start, kind in cases if index % 2 == 0 else cases[::-1]:
            rounds[name].append(measure(name, start, kind, args))
    results = [median_of(rounds[name]) for name, _, _ in cases]
    by_name = {r.case: r for r in results}
    watch: list[WatchStep] = []
    for name in WATCH_SERVERS:
        found, under_load = watch_capacity(name, steps, args)
        watch += found
        if under_load is not None:
            results.append(under_load)

    def ratios(case: str, baseline: str) -> tuple[float, float]:
        """(throughput ratio, CPU-cost ratio: the baseline's server CPU per call over the case's), the
        second being what a quiet machine's throughput ratio would be when the server is CPU-bound."""
        mine, base = by_name[case], by_name[baseline]
        return mine.per_second / base.per_second, base.cpu_us / mine.cpu_us

    def per_round(case: str, baseline: str) -> list[float]:
        """The throughput ratio in each round (the two measured seconds apart): its spread says how far one
        run's median can be trusted on a shared machine."""
        pairs = zip(rounds[case], rounds[baseline], strict=True)
        return [mine.per_second / base.per_second for mine, base in pairs]

    health_ratio, health_cpu = ratios("health-demo Check", "bare grpcio HealthServicer")
    authz_ratio, authz_cpu = ratios("auth-adapter Check, JWT new each call", "bare grpcio Check returning OK")
    authz_rounds = per_round("auth-adapter Check, JWT new each call", "bare grpcio Check returning OK")
    aio_ratio, aio_cpu = ratios(
        "auth-adapter Check, JWT new each call", "bare grpc.aio async Check returning OK"
    )
    pool_ratio, pool_cpu = ratios(
        "auth-adapter Check, JWT new each call", "bare Check on the services' WorkerPool"
    )
    python_ratio, python_cpu = ratios(
        "auth-adapter, new JWT, Python path only", "bare grpcio Check returning OK"
    )
    costs = handler_costs()
    measure("auth-adapter, handler timed", timed_auth_adapter, "jwt-fresh", args)
    costs.append(HandlerCost("inside the server, fresh-JWT load", statistics.mean(_served) * 1e6))
    shares = thread_shares("bare grpcio Check returning OK", bare_check, "jwt-fresh", args)
    shares += thread_shares("auth-adapter Check, JWT new each call", auth_adapter, "jwt-fresh", args)
    demo_steps = [w for w in watch if w.server == "health-demo"]
    targets = {
        "auth-adapter (new JWT each call) >= 0.8x bare Check": authz_ratio >= 0.8,
        "auth-adapter (new JWT each call) server CPU per call <= 1.25x bare Check's": authz_cpu >= 0.8,
        "health-demo >= 0.9x bare HealthServicer": health_ratio >= 0.9,
        "health-demo: probe answered at every Watch step": all(
            w.probe_ok and not w.refused for w in demo_steps
        ),
        "no failed calls": all(r.errors == 0 for r in results),
    }
    load_after = os.getloadavg()
    if args.json:
        print(
            json.dumps(
                {
                    "results": [asdict(r) for r in results],
                    "watch": [asdict(w) for w in watch],
                    "ratios": {
                        "health": health_ratio,
                        "health_cpu": health_cpu,
                        "authz": authz_ratio,
                        "authz_cpu": authz_cpu,
                        "authz_rounds": authz_rounds,
                        "authz_vs_aio": aio_ratio,
                        "authz_vs_aio_cpu": aio_cpu,
                        "authz_vs_pool": pool_ratio,
                        "authz_vs_pool_cpu": pool_cpu,
                        "authz_python_only": python_ratio,
                        "authz_python_only_cpu": python_cpu,
                    },
                    "handler": [asdict(c) for c in costs],
                    "threads": [asdict(t) for t in shares],
                    "targets": targets,
                    "load": {"before": load_before, "after": load_after},
                    "placement": None
                    if PLACEMENT is None
                    else {"servers": sorted(PLACEMENT[0]), "clients": sorted(PLACEMENT[1])},
                },
                indent=2,
            )
        )
        return 0
    print(
        f"loopback, client in another process, {WORKERS} server workers, {args.concurrency} calls in flight, "
        f"median of {args.repeat} x {args.duration:g} s, {os.cpu_count()} CPUs"
        f"{placement(PLACEMENT)}; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after (other processes share the CPUs)"
    )
    print(f"{'case':44} {'calls/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'server CPU us/call':>19}")
    for r in results:
        print(
            f"{r.case:44} {r.per_second:9.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} {r.errors:7d} {r.cpu_us:19.0f}"
        )
    print(
        f"health-demo / bare HealthServicer: {health_ratio:.2f}x calls/s, {health_cpu:.2f}x by CPU per call"
    )
    print(
        f"auth-adapter (new JWT each call) / bare Check: {authz_ratio:.2f}x calls/s, "
        f"{authz_cpu:.2f}x by CPU per call; per round {min(authz_rounds):.2f}x-{max(authz_rounds):.2f}x "
        "calls/s"
    )
    print(
        f"auth-adapter (new JWT each call) / bare grpc.aio Check: {aio_ratio:.2f}x calls/s, "
        f"{aio_cpu:.2f}x by CPU per call (grpc.aio for reference)"
    )
    print(
        f"auth-adapter (new JWT each call) / bare Check on the services' WorkerPool: {pool_ratio:.2f}x "
        f"calls/s, {pool_cpu:.2f}x by CPU per call (like for like: the handler's cost alone)"
    )
    print(
        f"auth-adapter, new JWT, Python path only / bare Check: {python_ratio:.2f}x calls/s, "
        f"{python_cpu:.2f}x by CPU per call (without auth_adapter._jws, as built without a C compiler; "
        "for reference)"
    )
    print(f"\n{'Watch streams held':22} {'streams':>8} {'refused':>8} {'probe':>6} {'probe ms':>9}", end=" ")
    print(f"{'RSS MB':>7} {'MB per 1,000 streams':>21}")
    for w in watch:
        print(
            f"{w.server:22} {w.streams:8d} {w.refused:8d} {'ok' if w.probe_ok else 'FAILED':>6} "
            f"{w.probe_ms:9.1f} {w.rss_mb:7.1f} {w.rss_mb_per_1000:21.1f}"
        )
    print("(RSS of each server's own fresh process; growth measured from its start, before any stream)")
    print("\nauth-adapter's Check handler alone (new JWT each call), its thread's CPU per call:")
    for c in costs:
        print(f"  {c.where:40} {c.us_per_call:6.1f} us")
    print("\nWhere the server's CPU goes, per call, by thread (one more run of each case; waits: voluntary")
    print("context switches, a thread blocked on the GIL, a lock, a queue or epoll):")
    print(f"  {'case':40} {'threads':28} {'CPU us':>7} {'waits':>6}")
    for t in shares:
        if t.cpu_us >= 0.05 or t.waits >= 0.005:  # idle threads (the main thread, timers) left out
            print(f"  {t.case:40} {f'{t.role} ({t.threads})':28} {t.cpu_us:7.1f} {t.waits:6.2f}")
    for name, met in targets.items():
        print(f"  {'met' if met else 'MISSED':6} {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
