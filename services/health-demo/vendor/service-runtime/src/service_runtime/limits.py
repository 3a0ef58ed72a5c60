"""A bound on the streams a server holds at once, for every streaming method of every service on it.

A stream beyond the bound is answered RESOURCE_EXHAUSTED at once; unary calls pass untouched. Streaming
handlers must be asyncio ones (a waiting stream then holds no thread): a blocking one is answered
UNIMPLEMENTED and logged as an error. The wrapped handlers are built once per method and cached (one dict
look-up per call afterwards).
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc

log = logging.getLogger("service_runtime")

if TYPE_CHECKING:  # generic only in the typing stubs
    Handler = grpc.RpcMethodHandler[Any, Any]


class StreamLimit(grpc.aio.ServerInterceptor):
    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"the stream limit must be at least 1, got {limit}")
        self.limit = limit
        self.open = 0
        self._lock = threading.Lock()  # the count is read from other threads (tests, metrics)
        self._handlers: dict[str, Handler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        method = handler_call_details.method
        cached = self._handlers.get(method)
        if cached is not None:
            return cached
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler  # unknown method: not cached, so random names cannot grow the table
        wrapped = self._wrap(handler, method)
        self._handlers[method] = wrapped
        return wrapped

    def _take(self) -> Callable[[], None] | None:
        """A place, as the function that gives it back (once, however often called); None when full."""
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

    def _refusal(self) -> str:
        return f"the server holds {self.limit} streams, its limit; try again later"

    def _wrap(self, handler: Handler, method: str) -> Handler:
        if handler.unary_stream is not None:
            behavior = handler.unary_stream
            make = grpc.unary_stream_rpc_method_handler
        elif handler.stream_stream is not None:
            behavior = handler.stream_stream
            make = grpc.stream_stream_rpc_method_handler
        else:
            return handler  # unary response: not a stream this bound is about
        limited = self._limited_async(behavior) if _is_async(behavior) else self._refused_blocking(method)
        return make(
            limited,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    async def _enter(self, context: grpc.aio.ServicerContext[Any, Any]) -> Callable[[], None]:
        """Take a place for this call or answer RESOURCE_EXHAUSTED; the end of the call gives it back.

        The end of the call, not the handler's `finally`: when the client leaves, grpc.aio drops a
        generator handler without closing it.
        """
        give_back = self._take()
        if give_back is None:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, self._refusal())
        context.add_done_callback(lambda _call: give_back())  # type: ignore[arg-type]  # stubs: not a Protocol
        return give_back

    def _limited_async(self, behavior: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(behavior):  # a handler that writes with context.write()

            async def limited_writer(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
                give_back = await self._enter(context)
                try:
                    await behavior(request, context)
                finally:
                    give_back()

            return limited_writer

        async def limited(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            give_back = await self._enter(context)
            try:
                async for item in behavior(request, context):
                    yield item
            finally:
                give_back()

        return limited

    def _refused_blocking(self, method: str) -> Callable[..., AsyncIterator[Any]]:
        # grpc.aio runs a blocking generator on a worker thread and, when the client leaves, never closes
        # it: the thread and the stream stay taken. Streams here must be asyncio handlers.
        log.error(
            "a blocking streaming handler is refused: write it with asyncio",
            extra={"fields": {"method": method}},
        )

        async def refused(_request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{method}: a blocking streaming handler")
            yield  # an async generator, like the handler it stands for

        return refused


def _is_async(behavior: Callable[..., Any]) -> bool:
    return inspect.isasyncgenfunction(behavior) or inspect.iscoroutinefunction(behavior)
