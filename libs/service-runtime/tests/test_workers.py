"""WorkerPool: calls run on its named threads, done-callbacks run once, shutdown drops or drains the queue."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from service_runtime.workers import Task, WorkerPool


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    workers = WorkerPool(3, name="test")
    yield workers
    workers.shutdown(wait=True)


def test_a_call_runs_on_a_worker_thread_and_its_callbacks_after_it(pool: WorkerPool) -> None:
    ran_on: list[str] = []
    callback_saw: list[tuple[bool, list[str]]] = []
    finished = threading.Event()

    def on_done(task: Task) -> None:
        callback_saw.append((task.done(), list(ran_on)))
        finished.set()

    gate = threading.Event()
    task = pool.submit(lambda: (gate.wait(5), ran_on.append(threading.current_thread().name)))
    task.add_done_callback(on_done)
    assert not task.done()
    gate.set()
    assert finished.wait(5)
    assert ran_on[0].startswith("test_")
    assert callback_saw == [(True, ran_on)]


def test_a_callback_added_once_done_runs_at_once_in_the_adding_thread(pool: WorkerPool) -> None:
    done = threading.Event()
    task = pool.submit(lambda: None)
    task.add_done_callback(lambda _task: done.set())
    assert done.wait(5)
    threads: list[str] = []
    task.add_done_callback(lambda _task: threads.append(threading.current_thread().name))
    assert threads == [threading.current_thread().name]


def test_every_callback_runs_once_whether_added_before_or_after_its_call_finished(pool: WorkerPool) -> None:
    runs: list[int] = []
    for n in range(2000):
        task = pool.submit(lambda: None)
        task.add_done_callback(lambda _task, n=n: runs.append(n))
    pool.shutdown(wait=True)  # every queued call has run and finished
    assert sorted(runs) == list(range(2000))


def test_keyword_arguments_are_passed_and_calls_run_in_parallel(pool: WorkerPool) -> None:
    barrier = threading.Barrier(3, timeout=5)  # three calls at once: only three threads can reach it
    results: list[str] = []
    tasks = [pool.submit(lambda tag: (barrier.wait(), results.append(tag)), tag=f"t{n}") for n in range(3)]
    pool.shutdown(wait=True)
    assert all(task.done() for task in tasks)
    assert sorted(results) == ["t0", "t1", "t2"]


def test_a_failing_call_is_logged_and_its_task_still_finishes(
    pool: WorkerPool, caplog: pytest.LogCaptureFixture
) -> None:
    finished = threading.Event()

    def fail() -> None:
        raise ValueError("broken handler")

    with caplog.at_level(logging.ERROR, logger="service_runtime"):
        pool.submit(fail).add_done_callback(lambda _task: finished.set())
        assert finished.wait(5)
        pool.submit(lambda: None)
        pool.shutdown(wait=True)
    assert [r.exc_info[1].args for r in caplog.records if r.exc_info and r.exc_info[1]] == [
        ("broken handler",)
    ]


def test_a_failing_callback_is_logged_and_the_others_still_run_in_the_order_added(
    pool: WorkerPool, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    def bad(_task: Task) -> None:
        raise RuntimeError("broken callback")

    with caplog.at_level(logging.ERROR, logger="service_runtime"):
        task = pool.submit(lambda: None)
        pool.shutdown(wait=True)
        task.add_done_callback(lambda _task: ran.append("first"))
        task.add_done_callback(bad)
        task.add_done_callback(lambda _task: ran.append("third"))
    assert ran == ["first", "third"]
    gate, added = threading.Event(), []
    pending = WorkerPool(1, name="order")
    waiting = pending.submit(gate.wait, 5)
    for n in range(5):
        waiting.add_done_callback(lambda _task, n=n: added.append(n))
    gate.set()
    pending.shutdown(wait=True)
    assert added == [0, 1, 2, 3, 4]  # in the order they were added
    assert "a done-callback of a worker task failed" in caplog.text


def test_shutdown_with_cancel_drops_queued_calls_but_finishes_their_tasks() -> None:
    pool = WorkerPool(1, name="one")
    started, gate = threading.Event(), threading.Event()
    ran: list[int] = []
    busy = pool.submit(lambda: (started.set(), gate.wait(5)))
    assert started.wait(5)  # the one thread is busy: what follows stays queued
    queued = [pool.submit(ran.append, n) for n in range(5)]
    finished: list[int] = []
    for n, task in enumerate(queued):
        task.add_done_callback(lambda _task, n=n: finished.append(n))
    pool.shutdown(wait=False, cancel_futures=True)
    assert sorted(finished) == list(range(5)) and all(t.done() for t in queued)
    gate.set()
    pool.shutdown(wait=True)  # a second shutdown only waits
    assert busy.done() and ran == []
    assert not any(t.name.startswith("one_") for t in threading.enumerate())


def test_shutdown_without_cancel_runs_what_is_queued_and_then_refuses_calls() -> None:
    pool = WorkerPool(2, name="drain")
    ran: list[int] = []
    for n in range(50):
        pool.submit(ran.append, n)
    pool.shutdown(wait=True)
    assert sorted(ran) == list(range(50))
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(ran.append, 99)
    assert not any(t.name.startswith("drain_") for t in threading.enumerate())


def test_a_pool_needs_a_thread() -> None:
    with pytest.raises(ValueError, match="at least 1 thread, got 0"):
        WorkerPool(0)


def test_grpcio_serves_its_calls_on_the_pool() -> None:
    """The stock servicer on a plain grpc.server with this pool: calls answered, on the pool's threads."""
    pool = WorkerPool(2, name="served")
    seen: list[str] = []

    class Servicer(health.HealthServicer):
        def Check(self, request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext) -> object:  # noqa: N802
            seen.append(threading.current_thread().name)
            return super().Check(request, context)

    servicer = Servicer()
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    server = grpc.server(pool)  # type: ignore[arg-type]  # grpcio takes any executor
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            answers = {stub.Check(health_pb2.HealthCheckRequest(), timeout=5).status for _ in range(20)}
    finally:
        server.stop(0).wait()
        pool.shutdown(wait=True)
    assert answers == {health_pb2.HealthCheckResponse.SERVING}
    assert len(seen) == 20 and {name.rpartition("_")[0] for name in seen} == {"served"}


