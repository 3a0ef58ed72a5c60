"""The gateway `config.yaml`: one loader for api-gateway (routes) and auth-adapter (policies)."""

from gateway_config.files import MAX_CONFIG_BYTES, FileRefused, read_regular, read_text
from gateway_config.loader import RESERVED_CLUSTERS, ConfigError, load, loads
from gateway_config.model import (
    Api,
    Auth,
    CircuitBreaker,
    Cluster,
    ClusterType,
    Endpoint,
    GatewayConfig,
    HealthCheck,
    IdentitySource,
    Jwt,
    Method,
    Policy,
    RateLimit,
    Recaptcha,
    Tracing,
)
from gateway_config.routing import Route, RouteTable, build_routes, normalize

__all__ = [
    "MAX_CONFIG_BYTES",
    "RESERVED_CLUSTERS",
    "Api",
    "Auth",
    "CircuitBreaker",
    "Cluster",
    "ClusterType",
    "ConfigError",
    "Endpoint",
    "FileRefused",
    "GatewayConfig",
    "HealthCheck",
    "IdentitySource",
    "Jwt",
    "Method",
    "Policy",
    "RateLimit",
    "Recaptcha",
    "Route",
    "RouteTable",
    "Tracing",
    "build_routes",
    "load",
    "loads",
    "normalize",
    "read_regular",
    "read_text",
]
