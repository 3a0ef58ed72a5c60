"""The gRPC server: Authorization beside the shared runtime's health and reflection, on one server.

service_runtime.GrpcServer does the serving and the Kubernetes-shaped shutdown (NOT_SERVING at once, the
drain, then the grace), as for health-demo: a restart never turns into 403s at the gateway while Envoy
still sends checks here.
"""

from __future__ import annotations

import grpc
from envoy.service.auth.v3 import external_auth_pb2
from service_runtime import GrpcServer, Health, ServerSettings

from auth_adapter.authorizer import Authorizer
from auth_adapter.service import AuthorizationService

AUTHORIZATION = external_auth_pb2.DESCRIPTOR.services_by_name["Authorization"].full_name
PORT = 9000
WORKERS = 32  # Check runs on these; a reCAPTCHA call holds its worker for up to its timeout


def build_server(settings: ServerSettings, authorizer: Authorizer) -> GrpcServer:
    """The server, not started yet; health knows "" and the Authorization service."""

    def register(grpc_server: grpc.Server) -> list[str]:
        handlers = AuthorizationService(authorizer).handlers()
        grpc_server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(AUTHORIZATION, handlers),))
        grpc_server.add_registered_method_handlers(AUTHORIZATION, handlers)
        return [AUTHORIZATION]

    return GrpcServer(settings, Health([AUTHORIZATION]), register)
