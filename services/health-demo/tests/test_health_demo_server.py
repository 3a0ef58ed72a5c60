"""health-demo as a real gRPC server on loopback, talked to with real grpcio clients."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from health_demo.server import Settings, build
from service_runtime import ServerSettings, ServerThread

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN


def start(watch_interval: float, drain: float = 0.0) -> ServerThread:
    server = ServerSettings(host="127.0.0.1", port=0, drain=drain, grace=1.0)
    thread = ServerThread(build(Settings(server=server, watch_interval=watch_interval)))
    thread.start()
    return thread


@pytest.fixture
def server() -> Iterator[ServerThread]:
    srv = start(watch_interval=0.05)
    yield srv
    assert srv.stop(timeout=10)


def stub_for(port: int) -> tuple[grpc.Channel, health_pb2_grpc.HealthStub]:
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    return channel, health_pb2_grpc.HealthStub(channel)


def watch_in_background(stub: health_pb2_grpc.HealthStub, service: str) -> tuple[object, queue.Queue[object]]:
    """Start a Watch; its responses (then the RpcError or "end") arrive on the queue."""
    call = stub.Watch(health_pb2.HealthCheckRequest(service=service))
    received: queue.Queue[object] = queue.Queue()

    def pump() -> None:
        try:
            for response in call:
                received.put(response.status)
            received.put("end")
        except grpc.RpcError as exc:
            received.put(exc)

    threading.Thread(target=pump, daemon=True).start()
    return call, received


def test_check_answers_serving_for_the_server_and_known_services_and_not_found_otherwise(
    server: ServerThread,
) -> None:
    channel, stub = stub_for(server.port)
    with channel:
        assert stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5).status == SERVING
        assert stub.Check(health_pb2.HealthCheckRequest(service="health-demo"), timeout=5).status == SERVING
        with pytest.raises(grpc.RpcError) as caught:
            stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        assert "no.such.Service" in caught.value.details()


def test_watch_repeats_the_status_at_the_interval_until_the_client_leaves(server: ServerThread) -> None:
    channel, stub = stub_for(server.port)
    with channel:
        call, received = watch_in_background(stub, "health-demo")
        started = time.monotonic()
        statuses = [received.get(timeout=5) for _ in range(4)]
        assert statuses == [SERVING] * 4
        assert time.monotonic() - started >= 0.1  # repeated at the 50 ms interval, not a burst
        call.cancel()  # type: ignore[attr-defined]
        # Updates already on their way may still arrive; then the stream ends as cancelled.
        deadline = time.monotonic() + 5
        ended = received.get(timeout=5)
        while isinstance(ended, int):
            assert time.monotonic() < deadline, "the stream went on after the client left"
            ended = received.get(timeout=5)
        assert isinstance(ended, grpc.RpcError) and ended.code() == grpc.StatusCode.CANCELLED


def test_watch_sends_a_change_at_once_and_unknown_services_as_service_unknown() -> None:
    srv = start(watch_interval=30.0)
    try:
        channel, stub = stub_for(srv.port)
        with channel:
            _, known = watch_in_background(stub, "health-demo")
            _, unknown = watch_in_background(stub, "other")
            assert known.get(timeout=5) == SERVING
            assert unknown.get(timeout=5) == SERVICE_UNKNOWN
            started = time.monotonic()
            srv.server.health.set_status("health-demo", NOT_SERVING)
            assert known.get(timeout=5) == NOT_SERVING
            assert time.monotonic() - started < 5  # the change, not the 30 s tick
            assert (
                stub.Check(health_pb2.HealthCheckRequest(service="health-demo"), timeout=5).status
                == NOT_SERVING
            )
            assert stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5).status == SERVING
    finally:
        assert srv.stop(timeout=10)


def test_shutdown_turns_watch_streams_not_serving_and_ends_them_after_the_drain() -> None:
    srv = start(watch_interval=30.0, drain=0.5)
    channel, stub = stub_for(srv.port)
    with channel:
        _, received = watch_in_background(stub, "")
        assert received.get(timeout=5) == SERVING
        started = time.monotonic()
        srv.server.request_stop()
        assert received.get(timeout=5) == NOT_SERVING
        assert received.get(timeout=5) == "end"  # ended cleanly, not cut off at the end of the grace
        assert time.monotonic() - started >= 0.5  # open through the drain
        assert srv.stop(timeout=10)


def test_reflection_lists_the_health_service(server: ServerThread) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        assert "grpc.health.v1.Health" in database.get_services()
        method = database.FindFileContainingSymbol("grpc.health.v1.Health").service[0].method
        assert {"Check", "Watch"} <= {m.name for m in method}


def test_list_reports_every_known_service(server: ServerThread) -> None:
    channel, stub = stub_for(server.port)
    with channel:
        statuses = stub.List(health_pb2.HealthListRequest(), timeout=5).statuses
        assert {name: r.status for name, r in statuses.items()} == {"": SERVING, "health-demo": SERVING}


def test_the_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval"):
        build(Settings(watch_interval=0))


# --- the command, as the image runs it -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_command(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    # A short drain: SIGTERM would otherwise keep each test waiting the default 5 s.
    return subprocess.Popen(
        [sys.executable, "-m", "health_demo", "--host", "127.0.0.1", *args],
        env={**os.environ, "SHUTDOWN_DRAIN": "0.1", **(env or {})},
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def wait_ready(port: int) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=15)


def poll_on_new_connections(port: int, stop: threading.Event, seen: list[str]) -> None:
    """Check every 20 ms, each on a connection of its own with a 1 s deadline, as a kubelet probe does."""
    while not stop.is_set():
        try:
            status = check_once(port, timeout=1.0)
            outcome = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
        except grpc.RpcError as exc:
            outcome = exc.code().name
        if not seen or seen[-1] != outcome:
            seen.append(outcome)
        time.sleep(0.02)


def check_once(port: int, service: str = "", timeout: float = 1.0) -> int:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        request = health_pb2.HealthCheckRequest(service=service)
        return health_pb2_grpc.HealthStub(channel).Check(request, timeout=timeout).status


def test_sigterm_answers_not_serving_through_the_drain_before_unavailable_and_exits_0() -> None:
    port = free_port()
    env = {"PORT": str(port), "SERVICE_NAME": "demo.Svc", "WATCH_INTERVAL": "30", "ENVIRONMENT": "dev"}
    process = run_command("--shutdown-drain", "1.0", "--shutdown-grace", "1", env=env)
    try:
        wait_ready(port)
        channel, stub = stub_for(port)
        with channel:
            assert stub.Check(health_pb2.HealthCheckRequest(service="demo.Svc"), timeout=5).status == SERVING
            _, received = watch_in_background(stub, "demo.Svc")
            assert received.get(timeout=5) == SERVING
            seen: list[str] = []
            stop = threading.Event()
            poller = threading.Thread(target=poll_on_new_connections, args=(port, stop, seen))
            poller.start()
            time.sleep(0.2)
            signalled = time.monotonic()
            process.send_signal(signal.SIGTERM)
            assert received.get(timeout=10) == NOT_SERVING
            assert time.monotonic() - signalled < 0.5  # at once
            assert received.get(timeout=10) == "end"  # at the end of the drain
            assert process.wait(timeout=15) == 0
            time.sleep(0.2)
            stop.set()
            poller.join(10)
        # What a prober sees: serving, then not serving for the drain, then nothing listening. A probe
        # that reaches the server on a connection opened just before the stop is cancelled by grpc core
        # (no call is taken once stopping began): CANCELLED before UNAVAILABLE, 5 runs in 25 under load.
        assert seen[:2] == ["SERVING", "NOT_SERVING"], seen
        assert [s for s in seen if s != "CANCELLED"] == ["SERVING", "NOT_SERVING", "UNAVAILABLE"], seen
    finally:
        process.kill()
        _, stderr = process.communicate()
    lines = [json.loads(line) for line in stderr.splitlines()]
    messages = [line["msg"] for line in lines]
    assert all(line["environment"] == "dev" and line["level"] == "info" for line in lines)
    assert messages[0] == "serving" and lines[0]["port"] == port and "demo.Svc" in lines[0]["services"]
    draining = messages.index("draining: health NOT_SERVING")
    assert messages.index("signal received") < draining < messages.index("stopping: no new calls")
    assert messages[-1] == "stopped" and lines[draining]["drain_seconds"] == 1.0


def test_watch_streams_beyond_the_workers_leave_a_probe_answered_and_the_bound_refuses_more() -> None:
    # 16 streams used to take the 16 workers and every Check timed out; now 300 wait on 2 threads.
    port = free_port()
    process = run_command("--port", str(port), "--workers", "2", "--max-streams", "300")
    try:
        wait_ready(port)
        channel, stub = stub_for(port)
        with channel:
            watches = [stub.Watch(health_pb2.HealthCheckRequest(), timeout=30) for _ in range(300)]
            assert {next(w).status for w in watches} == {SERVING}
            assert check_once(port, timeout=1.0) == SERVING  # new connection, 1 s deadline
            with pytest.raises(grpc.RpcError) as caught:
                next(stub.Watch(health_pb2.HealthCheckRequest(), timeout=5))
            assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            for watch in watches:
                watch.cancel()  # type: ignore[attr-defined]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
        process.communicate()


@pytest.mark.parametrize(
    ("args", "env"),
    [(["--port", "70000"], {}), (["-port=65536"], {}), (["--port=-1"], {}), ([], {"PORT": "70000"})],
)
def test_a_port_out_of_range_exits_2_at_once(args: list[str], env: dict[str, str]) -> None:
    # gRPC would take 70000 modulo 65536 and listen on 4464 without a word.
    process = run_command(*args, env=env)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 2
    assert "-port/--port" in stderr and ("at most 65535" in stderr or "at least 0" in stderr)


def test_the_original_port_flag_spelling_and_a_busy_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process = run_command(f"-port={port}")
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 1
    assert "cannot listen on 127.0.0.1:" + str(port) in stderr


def test_bad_flags_exit_2_naming_the_value() -> None:
    process = run_command("--watch-interval", "soon")
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 2
    assert "--watch-interval" in stderr and "'soon'" in stderr
