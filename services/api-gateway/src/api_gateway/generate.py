"""config.yaml in, Envoy bootstrap out: load, build, check against Envoy's API, write atomically."""

from __future__ import annotations

import io
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway_config import ConfigError, FileRefused, GatewayConfig, load, read_regular
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
    # ASCII digits only: isdigit() also passes '²' (int() then raises) and '٨٠'.
    if port_text and not (re.fullmatch("[0-9]{1,5}", port_text) and 0 < int(port_text) < 65536):
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


MAX_OUTPUT_BYTES = 16 * 1024 * 1024  # a bootstrap is tens of KiB; a bigger "current" file is not ours


class OutputRefused(ValueError):
    """The output path is not one to write a bootstrap to (a device, FIFO, directory or symlink)."""


def _regular_or_absent(path: Path) -> bool:
    """True when `path` is a regular file, False when absent; OutputRefused for anything else."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise OutputRefused(f"{path}: cannot inspect: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise OutputRefused(f"{path}: not a regular file (refusing to replace it)")
    return True


def current_output(path: Path) -> str | None:
    """What the output holds now: None when absent; OutputRefused when it is not a regular file."""
    if not _regular_or_absent(path):
        return None
    try:
        return read_regular(path, MAX_OUTPUT_BYTES).decode("utf-8", "replace")
    except FileRefused as exc:
        raise OutputRefused(f"{path}: {exc}") from None


def write_atomically(path: Path, text: str) -> bool:
    """Write unless the file already holds `text`; True when written. The target is absent or a regular
    file (OutputRefused otherwise); the text goes to a temporary file beside it, is synced, then renamed
    over it, so a reader sees the old file or the new one, and a failed write (ENOSPC, EIO) raises OSError
    with the old file untouched."""
    if current_output(path) == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        data = text.encode("utf-8")
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fchmod(fd, 0o644)
        os.fsync(fd)
        os.close(fd)
        fd = -1
        _regular_or_absent(path)  # again, just before the rename
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)
    return True


def _sync_directory(directory: Path) -> None:
    try:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass  # some file systems cannot sync a directory; the rename itself is done
    finally:
        os.close(dir_fd)
