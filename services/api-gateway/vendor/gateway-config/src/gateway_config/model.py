"""The gateway configuration as typed, validated values (what `config.yaml` means once loaded)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Policy(StrEnum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    NO_NEED = "no-need"


class ClusterType(StrEnum):
    GRPC = "grpc"
    HTTP = "http"


class IdentitySource(StrEnum):
    """What the adapter puts in an identity header: from a validated token only, or nothing."""

    USER = "user"  # the token's subject (a static token: static-token-<n>)
    SESSION = "session"  # the token's sid (static tokens have none)
    NONE = "none"  # trusted by some upstream but never set: always removed


PERIODS = {"1s": 1, "1m": 60, "1h": 3600}

# Every request header an upstream of the platform may take as the caller's identity. The adapter removes
# each from every client request and sets only those it derives from a validated token.
DEFAULT_IDENTITY_HEADERS: tuple[tuple[str, IdentitySource], ...] = (
    ("user-id", IdentitySource.USER),
    ("session-id", IdentitySource.SESSION),
    ("x-user-id", IdentitySource.NONE),
    ("x-session-id", IdentitySource.NONE),
    ("x-user", IdentitySource.NONE),
    ("x-remote-user", IdentitySource.NONE),
    ("x-forwarded-user", IdentitySource.NONE),
    ("x-forwarded-email", IdentitySource.NONE),
    ("x-auth-request-user", IdentitySource.NONE),
    ("x-auth-request-email", IdentitySource.NONE),
)


@dataclass(frozen=True)
class RateLimit:
    """`count` requests per `period` for each client (the address the adapter derives), enforced by
    auth-adapter alone; the gateway has no rate limit of its own (see the gateway-config README)."""

    period: str  # one of PERIODS
    count: int
    delay: str | None = None  # accepted for compatibility; never slept on (see auth-adapter README)

    @property
    def period_seconds(self) -> int:
        return PERIODS[self.period]


@dataclass(frozen=True)
class Auth:
    policy: Policy
    permission: str = ""
    need_recaptcha: bool = False
    rate_limit: RateLimit | None = None


@dataclass(frozen=True)
class Method:
    name: str
    auth: Auth | None = None


@dataclass(frozen=True)
class Api:
    name: str
    cluster: str | None = None
    auth: Auth | None = None
    methods: tuple[Method, ...] = ()


@dataclass(frozen=True)
class HealthCheck:
    path: str | None = None  # HTTP clusters only; gRPC clusters use grpc.health.v1
    service_name: str = ""  # gRPC clusters: the name sent in the health Check
    interval_seconds: int = 30
    timeout_seconds: int = 5
    healthy_threshold: int = 2
    unhealthy_threshold: int = 3


@dataclass(frozen=True)
class CircuitBreaker:
    max_connections: int = 1024
    max_pending_requests: int = 1024
    max_requests: int = 1024
    max_retries: int = 3


@dataclass(frozen=True)
class Cluster:
    name: str
    host: str
    port: int
    type: ClusterType = ClusterType.GRPC
    health_check: HealthCheck | None = None
    circuit_breaker: CircuitBreaker | None = None


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int


@dataclass(frozen=True)
class Tracing:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 4317
    service_name: str = "api-gateway"


@dataclass(frozen=True)
class Jwt:
    issuer: str | None = None
    audience: str | None = None
    leeway_seconds: int = 0


@dataclass(frozen=True)
class Recaptcha:
    v3_min_score: float = 0.5
    timeout_seconds: float = 3.0


@dataclass(frozen=True)
class GatewayConfig:
    apis: tuple[Api, ...]
    api_route: str = "/api/"
    clusters: tuple[Cluster, ...] = ()
    listen_port: int = 8080
    admin_port: int = 8000  # bound to 127.0.0.1 only
    ready_port: int = 8001  # the probes' /ready, forwarded to the admin interface
    cors_origins: tuple[str, ...] = ()  # exact origins allowed cross-origin; none by default
    auth_adapter: Endpoint = field(default_factory=lambda: Endpoint("auth-adapter-sv", 9000))
    auth_timeout_seconds: float = 2.0
    tracing: Tracing = field(default_factory=Tracing)
    # Proxies in front of the auth-adapter that append to x-forwarded-for, Envoy included. The client
    # address is the entry this far from the right; 0 = the connection's source address Envoy reports.
    trusted_hops: int = 1
    static_token_permissions: tuple[str, ...] = ("read", "write")
    jwt: Jwt = field(default_factory=Jwt)
    recaptcha: Recaptcha = field(default_factory=Recaptcha)
    identity_headers: tuple[tuple[str, IdentitySource], ...] = DEFAULT_IDENTITY_HEADERS

    def policies(self) -> dict[str, Auth]:
        """Policy index as the auth-adapter uses it: `API` and `API/method`, present only when auth is set."""
        index: dict[str, Auth] = {}
        for api in self.apis:
            if api.auth is not None:
                index[api.name] = api.auth
            for method in api.methods:
                if method.auth is not None:
                    index[f"{api.name}/{method.name}"] = method.auth
        return index
