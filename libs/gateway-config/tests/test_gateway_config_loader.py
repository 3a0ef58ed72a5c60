"""The shared loader: what a valid file means, and that every error names file, location and value."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from gateway_config import ClusterType, ConfigError, Policy, load, loads

FULL = """
api_route: /gw
ports: {http: 9080, admin: 9000, ready: 9001}
cors: {allow_origins: ["https://app.example.com", "http://localhost:3000"]}
auth_adapter: {host: authz, port: 9100, timeout_seconds: 0.5}
tracing: {enabled: true, host: collector, port: 4318}
client_address: {trusted_hops: 2}
tokens: {static_permissions: [read]}
jwt: {issuer: iss, audience: aud, leeway_seconds: 5}
recaptcha: {v3_min_score: 0.7, timeout_seconds: 1.5}
clusters:
  - name: web-grpc
    addr: web-grpc-sv:9091
    health_check: {service_name: svc, interval_seconds: 0, timeout_seconds: -1, healthy_threshold: 4}
    circuit_breaker: {max_connections: 10, max_retries: 0}
  - name: web-http
    addr: web-http-sv:9092
    type: http
    health_check: {path: /health}
apis:
  - name: FakeService
    cluster: web-grpc
    auth: {policy: optional}
    methods:
      - name: Handle
        auth:
          policy: required
          permission: read
          need_recaptcha: true
          rate_limit: {period: 1m, count: 100, delay: 1s}
      - name: Open
  - name: Web
    cluster: web-http
