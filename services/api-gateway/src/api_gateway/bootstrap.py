"""The Envoy v3 bootstrap as plain data, from a validated GatewayConfig. Pure: no I/O, no protobuf.

Listener: CORS -> ext_authz -> gRPC-Web -> router, a route per method and per API (under `api_route` with
the prefix rewritten, and at the native gRPC path), matched on whole segments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway_config import Cluster, ClusterType, GatewayConfig, HealthCheck, Route, build_routes, routing

ADMIN_CLUSTER, AUTH_CLUSTER, TRACING_CLUSTER = "envoy_admin", "ext_auth", "opentelemetry_collector"
T = "type.googleapis.com/"
HCM = T + "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
CORS, CORS_POLICY = (
    T + "envoy.extensions.filters.http.cors.v3.Cors",
    T + "envoy.extensions.filters.http.cors.v3.CorsPolicy",
)
EXT_AUTHZ = T + "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz"
GRPC_WEB, ROUTER = (
    T + "envoy.extensions.filters.http.grpc_web.v3.GrpcWeb",
    T + "envoy.extensions.filters.http.router.v3.Router",
)
HTTP_OPTIONS = T + "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
STDOUT_LOG = T + "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog"
OTEL = T + "envoy.config.trace.v3.OpenTelemetryConfig"

# What ext_authz forwards to the adapter besides the path: what it decides on, nothing more.
AUTHZ_HEADERS = ("cookie", "authorization", "x-forwarded-for", "x-rc-token", "x-rc-token-2")
CORS_ALLOW_HEADERS = (
    "keep-alive,user-agent,cache-control,content-type,content-transfer-encoding,x-accept-content-transfer-encoding,"
    "x-accept-response-streaming,x-user-agent,x-grpc-web,grpc-timeout,authorization,x-rc-token,x-rc-token-2"
)
CORS_EXPOSE_HEADERS = "grpc-status,grpc-message,grpc-status-details-bin,grpc-status-details-text"


@dataclass(frozen=True)
class Overrides:
    """Environment settings that win over config.yaml (the platform puts AUTH_ADAPTER_HOST in Vault)."""

    auth_adapter_host: str | None = None
    tracing_enabled: bool | None = None
    tracing_host: str | None = None
    tracing_port: int | None = None


def _address(host: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": host, "port_value": port}}


def _endpoints(name: str, host: str, port: int) -> dict[str, Any]:
    return {
        "cluster_name": name,
        "endpoints": [{"lb_endpoints": [{"endpoint": {"address": _address(host, port)}}]}],
    }


def _http2(**options: Any) -> dict[str, Any]:
    return {
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
            "@type": HTTP_OPTIONS,
            "explicit_http_config": {"http2_protocol_options": options},
        }
    }


def _route(route: Route) -> dict[str, Any]:
    assert route.api.cluster is not None  # checked by the generator before
    action: dict[str, Any] = {
        "cluster": route.api.cluster,
        "timeout": "0s",  # streams may run long; max_stream_duration bounds them
        "max_stream_duration": {"max_stream_duration": "600s", "grpc_timeout_header_max": "0s"},
    }
    if route.rewrite is not None:
        action["prefix_rewrite"] = route.rewrite
    # path_separated_prefix matches the path or the path followed by '/' (or '?'): whole segments only,
    # so /api/Shop does not also catch /api/ShopAdmin. Case-sensitive, first match wins: auth-adapter
    # decides on the same table (gateway_config.RouteTable), so a path's route and its policy are one.
    return {"match": {"path_separated_prefix": route.prefix}, "route": action}


def routes(config: GatewayConfig) -> list[dict[str, Any]]:
    """The route table of gateway_config.build_routes, in its order."""
    return [_route(route) for route in build_routes(config)]


def _http_filters(config: GatewayConfig) -> list[dict[str, Any]]:
    authz = {
        "@type": EXT_AUTHZ,
        "transport_api_version": "V3",
        "grpc_service": {
            "envoy_grpc": {"cluster_name": AUTH_CLUSTER},
            "timeout": f"{config.auth_timeout_seconds:g}s",
        },
        "failure_mode_allow": False,  # the adapter unreachable: deny
        "with_request_body": {"max_request_bytes": 1024, "allow_partial_message": True},
        "allowed_headers": {"patterns": [{"exact": h} for h in AUTHZ_HEADERS]},
    }
    # No local rate limit: `rate_limit.count` is per client, which auth-adapter enforces (and lifts for a
    # solved reCAPTCHA v2); Envoy's local bucket is per instance and shared by every client.
    return [
        {"name": "envoy.filters.http.cors", "typed_config": {"@type": CORS}},
        {"name": "envoy.filters.http.ext_authz", "typed_config": authz},
        {"name": "envoy.filters.http.grpc_web", "typed_config": {"@type": GRPC_WEB}},
        {"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER}},
    ]


def _virtual_host(config: GatewayConfig) -> dict[str, Any]:
    host: dict[str, Any] = {
        "name": "backend",
        "domains": ["*"],
        "response_headers_to_remove": ["grpc-message"],
        "routes": routes(config),
    }
    if config.cors_origins:  # none: the CORS filter answers no preflight, browsers keep to same-origin
        host["typed_per_filter_config"] = {
            "envoy.filters.http.cors": {
                "@type": CORS_POLICY,
                "allow_origin_string_match": [{"exact": origin} for origin in config.cors_origins],
                "allow_methods": "GET, PUT, DELETE, POST, OPTIONS",
                "allow_headers": CORS_ALLOW_HEADERS,
                "expose_headers": CORS_EXPOSE_HEADERS,
                "max_age": "1728000",
            }
        }
    return host


def _connection_manager(
    config: GatewayConfig, tracing: tuple[str, int] | None, trace_name: str
) -> dict[str, Any]:
    hcm: dict[str, Any] = {
        "@type": HCM,
        "stat_prefix": "ingress_http",
        "codec_type": "AUTO",
        "generate_request_id": True,
        "use_remote_address": True,
        "xff_num_trusted_hops": 0,
        # The path rules gateway_config.normalize applies in auth-adapter too: one path, one route.
        "normalize_path": routing.NORMALIZE_PATH,
        "merge_slashes": routing.MERGE_SLASHES,
        "path_with_escaped_slashes_action": routing.ESCAPED_SLASHES_ACTION,
        "access_log": [{"name": "envoy.access_loggers.stdout", "typed_config": {"@type": STDOUT_LOG}}],
        "route_config": {"name": "local_route", "virtual_hosts": [_virtual_host(config)]},
        "http_filters": _http_filters(config),
    }
    if tracing is not None:
        hcm["tracing"] = {
            "provider": {
                "name": "envoy.tracers.opentelemetry",
                "typed_config": {
                    "@type": OTEL,
                    "grpc_service": {"envoy_grpc": {"cluster_name": TRACING_CLUSTER}, "timeout": "0.250s"},
                    "service_name": trace_name,
                },
            }
        }
    return hcm


def _ready_listener(config: GatewayConfig) -> dict[str, Any]:
    """Only GET /ready of the admin interface, for the kubelet; the admin port stays on 127.0.0.1."""
    routes = [
        {
            "match": {"path": "/ready", "headers": [{"name": ":method", "string_match": {"exact": "GET"}}]},
            "route": {"cluster": ADMIN_CLUSTER, "timeout": "2s"},
        },
        {"match": {"prefix": "/"}, "direct_response": {"status": 404}},
    ]
    hcm = {
        "@type": HCM,
        "stat_prefix": "ready",
        "route_config": {
            "name": "ready",
            "virtual_hosts": [{"name": "ready", "domains": ["*"], "routes": routes}],
        },
        "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER}}],
    }
    return {
        "name": "ready_listener",
        "address": _address("0.0.0.0", config.ready_port),
        "filter_chains": [
            {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}]}
        ],
    }


def _health_check(hc: HealthCheck, kind: ClusterType) -> dict[str, Any]:
    check: dict[str, Any] = {
        "timeout": f"{hc.timeout_seconds}s",
        "interval": f"{hc.interval_seconds}s",
        "healthy_threshold": hc.healthy_threshold,
        "unhealthy_threshold": hc.unhealthy_threshold,
    }
    if kind is ClusterType.GRPC:
        check["grpc_health_check"] = {"service_name": hc.service_name}
    else:
        check["http_health_check"] = {
            "path": hc.path,
            "request_headers_to_add": [
                {
                    "header": {"key": "user-agent", "value": "envoy-health-check"},
                    "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
                }
            ],
        }
    return check


def service_cluster(cluster: Cluster) -> dict[str, Any]:
    result: dict[str, Any] = {
        "name": cluster.name,
        "type": "STRICT_DNS",
        "lb_policy": "ROUND_ROBIN",
        "connect_timeout": "5s",
        "upstream_connection_options": {
            "tcp_keepalive": {"keepalive_probes": 2, "keepalive_time": 10, "keepalive_interval": 10}
        },
        "load_assignment": _endpoints(cluster.name, cluster.host, cluster.port),
    }
    if cluster.type is ClusterType.GRPC:
        result["typed_extension_protocol_options"] = _http2(
            max_concurrent_streams=1024,
            initial_stream_window_size=16 * 1024 * 1024,
            initial_connection_window_size=24 * 1024 * 1024,
        )
    else:
        result["typed_extension_protocol_options"] = {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": HTTP_OPTIONS,
                "explicit_http_config": {"http_protocol_options": {}},
            }
        }
    if cluster.circuit_breaker is not None:
        cb = cluster.circuit_breaker
        limits = {
            "max_connections": cb.max_connections,
            "max_pending_requests": cb.max_pending_requests,
            "max_requests": cb.max_requests,
            "max_retries": cb.max_retries,
        }
        result["circuit_breakers"] = {"thresholds": [{"priority": p, **limits} for p in ("DEFAULT", "HIGH")]}
    if cluster.health_check is not None:
        result["health_checks"] = [_health_check(cluster.health_check, cluster.type)]
    return result


def _builtin_clusters(
    config: GatewayConfig, overrides: Overrides, tracing: tuple[str, int] | None
) -> list[dict[str, Any]]:
    auth_host = overrides.auth_adapter_host or config.auth_adapter.host
    auth = {
        "name": AUTH_CLUSTER,
        "type": "STRICT_DNS",
        "connect_timeout": "2s",
        "typed_extension_protocol_options": _http2(),
        "load_assignment": _endpoints(AUTH_CLUSTER, auth_host, config.auth_adapter.port),
        # The adapter serves grpc.health.v1 and turns NOT_SERVING when it stops.
        "health_checks": [
            {
                "timeout": "1s",
                "interval": "10s",
                "healthy_threshold": 1,
                "unhealthy_threshold": 2,
                "grpc_health_check": {"service_name": "envoy.service.auth.v3.Authorization"},
            }
        ],
    }
    admin = {
        "name": ADMIN_CLUSTER,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": _endpoints(ADMIN_CLUSTER, "127.0.0.1", config.admin_port),
    }
    clusters: list[dict[str, Any]] = [auth, admin]
    if tracing is not None:
        clusters.append(
            {
                "name": TRACING_CLUSTER,
                "type": "STRICT_DNS",
                "connect_timeout": "1s",
                "typed_extension_protocol_options": _http2(),
                "load_assignment": _endpoints(TRACING_CLUSTER, *tracing),
            }
        )
    return clusters


def build_bootstrap(config: GatewayConfig, overrides: Overrides | None = None) -> dict[str, Any]:
    overrides = overrides or Overrides()
    t = config.tracing
    enabled = t.enabled if overrides.tracing_enabled is None else overrides.tracing_enabled
    tracing = (overrides.tracing_host or t.host, overrides.tracing_port or t.port) if enabled else None
    listener = {
        "name": "web_grpc_listener",
        "address": _address("0.0.0.0", config.listen_port),
        "filter_chains": [
            {
                "filters": [
                    {
                        "name": "envoy.filters.network.http_connection_manager",
                        "typed_config": _connection_manager(config, tracing, t.service_name),
                    }
                ]
            }
        ],
    }
    return {
        "node": {"id": "api-gateway", "cluster": "api-gateway"},
        # Bound to loopback: /quitquitquit and friends are not reachable from outside the pod.
        "admin": {"address": _address("127.0.0.1", config.admin_port)},
        "static_resources": {
            "listeners": [listener, _ready_listener(config)],
            "clusters": _builtin_clusters(config, overrides, tracing)
            + [service_cluster(c) for c in config.clusters],
        },
    }
