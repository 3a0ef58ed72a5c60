"""Read and validate the gateway `config.yaml`; every error names the file, the place in it and the value."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from gateway_config.files import FileRefused, read_text
from gateway_config.model import (
    DEFAULT_IDENTITY_HEADERS,
    PERIODS,
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

# Clusters the generated Envoy configuration defines itself; a service cluster may not take their names.
RESERVED_CLUSTERS = frozenset({"ext_auth", "opentelemetry_collector", "envoy_admin"})
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
E = TypeVar("E", Policy, ClusterType, IdentitySource)
_HEADER = re.compile(r"^[a-z0-9!#$%&'*+.^_`|~-]+$")
# Headers the gateway or the adapter need as the client sent them (or that Envoy will not remove):
# never identity headers.
_NOT_IDENTITY = frozenset(
    {
        "host",
        "cookie",
        "authorization",
        "content-type",
        "content-length",
        "transfer-encoding",
        "te",
        "connection",
        "upgrade",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-request-id",
        "x-rc-token",
        "x-rc-token-2",
    }
)


class ConfigError(ValueError):
    """A configuration problem: `file: location: message`."""

    def __init__(self, source: str, location: str, message: str) -> None:
        self.source, self.location, self.message = source, location, message
        super().__init__(f"{source}: {location}: {message}" if location else f"{source}: {message}")


def load(path: str | Path) -> GatewayConfig:
    """Parse the regular file at `path` (UTF-8, at most MAX_CONFIG_BYTES; YAML 1.2, duplicate keys
    rejected)."""
    source = str(path)
    try:
        text = read_text(path)
    except FileRefused as exc:
        raise ConfigError(source, "", str(exc)) from None
    return loads(text, source)


def loads(text: str, source: str = "config.yaml") -> GatewayConfig:
    yaml = YAML(typ="safe", pure=True)
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(source, where, f"not valid YAML: {problem}") from None
    return _Reader(source).config(data)


def _at(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> NoReturn:
        raise ConfigError(self.source, where, message)

    # --- shapes ---------------------------------------------------------------------------------

    def mapping(self, value: Any, where: str, keys: set[str]) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(where or "(top level)", f"expected a mapping, got {_show(value)}")
        for key in value:
            if key not in keys:
                self.fail(_at(where, str(key)), f"unknown key (expected one of: {', '.join(sorted(keys))})")
        return value

    def sequence(self, m: Mapping[str, Any], key: str, where: str) -> list[Any]:
        value = m.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(_at(where, key), f"expected a list, got {_show(value)}")
        return value

    def string(self, m: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = m.get(key, default)
        if value is None:
            self.fail(_at(where, key), "required")
        if not isinstance(value, str) or not value.strip():
            self.fail(_at(where, key), f"expected a non-empty string, got {_show(value)}")
        return value

    def optional_string(self, m: Mapping[str, Any], key: str, where: str) -> str | None:
        return None if m.get(key) is None else self.string(m, key, where)

    def integer(
        self,
        m: Mapping[str, Any],
        key: str,
        where: str,
        default: int,
        *,
        low: int = 1,
        high: int | None = None,
        zero_means_default: bool = False,
    ) -> int:
        value = m.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(_at(where, key), f"expected an integer, got {_show(value)}")
        if zero_means_default and value <= 0:  # the original's rule for health checks and circuit breakers
            return default
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"at least {low}"
            self.fail(_at(where, key), f"must be {bound}, got {value}")
        return int(value)

    def number(
        self, m: Mapping[str, Any], key: str, where: str, default: float, *, low: float, high: float
    ) -> float:
        value = m.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(_at(where, key), f"expected a number, got {_show(value)}")
        if not low <= value <= high:
            self.fail(_at(where, key), f"must be from {low} to {high}, got {value}")
        return float(value)

    def boolean(self, m: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        value = m.get(key, default)
        if not isinstance(value, bool):
            self.fail(_at(where, key), f"expected true or false, got {_show(value)}")
        return value

    def choice(
        self, m: Mapping[str, Any], key: str, where: str, kind: type[E], default: E | None = None
    ) -> E:
        value = m.get(key)
        if value is None and default is not None:
            return default
        allowed = [e.value for e in kind]
        if value not in allowed:
            self.fail(_at(where, key), f"expected one of {', '.join(allowed)}, got {_show(value)}")
        return kind(value)

    def name(self, m: Mapping[str, Any], where: str) -> str:
        value = self.string(m, "name", where)
        if not _NAME.match(value):
            self.fail(_at(where, "name"), f"letters, digits, '.', '_' and '-' only, got {_show(value)}")
        return value

    # --- sections --------------------------------------------------------------------------------

    def config(self, data: Any) -> GatewayConfig:
        top = self.mapping(
            data,
            "",
            {
                "api_route",
                "ports",
                "cors",
                "auth_adapter",
                "tracing",
                "client_address",
                "tokens",
                "jwt",
                "recaptcha",
                "clusters",
                "apis",
                "identity_headers",
            },
        )
        if not top:
            self.fail("", "the file is empty")
        api_route = self.string(top, "api_route", "", "/api/")
        if not api_route.startswith("/"):
            self.fail("api_route", f"must start with '/', got {_show(api_route)}")
        api_route = api_route.rstrip("/") + "/"  # routes are `<api_route><API>/...`: whole segments only
        clusters = self.clusters(top)
        apis = self.apis(top, {c.name for c in clusters} if "clusters" in top else None)
        ports = self.mapping(top.get("ports"), "ports", {"http", "admin", "ready"})
        port_values = {
            k: self.integer(ports, k, "ports", d, high=65535)
            for k, d in (("http", 8080), ("admin", 8000), ("ready", 8001))
        }
        if len(set(port_values.values())) < 3:
            self.fail("ports", f"http, admin and ready need three different ports, got {port_values}")
        return GatewayConfig(
            apis=apis,
            api_route=api_route,
            clusters=clusters,
            listen_port=port_values["http"],
            admin_port=port_values["admin"],
            ready_port=port_values["ready"],
            cors_origins=self.cors(top),
            auth_adapter=self.endpoint(top, "auth_adapter", Endpoint("auth-adapter-sv", 9000)),
            auth_timeout_seconds=self.number(
                self.mapping(top.get("auth_adapter"), "auth_adapter", {"host", "port", "timeout_seconds"}),
                "timeout_seconds",
                "auth_adapter",
                2.0,
                low=0.01,
                high=60,
            ),
            tracing=self.tracing(top),
            trusted_hops=self.integer(
                self.mapping(top.get("client_address"), "client_address", {"trusted_hops"}),
                "trusted_hops",
                "client_address",
                1,
                low=0,
                high=10,
            ),
            static_token_permissions=self.strings(
                self.mapping(top.get("tokens"), "tokens", {"static_permissions"}),
                "static_permissions",
                "tokens",
                ("read", "write"),
            ),
            jwt=self.jwt(top),
            recaptcha=self.recaptcha(top),
            identity_headers=self.identity_headers(top),
        )

    def strings(
        self, m: Mapping[str, Any], key: str, where: str, default: tuple[str, ...]
    ) -> tuple[str, ...]:
        if m.get(key) is None:
            return default
        items = self.sequence(m, key, where)
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item:
                self.fail(_at(_at(where, key), i), f"expected a non-empty string, got {_show(item)}")
        return tuple(items)

    def cors(self, top: Mapping[str, Any]) -> tuple[str, ...]:
        cors = self.mapping(top.get("cors"), "cors", {"allow_origins"})
        origins = self.strings(cors, "allow_origins", "cors", ())
        for i, origin in enumerate(origins):
            if not _ORIGIN.match(origin):
                self.fail(
                    f"cors.allow_origins[{i}]",
                    f"expected an origin like https://app.example.com (no '*', no path), got {_show(origin)}",
                )
        return origins

    def endpoint(self, top: Mapping[str, Any], key: str, default: Endpoint) -> Endpoint:
        m = self.mapping(top.get(key), key, {"host", "port", "timeout_seconds"})
        return Endpoint(
            self.string(m, "host", key, default.host), self.integer(m, "port", key, default.port, high=65535)
        )

    def tracing(self, top: Mapping[str, Any]) -> Tracing:
        m = self.mapping(top.get("tracing"), "tracing", {"enabled", "host", "port", "service_name"})
        d = Tracing()
        return Tracing(
            self.boolean(m, "enabled", "tracing", d.enabled),
            self.string(m, "host", "tracing", d.host),
            self.integer(m, "port", "tracing", d.port, high=65535),
            self.string(m, "service_name", "tracing", d.service_name),
        )

    def identity_headers(self, top: Mapping[str, Any]) -> tuple[tuple[str, IdentitySource], ...]:
        if top.get("identity_headers") is None:
            return DEFAULT_IDENTITY_HEADERS
        m = top["identity_headers"]
        if not isinstance(m, Mapping) or not m:
            self.fail("identity_headers", f"expected a mapping of header: user|session|none, got {_show(m)}")
        result: list[tuple[str, IdentitySource]] = []
        for name in m:
            where = _at("identity_headers", str(name))
            if not isinstance(name, str) or not _HEADER.match(name):
                self.fail(where, f"expected a lowercase HTTP header name, got {_show(name)}")
            if name in _NOT_IDENTITY or name.startswith(("x-envoy-", "grpc-")):
                self.fail(where, f"{name!r} is not an identity header: the gateway needs it as sent")
            result.append((name, self.choice(m, name, "identity_headers", IdentitySource)))
        return tuple(result)

    def jwt(self, top: Mapping[str, Any]) -> Jwt:
        m = self.mapping(top.get("jwt"), "jwt", {"issuer", "audience", "leeway_seconds"})
        return Jwt(
            self.optional_string(m, "issuer", "jwt"),
            self.optional_string(m, "audience", "jwt"),
            self.integer(m, "leeway_seconds", "jwt", 0, low=0, high=300),
        )

    def recaptcha(self, top: Mapping[str, Any]) -> Recaptcha:
        m = self.mapping(top.get("recaptcha"), "recaptcha", {"v3_min_score", "timeout_seconds"})
        return Recaptcha(
            self.number(m, "v3_min_score", "recaptcha", 0.5, low=0.0, high=1.0),
            self.number(m, "timeout_seconds", "recaptcha", 3.0, low=0.01, high=30),
        )

    def clusters(self, top: Mapping[str, Any]) -> tuple[Cluster, ...]:
        result: list[Cluster] = []
        seen: set[str] = set()
        for i, item in enumerate(self.sequence(top, "clusters", "")):
            where = f"clusters[{i}]"
            m = self.mapping(item, where, {"name", "addr", "type", "health_check", "circuit_breaker"})
            name = self.name(m, where)
            if name in RESERVED_CLUSTERS:
                self.fail(_at(where, "name"), f"{name!r} is reserved for the gateway's own clusters")
            if name in seen:
                self.fail(_at(where, "name"), f"duplicate cluster {name!r}")
            seen.add(name)
            host, port = self.address(m, where)
            kind = self.choice(m, "type", where, ClusterType, ClusterType.GRPC)
            result.append(
                Cluster(name, host, port, kind, self.health_check(m, where, kind), self.breaker(m, where))
            )
        return tuple(result)

    def address(self, m: Mapping[str, Any], where: str) -> tuple[str, int]:
        addr = self.string(m, "addr", where)
        host, sep, port = addr.partition(":")
        # ASCII digits only: isdigit() also passes '²' (int() then raises) and '٨٠'.
        if not sep or not host or not re.fullmatch("[0-9]{1,5}", port) or not 0 < int(port) < 65536:
            self.fail(
                _at(where, "addr"), f"expected host:port with a port from 1 to 65535, got {_show(addr)}"
            )
        return host, int(port)

    def health_check(self, m: Mapping[str, Any], where: str, kind: ClusterType) -> HealthCheck | None:
        if m.get("health_check") is None:
            return None
        where = _at(where, "health_check")
        hc = self.mapping(
            m["health_check"],
            where,
            {
                "path",
                "service_name",
                "interval_seconds",
                "timeout_seconds",
                "healthy_threshold",
                "unhealthy_threshold",
            },
        )
        if kind is ClusterType.GRPC:
            if "path" in hc:
                self.fail(
                    _at(where, "path"),
                    "gRPC clusters are checked with grpc.health.v1 "
                    "(set service_name if needed); path is for HTTP clusters",
                )
            path, service = None, (hc.get("service_name") or "")
            if not isinstance(service, str):
                self.fail(_at(where, "service_name"), f"expected a string, got {_show(service)}")
        else:
            if "service_name" in hc:
                self.fail(
                    _at(where, "service_name"), "service_name is for gRPC clusters; HTTP clusters use path"
                )
            path, service = self.string(hc, "path", where), ""
            if not path.startswith("/"):
                self.fail(_at(where, "path"), f"must start with '/', got {_show(path)}")
        d = HealthCheck()
        values = {
            k: self.integer(hc, k, where, getattr(d, k), zero_means_default=True)
            for k in ("interval_seconds", "timeout_seconds", "healthy_threshold", "unhealthy_threshold")
        }
        return HealthCheck(path=path, service_name=service, **values)

    def breaker(self, m: Mapping[str, Any], where: str) -> CircuitBreaker | None:
        if m.get("circuit_breaker") is None:
            return None
        where = _at(where, "circuit_breaker")
        d = CircuitBreaker()
        keys = ("max_connections", "max_pending_requests", "max_requests", "max_retries")
        cb = self.mapping(m["circuit_breaker"], where, set(keys))
        return CircuitBreaker(
            **{k: self.integer(cb, k, where, getattr(d, k), zero_means_default=True) for k in keys}
        )

    def apis(self, top: Mapping[str, Any], clusters: set[str] | None) -> tuple[Api, ...]:
        items = self.sequence(top, "apis", "")
        if not items:
            self.fail("apis", "required: at least one API")
        result: list[Api] = []
        seen: set[str] = set()
        for i, item in enumerate(items):
            where = f"apis[{i}]"
            m = self.mapping(item, where, {"name", "cluster", "auth", "methods"})
            name = self.name(m, where)
            if name in seen:
                self.fail(_at(where, "name"), f"duplicate API {name!r}")
            seen.add(name)
            cluster = self.optional_string(m, "cluster", where)
            if clusters is not None and cluster is None:
                self.fail(_at(where, "cluster"), "required when the file has clusters")
            if clusters is not None and cluster not in clusters:
                self.fail(
                    _at(where, "cluster"),
                    f"no cluster named {cluster!r} (clusters: {', '.join(sorted(clusters))})",
                )
            methods: list[Method] = []
            for j, entry in enumerate(self.sequence(m, "methods", where)):
                mwhere = f"{where}.methods[{j}]"
                mm = self.mapping(entry, mwhere, {"name", "auth"})
                method = self.name(mm, mwhere)
                if any(x.name == method for x in methods):
                    self.fail(_at(mwhere, "name"), f"duplicate method {name}/{method}")
                methods.append(Method(method, self.auth(mm, mwhere)))
            result.append(Api(name, cluster, self.auth(m, where), tuple(methods)))
        return tuple(result)

    def auth(self, m: Mapping[str, Any], where: str) -> Auth | None:
        if m.get("auth") is None:
            return None
        where = _at(where, "auth")
        a = self.mapping(m["auth"], where, {"policy", "permission", "need_recaptcha", "rate_limit"})
        policy = self.choice(a, "policy", where, Policy)
        permission = a.get("permission") or ""
        if not isinstance(permission, str):
            self.fail(_at(where, "permission"), f"expected a string, got {_show(permission)}")
        return Auth(
            policy, permission, self.boolean(a, "need_recaptcha", where, False), self.rate_limit(a, where)
        )

    def rate_limit(self, a: Mapping[str, Any], where: str) -> RateLimit | None:
        if a.get("rate_limit") is None:
            return None
        where = _at(where, "rate_limit")
        r = self.mapping(a["rate_limit"], where, {"period", "count", "delay"})
        period = r.get("period")
        if period not in PERIODS:
            self.fail(_at(where, "period"), f"expected one of {', '.join(PERIODS)}, got {_show(period)}")
        if r.get("count") is None:
            self.fail(_at(where, "count"), "required")
        delay = r.get("delay")
        return RateLimit(period, self.integer(r, "count", where, 0), None if delay is None else str(delay))


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
