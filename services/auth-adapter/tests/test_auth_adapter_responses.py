"""The CheckResponse bytes the adapter builds by hand equal protobuf's own serialization of the message
built with the protobuf API (the reference), for every shape of decision and lengths past each varint size."""

from __future__ import annotations

import pytest
from auth_adapter.authorizer import Decision
from auth_adapter.responses import _MAX_BAKED, _TEMPLATES, encode
from envoy.config.core.v3 import base_pb2
from envoy.service.auth.v3 import external_auth_pb2
from envoy.type.v3 import http_status_pb2
from google.rpc import code_pb2, status_pb2

OVERWRITE = base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD


def options(values: dict[str, str]) -> list[base_pb2.HeaderValueOption]:
    return [
        base_pb2.HeaderValueOption(header=base_pb2.HeaderValue(key=k, value=v), append_action=OVERWRITE)
        for k, v in values.items()
    ]


def reference(decision: Decision) -> external_auth_pb2.CheckResponse:
    """What Envoy must receive, built field by field with the generated classes."""
    if decision.code == 200:
        ok = external_auth_pb2.OkHttpResponse(
            headers=options(dict(decision.upstream)),
            headers_to_remove=list(decision.remove),
            response_headers_to_add=options(dict(decision.to_client)),
        )
        return external_auth_pb2.CheckResponse(status=status_pb2.Status(code=code_pb2.OK), ok_response=ok)
    return external_auth_pb2.CheckResponse(
        status=status_pb2.Status(code=code_pb2.PERMISSION_DENIED, message=decision.reason),
        denied_response=external_auth_pb2.DeniedHttpResponse(
            status=http_status_pb2.HttpStatus(code=decision.code), headers=options(dict(decision.to_client))
        ),
    )


CLEAR = {"set-cookie": "token=; Path=/; Max-Age=0; HttpOnly"}
DECISIONS = {
    "anonymous": Decision(200, "allowed", remove=("user-id", "session-id", "x-user-id")),
    "anonymous, nothing removed": Decision(200, "allowed"),
    "user and session": Decision(200, "allowed", {"user-id": "u-1", "session-id": "s-1"}, ("x-user-id",), {}),
    "expired token on an optional route": Decision(200, "anonymous: token expired", to_client=CLEAR),
    "non-ASCII identity": Decision(200, "allowed", {"user-id": "Zoë ✓ 用户"}, ()),
    "value of 127 bytes": Decision(200, "allowed", {"user-id": "u" * 127}),
    "value of 128 bytes": Decision(200, "allowed", {"user-id": "u" * 128}),
    "value of 20,000 bytes": Decision(200, "allowed", {"user-id": "u" * 20_000, "session-id": ""}),
    "empty value": Decision(200, "allowed", {"session-id": ""}),
    "one header of two empty": Decision(200, "allowed", {"user-id": "u-1", "session-id": ""}),
    "three headers": Decision(200, "allowed", {"user-id": "u-1", "x-user": "u-1", "session-id": "s-1"}),
    "percent signs in names, values and removals": Decision(
        200, "allowed", {"x-%c-user": "%b%%", "x-%s": "%d"}, ("x-%b-session", "%")
    ),
    "denied": Decision(401, "token required"),
    "denied, cookie cleared": Decision(401, "token expired", to_client=CLEAR),
    "rate limited": Decision(429, "rate limit exceeded"),
}


@pytest.mark.parametrize("decision", DECISIONS.values(), ids=DECISIONS.keys())
def test_the_bytes_are_protobufs_serialization_of_the_same_message(decision: Decision) -> None:
    expected = reference(decision)
    assert encode(decision) == expected.SerializeToString(deterministic=True)
    assert external_auth_pb2.CheckResponse.FromString(encode(decision)) == expected


def test_remembered_parts_never_leak_into_another_decision() -> None:
    first = Decision(200, "allowed", {"user-id": "a"}, ("x-user-id",), CLEAR)
    second = Decision(200, "allowed", {"user-id": "b"}, ("x-user-id",), {})
    for decision in (first, second, first, second):
        assert external_auth_pb2.CheckResponse.FromString(encode(decision)) == reference(decision)


@pytest.mark.parametrize("name", ["user-id", "x-authenticated-user-identifier-of-the-platform"])
def test_every_length_around_the_one_byte_boundaries_encodes_as_protobuf_does(name: str) -> None:
    # Each entry is built without protobuf while its lengths stay below 128: every value length across
    # the point where the entry's outer length needs a second byte.
    for size in range(60, 140):
        decision = Decision(200, "allowed", {name: "v" * size, "session-id": "s" * (139 - size)})
        assert encode(decision) == reference(decision).SerializeToString(deterministic=True), size


def test_every_answer_length_across_the_varint_byte_boundaries_encodes_as_protobuf_does() -> None:
    # OkHttpResponse's own length takes one, two or three varint bytes: below 128, up to 16,383, beyond.
    # The first and last change of width must be passed for every value length in between.
    sizes = [*range(0, 140), *range(16_200, 16_420)]
    for size in sizes:
        decision = Decision(200, "allowed", {"user-id": "v" * size}, ("x-user-id",))
        encoded = encode(decision)
        assert encoded == reference(decision).SerializeToString(deterministic=True), size
    widths = {
        len(reference(Decision(200, "allowed", {"user-id": "v" * s})).ok_response.SerializeToString())
        for s in (0, 16_419)
    }
    assert min(widths) < 0x80 and max(widths) >= 0x4000  # both boundaries were crossed


def test_values_of_more_lengths_than_a_template_keeps_still_encode_as_protobuf_does() -> None:
    # 400 pairs of value lengths against one set of names: past the patterns a template keeps, the answers
    # are built from pieces, and the table stays bounded rather than being emptied and refilled.
    remove = ("x-lengths-test",)
    for first in range(1, 21):
        for second in range(1, 21):
            decision = Decision(200, "allowed", {"user-id": "u" * first, "session-id": "s" * second}, remove)
            assert encode(decision) == reference(decision).SerializeToString(deterministic=True), (
                first,
                second,
            )
    template = _TEMPLATES[(remove, "user-id", "session-id")]
    assert len(template.baked) == _MAX_BAKED
