"""The services' shutdown budget: the drain and grace they are given fit in the pod's termination grace.

The platform's gRPC services (libs/service-runtime) stop in three steps on SIGTERM: health NOT_SERVING
while they keep answering for SHUTDOWN_DRAIN seconds, then no new calls and SHUTDOWN_GRACE seconds for
in-flight ones, then exit. The kubelet sends SIGKILL terminationGracePeriodSeconds after SIGTERM. k8app
(3.12.1 and 3.13.0, checked by rendering) writes no terminationGracePeriodSeconds into the Deployment, so
every pod gets Kubernetes' default, 30 s, and drain + grace must end before it.

Read from the merged values: `configmap.SHUTDOWN_DRAIN` / `SHUTDOWN_GRACE` (the environment variables) and
`--shutdown-drain` / `--shutdown-grace` in `args` (a flag wins over its variable, as in the service). A
service that sets neither uses the runtime's defaults (5 s + 5 s), which fit; nothing is reported then.

Probes need no timing rule against the drain: the kubelet stops liveness probes once a pod is being
deleted, and the endpoint controller drops a terminating pod whatever its readiness says.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gitops_poc.lint.catalog import rule
from gitops_poc.lint.documents import KeyPath
from gitops_poc.lint.findings import Finding
from gitops_poc.lint.model import ServiceFiles

# Kubernetes' Pod default; k8app renders no terminationGracePeriodSeconds for a Deployment.
TERMINATION_GRACE_SECONDS = 30
# From the end of the grace to the process's exit (cancel what is left, close the loop); measured well
# under a second in libs/service-runtime/tests/test_server.py, doubled and rounded up.
EXIT_SECONDS = 2
# libs/service-runtime's defaults (service_runtime.flags), used for whichever of the two is not set.
DEFAULTS = {"SHUTDOWN_DRAIN": 5.0, "SHUTDOWN_GRACE": 5.0}
FLAGS = {"SHUTDOWN_DRAIN": "--shutdown-drain", "SHUTDOWN_GRACE": "--shutdown-grace"}


@dataclass(frozen=True)
class Setting:
    name: str  # SHUTDOWN_DRAIN or SHUTDOWN_GRACE
    text: str  # as written
    keys: KeyPath  # where: (configmap, NAME) or (args, index)
    shown: str  # how the message names it


def _from_args(args: Any) -> dict[str, Setting]:
    found: dict[str, Setting] = {}
    if not isinstance(args, list):
        return found
    for index, item in enumerate(args):
        text = str(item)
        for name, flag in FLAGS.items():
            if text.startswith(flag + "="):
                found[name] = Setting(name, text.partition("=")[2], ("args", index), f"args {flag}")
            elif text == flag and index + 1 < len(args):
                found[name] = Setting(name, str(args[index + 1]), ("args", index), f"args {flag}")
    return found


def _settings(values: dict[str, Any]) -> dict[str, Setting]:
    found: dict[str, Setting] = {}
    configmap = values.get("configmap")
    if isinstance(configmap, dict):
        for name in FLAGS:
            if name in configmap and configmap[name] is not None:
                found[name] = Setting(name, str(configmap[name]), ("configmap", name), f"configmap.{name}")
    found.update(_from_args(values.get("args")))  # the flag wins, as argparse has it
    return found


def _seconds(text: str) -> float | None:
    """The value as the service reads it (a finite float >= 0), else None (it would exit 2 at start)."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def check_environment(files: ServiceFiles, env: str, values: dict[str, Any]) -> Iterator[Finding]:
    settings = _settings(values)
    if not settings:
        return
    seconds: dict[str, float] = dict(DEFAULTS)
    for name, setting in settings.items():
        value = _seconds(setting.text)
        if value is None:
            file, line = files.locate(env, setting.keys)
            yield rule("shutdown-setting-invalid").at(
                file,
                line,
                f"{setting.shown} is {setting.text!r} in {env}: not a number of seconds >= 0, so the service "
                "exits 2 at start",
            )
            return
        seconds[name] = value
    drain, grace = seconds["SHUTDOWN_DRAIN"], seconds["SHUTDOWN_GRACE"]
    if drain + grace + EXIT_SECONDS > TERMINATION_GRACE_SECONDS:
        # Point at the larger of the two the team wrote.
        written = max(settings.values(), key=lambda s: seconds[s.name])
        file, line = files.locate(env, written.keys)
        total = drain + grace + EXIT_SECONDS
        yield rule("shutdown-over-termination-grace").at(
            file,
            line,
            f"drain {drain:g} s + grace {grace:g} s + {EXIT_SECONDS} s to exit is {total:g} s in {env}, "
            f"over the pod's terminationGracePeriodSeconds ({TERMINATION_GRACE_SECONDS} s, Kubernetes' "
            "default: the chart sets none): the kubelet kills the container with calls in flight",
        )