"""


def test_a_full_file_loads_with_its_values_and_defaults() -> None:
    config = loads(FULL)
    assert config.api_route == "/gw/"  # whole segments: the trailing slash is added
    assert (config.listen_port, config.admin_port, config.ready_port) == (9080, 9000, 9001)
    assert config.cors_origins == ("https://app.example.com", "http://localhost:3000")
    assert (config.auth_adapter.host, config.auth_adapter.port, config.auth_timeout_seconds) == (
        "authz",
        9100,
        0.5,
    )
    assert (
        config.tracing.enabled
        and config.tracing.port == 4318
        and config.tracing.service_name == "api-gateway"
    )
    assert config.trusted_hops == 2 and config.static_token_permissions == ("read",)
    assert (config.jwt.issuer, config.jwt.audience, config.jwt.leeway_seconds) == ("iss", "aud", 5)
    assert (config.recaptcha.v3_min_score, config.recaptcha.timeout_seconds) == (0.7, 1.5)
    grpc_cluster, http_cluster = config.clusters
    assert grpc_cluster.type is ClusterType.GRPC and http_cluster.type is ClusterType.HTTP
    assert grpc_cluster.health_check is not None and grpc_cluster.health_check.service_name == "svc"
    # values of 0 or less take the default, as the original did
    assert (grpc_cluster.health_check.interval_seconds, grpc_cluster.health_check.timeout_seconds) == (30, 5)
    assert grpc_cluster.health_check.healthy_threshold == 4
    assert grpc_cluster.circuit_breaker is not None
    assert (grpc_cluster.circuit_breaker.max_connections, grpc_cluster.circuit_breaker.max_retries) == (10, 3)
    assert http_cluster.health_check is not None and http_cluster.health_check.path == "/health"
    policies = config.policies()
    assert set(policies) == {"FakeService", "FakeService/Handle"}  # only where auth is set
    handle = policies["FakeService/Handle"]
    assert handle.policy is Policy.REQUIRED and handle.permission == "read" and handle.need_recaptcha
    assert (
        handle.rate_limit is not None
        and handle.rate_limit.period_seconds == 60
        and handle.rate_limit.count == 100
    )


def test_defaults_for_a_policies_only_file() -> None:
    config = loads("apis: [{name: S, auth: {policy: no-need}}]")
    assert config.clusters == () and config.apis[0].cluster is None
    assert config.cors_origins == () and not config.tracing.enabled and config.trusted_hops == 1
    assert (config.listen_port, config.admin_port, config.ready_port) == (8080, 8000, 8001)
    assert config.recaptcha.v3_min_score == 0.5


BASE_CLUSTER = "clusters: [{name: c, addr: 'h:1'}]\n"


@pytest.mark.parametrize(
    ("text", "location", "message"),
    [
        ("", "", "empty"),
        ("[1, 2]", "(top level)", "expected a mapping"),
        ("apis: []", "apis", "at least one API"),
        ("api_route: api\napis: [{name: S}]", "api_route", "must start with '/', got 'api'"),
        ("apis: [{name: S}]\nrate_limt: 1", "rate_limt", "unknown key"),
        ("apis: [{name: S}, {name: S}]", "apis[1].name", "duplicate API 'S'"),
        ("apis: [{name: 'a/b'}]", "apis[0].name", "got 'a/b'"),
        (
            "apis: [{name: S, methods: [{name: m}, {name: m}]}]",
            "apis[0].methods[1].name",
            "duplicate method S/m",
        ),
        ("apis: [{name: S, auth: {policy: maybe}}]", "apis[0].auth.policy", "got 'maybe'"),
        (
            "apis: [{name: S, methods: [{name: m, auth: {policy: required, rate_limit: {period: 2m, count: 1}}}]}]",  # noqa: E501
            "apis[0].methods[0].auth.rate_limit.period",
            "got '2m'",
        ),
        (
            "apis: [{name: S, auth: {policy: required, rate_limit: {period: 1s, count: 0}}}]",
            "apis[0].auth.rate_limit.count",
            "at least 1, got 0",
        ),
        (
            "apis: [{name: S, auth: {policy: required, rate_limit: {period: 1s}}}]",
            "apis[0].auth.rate_limit.count",
            "required",
        ),
        (
            "apis: [{name: S, auth: {policy: required, need_recaptcha: 'yes'}}]",
            "apis[0].auth.need_recaptcha",
            "true or false",
        ),
        (BASE_CLUSTER + "apis: [{name: S}]", "apis[0].cluster", "required when the file has clusters"),
        (BASE_CLUSTER + "apis: [{name: S, cluster: x}]", "apis[0].cluster", "no cluster named 'x'"),
        (
            "clusters: [{name: c, addr: 'h:1'}, {name: c, addr: 'h:2'}]\napis: [{name: S, cluster: c}]",
            "clusters[1].name",
            "duplicate cluster 'c'",
        ),
        (
            "clusters: [{name: ext_auth, addr: 'h:1'}]\napis: [{name: S, cluster: ext_auth}]",
            "clusters[0].name",
            "reserved",
        ),
        (
            "clusters: [{name: c, addr: 'h:1:2'}]\napis: [{name: S, cluster: c}]",
            "clusters[0].addr",
            "got 'h:1:2'",
        ),
        (
            "clusters: [{name: c, addr: 'h:x'}]\napis: [{name: S, cluster: c}]",
            "clusters[0].addr",
            "got 'h:x'",
        ),
        (
            "clusters: [{name: c, addr: 'h:70000'}]\napis: [{name: S, cluster: c}]",
            "clusters[0].addr",
            "70000",
        ),
        # str.isdigit() passes both; int() reads the first as 80 and crashes on the second
        ("clusters: [{name: c, addr: 'h:٨٠'}]\napis: [{name: S, cluster: c}]", "clusters[0].addr", "h:٨٠"),
        ("clusters: [{name: c, addr: 'h:²'}]\napis: [{name: S, cluster: c}]", "clusters[0].addr", "h:²"),
        (
            "clusters: [{name: c, addr: 'h:1', type: tcp}]\napis: [{name: S, cluster: c}]",
            "clusters[0].type",
            "got 'tcp'",
        ),
        (
            "clusters: [{name: c, addr: 'h:1', health_check: {path: /x}}]\napis: [{name: S, cluster: c}]",
            "clusters[0].health_check.path",
            "grpc.health.v1",
        ),
        (
            "clusters: [{name: c, addr: 'h:1', type: http, health_check: {}}]\napis: [{name: S, cluster: c}]",
            "clusters[0].health_check.path",
            "required",
        ),
        (
            "clusters: [{name: c, addr: 'h:1', circuit_breaker: {max_requests: many}}]\n"
            "apis: [{name: S, cluster: c}]",
            "clusters[0].circuit_breaker.max_requests",
            "got 'many'",
        ),
        ("cors: {allow_origins: ['*']}\napis: [{name: S}]", "cors.allow_origins[0]", "got '*'"),
        ("ports: {http: 1, admin: 1}\napis: [{name: S}]", "ports", "three different ports"),
        ("recaptcha: {v3_min_score: 2}\napis: [{name: S}]", "recaptcha.v3_min_score", "got 2"),
        ("client_address: {trusted_hops: -1}\napis: [{name: S}]", "client_address.trusted_hops", "got -1"),
        ("apis: [{name: S}]\napis: [{name: T}]", "line 2", "not valid YAML"),
        ("apis: [{name: S}\n", "line 2", "not valid YAML"),
    ],
)
def test_errors_name_the_file_the_location_and_the_value(text: str, location: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        loads(text, "gw.yaml")
    assert caught.value.location == location
    assert message in caught.value.message
    assert str(caught.value).startswith(f"gw.yaml: {location}: " if location else "gw.yaml: ")


def test_load_reads_a_file_and_names_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("apis: [{name: S, auth: {policy: no-need}}]\n")
    assert load(path).policies()["S"].policy is Policy.NO_NEED
    with pytest.raises(ConfigError, match=f"^{tmp_path}/absent.yaml: cannot read: No such file"):
        load(tmp_path / "absent.yaml")


def test_identity_headers_default_and_configured() -> None:
    from gateway_config import IdentitySource
    from gateway_config.model import DEFAULT_IDENTITY_HEADERS

    assert loads("apis: [{name: S}]\n").identity_headers == DEFAULT_IDENTITY_HEADERS
    config = loads("identity_headers: {x-user-id: user, x-sid: session, x-email: none}\napis: [{name: S}]\n")
    assert config.identity_headers == (
        ("x-user-id", IdentitySource.USER),
        ("x-sid", IdentitySource.SESSION),
        ("x-email", IdentitySource.NONE),
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{X-User: user}", "identity_headers.X-User: expected a lowercase HTTP header name, got 'X-User'"),
        ("{cookie: none}", "identity_headers.cookie: 'cookie' is not an identity header"),
        ("{x-envoy-original-path: none}", "is not an identity header"),
        ("{user-id: admin}", "identity_headers.user-id: expected one of user, session, none, got 'admin'"),
        ("[user-id]", "identity_headers: expected a mapping of header: user|session|none"),
        ("{}", "identity_headers: expected a mapping"),
    ],
)
def test_bad_identity_headers_name_the_header(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        loads(f"identity_headers: {value}\napis: [{{name: S}}]\n")


def test_load_reads_only_small_regular_utf8_files(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(b"apis: [{name: S}]\n# caf\xe9\n")
    big = tmp_path / "big.yaml"
    big.write_text("apis: [{name: S}]\n" + "#" * (1024 * 1024))
    for path, reason in (
        (fifo, "cannot read: not a regular file"),
        (Path("/dev/zero"), "cannot read: not a regular file"),
        (tmp_path, "cannot read: not a regular file"),
        (latin1, "not UTF-8 text (byte 23, line 2, column 6)"),
        (big, "cannot read: larger than 1048576 bytes"),
        (tmp_path / "absent.yaml", "cannot read: No such file or directory"),
    ):
        with pytest.raises(ConfigError) as caught:
            load(path)
        assert str(caught.value) == f"{path}: {reason}"
    link = tmp_path / "link.yaml"  # ConfigMap mounts are symlinks: followed
    (tmp_path / "real.yaml").write_text("apis: [{name: S}]\n")
    link.symlink_to(tmp_path / "real.yaml")
    assert load(link).apis[0].name == "S"
