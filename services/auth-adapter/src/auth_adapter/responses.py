"""A Decision as the serialized envoy.service.auth.v3.CheckResponse Envoy receives.

An allowed request's answer is built from bytes: the parts that repeat (the status, the headers to remove,
the headers for the client) are serialized once by protobuf and remembered; only the identity headers,
whose values differ per token, are encoded per call. Building and serializing the message instead cost
about a sixth of the adapter's time per Check. The usual answer (one or two identity headers with short
values, nothing for the client) is a bytes %-pattern kept per set of header names and per length of the
values, with every length in: filling in the values is one C call. The bytes equal protobuf's own
serialization of the same message (test_auth_adapter_responses.py compares them), so Envoy parses what it
always parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from envoy.config.core.v3 import base_pb2
from envoy.service.auth.v3 import external_auth_pb2
from envoy.type.v3 import http_status_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, status_pb2

from auth_adapter.authorizer import OK, Decision

_OVERWRITE = base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD
_OK_STATUS = status_pb2.Status(code=code_pb2.OK)


def _varint(value: int) -> bytes:
    """A non-negative integer in protobuf's base-128 varint encoding."""
    if value < 0x80:
        return _ONE_BYTE[value]
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_ONE_BYTE = [bytes((n,)) for n in range(0x80)]  # lengths below 128: most of them, one look-up


def _key(message: type[Message], field: str) -> bytes:
    """The key of a length-delimited field (wire type 2), its number read from the generated descriptor."""
    return _varint(message.DESCRIPTOR.fields_by_name[field].number << 3 | 2)


_OK_RESPONSE = _key(external_auth_pb2.CheckResponse, "ok_response")
_HEADERS = _key(external_auth_pb2.OkHttpResponse, "headers")
_HEADER = _key(base_pb2.HeaderValueOption, "header")
_NAME = _key(base_pb2.HeaderValue, "key")
_VALUE = _key(base_pb2.HeaderValue, "value")
_OVERWRITE_FIELD: bytes = base_pb2.HeaderValueOption(append_action=_OVERWRITE).SerializeToString()
_STATUS_OK: bytes = external_auth_pb2.CheckResponse(status=_OK_STATUS).SerializeToString()
_OPTION_FIXED = len(_HEADER) + 1 + len(_OVERWRITE_FIELD)  # HeaderValueOption around a short HeaderValue
_ENTRY_FIXED = len(_HEADERS) + 1  # OkHttpResponse.headers' key and a short length


def _delimited(key: bytes, payload: bytes) -> bytes:
    return key + _varint(len(payload)) + payload


def _header_options(values: Mapping[str, str]) -> list[base_pb2.HeaderValueOption]:
    return [
        base_pb2.HeaderValueOption(header=base_pb2.HeaderValue(key=k, value=v), append_action=_OVERWRITE)
        for k, v in values.items()
    ]


# The rest of OkHttpResponse per (headers to remove, headers to the client): a handful of keys in practice
# (which identity headers are removed; the clear-cookie or not); bounded anyway.
_OK_TAILS: dict[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], bytes] = {}
_MAX_TAILS = 64


def _ok_tail(remove: tuple[str, ...], to_client: Mapping[str, str]) -> bytes:
    key = (remove, tuple(to_client.items()) if to_client else ())
    tail = _OK_TAILS.get(key)
    if tail is None:
        tail = external_auth_pb2.OkHttpResponse(
            headers_to_remove=remove, response_headers_to_add=_header_options(to_client)
        ).SerializeToString()
        if len(_OK_TAILS) >= _MAX_TAILS:
            _OK_TAILS.clear()
        _OK_TAILS[key] = tail
    return tail


# HeaderValue.key's field per header name, then HeaderValue.value's key (names come from the configuration:
# a handful), and the size of an entry for that name without its value's bytes.
_NAME_FIELDS: dict[str, tuple[bytes, int]] = {}
_SHORT = 0x80  # a length below it is one varint byte


def _name_fields(name: str) -> tuple[bytes, int]:
    fields = _delimited(_NAME, name.encode()) if name else b""
    found = _NAME_FIELDS[name] = (fields + _VALUE, len(fields) + len(_VALUE) + 1)
    return found


def _upstream_header(name: str, value: str) -> bytes:
    """OkHttpResponse.headers entry: {header: {key: name, value: value}, append_action: OVERWRITE}."""
    name_field = _delimited(_NAME, name.encode()) if name else b""
    encoded = value.encode()
    # proto3 leaves an empty string out, as protobuf's serializer does
    header = name_field + _delimited(_VALUE, encoded) if encoded else name_field
    return _delimited(_HEADERS, _delimited(_HEADER, header) + _OVERWRITE_FIELD)


class _Template(NamedTuple):
    """The allowed answers for one or two identity header names and the headers removed: for each length of
    the values, a %-pattern with every length in, taking the values (%b each)."""

    fields: tuple[bytes, ...]  # per header: HeaderValue's key field and value key
    fixed: tuple[int, ...]  # per header: its HeaderValue's size without the value's bytes
    tail: bytes  # OkHttpResponse's fields after the headers
    # By the values' lengths, the first's << 32 | the second's (one key per pair: a gRPC message, 4 MB at
    # most, never holds a 4 GiB value); b"": no pattern.
    baked: dict[int, bytes]


