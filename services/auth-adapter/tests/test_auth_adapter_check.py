"""ext_authz Check against a real auth-adapter on loopback: every policy, token kind, permission, limit."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import pytest
from auth_adapter_fixtures import (
    CONFIG,
    SECRET,
    STATIC,
    Adapter,
    Siteverify,
    adapter,
    make_jwt,
    request,
    silent_server,
)
from envoy.config.core.v3 import base_pb2
from envoy.service.auth.v3 import external_auth_pb2, external_auth_pb2_grpc
from gateway_config.model import DEFAULT_IDENTITY_HEADERS
from google.rpc import code_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2

ENV = {"VALID_TOKENS": f" {STATIC[0]} ,{STATIC[1]},", "JWT_SECRET": SECRET}
CLEAR = "token=; Path=/; Max-Age=0; HttpOnly"
TRUSTED = {name for name, _ in DEFAULT_IDENTITY_HEADERS}  # every identity header the upstreams trust


@pytest.fixture(scope="module")
def shared() -> Iterator[Adapter]:
    with adapter(ENV) as a:
        yield a


@pytest.fixture
def fresh() -> Iterator[Adapter]:
    """Its own rate-limit state."""
    with adapter(ENV) as a:
        yield a


def code(response: external_auth_pb2.CheckResponse) -> int:
    if response.HasField("ok_response"):
        assert response.status.code == code_pb2.OK
        return 200
    assert response.status.code == code_pb2.PERMISSION_DENIED and response.HasField("denied_response")
    assert response.denied_response.body == ""
    return int(response.denied_response.status.code)


def upstream(response: external_auth_pb2.CheckResponse) -> dict[str, str]:
    for option in response.ok_response.headers:
        assert option.append_action == base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD
    return {o.header.key: o.header.value for o in response.ok_response.headers}


def to_client(response: external_auth_pb2.CheckResponse) -> dict[str, str]:
    options = response.ok_response.response_headers_to_add or response.denied_response.headers
    return {o.header.key: o.header.value for o in options}


def cookie(token: str) -> dict[str, str]:
    return {"cookie": f"lang=en; token={token}; theme=dark"}


# --- policies ------------------------------------------------------------------------------------


def test_no_need_allows_without_a_token_and_drops_client_identity_headers(shared: Adapter) -> None:
    forged = {"user-id": "admin", "session-id": "stolen", "x-user-id": "admin", "x-forwarded-user": "root"}
    response = shared.check("/api/Shop/Browse", forged)
    assert code(response) == 200
    assert upstream(response) == {} and set(response.ok_response.headers_to_remove) == TRUSTED
    assert {"user-id", "session-id", "x-user-id", "x-forwarded-user"} <= TRUSTED


def test_optional_api_policy_covers_other_methods_anonymous_or_identified(shared: Adapter) -> None:
    anonymous = shared.check("/api/Shop/Other", {"user-id": "admin"})
    assert code(anonymous) == 200 and set(anonymous.ok_response.headers_to_remove) == TRUSTED
    identified = shared.check("/api/Shop/Other", cookie(make_jwt()))
    assert code(identified) == 200 and upstream(identified) == {
        "user-id": "user-7",
        "session-id": "session-9",
    }


def test_optional_with_a_bad_token_is_anonymous_and_the_clear_cookie_goes_to_the_client(
    shared: Adapter,
) -> None:
    response = shared.check("/api/Shop/Other", cookie(make_jwt(secret="another-key-0123456789abcdef-0123")))
    assert code(response) == 200
    assert upstream(response) == {} and set(response.ok_response.headers_to_remove) == TRUSTED
    assert to_client(response) == {"set-cookie": CLEAR}


def test_required_without_a_token_is_401(shared: Adapter) -> None:
    response = shared.check("/api/Shop/View")
    assert code(response) == 401 and response.status.message == "token required"


def test_a_route_without_any_policy_is_400(shared: Adapter) -> None:
    response = shared.check("/api/Bare/Call")
    assert code(response) == 400 and response.status.message == "unknown auth for method"


@pytest.mark.parametrize("path", ["/Call", "/", "//Call", "/api/Secret/Any", "/api/shop/Browse", "/api"])
def test_a_path_the_gateway_routes_nowhere_is_404_no_route(shared: Adapter, path: str) -> None:
    response = shared.check(path, {"cookie": f"token={STATIC[0]}"})
    assert code(response) == 404 and response.status.message == "no route"


@pytest.mark.parametrize(
    "path", ["Call", "/api/Shop%2FBrowse", "/api/Shop/Browse#x", "/api/Shop/..;/Browse", "/api/%00/Shop"]
)
def test_a_path_envoy_rejects_is_400_path_rejected(shared: Adapter, path: str) -> None:
    response = shared.check(path, {"cookie": f"token={STATIC[0]}"})
    assert code(response) == 400 and response.status.message == "path rejected"


@pytest.mark.parametrize(
    "path",
    ["/api/Shop/Admin/x/Shop/Browse", "/api/Shop/Admin/Shop/Browse", "/Shop/Admin/Bare/x/Shop/Browse"],
)
def test_the_policy_is_the_route_envoy_takes_not_the_last_two_segments(shared: Adapter, path: str) -> None:
    # The last two segments name the no-need Shop/Browse; Envoy routes by the leading prefix, to
    # Shop/Admin's upstream (permission admin): that route's policy applies.
    assert code(shared.check(path)) == 401
    assert code(shared.check(path, cookie(make_jwt(permissions=["read", "write"])))) == 403
    # A dot segment is resolved first, as Envoy does: this one is Shop/Browse, and so is its route.
    assert code(shared.check("/api/Shop/Admin/../Browse")) == 200


def test_an_empty_path_is_invalid_argument_and_the_path_header_is_a_fallback(shared: Adapter) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        shared.check("")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert code(shared.check("/api/Shop/Browse", use_path_header=True)) == 200


# --- tokens --------------------------------------------------------------------------------------


def _token(claims: dict[str, Any] | str) -> str:
    """A raw token, or one signed now from claims given relative to now ("exp": -60 is a minute ago): a
    token made at collection time would age while the suite runs."""
    if isinstance(claims, str):
        return claims
    now = int(time.time())
    dated = {k: now + v if k in ("exp", "nbf") and v is not None else v for k, v in claims.items()}
    return make_jwt(**dated)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": -60}, "token expired"),
        ({"nbf": 600}, "token not yet valid"),
        ({"secret": "not-the-signing-key-0123456789abcdef"}, "token signature does not verify"),
        ({"iss": "https://elsewhere.test"}, "token issuer not accepted"),
        ({"aud": "someone-else"}, "token audience not accepted"),
        ({"exp": None}, "token lacks the 'exp' claim"),
        ({"sub": None}, "token lacks the 'sub' claim"),
        ("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "malformed token"),  # alg none
        ("not-a-known-token", "invalid token"),
        ("a.b.c", "malformed token"),
    ],
)
def test_bad_tokens_are_401_with_the_reason_and_a_clear_cookie(
    shared: Adapter, claims: dict[str, Any] | str, reason: str
) -> None:
    token = _token(claims)
    response = shared.check("/api/Shop/View", cookie(token))
    assert code(response) == 401 and response.status.message == reason
    assert to_client(response) == {"set-cookie": CLEAR}
    assert token not in response.status.message


def test_a_valid_jwt_from_the_cookie_or_a_bearer_header_identifies_the_user(shared: Adapter) -> None:
    for headers in (cookie(make_jwt()), {"authorization": f"Bearer {make_jwt()}"}):
        response = shared.check("/api/Shop/Buy", {**headers, "user-id": "admin", "session-id": "x"})
        assert code(response) == 200
        assert upstream(response) == {
            "user-id": "user-7",
            "session-id": "session-9",
        }  # overwrite the client's
        assert set(response.ok_response.headers_to_remove) == TRUSTED - {"user-id", "session-id"}


def test_static_tokens_are_each_accepted_and_identified_by_position_not_value(shared: Adapter) -> None:
    for position, token in enumerate(STATIC, start=1):
        response = shared.check("/api/Shop/Buy", cookie(token))
        assert code(response) == 200 and upstream(response) == {"user-id": f"static-token-{position}"}
        # no session issued: the client's goes, with every other trusted header
        assert set(response.ok_response.headers_to_remove) == TRUSTED - {"user-id"}
    assert code(shared.check("/api/Shop/Buy", cookie(STATIC[0] + "x"))) == 401
    assert code(shared.check("/api/Shop/Buy", cookie(STATIC[0][:-1]))) == 401


def test_no_token_is_built_in() -> None:
    with adapter({}) as bare:
        for token in ("demo-token", "test-token", "valid-session", "demo-token-1", make_jwt()):
            assert code(bare.check("/api/Shop/View", cookie(token))) == 401


# --- permissions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "claims", "expected"),
    [
        ("/api/Shop/Buy", {"permissions": ["write"]}, 200),
        ("/api/Shop/Buy", {"permissions": ["read"]}, 403),
        ("/api/Shop/Buy", {"permissions": None}, 403),
        ("/api/Shop/View", {"roles": ["CLIENT"], "permissions": None}, 200),  # no permission: role CLIENT
        ("/api/Shop/View", {"roles": ["ADMIN"]}, 403),
        ("/api/Shop/View", {"roles": "CLIENT OTHER"}, 200),  # space-separated claim
        ("/api/Shop/Admin", {"permissions": ["admin"]}, 200),
        ("/api/Shop/Admin", {}, 403),
        ("/api/Shop/Other", {"roles": [], "permissions": []}, 200),  # optional: no permission check
    ],
)
def test_permissions_from_claims(
    shared: Adapter, path: str, claims: dict[str, object], expected: int
) -> None:
    response = shared.check(path, cookie(make_jwt(**claims)))
    assert code(response) == expected
    if expected == 403:
        assert response.status.message == "access denied" and to_client(response) == {}


def test_static_tokens_have_the_configured_permissions(shared: Adapter) -> None:
    assert code(shared.check("/api/Shop/Buy", cookie(STATIC[1]))) == 200  # write
    assert code(shared.check("/api/Shop/Admin", cookie(STATIC[1]))) == 403


# --- the query-string bypass -------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["?x=1", "?", "?a=/b/c", "?/../Browse"])
def test_the_query_string_does_not_change_which_policy_applies(shared: Adapter, suffix: str) -> None:
    # The original looked up "Shop/Admin?x=1", missed, and fell back to the optional "Shop" policy.
    assert code(shared.check(f"/api/Shop/Admin{suffix}")) == 401
    assert code(shared.check(f"/api/Shop/Admin{suffix}", cookie(STATIC[0]))) == 403


# --- rate limits ---------------------------------------------------------------------------------


def test_the_rate_limit_applies_per_client_with_recaptcha_off(fresh: Adapter) -> None:
    token = cookie(make_jwt())
    client_a = {**token, "x-forwarded-for": "203.0.113.5"}
    assert [code(fresh.check("/api/Shop/Limited", client_a)) for _ in range(3)] == [200, 200, 429]
    assert fresh.check("/api/Shop/Limited", client_a).status.message == "rate limit exceeded"
    assert code(fresh.check("/api/Shop/Limited", {**token, "x-forwarded-for": "203.0.113.6"})) == 200
    # Other methods are not limited by it.
    assert code(fresh.check("/api/Shop/View", client_a)) == 200


def test_the_client_address_cannot_be_spoofed_with_x_real_ip_or_a_prepended_forwarded_for(
    fresh: Adapter,
) -> None:
    token = cookie(make_jwt())
    for n in range(4):
        # Envoy appends the peer it saw (203.0.113.5) as the last entry; the client controls the rest.
        spoofed = {**token, "x-real-ip": f"198.51.100.{n}", "x-forwarded-for": f"198.51.100.{n}, 203.0.113.5"}
        assert code(fresh.check("/api/Shop/Limited", spoofed)) == (200 if n < 2 else 429)


def test_without_forwarded_for_the_source_address_is_the_client(fresh: Adapter) -> None:
    token = cookie(make_jwt())
    assert [code(fresh.check("/api/Shop/Limited", token, source="192.0.2.1")) for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert code(fresh.check("/api/Shop/Limited", token, source="192.0.2.2")) == 200


# --- reCAPTCHA -----------------------------------------------------------------------------------


@pytest.fixture
def siteverify() -> Iterator[Siteverify]:
    server = Siteverify()
    yield server
    server.close()


def recaptcha_env(url: str) -> dict[str, str]:
    return {
        **ENV,
        "RECAPTCHA_URL": url,
        "RECAPTCHA_SECRET_V2": "v2-secret",
        "RECAPTCHA_SECRET_V3": "v3-secret",
    }


@pytest.mark.parametrize(
    ("token", "expected"),
    [("human", 200), ("borderline", 412), ("robot", 412), ("broken", 412), ("deep", 412), ("", 412)],
)
def test_v3_recaptcha_with_the_configured_score_threshold(
    siteverify: Siteverify, token: str, expected: int
) -> None:
    with adapter(recaptcha_env(siteverify.url)) as a:
        response = a.check("/api/Shop/Human", {"x-rc-token": token} if token else {})
        assert code(response) == expected
        if expected == 412:
            assert response.status.message == "recaptcha failed"
    if token:
        assert siteverify.forms == [{"secret": ["v3-secret"], "response": [token]}]
    else:
        assert siteverify.forms == []  # nothing to ask about


def test_v2_recaptcha_lets_a_rate_limited_client_through_and_refills_its_bucket(
    siteverify: Siteverify,
) -> None:
    token = cookie(make_jwt())
    with adapter(recaptcha_env(siteverify.url)) as a:
        assert [code(a.check("/api/Shop/Limited", token)) for _ in range(2)] == [200, 200]
        assert siteverify.forms == []  # under the limit, nobody is asked
        assert code(a.check("/api/Shop/Limited", {**token, "x-rc-token-2": "robot"})) == 429
        assert code(a.check("/api/Shop/Limited", {**token, "x-rc-token-2": "human"})) == 200
        assert siteverify.forms[-1] == {"secret": ["v2-secret"], "response": ["human"]}
        # refilled: the full count again before the next challenge
        assert [code(a.check("/api/Shop/Limited", token)) for _ in range(3)] == [200, 200, 429]


def test_a_recaptcha_server_that_never_answers_fails_the_check_within_the_timeout() -> None:
    with silent_server() as url, adapter(recaptcha_env(url)) as a:
        started = time.monotonic()
        response = a.check("/api/Shop/Human", {"x-rc-token": "human"})
        elapsed = time.monotonic() - started
        assert code(response) == 412
        assert 0.4 < elapsed < 5.0  # the configured 0.5 s (a loaded machine adds some), not forever


def test_a_short_recaptcha_token_is_just_a_failed_check(siteverify: Siteverify) -> None:
    # The original sliced token[:20] for its log and crashed on shorter tokens.
    with adapter(recaptcha_env(siteverify.url)) as a:
        assert code(a.check("/api/Shop/Human", {"x-rc-token": "x"})) == 412
        assert code(a.check("/api/Shop/Human", {"x-rc-token": "human"})) == 200


# --- health --------------------------------------------------------------------------------------


def test_health_reports_serving_then_not_serving_on_shutdown() -> None:
    a = Adapter(ENV)
    stub = health_pb2_grpc.HealthStub(a.channel)
    for name in ("", "envoy.service.auth.v3.Authorization"):
        assert stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5).status == 1
    with pytest.raises(grpc.RpcError) as caught:
        stub.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    watch = stub.Watch(health_pb2.HealthCheckRequest(service=""))
    assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
    a.server.server.request_stop()
    assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING
    a.close()


def test_reflection_v1_lists_the_authorization_service(shared: Adapter) -> None:
    # v1 is what current grpcurl asks first; the messages are v1alpha's on the wire.
    call = shared.channel.stream_stream("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo")
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    [raw] = list(call(iter([request.SerializeToString()]), timeout=5))
    listed = {
        s.name for s in reflection_pb2.ServerReflectionResponse.FromString(raw).list_services_response.service
    }
    assert {
        "envoy.service.auth.v3.Authorization",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
    } <= listed


def test_watch_streams_beyond_the_workers_leave_checks_on_new_connections_answered() -> None:
    # The adapter runs on 4 workers here: 200 open health Watch streams hold none of them.
    with adapter(ENV) as a:
        health = health_pb2_grpc.HealthStub(a.channel)
        watches = [health.Watch(health_pb2.HealthCheckRequest(), timeout=30) for _ in range(200)]
        assert {next(w).status for w in watches} == {health_pb2.HealthCheckResponse.SERVING}
        assert a.server.server.streams.open == 200
        with grpc.insecure_channel(f"127.0.0.1:{a.server.port}") as fresh:  # as Envoy's new connection
            answer = external_auth_pb2_grpc.AuthorizationStub(fresh).Check(
                request("/api/Shop/Browse"), timeout=1
            )
            probe = health_pb2_grpc.HealthStub(fresh).Check(health_pb2.HealthCheckRequest(), timeout=1)
        assert answer.HasField("ok_response") and probe.status == health_pb2.HealthCheckResponse.SERVING
        for watch in watches:
            watch.cancel()


def test_a_verified_jwt_is_refused_once_it_expires(fresh: Adapter) -> None:
    # Verified tokens are remembered; the expiry still applies to the remembered ones.
    expires = int(time.time()) + 4
    token = cookie(make_jwt(exp=expires))
    assert [code(fresh.check("/api/Shop/View", token)) for _ in range(3)] == [200, 200, 200]
    time.sleep(max(0.0, expires - time.time()) + 0.2)
    response = fresh.check("/api/Shop/View", token)
    assert code(response) == 401 and response.status.message == "token expired"


def test_configured_identity_headers_are_removed_and_set_from_the_token_only() -> None:
    config = CONFIG + "identity_headers: {x-user-id: user, x-session: session, x-tenant: none}\n"
    with adapter(ENV, config) as a:
        forged = {"x-user-id": "admin", "x-session": "s", "x-tenant": "other", "user-id": "u"}
        anonymous = a.check("/api/Shop/Browse", forged)
        assert upstream(anonymous) == {}
        assert set(anonymous.ok_response.headers_to_remove) == {"x-user-id", "x-session", "x-tenant"}
        identified = a.check("/api/Shop/Buy", {**forged, **cookie(make_jwt())})
        assert upstream(identified) == {"x-user-id": "user-7", "x-session": "session-9"}
        assert list(identified.ok_response.headers_to_remove) == ["x-tenant"]


class Redirecting:
    """A siteverify that answers every POST with a redirect to another host (127.0.0.2) that records
    what reaches it."""

    def __init__(self, status: int) -> None:
        self.other = Siteverify(host="127.0.0.2")
        target = self.other.url

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(status)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/siteverify"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.other.close()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_never_followed_and_the_secret_goes_nowhere_else(status: int) -> None:
    server = Redirecting(status)
    try:
        with adapter(recaptcha_env(server.url)) as a:
            assert code(a.check("/api/Shop/Human", {"x-rc-token": "human"})) == 412
        assert server.other.forms == []  # the other host never heard of the request, nor of the secret
    finally:
        server.close()


def test_a_server_dripping_its_answer_cannot_hold_the_check_past_the_timeout() -> None:
    """Each byte comes within the per-read timeout; only a deadline on the whole exchange ends it."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))

    def drip() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.wait(0.1):
                try:
                    connection.sendall(b"X")  # a header line that never ends
                except OSError:
                    return

    threading.Thread(target=drip, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/siteverify"
    try:
        with adapter(recaptcha_env(url)) as a:  # timeout_seconds: 0.5
            started = time.monotonic()
            assert code(a.check("/api/Shop/Human", {"x-rc-token": "human"})) == 412
            assert time.monotonic() - started < 2.0
    finally:
        stop.set()
        listener.close()


def test_remembered_routes_stay_bounded_and_decide_as_the_route_table() -> None:
    import gateway_config
    from auth_adapter import authorizer as module
    from auth_adapter.cli import build

    decider = build(gateway_config.loads(CONFIG), ENV)
    long_path = "/api/Shop/Browse/" + "x" * 100_000  # a client chooses the path: never remembered
    assert decider.decide(long_path, {}, lambda: "10.0.0.1").code == 200
    for n in range(module.ROUTE_CACHE + 500):
        path = f"/api/Shop/Admin/{n}" if n % 2 else f"/api/Nope/{n}"
        expected = decider.route(path)
        assert decider.decide(path, {}, lambda: "10.0.0.1").code == (401 if expected is not None else 404)
    remembered = decider._routes  # noqa: SLF001 - the bound is the point of this test
    assert 0 < len(remembered) <= module.ROUTE_CACHE
    assert all(len(path) <= module.ROUTE_CACHE_PATH for path in remembered)
