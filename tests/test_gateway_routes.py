"""One decision per route: for hostile paths, the route Envoy takes in the generated bootstrap and the
policy auth-adapter applies are the same one.

The Envoy side is modelled here, independently of the adapter's code (no Envoy binary can be had on
these machines): the connection manager's settings are read from the generated bootstrap (parsed into
xds-protos' Bootstrap) and applied as Envoy documents them and ConnectionManagerUtility::maybeNormalizePath
orders them (fragment rejected, escaped slashes per path_with_escaped_slashes_action, normalize_path as
RFC 3986 normalisation, merge_slashes); routes are matched in order, first match wins, prefix / path /
safe_regex / path_separated_prefix on the path without query and fragment, case-sensitive unless
`case_sensitive` is false (Envoy's route documentation). The
expected policy is read from config.yaml by the route's own target, not through the adapter's table.
The adapter is asked with CheckRequests built as Envoy's ext_authz filter fills them, over gRPC.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gateway_config
import grpc
import pytest
from api_gateway import envoy_schema
from api_gateway.bootstrap import build_bootstrap
from auth_adapter.cli import build
from auth_adapter.server import build_server
from envoy.config.core.v3 import address_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2
from envoy.service.auth.v3 import attribute_context_pb2, external_auth_pb2, external_auth_pb2_grpc
from service_runtime import ServerSettings, ServerThread

from gitops_poc.yamlio import load_plain

ROOT = Path(__file__).resolve().parent.parent
HCM = http_connection_manager_pb2.HttpConnectionManager

HOSTILE = """
api_route: /api/
clusters:
  - {name: shop, addr: "shop:1"}
  - {name: admin, addr: "admin:1"}
  - {name: open, addr: "open:1"}
apis:
  - name: Shop
    cluster: shop
    auth: {policy: optional}
    methods:
      - {name: Admin, auth: {policy: required, permission: admin}}
      - {name: Browse, auth: {policy: no-need}}
      - {name: Buy}
  - name: ShopAdmin
    cluster: admin
    auth: {policy: required}
  - name: grpc.health.v1.Health
    cluster: open
    auth: {policy: no-need}
  - name: Bare
    cluster: open
  - name: api
    cluster: open
    methods:
      - {name: Shop, auth: {policy: no-need}}
