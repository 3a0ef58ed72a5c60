"""Check a bootstrap against Envoy's own API definitions (xds-protos), as Envoy's loader would.

Every `typed_config` type the generator uses is imported here, so `google.protobuf.Any` fields resolve;
an unknown field, a wrong type or an unknown extension type is an error naming where it is.
"""

from __future__ import annotations

from typing import Any

# Imported for their registration in the descriptor pool (each typed_config @type must resolve).
from envoy.config.bootstrap.v3 import bootstrap_pb2
from envoy.config.trace.v3 import opentelemetry_pb2  # noqa: F401
from envoy.extensions.access_loggers.stream.v3 import stream_pb2  # noqa: F401
from envoy.extensions.filters.http.cors.v3 import cors_pb2  # noqa: F401
from envoy.extensions.filters.http.ext_authz.v3 import ext_authz_pb2  # noqa: F401
from envoy.extensions.filters.http.grpc_web.v3 import grpc_web_pb2  # noqa: F401
from envoy.extensions.filters.http.router.v3 import router_pb2  # noqa: F401
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2,  # noqa: F401
)
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2  # noqa: F401
from google.protobuf import any_pb2, json_format, message


class SchemaError(ValueError):
    pass


def parse(document: dict[str, Any]) -> Any:
    """The document as an `envoy.config.bootstrap.v3.Bootstrap`; SchemaError where Envoy would refuse it."""
    bootstrap = bootstrap_pb2.Bootstrap()
    try:
        json_format.ParseDict(document, bootstrap)
    except json_format.ParseError as exc:
        raise SchemaError(f"not a valid Envoy v3 bootstrap: {exc}") from None
    return bootstrap


def deprecated_fields(msg: message.Message, where: str = "") -> list[str]:
    """Every set field (or enum value) Envoy marks deprecated, with its path; Any payloads included."""
    found: list[str] = []
    if isinstance(msg, any_pb2.Any):
        inner = _unpack(msg)
        return (
            deprecated_fields(inner, where) if inner is not None else [f"{where}: unresolved {msg.type_url}"]
        )
    for field, value in msg.ListFields():
        path = f"{where}.{field.name}" if where else field.name
        if field.GetOptions().deprecated:
            found.append(path)
        repeated = _repeated(field)
        values = list(value) if repeated else [value]
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            keys, values = list(value.keys()), list(value.values())
            field = field.message_type.fields_by_name["value"]
        else:
            keys = list(range(len(values)))
        for key, item in zip(keys, values, strict=True):
            item_path = f"{path}[{key!r}]" if repeated else path
            if field.message_type is not None:
                found += deprecated_fields(item, item_path)
            elif field.enum_type is not None:
                enum_value = field.enum_type.values_by_number.get(item)
                if enum_value is not None and enum_value.GetOptions().deprecated:
                    found.append(f"{item_path}={enum_value.name}")
    return found


def _repeated(field: Any) -> bool:
    return bool(field.is_repeated)


def _unpack(packed: any_pb2.Any) -> message.Message | None:
    from google.protobuf import symbol_database

    name = packed.type_url.rsplit("/", 1)[-1]
    try:
        cls = symbol_database.Default().GetSymbol(name)
    except KeyError:
        return None
    inner: message.Message = cls()
    packed.Unpack(inner)
    return inner
