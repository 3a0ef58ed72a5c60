"""GrpcServer on loopback with real grpcio clients: health, the stream bound, reflection v1, the shutdown."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from service_runtime import GrpcServer, Health, ServerSettings, ServerThread

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SLOW = "test.Slow"


def slow_service(server: grpc.Server) -> list[str]:
    """A blocking unary method sleeping as many seconds as its request says, and a blocking stream."""

    def sleep(request: bytes, _context: grpc.ServicerContext) -> bytes:
        time.sleep(float(request.decode()))
        return b"done"

    def ticks(request: bytes, _context: grpc.ServicerContext) -> Iterator[bytes]:
        for _ in range(int(request.decode())):
            time.sleep(0.05)
            yield b"tick"

    handlers = {
        "Sleep": grpc.unary_unary_rpc_method_handler(sleep),
        "Ticks": grpc.unary_stream_rpc_method_handler(ticks),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SLOW, handlers),))
    return [SLOW]


@contextmanager
def serving(health: Health | None = None, **settings: Any) -> Iterator[ServerThread]:
    options = {"host": "127.0.0.1", "port": 0, "workers": 2, "drain": 0.0, "grace": 1.0, **settings}
    thread = ServerThread(GrpcServer(ServerSettings(**options), health or Health(["svc"]), slow_service))
    thread.start()
    try:
        yield thread
    finally:
        assert thread.stop(timeout=15), "the server did not stop"


def check(port: int, service: str = "", timeout: float = 1.0) -> int:
    """A Check on a connection of its own, as the kubelet's probe makes it."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        request = health_pb2.HealthCheckRequest(service=service)
        return health_pb2_grpc.HealthStub(channel).Check(request, timeout=timeout).status


def test_the_stock_health_stub_gets_check_and_watch() -> None:
    with serving() as srv, grpc.insecure_channel(f"127.0.0.1:{srv.port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        assert stub.Check(health_pb2.HealthCheckRequest(service="svc"), timeout=5).status == SERVING
        watch = stub.Watch(health_pb2.HealthCheckRequest(service="svc"), timeout=5)
        assert next(watch).status == SERVING
        srv.server.health.set_status("svc", NOT_SERVING)
        assert next(watch).status == NOT_SERVING
        watch.cancel()
        with pytest.raises(grpc.RpcError) as caught:
            stub.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=5)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_streams_beyond_the_bound_are_refused_and_their_places_come_back() -> None:
    with serving(max_streams=3) as srv, grpc.insecure_channel(f"127.0.0.1:{srv.port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        watches = [stub.Watch(health_pb2.HealthCheckRequest(), timeout=10) for _ in range(2)]
        assert [next(w).status for w in watches] == [SERVING, SERVING]
        # Any streaming method takes a place, reflection's too.
        requests: queue.Queue[reflection_pb2.ServerReflectionRequest | None] = queue.Queue()
        requests.put(reflection_pb2.ServerReflectionRequest(list_services=""))
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter(requests.get, None), timeout=10
        )
        assert next(reflection).HasField("list_services_response")
        assert srv.server.streams.open == 3
        for refused in (
            stub.Watch(health_pb2.HealthCheckRequest(), timeout=5),
            reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
            ),
        ):
            with pytest.raises(grpc.RpcError) as caught:
                next(refused)
            assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "3 streams" in caught.value.details()
        assert check(srv.port) == SERVING  # unary calls are not bounded by it
        requests.put(None)  # the client is done: the reflection stream ends
        watches[0].cancel()
        deadline = time.monotonic() + 5
        while srv.server.streams.open > 1:
            assert time.monotonic() < deadline, "places of ended streams were not given back"
            time.sleep(0.02)
        again = stub.Watch(health_pb2.HealthCheckRequest(), timeout=5)
        assert next(again).status == SERVING


def test_a_blocking_streaming_handler_is_refused_rather_than_left_holding_a_thread() -> None:
    # A blocking stream holds a worker for as long as its client keeps it open: enough, and no worker is
    # left for a probe.
    with serving() as srv, grpc.insecure_channel(f"127.0.0.1:{srv.port}") as channel:
        with pytest.raises(grpc.RpcError) as caught:
            next(channel.unary_stream(f"/{SLOW}/Ticks")(b"3", timeout=5))
        assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert srv.server.streams.open == 0


def test_more_watch_streams_than_workers_leave_check_on_a_new_connection_answering() -> None:
    with serving(workers=2) as srv, grpc.insecure_channel(f"127.0.0.1:{srv.port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        watches = [stub.Watch(health_pb2.HealthCheckRequest(), timeout=20) for _ in range(64)]
        assert {next(w).status for w in watches} == {SERVING}
        assert srv.server.streams.open == 64
        assert check(srv.port, timeout=1.0) == SERVING
        for watch in watches:
            watch.cancel()


def test_reflection_streams_hold_workers_so_their_own_bound_leaves_one_for_check() -> None:
    # Reflection is a blocking stream: each open one holds a worker. With 4 workers, one place (4 // 4).
    with serving(workers=4) as srv, grpc.insecure_channel(f"127.0.0.1:{srv.port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        requests: queue.Queue[reflection_pb2.ServerReflectionRequest | None] = queue.Queue()
        requests.put(reflection_pb2.ServerReflectionRequest(list_services=""))
        held = stub.ServerReflectionInfo(iter(requests.get, None), timeout=10)
        assert next(held).HasField("list_services_response")
        with pytest.raises(grpc.RpcError) as caught:
            next(stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest()]), timeout=5))
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "1 streams of this kind" in caught.value.details()
        assert check(srv.port, timeout=1.0) == SERVING
        requests.put(None)
        assert list(held) == []
        again = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        assert next(again).HasField("list_services_response")