def test_a_dropped_tasks_callback_may_submit_and_is_refused_and_a_worker_may_shut_its_pool_down() -> None:
    pool = WorkerPool(1, name="self")
    started, gate = threading.Event(), threading.Event()
    pool.submit(lambda: (started.set(), gate.wait(5)))
    assert started.wait(5)
    refused: list[str] = []

    def resubmit(_task: Task) -> None:
        try:
            pool.submit(lambda: None)
        except RuntimeError as error:
            refused.append(str(error))

    pool.submit(lambda: None).add_done_callback(resubmit)
    stop = {"cancel_futures": True, "wait": False}
    closer = threading.Thread(target=pool.shutdown, kwargs=stop, daemon=True)
    closer.start()
    closer.join(5)
    assert not closer.is_alive(), "shutdown deadlocked in a dropped task's callback"
    assert refused == ["cannot submit to a worker pool that is shut down"]
    gate.set()

    inner = WorkerPool(1, name="inner")
    ended = threading.Event()
    inner.submit(lambda: (inner.shutdown(wait=True), ended.set()))
    assert ended.wait(5)
    inner.shutdown(wait=True)
    pool.shutdown(wait=True)
    assert not any(t.name.startswith(("self_", "inner_")) for t in threading.enumerate())


def test_a_callback_raising_baseexception_neither_ends_the_worker_nor_stops_the_other_callbacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pool = WorkerPool(1, name="base")
    ran: list[str] = []

    def interrupt(_task: Task) -> None:
        raise KeyboardInterrupt

    gate = threading.Event()
    first = pool.submit(gate.wait, 5)
    first.add_done_callback(lambda _task: ran.append("a"))
    first.add_done_callback(interrupt)
    first.add_done_callback(lambda _task: ran.append("c"))
    after = threading.Event()
    with caplog.at_level(logging.ERROR, logger="service_runtime"):
        gate.set()
        pool.submit(after.set)  # runs only if the one worker survived the callback
        assert after.wait(5), "the worker thread ended"
    pool.shutdown(wait=True)
    assert sorted(ran) == ["a", "c"]
    assert "a done-callback of a worker task failed" in caplog.text


def test_two_workers_shutting_their_pool_down_at_once_do_not_wait_for_each_other() -> None:
    pool = WorkerPool(2, name="both")
    barrier = threading.Barrier(2, timeout=5)
    ended = [threading.Event(), threading.Event()]
    for event in ended:
        pool.submit(lambda event=event: (barrier.wait(), pool.shutdown(wait=True), event.set()))
    assert all(event.wait(5) for event in ended), "the workers wait for each other"
    pool.shutdown(wait=True)
    assert not any(t.name.startswith("both_") for t in threading.enumerate())
