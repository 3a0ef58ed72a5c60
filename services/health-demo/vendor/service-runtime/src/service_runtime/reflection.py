"""Server reflection as both `grpc.reflection.v1` and `grpc.reflection.v1alpha`.

grpcio-reflection ships only v1alpha, but current clients (grpcurl, Postman, grpc-js tools) ask for v1
first. The two protocols are the same messages on the wire under another package name, so the one servicer
answers both method paths. The v1 file descriptor (the v1alpha one renamed) is added to the descriptor pool,
so a client can also describe the v1 service itself.
"""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection, reflection_pb2

V1ALPHA = reflection.SERVICE_NAME  # grpc.reflection.v1alpha.ServerReflection
V1 = "grpc.reflection.v1.ServerReflection"
_V1_FILE = "grpc/reflection/v1/reflection.proto"
METHODS = tuple(f"/{name}/ServerReflectionInfo" for name in (V1, V1ALPHA))
"""The method paths: blocking bidi streams (each holds a worker while open), bounded apart."""


def _add_v1_descriptor(pool: descriptor_pool.DescriptorPool) -> None:
    try:
        pool.FindFileByName(_V1_FILE)
        return  # already there (a grpcio-reflection that ships v1, or a second server in this process)
    except KeyError:
        pass
    proto = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(proto)
    old, new = proto.package, "grpc.reflection.v1"
    proto.name, proto.package = _V1_FILE, new
    proto.ClearField("options")
    for message in proto.message_type:
        for field in message.field:
            if field.type_name.startswith(f".{old}."):
                field.type_name = f".{new}." + field.type_name.removeprefix(f".{old}.")
    for service in proto.service:
        for method in service.method:
            method.input_type = f".{new}." + method.input_type.removeprefix(f".{old}.")
            method.output_type = f".{new}." + method.output_type.removeprefix(f".{old}.")
    pool.Add(proto)


def enable_reflection(server: grpc.Server, service_names: Iterable[str]) -> list[str]:
    """Serve reflection (v1 and v1alpha) listing `service_names` and both reflection services; that list."""
    pool = descriptor_pool.Default()
    _add_v1_descriptor(pool)
    names = sorted({*service_names, V1, V1ALPHA})
    servicer = reflection.ReflectionServicer(names, pool=pool)
    handlers = {
        "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
            servicer.ServerReflectionInfo,
            request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
            response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
        )
    }
    for name in (V1, V1ALPHA):
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(name, handlers),))
    return names
