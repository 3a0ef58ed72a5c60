"""`api-gateway-config` writes the Envoy bootstrap; `api-gateway` (the image entrypoint) then execs Envoy."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from gateway_config import ConfigError

from api_gateway import __version__
from api_gateway.envoy_schema import SchemaError
from api_gateway.generate import OutputRefused, current_output, render, write_atomically

EXIT_BAD_INPUT = 2
DEFAULT_CONFIG = "/opt/auth-adapter/config.yaml"
DEFAULT_OUTPUT = "/etc/envoy/envoy.yaml"


def _parser(prog: str, description: str, env: Mapping[str, str]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument(
        "--config",
        default=env.get("CONFIG_FILE", DEFAULT_CONFIG),
        help=f"the gateway config.yaml (CONFIG_FILE, default {DEFAULT_CONFIG})",
    )
    p.add_argument(
        "--output",
        default=env.get("ENVOY_CONFIG", DEFAULT_OUTPUT),
        help=f"where the Envoy bootstrap goes (ENVOY_CONFIG, default {DEFAULT_OUTPUT})",
    )
    p.add_argument("--version", action="version", version=f"{prog} {__version__}")
    return p


OVERRIDES_HELP = (
    "AUTH_ADAPTER_HOST overrides auth_adapter.host; OPEN_TELEMETRY_ENABLE, OPEN_TELEMETRY_HOST and "
    "OPEN_TELEMETRY_PORT override tracing."
)


def _generate(args: argparse.Namespace, env: Mapping[str, str], check: bool = False) -> int:
    try:
        _, text = render(args.config, env)
    except (ConfigError, SchemaError) as exc:
        print(f"api-gateway: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    output = Path(args.output)
    try:
        if check:
            if current_output(output) != text:
                print(f"{output} is not up to date with {args.config}", file=sys.stderr)
                return 1
            print(f"{output} is up to date")
            return 0
        written = write_atomically(output, text)
    except OutputRefused as exc:
        print(f"api-gateway: error: --output {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"api-gateway: error: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT  # could not do its job (docs/exit-codes.md): never 1, which --check uses
    print(f"{'wrote' if written else 'unchanged'} {output}", file=sys.stderr)
    return 0


def generate_main(argv: Sequence[str] | None = None) -> int:
    """api-gateway-config: config.yaml -> Envoy bootstrap (checked against Envoy's API) and nothing else."""
    env = os.environ
    p = _parser(
        "api-gateway-config",
        "Write the Envoy v3 bootstrap for the gateway config.yaml. " + OVERRIDES_HELP,
        env,
    )
    p.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the output is not up to date"
    )
    args = p.parse_args(argv)
    return _generate(args, env, check=args.check)


ENVOY_LOG_LEVELS = ("trace", "debug", "info", "warning", "warn", "error", "critical", "off")


def entrypoint_main(argv: Sequence[str] | None = None) -> int:
    """api-gateway: generate, then replace this process with Envoy (so Envoy gets SIGTERM as PID 1)."""
    env = os.environ
    p = _parser(
        "api-gateway",
        "Generate the Envoy bootstrap from config.yaml, then exec Envoy with it. " + OVERRIDES_HELP
        + " ENVOY_BIN (default envoy) and LOG_LEVEL (default info) choose the binary and its log level; "
        "arguments after -- go to Envoy.",
        env,
    )  # fmt: skip
    p.add_argument("envoy_args", nargs=argparse.REMAINDER, help="extra Envoy arguments, after --")
    args = p.parse_args(argv)
    status = _generate(args, env)
    if status != 0:
        return status
    extra = args.envoy_args[1:] if args.envoy_args[:1] == ["--"] else args.envoy_args
    binary = env.get("ENVOY_BIN", "envoy")
    level = env.get("LOG_LEVEL", "info")
    if level not in ENVOY_LOG_LEVELS:  # a value Envoy could read as another option never reaches it
        print(
            f"api-gateway: error: LOG_LEVEL={level!r}: one of {', '.join(ENVOY_LOG_LEVELS)}", file=sys.stderr
        )
        return 2
    # An absolute path: never read as an option, whatever the name.
    command = [binary, "-c", os.path.abspath(args.output), "-l", level, *extra]
    sys.stderr.flush()
    try:
        os.execvp(binary, command)
    except OSError as exc:
        print(f"api-gateway: error: cannot run {binary}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(generate_main())
