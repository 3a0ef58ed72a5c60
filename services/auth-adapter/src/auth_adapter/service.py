"""envoy.service.auth.v3.Authorization: CheckRequest in, the Decision as Envoy's CheckResponse out."""

from __future__ import annotations

import logging

import grpc
from envoy.service.auth.v3 import external_auth_pb2

from auth_adapter.authorizer import Authorizer
from auth_adapter.responses import encode

log = logging.getLogger("auth_adapter")


class AuthorizationService:
    """Check on the server's worker threads: a decision is CPU, or a blocking reCAPTCHA POST of up to its
    timeout (which holds its worker for that long). Answers are serialized CheckResponses (responses.py):
    register with `handlers()`, whose serializer passes them through."""

    def __init__(self, authorizer: Authorizer) -> None:
        self._authorizer = authorizer

    def handlers(self) -> dict[str, grpc.RpcMethodHandler]:  # type: ignore[type-arg]  # generic in stubs only
        """The method handlers of the Authorization service, by method name."""
        return {
            "Check": grpc.unary_unary_rpc_method_handler(
                self.Check,
                request_deserializer=external_auth_pb2.CheckRequest.FromString,
                response_serializer=None,  # Check answers bytes already
            )
        }

    def Check(  # noqa: N802 - gRPC method name
        self, request: external_auth_pb2.CheckRequest, context: grpc.ServicerContext
    ) -> bytes:
        attributes = request.attributes
        http = attributes.request.http
        path = http.path or http.headers.get(":path", "")
        if not path:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the request has no path")
        # The source address is read only when a rate limit needs it (four message hops per call).
        decision = self._authorizer.decide(
            path, http.headers, lambda: attributes.source.address.socket_address.address
        )
        if log.isEnabledFor(logging.DEBUG):
            # The path without its query (which may carry anything) and the decision; never a header value.
            fields = {"path": path.split("?", 1)[0], "code": decision.code, "reason": decision.reason}
            log.debug("check", extra={"fields": fields})
        return encode(decision)
