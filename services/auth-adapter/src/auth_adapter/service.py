"""envoy.service.auth.v3.Authorization: CheckRequest in, the Decision as Envoy's CheckResponse out."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import grpc
from envoy.config.core.v3 import base_pb2
from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc
from envoy.type.v3 import http_status_pb2
from google.rpc import code_pb2, status_pb2

from auth_adapter.authorizer import Authorizer, Decision

log = logging.getLogger("auth_adapter")
_OVERWRITE = base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD
_OK_STATUS = status_pb2.Status(code=code_pb2.OK)


def _headers(values: Mapping[str, str]) -> list[base_pb2.HeaderValueOption]:
    return [
        base_pb2.HeaderValueOption(header=base_pb2.HeaderValue(key=k, value=v), append_action=_OVERWRITE)
        for k, v in values.items()
    ]


# Serialized OK responses without their upstream headers, per (headers to remove, headers to the client):
# parsing one and adding the two identity headers costs half of building the whole message each call.
# A handful of keys in practice (which identity headers are set; the clear-cookie or not); bounded anyway.
_OK_TEMPLATES: dict[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], bytes] = {}
_MAX_TEMPLATES = 64


def _ok_template(remove: tuple[str, ...], to_client: tuple[tuple[str, str], ...]) -> bytes:
    key = (remove, to_client)
    template = _OK_TEMPLATES.get(key)
    if template is None:
        ok = external_auth_pb2.OkHttpResponse(
            headers_to_remove=list(remove), response_headers_to_add=_headers(dict(to_client))
        )
        template = external_auth_pb2.CheckResponse(status=_OK_STATUS, ok_response=ok).SerializeToString()
        if len(_OK_TEMPLATES) >= _MAX_TEMPLATES:
            _OK_TEMPLATES.clear()
        _OK_TEMPLATES[key] = template
    return template


def to_response(decision: Decision) -> external_auth_pb2.CheckResponse:
    if decision.allowed:
        response = external_auth_pb2.CheckResponse.FromString(
            _ok_template(decision.remove, tuple(decision.to_client.items()))
        )
        headers = response.ok_response.headers
        for key, value in decision.upstream.items():
            option = headers.add(append_action=_OVERWRITE)
            option.header.key = key
            option.header.value = value
        return response
    denied = external_auth_pb2.DeniedHttpResponse(
        status=http_status_pb2.HttpStatus(code=decision.code), headers=_headers(decision.to_client)
    )
    return external_auth_pb2.CheckResponse(
        status=status_pb2.Status(code=code_pb2.PERMISSION_DENIED, message=decision.reason),
        denied_response=denied,
    )


class AuthorizationService(external_auth_pb2_grpc.AuthorizationServicer):
    """Check on the server's worker threads: a decision is CPU, or a blocking reCAPTCHA POST of up to its
    timeout (which holds its worker for that long)."""

    def __init__(self, authorizer: Authorizer) -> None:
        self._authorizer = authorizer

    def Check(  # noqa: N802 - gRPC method name
        self, request: external_auth_pb2.CheckRequest, context: grpc.ServicerContext
    ) -> external_auth_pb2.CheckResponse:
        http = request.attributes.request.http
        path = http.path or http.headers.get(":path", "")
        if not path:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the request has no path")
        source = request.attributes.source.address.socket_address.address
        decision = self._authorizer.decide(path, http.headers, source)
        if log.isEnabledFor(logging.DEBUG):
            # The path without its query (which may carry anything) and the decision; never a header value.
            fields = {"path": path.split("?", 1)[0], "code": decision.code, "reason": decision.reason}
            log.debug("check", extra={"fields": fields})
        return to_response(decision)
