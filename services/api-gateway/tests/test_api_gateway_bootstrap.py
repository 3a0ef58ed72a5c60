"""The generated Envoy bootstrap, parsed into Envoy's own messages (xds-protos) for every configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gateway_config
import pytest
from api_gateway import envoy_schema
from api_gateway.bootstrap import Overrides, build_bootstrap
from envoy.config.bootstrap.v3 import bootstrap_pb2
from envoy.extensions.filters.http.ext_authz.v3 import ext_authz_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2
from ruamel.yaml import YAML

VALUES = Path(__file__).resolve().parents[1] / ".cicd" / "default.yaml"


def platform_config_text() -> str:
    """The config.yaml this service is deployed with (its values file)."""
    text = YAML(typ="safe").load(VALUES.read_text())["configfiles"]["data"]["config.yaml"]
    assert isinstance(text, str)
    return text


SMALL = """
api_route: /gw/
cors: {allow_origins: ["https://app.example.com"]}
auth_adapter: {host: authz.internal, port: 9100, timeout_seconds: 0.5}
tracing: {enabled: true, host: otel, port: 4318, service_name: edge}
clusters:
  - name: svc
    addr: svc:7000
    circuit_breaker: {max_connections: 10}
    health_check: {service_name: svc.v1.Svc, interval_seconds: 7}
  - name: web
    addr: web:80
    type: http
    health_check: {path: /healthz}
apis:
  - name: svc.v1.Svc
    cluster: svc
    methods:
      - name: Get
        auth: {policy: no-need, rate_limit: {period: 1s, count: 5}}
      - name: Put
  - name: Web
    cluster: web