"""


def platform_config() -> str:
    values = load_plain((ROOT / "services/api-gateway/.cicd/default.yaml").read_text())
    text = values["configfiles"]["data"]["config.yaml"]
    assert isinstance(text, str)
    return text


CONFIGS = {"platform": platform_config(), "hostile": HOSTILE}


# --- Envoy, as its source defines it ---------------------------------------------------------------------


def connection_manager(bootstrap: Any) -> Any:
    (listener,) = [x for x in bootstrap.static_resources.listeners if x.name == "web_grpc_listener"]
    manager = HCM()
    assert listener.filter_chains[0].filters[0].typed_config.Unpack(manager)
    return manager


_UNRESERVED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def rfc3986_path(head: str) -> str | None:
    """normalize_path as Envoy's documentation states it, written here from the RFC and not from the
    adapter's code: "normalized according to RFC 3986" through Chromium's URL canonicalizer, i.e.
    percent-encoded unreserved characters decoded (RFC 3986 6.2.2.2), so `%2e` is a dot; `\\` a separator
    (Chromium, for http URLs); dot segments removed (RFC 3986 5.2.4, never above the root); `%00` refused.
    Other escaping differences between this and Chromium do not change which route a path takes."""
    out: list[str] = []
    i = 0
    while i < len(head):
        ch = head[i]
        if ch == "%" and re.fullmatch(r"[0-9A-Fa-f]{2}", head[i + 1 : i + 3]):
            decoded = chr(int(head[i + 1 : i + 3], 16))
            if decoded == "\0":
                return None
            out.append(decoded if decoded in _UNRESERVED else head[i : i + 3])
            i += 3
            continue
        out.append("/" if ch == "\\" else ch)
        i += 1
    path = "".join(out)
    # RFC 3986 5.2.4 remove_dot_segments
    result: list[str] = []
    segments = path.split("/")[1:]
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "..":
            if result:
                result.pop()
            if last:
                result.append("")
        elif segment == ".":
            if last:
                result.append("")
        else:
            result.append(segment)
    return "/" + "/".join(result)


def envoy_path(raw: str, manager: Any, strip_dot_parameters: bool) -> str | None:
    """The :path after ConnectionManagerUtility::maybeNormalizePath; None = Envoy answers 400 or 404."""
    if not raw.startswith("/") or "#" in raw:  # relative: 404; fragment: http_reject_path_with_fragment
        return None
    head, mark, query = raw.partition("?")
    action = manager.path_with_escaped_slashes_action
    assert action in (HCM.REJECT_REQUEST, HCM.KEEP_UNCHANGED), "model the configured action first"
    if action == HCM.REJECT_REQUEST and re.search("%(2f|5c)", head, re.IGNORECASE):
        return None
    if manager.normalize_path.value:
        if strip_dot_parameters:  # PathUtil::stripParametersFromDotSegments (runtime flag)
            segments = [
                ".." if s.startswith("..;") else "." if s.startswith(".;") else s for s in head.split("/")
            ]
            head = "/".join(segments)
        canonical = rfc3986_path(head)
        if canonical is None:
            return None
        head = canonical
    if manager.merge_slashes:  # "adjacent slashes in the path are merged into one" (before the query)
        head = re.sub("/{2,}", "/", head)
    return f"{head}{mark}{query}"


def envoy_route(path: str, routes: Any) -> Any | None:
    """RouteMatcher: the first route whose path specifier matches (config_impl.cc, matchers.cc)."""
    bare = re.split(r"[?#]", path, maxsplit=1)[0]  # PathUtil::removeQueryAndFragment
    for route in routes:
        match = route.match
        assert not match.headers and not match.query_parameters and not match.HasField("runtime_fraction")
        sensitive = match.case_sensitive.value if match.HasField("case_sensitive") else True
        subject = bare if sensitive else bare.lower()
        kind = match.WhichOneof("path_specifier")
        if kind == "prefix":
            value = match.prefix if sensitive else match.prefix.lower()
            found = subject.startswith(value)
        elif kind == "path":
            found = subject == (match.path if sensitive else match.path.lower())
        elif kind == "safe_regex":
            found = re.fullmatch(match.safe_regex.regex, bare) is not None
        elif kind == "path_separated_prefix":
            value = match.path_separated_prefix if sensitive else match.path_separated_prefix.lower()
            found = subject.startswith(value) and (len(subject) == len(value) or subject[len(value)] == "/")
        else:
            raise AssertionError(f"no model of {kind}")
        if found:
            return route
    return None


def expected_policy(route: Any, config: gateway_config.GatewayConfig) -> gateway_config.Auth | None:
    """The policy config.yaml gives the upstream path this route forwards to (`/API` or `/API/method`)."""
    target = route.route.prefix_rewrite or route.match.path_separated_prefix
    api_name, _, method_name = target.lstrip("/").partition("/")
    (api,) = [a for a in config.apis if a.name == api_name]
    assert api.cluster == route.route.cluster
    method = next((m for m in api.methods if m.name == method_name), None)
    return method.auth if method is not None and method.auth is not None else api.auth


def anonymous_code(auth: gateway_config.Auth | None) -> int:
    """What the adapter answers a request without a token under `auth`."""
    if auth is None:
        return 400
    return 401 if auth.policy is gateway_config.Policy.REQUIRED else 200


# --- the hostile paths ----------------------------------------------------------------------------------


def hostile_paths(routes: Any) -> list[str]:
    prefixes = [r.match.path_separated_prefix for r in routes]
    tails = ["", "/", "/x", "/Shop/Browse", "/grpc.health.v1.Health/Check", "/..", "/.", "/%2e%2e", "/x/.."]
    found: set[str] = set()
    for prefix, other in itertools.product(prefixes, prefixes):
        head, _, last = prefix.rpartition("/")
        variants = [prefix + tail for tail in tails] + [
            f"{prefix}/..{other}",  # dot segments climbing into another route
            f"{prefix}/../..{other}",
            f"{prefix}/%2e%2e{other}",
            f"{prefix}/%2E.{other}",
            f"{prefix}/.%2e/x{other}",
            f"{prefix}\\..{other}",  # backslash as a separator
            f"{prefix}/x/{other.rpartition('/')[2]}",  # last two segments name another method
            f"{prefix}{other}",
            f"{prefix}%2F..%2F{other.lstrip('/')}",  # encoded slashes
            f"{prefix}%5c..%5c{other.lstrip('/')}",
            f"{prefix}/%2f{other.lstrip('/')}",
            f"/{prefix}",  # doubled slashes
            f"{head}//{last}",
            f"{prefix}//{other.lstrip('/')}",
            f"{prefix}?{other}",  # query and fragment tricks
            f"{prefix}?x=/../..{other}",
            f"{prefix}#/..{other}",
            f"{prefix}%3F{other}",
            f"{prefix}%23{other}",
            prefix.upper(),  # case
            prefix.lower(),
            f"{head}/{last.swapcase()}",
            "".join(f"%{ord(c):02x}" if c.isalpha() else c for c in prefix),  # encoded letters and dots
            prefix.replace(".", "%2e"),
            f"{prefix}/..;/{other.lstrip('/')}",  # dot segments with parameters
            f"{prefix};x",
            f"{prefix}%00",
            f"{prefix}/caf\u00e9",
            f"{prefix}/ x",
        ]
        found.update(variants)
    found.update(["/", "//", "/api", "/api/", "api/Shop", "/..", "/%2e", "/api/../Shop/Admin", "/api/./Shop"])
    return sorted(found)


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def setup(request: pytest.FixtureRequest) -> Iterator[tuple[gateway_config.GatewayConfig, Any, Any]]:
    config = gateway_config.loads(CONFIGS[request.param])
    bootstrap = envoy_schema.parse(build_bootstrap(config))  # what Envoy would load
    manager = connection_manager(bootstrap)
    authorizer = build(config, {})
    server = ServerThread(build_server(ServerSettings(host="127.0.0.1", drain=0.0, grace=0.5), authorizer))
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield config, manager, external_auth_pb2_grpc.AuthorizationStub(channel)
    finally:
        channel.close()
        assert server.stop(timeout=15)


CLIENTS = itertools.count(1)


def check_request(path: str) -> external_auth_pb2.CheckRequest:
    """As Envoy's ext_authz filter fills it: the (normalized) :path, method, host, the peer's address
    (each request from a client of its own: rate limits are not what this test is about)."""
    n = next(CLIENTS)
    client = f"2001:db8::{n // 65536:x}:{n % 65536:x}"
    http = attribute_context_pb2.AttributeContext.HttpRequest(
        id=str(n), method="POST", host="gateway", scheme="http", protocol="HTTP/2", path=path,
        headers={":path": path, ":method": "POST", ":authority": "gateway", "x-forwarded-for": client},
    )  # fmt: skip
    peer = attribute_context_pb2.AttributeContext.Peer(
        address=address_pb2.Address(
            socket_address=address_pb2.SocketAddress(address="10.0.0.1", port_value=1)
        )
    )
    return external_auth_pb2.CheckRequest(
        attributes=attribute_context_pb2.AttributeContext(
            source=peer, request=attribute_context_pb2.AttributeContext.Request(http=http)
        )
    )


def answer(stub: Any, path: str) -> int:
    response = stub.Check(check_request(path), timeout=10)
    return 200 if response.HasField("ok_response") else int(response.denied_response.status.code)


def test_the_route_envoy_takes_and_the_policy_the_adapter_applies_are_one(
    setup: tuple[gateway_config.GatewayConfig, Any, Any],
) -> None:
    config, manager, stub = setup
    assert manager.normalize_path.value and manager.merge_slashes
    assert manager.path_with_escaped_slashes_action == HCM.REJECT_REQUEST
    routes = list(manager.route_config.virtual_hosts[0].routes)
    authorizer = build(config, {})
    paths = hostile_paths(routes)
    routed = denied = 0
    for raw in paths:
        outcomes = {envoy_path(raw, manager, strip) for strip in (False, True)}
        adapter_route = authorizer.route(raw)
        if len(outcomes) > 1:
            # Dot segments with parameters: the Envoy build decides the path. The adapter refuses them.
            assert adapter_route is None and answer(stub, raw) == 400, raw
            denied += 1
            continue
        (envoy_seen,) = outcomes
        route = None if envoy_seen is None else envoy_route(envoy_seen, routes)
        if route is None:  # Envoy answers 400/404 itself, or has no route: the adapter denies as well
            assert adapter_route is None, raw
            assert answer(stub, raw) in (400, 404), raw
            if envoy_seen is not None:
                assert answer(stub, envoy_seen) == 404, raw
            denied += 1
            continue
        routed += 1
        policy = expected_policy(route, config)
        for seen in (raw, envoy_seen):  # Envoy hands on the normalized path; the raw one decides the same
            mine = authorizer.route(seen)
            assert mine is not None, (raw, seen)
            assert (mine.prefix, mine.api.cluster, mine.rewrite or "") == (
                route.match.path_separated_prefix,
                route.route.cluster,
                route.route.prefix_rewrite,
            ), (raw, seen)
            assert mine.auth == policy, (raw, seen)
        assert answer(stub, envoy_seen) == anonymous_code(policy), (raw, envoy_seen)
    assert routed > 100 and denied > 100, (routed, denied)  # the corpus reaches both sides