_TEMPLATES: dict[tuple[object, ...], _Template] = {}
# Patterns per template. Identity values tend to a few lengths; once a template holds this many, answers
# for other lengths are built from pieces (the table is never emptied, so varied lengths cannot churn it).
_MAX_BAKED = 256


def _template(key: tuple[object, ...]) -> _Template:
    remove, *names = key
    assert isinstance(remove, tuple)
    fields, fixed = [], []
    for name in names:
        assert isinstance(name, str)
        field, size = _NAME_FIELDS.get(name) or _name_fields(name)
        fields.append(field)
        fixed.append(size)
    if len(_TEMPLATES) >= _MAX_TAILS:
        _TEMPLATES.clear()
    found = _TEMPLATES[key] = _Template(tuple(fields), tuple(fixed), _ok_tail(remove, {}), {})
    return found


def _bake(template: _Template, key: int, lengths: tuple[int, ...]) -> bytes:
    """The pattern for values of `lengths`, remembered under `key`; b"" when a value is empty or too long
    for one-byte lengths, or the table is full (the answer is built from pieces then)."""
    if len(template.baked) >= _MAX_BAKED:
        return b""
    pattern = b""
    size = len(template.tail)
    for field, fixed, length in zip(template.fields, template.fixed, lengths, strict=True):
        header = fixed + length
        option = header + _OPTION_FIXED
        if not length or option >= _SHORT:
            pattern = b""
            break
        entry = _HEADERS + _ONE_BYTE[option] + _HEADER + _ONE_BYTE[header] + field + _ONE_BYTE[length]
        pattern += _escaped(entry) + b"%b" + _escaped(_OVERWRITE_FIELD)
        size += _ENTRY_FIXED + option
    else:
        pattern = _escaped(_STATUS_OK + _OK_RESPONSE + _varint(size)) + pattern + _escaped(template.tail)
    template.baked[key] = pattern
    return pattern


def _escaped(literal: bytes) -> bytes:
    return literal.replace(b"%", b"%%")


def encode(decision: Decision) -> bytes:
    """The serialized CheckResponse for `decision`: OK with its headers, or PERMISSION_DENIED."""
    if decision.code == OK:
        upstream = decision.upstream
        count = len(upstream)
        if 0 < count <= 2 and not decision.to_client:
            key = (decision.remove, *upstream)
            template = _TEMPLATES.get(key) or _template(key)
            if count == 2:
                first_value, second_value = upstream.values()
                first, second = first_value.encode(), second_value.encode()
                lengths = len(first) << 32 | len(second)
                pattern = template.baked.get(lengths)
                if pattern is None:
                    pattern = _bake(template, lengths, (len(first), len(second)))
                if pattern:
                    return pattern % (first, second)
            else:
                (value,) = upstream.values()
                only = value.encode()
                pattern = template.baked.get(len(only))
                if pattern is None:
                    pattern = _bake(template, len(only), (len(only),))
                if pattern:
                    return pattern % only
        # Any other answer: built from pieces.
        # OkHttpResponse.headers (field 2) first, then the remembered fields 5 and 6: protobuf's own order.
        # Every piece goes into one list joined once: short entries (nearly all) take their one-byte
        # lengths from a table, without a call or an intermediate bytes object.
        parts = [_STATUS_OK, _OK_RESPONSE, b""]
        size = 0
        for name, value in decision.upstream.items():
            fields, fixed = _NAME_FIELDS.get(name) or _name_fields(name)
            encoded = value.encode()
            header = fixed + len(encoded)
            option = header + _OPTION_FIXED
            if encoded and option < _SHORT:
                parts += (_HEADERS, _ONE_BYTE[option], _HEADER, _ONE_BYTE[header], fields)
                parts += (_ONE_BYTE[len(encoded)], encoded, _OVERWRITE_FIELD)
                size += _ENTRY_FIXED + option
            else:  # long or empty values: the general encoding
                entry = _upstream_header(name, value)
                parts.append(entry)
                size += len(entry)
        tail = _ok_tail(decision.remove, decision.to_client)
        parts.append(tail)
        size += len(tail)
        # OkHttpResponse's length: two varint bytes for nearly every answer (128 to 16,383 bytes)
        parts[2] = bytes((size & 0x7F | 0x80, size >> 7)) if 0x80 <= size < 0x4000 else _varint(size)
        return b"".join(parts)
    denied = external_auth_pb2.DeniedHttpResponse(
        status=http_status_pb2.HttpStatus(code=decision.code), headers=_header_options(decision.to_client)
    )
    serialized: bytes = external_auth_pb2.CheckResponse(
        status=status_pb2.Status(code=code_pb2.PERMISSION_DENIED, message=decision.reason),
        denied_response=denied,
    ).SerializeToString()
    return serialized