"""
ROOT_ROUTE = (
    "api_route: /\nclusters: [{name: c, addr: 'c:1'}]\napis: [{name: S, cluster: c, methods: [{name: m}]}]\n"
)
CONFIGS = {"platform": platform_config_text(), "small": SMALL, "root-route": ROOT_ROUTE}


def parsed(text: str, overrides: Overrides | None = None) -> Any:
    """Build and parse: every test's bootstrap goes through Envoy's own message types."""
    message = envoy_schema.parse(build_bootstrap(gateway_config.loads(text), overrides))
    assert envoy_schema.deprecated_fields(message) == []
    return message


def unpack(any_message: Any, cls: Any) -> Any:
    inner = cls()
    assert any_message.Unpack(inner), any_message.type_url
    return inner


def hcm(message: Any, listener: str = "web_grpc_listener") -> Any:
    (lst,) = [x for x in message.static_resources.listeners if x.name == listener]
    return unpack(
        lst.filter_chains[0].filters[0].typed_config, http_connection_manager_pb2.HttpConnectionManager
    )


def clusters(message: Any) -> dict[str, Any]:
    return {c.name: c for c in message.static_resources.clusters}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_configuration_parses_into_envoys_bootstrap_without_deprecated_fields(name: str) -> None:
    message = parsed(CONFIGS[name])
    assert isinstance(message, bootstrap_pb2.Bootstrap)
    assert [f.name for f in hcm(message).http_filters] == [
        "envoy.filters.http.cors",
        "envoy.filters.http.ext_authz",
        "envoy.filters.http.grpc_web",
        "envoy.filters.http.router",
    ]
    # The admin interface is reachable from inside the pod only.
    assert message.admin.address.socket_address.address == "127.0.0.1"


def test_the_platform_gateway() -> None:
    message = parsed(platform_config_text())
    manager = hcm(message)
    assert manager.use_remote_address.value and manager.normalize_path.value and manager.merge_slashes
    assert manager.path_with_escaped_slashes_action == manager.REJECT_REQUEST
    assert not manager.HasField("tracing")  # off unless enabled
    authz = unpack(manager.http_filters[1].typed_config, ext_authz_pb2.ExtAuthz)
    assert authz.grpc_service.envoy_grpc.cluster_name == "ext_auth" and not authz.failure_mode_allow
    assert [p.exact for p in authz.allowed_headers.patterns] == [
        "cookie", "authorization", "x-forwarded-for", "x-rc-token", "x-rc-token-2"
    ]  # fmt: skip
    host = manager.route_config.virtual_hosts[0]
    assert "envoy.filters.http.cors" not in host.typed_per_filter_config  # no origins configured: no CORS
    routes = [(r.match.path_separated_prefix, r.route.prefix_rewrite, r.route.cluster) for r in host.routes]
    assert routes == [
        ("/api/FakeService/Handle", "/FakeService/Handle", "web-grpc"),
        ("/api/FakeService", "/FakeService", "web-grpc"),
        ("/api/grpc.health.v1.Health", "/grpc.health.v1.Health", "health-demo"),
        # native gRPC clients call the service's own path
        ("/FakeService/Handle", "", "web-grpc"),
        ("/FakeService", "", "web-grpc"),
        ("/grpc.health.v1.Health", "", "health-demo"),
    ]
    # rate_limit.count is per client: auth-adapter enforces it; the gateway has no shared bucket of its own
    assert all(not route.typed_per_filter_config for route in host.routes)
    assert host.routes[0].route.max_stream_duration.max_stream_duration.seconds == 600

    by_name = clusters(message)
    assert set(by_name) == {"ext_auth", "envoy_admin", "web-grpc", "web-http", "health-demo"}  # no tracing
    auth = by_name["ext_auth"].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address
    assert (auth.address, auth.port_value) == ("auth-adapter-sv", 9000)
    assert (
        by_name["ext_auth"].health_checks[0].grpc_health_check.service_name
        == "envoy.service.auth.v3.Authorization"
    )

    def protocol(name: str) -> Any:
        options = by_name[name].typed_extension_protocol_options[
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
        ]
        return unpack(options, http_protocol_options_pb2.HttpProtocolOptions).explicit_http_config

    assert protocol("web-grpc").HasField("http2_protocol_options")
    assert protocol("web-grpc").http2_protocol_options.max_concurrent_streams.value == 1024
    assert protocol("web-http").HasField("http_protocol_options")
    # health checks fit the cluster: gRPC health for gRPC, HTTP GET for HTTP
    assert by_name["health-demo"].health_checks[0].HasField("grpc_health_check")
    assert by_name["web-http"].health_checks[0].http_health_check.path == "/health"
    assert not by_name["web-grpc"].health_checks

    ready = hcm(message, "ready_listener").route_config.virtual_hosts[0].routes
    assert (ready[0].match.path, ready[0].route.cluster) == ("/ready", "envoy_admin")
    assert ready[1].direct_response.status == 404  # nothing else of the admin interface
    admin = (
        by_name["envoy_admin"].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address
    )
    assert (admin.address, admin.port_value) == ("127.0.0.1", 8000)


def test_cors_tracing_circuit_breakers_and_the_adapter_address_from_configuration() -> None:
    message = parsed(SMALL)
    manager = hcm(message)
    cors = manager.route_config.virtual_hosts[0].typed_per_filter_config["envoy.filters.http.cors"]
    assert cors.type_url.endswith("envoy.extensions.filters.http.cors.v3.CorsPolicy")
    from envoy.extensions.filters.http.cors.v3 import cors_pb2

    policy = unpack(cors, cors_pb2.CorsPolicy)
    assert [m.exact for m in policy.allow_origin_string_match] == ["https://app.example.com"]
    assert manager.tracing.provider.name == "envoy.tracers.opentelemetry"
    by_name = clusters(message)
    collector = (
        by_name["opentelemetry_collector"].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address
    )
    assert (collector.socket_address.address, collector.socket_address.port_value) == ("otel", 4318)
    auth = by_name["ext_auth"].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address
    assert (auth.address, auth.port_value) == ("authz.internal", 9100)
    thresholds = by_name["svc"].circuit_breakers.thresholds
    assert [t.max_connections.value for t in thresholds] == [10, 10]
    assert [t.max_requests.value for t in thresholds] == [1024, 1024]
    check = by_name["svc"].health_checks[0]
    assert check.grpc_health_check.service_name == "svc.v1.Svc" and check.interval.seconds == 7
    routes = manager.route_config.virtual_hosts[0].routes
    assert routes[0].match.path_separated_prefix == "/gw/svc.v1.Svc/Get"


def test_environment_overrides_win_over_the_file() -> None:
    message = parsed(platform_config_text(), Overrides("auth-adapter.poc-dev.svc", True, "collector", 4319))
    by_name = clusters(message)
    auth = by_name["ext_auth"].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address
    assert auth.address == "auth-adapter.poc-dev.svc"
    assert "opentelemetry_collector" in by_name and hcm(message).HasField("tracing")
    off = parsed(SMALL, Overrides(tracing_enabled=False))
    assert "opentelemetry_collector" not in clusters(off) and not hcm(off).HasField("tracing")


def test_api_route_slash_has_no_duplicate_routes() -> None:
    routes = hcm(parsed(ROOT_ROUTE)).route_config.virtual_hosts[0].routes
    assert [(r.match.path_separated_prefix, r.route.prefix_rewrite) for r in routes] == [
        ("/S/m", ""),
        ("/S", ""),
    ]


def test_envoys_schema_refuses_unknown_fields_types_and_extensions() -> None:
    good = build_bootstrap(gateway_config.loads(SMALL))
    bad_field = {**good, "admin": {**good["admin"], "access_log_pathh": "/dev/null"}}
    with pytest.raises(envoy_schema.SchemaError, match='no field named "access_log_pathh"'):
        envoy_schema.parse(bad_field)
    listener = good["static_resources"]["listeners"][0]
    listener["filter_chains"][0]["filters"][0]["typed_config"]["@type"] = (
        "type.googleapis.com/envoy.nope.v3.Nope"
    )
    with pytest.raises(envoy_schema.SchemaError, match="envoy.nope.v3.Nope"):
        envoy_schema.parse(good)
    wrong_type = build_bootstrap(gateway_config.loads(SMALL))
    wrong_type["static_resources"]["clusters"][0]["connect_timeout"] = "soon"
    with pytest.raises(envoy_schema.SchemaError, match="connect_timeout|Duration"):
        envoy_schema.parse(wrong_type)


def test_deprecated_fields_are_found_inside_typed_configs() -> None:
    document = build_bootstrap(gateway_config.loads(SMALL))
    document["admin"]["access_log_path"] = "/dev/null"
    hcm_config = document["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0][
        "typed_config"
    ]
    hcm_config["route_config"]["virtual_hosts"][0]["cors"] = {"allow_methods": "GET"}
    found = envoy_schema.deprecated_fields(envoy_schema.parse(document))
    assert "admin.access_log_path" in found
    assert any(path.endswith("virtual_hosts[0].cors") for path in found)
