"""Bounds on the streams a server holds at once, for every streaming method of every service on it.

A stream beyond `limit` is answered RESOURCE_EXHAUSTED at once; unary calls pass untouched. Streaming
handlers must be non-blocking (grpcio's `experimental_non_blocking`: a waiting stream then holds no worker
thread); a blocking one is answered UNIMPLEMENTED and logged as an error, except the methods named in
`blocking`, which hold a worker while open and so share a second, small bound (`blocking_limit`, kept
below the workers so unary calls always find one).

The bound is applied where handlers are registered (`LimitedServer`), not by a server interceptor: an
interceptor runs Python on every call, unary calls included, and the services' unary calls (Check) are
where their throughput is measured. Registered handlers are wrapped once; a generic handler's answer once
per method (cached).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import grpc

log = logging.getLogger("service_runtime")

if TYPE_CHECKING:  # generic only in the typing stubs
    Handler = grpc.RpcMethodHandler[Any, Any]


class _Places:
    """A counted bound; `take` gives the function that gives the place back (once, however often called)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0
        self._lock = threading.Lock()

    def take(self) -> Callable[[], None] | None:
        with self._lock:
            if self.open >= self.limit:
                return None
            self.open += 1
        given_back = False

        def give_back() -> None:
            nonlocal given_back
            with self._lock:
                if not given_back:
                    given_back = True
                    self.open -= 1

        return give_back


class StreamLimit:
    def __init__(self, limit: int, blocking: Iterable[str] = (), blocking_limit: int = 1) -> None:
        if limit < 1:
            raise ValueError(f"the stream limit must be at least 1, got {limit}")
        if blocking_limit < 1:
            raise ValueError(f"the blocking stream limit must be at least 1, got {blocking_limit}")
        self.limit = limit
        self._all = _Places(limit)
        self._blocking = _Places(blocking_limit)
        self._blocking_methods = frozenset(blocking)
        self._handlers: dict[str, tuple[Handler, Handler]] = {}  # method: (as registered, limited)

    @property
    def open(self) -> int:
        """Streams open now (read from other threads: tests, metrics)."""
        return self._all.open

    def bound(self, handler: Handler | None, method: str) -> Handler | None:
        """`handler` for `method` (its full path) with the bound applied when it streams; the same
        handler when it is unary. Cached per method: a generic handler is asked on every call."""
        if handler is None:
            return handler  # unknown method: not cached, so random names cannot grow the table
        cached = self._handlers.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = self._wrap(handler, method)
        self._handlers[method] = (handler, wrapped)
        return wrapped

    def _wrap(self, handler: Handler, method: str) -> Handler:
        if handler.unary_stream is not None:
            behavior: Callable[..., Any] = handler.unary_stream
            make: Callable[..., Handler] = grpc.unary_stream_rpc_method_handler
        elif handler.stream_stream is not None:
            behavior = handler.stream_stream
            make = grpc.stream_stream_rpc_method_handler
        else:
            return handler  # unary response: not a stream this bound is about
        if getattr(behavior, "experimental_non_blocking", False):
            limited = self._limited_non_blocking(behavior)
        elif method in self._blocking_methods:
            limited = self._limited_blocking(behavior)
        else:
            limited = self._refused_blocking(method)
        return make(
            limited,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _enter(self, places: _Places, context: grpc.ServicerContext, what: str) -> Callable[[], None]:
        """Take a place for this call or answer RESOURCE_EXHAUSTED; the end of the call gives it back."""
        give_back = places.take()
        if give_back is None:
            context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"the server holds {places.limit} {what}, its limit; try again later",
            )
        context.add_callback(give_back)
        return give_back

    def _limited_non_blocking(self, behavior: Callable[..., Any]) -> Callable[..., Any]:
        def limited(request: Any, context: grpc.ServicerContext, send_response_callback: Any = None) -> None:
            self._enter(self._all, context, "streams")
            behavior(request, context, send_response_callback)

        limited.experimental_non_blocking = True  # type: ignore[attr-defined]  # read by grpcio's server
        return limited

    def _limited_blocking(self, behavior: Callable[..., Any]) -> Callable[..., Iterator[Any]]:
        def limited(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            give_back = self._enter(self._all, context, "streams")
            try:
                give_back_blocking = self._enter(self._blocking, context, "streams of this kind")
            except BaseException:
                give_back()
                raise
            try:
                yield from behavior(request, context)
            finally:
                give_back_blocking()
                give_back()

        return limited

    def _refused_blocking(self, method: str) -> Callable[..., Iterator[Any]]:
        # A blocking stream holds a worker thread for as long as the client keeps it open: enough of them
        # and unary calls (probes) find no worker. Streams here must be non-blocking handlers.
        log.error(
            "a blocking streaming handler is refused: make it non-blocking",
            extra={"fields": {"method": method}},
        )

        def refused(_request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{method}: a blocking streaming handler")
            yield  # a generator, like the handler it stands for

        return refused


class _LimitedGeneric(grpc.GenericRpcHandler):
    def __init__(self, inner: grpc.GenericRpcHandler, limit: StreamLimit) -> None:
        self._inner = inner
        self._limit = limit

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> Handler | None:
        return self._limit.bound(self._inner.service(handler_call_details), handler_call_details.method)


class LimitedServer(grpc.Server):
    """A grpc.Server whose handler registrations go through `StreamLimit.bound` (streaming handlers
    bounded, unary ones untouched); everything else is the wrapped server's. Services register on it."""

    def __init__(self, server: grpc.Server, limit: StreamLimit) -> None:
        self._server = server
        self._limit = limit

    def add_generic_rpc_handlers(self, generic_rpc_handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        limited = tuple(_LimitedGeneric(h, self._limit) for h in generic_rpc_handlers)
        self._server.add_generic_rpc_handlers(limited)

    def add_registered_method_handlers(
        self, service_name: str, method_handlers: Mapping[str, Handler]
    ) -> None:
        limited: dict[str, Handler] = {}
        for name, handler in method_handlers.items():
            wrapped = self._limit.bound(handler, f"/{service_name}/{name}")
            assert wrapped is not None  # given a handler, bound() gives one
            limited[name] = wrapped
        self._server.add_registered_method_handlers(service_name, limited)

    def add_insecure_port(self, address: str) -> int:
        return self._server.add_insecure_port(address)

    def add_secure_port(self, address: str, server_credentials: grpc.ServerCredentials) -> int:
        return self._server.add_secure_port(address, server_credentials)

    def start(self) -> None:
        self._server.start()

    def stop(self, grace: float | None) -> threading.Event:
        return self._server.stop(grace)

    def wait_for_termination(self, timeout: float | None = None) -> bool:
        return self._server.wait_for_termination(timeout)
