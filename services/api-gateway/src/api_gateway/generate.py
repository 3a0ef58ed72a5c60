"""config.yaml in, Envoy bootstrap out: load, build, check against Envoy's API, write atomically."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway_config import ConfigError, GatewayConfig, load
from ruamel.yaml import YAML

from api_gateway import envoy_schema
from api_gateway.bootstrap import Overrides, build_bootstrap

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def overrides_from(env: Mapping[str, str]) -> Overrides:
    """AUTH_ADAPTER_HOST, OPEN_TELEMETRY_ENABLE/HOST/PORT; a malformed one is a ConfigError naming it."""
    enable = env.get("OPEN_TELEMETRY_ENABLE", "").strip().lower()
    if enable and enable not in _TRUE | _FALSE:
        raise ConfigError("environment", "OPEN_TELEMETRY_ENABLE", f"expected true or false, got {enable!r}")
    port_text = env.get("OPEN_TELEMETRY_PORT", "").strip()
    if port_text and not (port_text.isdigit() and 0 < int(port_text) < 65536):
        raise ConfigError(
            "environment", "OPEN_TELEMETRY_PORT", f"expected a port from 1 to 65535, got {port_text!r}"
        )
    return Overrides(
        auth_adapter_host=env.get("AUTH_ADAPTER_HOST") or None,
        tracing_enabled=(enable in _TRUE) if enable else None,
        tracing_host=env.get("OPEN_TELEMETRY_HOST") or None,
        tracing_port=int(port_text) if port_text else None,
    )


def check_routing(config: GatewayConfig, source: str) -> None:
    """The gateway needs what the adapter does not: a cluster for every API."""
    if not config.clusters:
        raise ConfigError(source, "clusters", "required: at least one cluster for the APIs to route to")
    for i, api in enumerate(config.apis):
        if api.cluster is None:
            raise ConfigError(source, f"apis[{i}].cluster", "required")


def render(config_path: str | Path, env: Mapping[str, str]) -> tuple[dict[str, Any], str]:
    """The bootstrap (checked against Envoy's messages) and its YAML text."""
    config = load(config_path)
    check_routing(config, str(config_path))
    document = build_bootstrap(config, overrides_from(env))
    envoy_schema.parse(document)
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return document, buffer.getvalue()


def write_atomically(path: Path, text: str) -> bool:
    """Write unless the file already holds `text`; a reader never sees half a file. True when written."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
