"""The gateway `config.yaml`: one loader for api-gateway (routes) and auth-adapter (policies)."""

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
    Jwt,
    Method,
    Policy,
    RateLimit,
    Recaptcha,
    Tracing,
)

__all__ = [
    "RESERVED_CLUSTERS",
    "Api",
    "Auth",
    "CircuitBreaker",
    "Cluster",
    "ClusterType",
    "ConfigError",
    "Endpoint",
    "GatewayConfig",
    "HealthCheck",
    "Jwt",
    "Method",
    "Policy",
    "RateLimit",
    "Recaptcha",
    "Tracing",
    "load",
    "loads",
]