def reflect(channel: grpc.Channel, method: str, request: Any, response_type: Any) -> Any:
    """One request on a reflection stream, sent as bytes on `method`'s path, the answer parsed."""
    call = channel.stream_stream(method)
    [raw] = list(call(iter([request.SerializeToString()]), timeout=5))
    return response_type.FromString(raw)


def test_reflection_v1_lists_the_services_to_a_client_that_knows_only_what_the_server_describes() -> None:
    # A v1 client the way grpcurl is one: it asks v1 for the v1 descriptor, builds its message types from
    # that answer alone, and then lists the services through them.
    with serving() as srv, grpc.insecure_channel(f"127.0.0.1:{srv.port}") as channel:
        v1 = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        bootstrap = reflection_pb2.ServerReflectionRequest(
            file_containing_symbol="grpc.reflection.v1.ServerReflection"
        )
        answer = reflect(channel, v1, bootstrap, reflection_pb2.ServerReflectionResponse)
        pool = descriptor_pool.DescriptorPool()
        for raw in answer.file_descriptor_response.file_descriptor_proto:
            pool.Add(descriptor_pb2.FileDescriptorProto.FromString(raw))
        service = pool.FindServiceByName("grpc.reflection.v1.ServerReflection")
        [method] = service.methods
        assert method.input_type.full_name == "grpc.reflection.v1.ServerReflectionRequest"
        request_type = message_factory.GetMessageClass(method.input_type)
        response_type = message_factory.GetMessageClass(method.output_type)
        listed = reflect(channel, v1, request_type(list_services=""), response_type)
        names = {s.name for s in listed.list_services_response.service}
        assert names == {
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
            SLOW,
        }
        old = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        assert {s.name for s in next(old).list_services_response.service} == names


def test_shutdown_answers_not_serving_through_the_drain_then_refuses_connections() -> None:
    health = Health(["svc"])
    with serving(health, drain=0.6) as srv, grpc.insecure_channel(f"127.0.0.1:{srv.port}") as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service="svc"))
        assert next(watch).status == SERVING
        started = time.monotonic()
        srv.server.request_stop()
        assert next(watch).status == NOT_SERVING  # at once, not after the drain
        assert time.monotonic() - started < 0.5
        assert check(srv.port, "svc") == NOT_SERVING and check(srv.port, "") == NOT_SERVING
        health.set_status("svc", SERVING)  # too late: shutting down stays NOT_SERVING
        assert check(srv.port, "svc") == NOT_SERVING
        assert list(watch) == []  # the stream ends cleanly (OK) when the drain is over
        assert time.monotonic() - started >= 0.6
        port = srv.port
    with pytest.raises(grpc.RpcError) as caught:
        check(port)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def test_in_flight_calls_get_the_grace_and_no_more() -> None:
    results: dict[str, object] = {}

    def call(name: str, port: int, seconds: float) -> None:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            try:
                results[name] = channel.unary_unary(f"/{SLOW}/Sleep")(str(seconds).encode(), timeout=10)
            except grpc.RpcError as exc:
                results[name] = exc.code()

    srv = ServerThread(
        GrpcServer(ServerSettings(host="127.0.0.1", workers=4, drain=0.2, grace=0.8), Health(), slow_service)
    )
    srv.start()
    calls = [
        threading.Thread(target=call, args=("short", srv.port, 0.5)),
        threading.Thread(target=call, args=("long", srv.port, 5.0)),
    ]
    for t in calls:
        t.start()
    time.sleep(0.1)
    started = time.monotonic()
    assert srv.stop(timeout=10)
    stopped_after = time.monotonic() - started
    for t in calls:
        t.join(10)
    assert results["short"] == b"done"  # finished within drain + grace
    # Cut at the end of the grace: the connection closes under it.
    assert results["long"] in (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE)
    assert 0.9 <= stopped_after < 3.0


def test_a_second_stop_request_ends_the_drain_early() -> None:
    srv = ServerThread(GrpcServer(ServerSettings(host="127.0.0.1", drain=30.0, grace=0.0), Health()))
    srv.start()
    srv.server.request_stop()
    time.sleep(0.1)
    assert check(srv.port) == NOT_SERVING
    started = time.monotonic()
    assert srv.stop(timeout=10)  # the second request
    assert time.monotonic() - started < 5


def worker_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("grpc_")}


def ended(threads: set[threading.Thread], within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        time.sleep(0.01)
    return not any(t.is_alive() for t in threads)


def test_a_busy_port_is_an_oserror_naming_the_address_and_leaves_nothing_running() -> None:
    with serving() as first:
        before = worker_threads()
        second = ServerThread(GrpcServer(ServerSettings(host="127.0.0.1", port=first.port), Health()))
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{first.port}"):
            second.start()
        assert check(first.port) == SERVING
        assert ended(worker_threads() - before), "the failed server's worker threads are still running"


def test_a_failing_registration_leaves_no_worker_thread_running() -> None:
    def broken(_server: grpc.Server) -> list[str]:
        raise ValueError("bad servicer")

    before = worker_threads()
    thread = ServerThread(GrpcServer(ServerSettings(host="127.0.0.1", workers=3), Health(), broken))
    with pytest.raises(ValueError, match="bad servicer"):
        thread.start()
    assert ended(worker_threads() - before), "the failed server's worker threads are still running"
