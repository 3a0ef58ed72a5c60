"""The platform's own services' values match what the services listen on and read.

Checked on what `init` generates from the catalog and on the committed copies under services/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gateway_config
import pytest

from gitops_poc.yamlio import load_plain

ROOT = Path(__file__).resolve().parents[2]


def values(root: Path, service: str) -> dict[str, Any]:
    data = load_plain((root / "services" / service / ".cicd" / "default.yaml").read_text())
    assert isinstance(data, dict)
    return data


def probes(data: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    found = []
    for name in ("livenessProbe", "readinessProbe"):
        probe = data[name]
        mode = probe["mode"]
        found.append((mode, probe[mode]["port"], probe[mode].get("path")))
    return found


@pytest.fixture(params=["generated", "committed"])
def root(request: pytest.FixtureRequest, generated_root: Path) -> Path:
    return generated_root if request.param == "generated" else ROOT


def test_gateway_and_adapter_read_one_identical_valid_config(root: Path) -> None:
    gateway, adapter = values(root, "api-gateway"), values(root, "auth-adapter")
    text = gateway["configfiles"]["data"]["config.yaml"]
    assert adapter["configfiles"]["data"]["config.yaml"] == text
    config = gateway_config.loads(text, "config.yaml")
    # The ext_authz target is the adapter's Service and port.
    assert config.auth_adapter.host == "auth-adapter-sv"
    assert config.auth_adapter.port == adapter["service"]["ports"]["grpc"]["internalPort"] == 9000
    # The gateway's Service exposes the public listener only; probes use the ready listener.
    assert [p["internalPort"] for p in gateway["service"]["ports"].values()] == [config.listen_port]
    assert probes(gateway) == [("httpGet", config.ready_port, "/ready")] * 2
    assert config.admin_port not in {p["internalPort"] for p in gateway["service"]["ports"].values()}
    clusters = {c.name: c for c in config.clusters}
    for name in ("web-grpc", "web-http", "health-demo"):
        ports = values(root, name)["service"]["ports"]
        assert clusters[name].host == f"{name}-sv"
        assert clusters[name].port == next(iter(ports.values()))["internalPort"]


def test_grpc_services_are_probed_with_grpc_health_on_their_port(root: Path) -> None:
    for service, port in (("health-demo", 8081), ("auth-adapter", 9000)):
        data = values(root, service)
        assert data["service"]["ports"]["grpc"]["internalPort"] == port
        assert probes(data) == [("grpc", port, None)] * 2
    assert values(root, "health-demo")["args"] == ["-port=8081"]


def test_secrets_listed_are_the_ones_the_services_read(root: Path) -> None:
    assert set(values(root, "auth-adapter")["secrets"]) == {"JWT_SECRET", "VALID_TOKENS"}
    assert set(values(root, "api-gateway")["secrets"]) == {"AUTH_ADAPTER_HOST"}
    assert set(values(root, "health-demo")["secrets"]) == {"SERVICE_NAME", "ENVIRONMENT"}
    adapter_env = values(root, "auth-adapter")["configmap"]
    shutdown = {"SHUTDOWN_DRAIN": "5", "SHUTDOWN_GRACE": "5"}
    assert adapter_env == {"LOG_LEVEL": "info", "RECAPTCHA_URL": "", **shutdown}  # all read by the adapter
    assert values(root, "health-demo")["configmap"] == shutdown


def test_the_drain_and_grace_in_the_values_reach_the_services_settings(root: Path) -> None:
    from auth_adapter.cli import parser as adapter_parser
    from health_demo.cli import parser as demo_parser

    for service, parser in (("auth-adapter", adapter_parser), ("health-demo", demo_parser)):
        env = {k: str(v) for k, v in values(root, service)["configmap"].items()}
        args = parser({**env, "SHUTDOWN_DRAIN": env["SHUTDOWN_DRAIN"] + "1"}).parse_args([])
        assert (args.shutdown_drain, args.shutdown_grace) == (51.0, 5.0), service
