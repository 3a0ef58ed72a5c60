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
from health_demo.server import HealthDemoServer, Settings

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN


def start(**overrides: object) -> HealthDemoServer:
    settings = Settings(**{"port": 0, "host": "127.0.0.1", "shutdown_grace": 1.0, **overrides})  # type: ignore[arg-type]
    server = HealthDemoServer(settings)
    server.start()
    return server


@pytest.fixture
def server() -> Iterator[HealthDemoServer]:
    srv = start(watch_interval=0.05)
    yield srv
    srv.stop(0).wait()


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
    server: HealthDemoServer,
) -> None:
    channel, stub = stub_for(server.port)
    with channel:
        assert stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5).status == SERVING
        assert stub.Check(health_pb2.HealthCheckRequest(service="health-demo"), timeout=5).status == SERVING
        with pytest.raises(grpc.RpcError) as caught:
            stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        assert "no.such.Service" in caught.value.details()


def test_watch_repeats_the_status_at_the_interval_until_the_client_leaves(server: HealthDemoServer) -> None:
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
            srv.health.set_status("health-demo", NOT_SERVING)
            assert known.get(timeout=5) == NOT_SERVING
            assert time.monotonic() - started < 5  # the change, not the 30 s tick
            assert (
                stub.Check(health_pb2.HealthCheckRequest(service="health-demo"), timeout=5).status
                == NOT_SERVING
            )
            assert stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5).status == SERVING
    finally:
        srv.stop(0).wait()


def test_shutdown_turns_watch_streams_not_serving_before_they_end() -> None:
    srv = start(watch_interval=30.0)
    channel, stub = stub_for(srv.port)
    with channel:
        _, received = watch_in_background(stub, "")
        assert received.get(timeout=5) == SERVING
        srv.stop(2.0).wait()
        assert received.get(timeout=5) == NOT_SERVING
        assert received.get(timeout=5) == "end"  # ended cleanly, not cut off at the end of the grace


def test_reflection_lists_the_health_service(server: HealthDemoServer) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        assert "grpc.health.v1.Health" in database.get_services()
        method = database.FindFileContainingSymbol("grpc.health.v1.Health").service[0].method
        assert {"Check", "Watch"} <= {m.name for m in method}


def test_list_reports_every_known_service(server: HealthDemoServer) -> None:
    channel, stub = stub_for(server.port)
    with channel:
        statuses = stub.List(health_pb2.HealthListRequest(), timeout=5).statuses
        assert {name: r.status for name, r in statuses.items()} == {"": SERVING, "health-demo": SERVING}


def test_the_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval"):
        HealthDemoServer(Settings(port=0, watch_interval=0))


# --- the command, as the image runs it -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_command(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "health_demo", "--host", "127.0.0.1", *args],
        env={**os.environ, **(env or {})},
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def wait_ready(port: int) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=15)


def test_sigterm_reports_not_serving_then_exits_cleanly_with_json_logs() -> None:
    port = free_port()
    process = run_command(
        env={"PORT": str(port), "SERVICE_NAME": "demo.Svc", "WATCH_INTERVAL": "30", "ENVIRONMENT": "dev"}
    )
    try:
        wait_ready(port)
        channel, stub = stub_for(port)
        with channel:
            assert stub.Check(health_pb2.HealthCheckRequest(service="demo.Svc"), timeout=5).status == SERVING
            _, received = watch_in_background(stub, "demo.Svc")
            assert received.get(timeout=5) == SERVING
            process.send_signal(signal.SIGTERM)
            assert received.get(timeout=10) == NOT_SERVING
            assert received.get(timeout=10) == "end"
        assert process.wait(timeout=15) == 0
    finally:
        process.kill()
        _, stderr = process.communicate()
    lines = [json.loads(line) for line in stderr.splitlines()]
    messages = [line["msg"] for line in lines]
    assert all(line["environment"] == "dev" and line["level"] == "info" for line in lines)
    assert messages[0] == "serving" and lines[0]["port"] == port and "demo.Svc" in lines[0]["services"]
    assert messages.index("signal received") < messages.index("shutting down") < messages.index("stopped")


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
