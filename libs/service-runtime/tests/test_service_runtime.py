"""The shared runtime pieces: JSON log lines, the common flags, binding errors."""

from __future__ import annotations

import argparse
import json
import logging
import socket

import grpc
import pytest
from service_runtime import JsonFormatter, add_server_flags, bind, new_server


def parse(argv: list[str], env: dict[str, str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="svc")
    add_server_flags(p, env or {}, port=7000, workers=8)
    return p.parse_args(argv)


def test_flags_take_defaults_from_the_environment_and_the_original_port_spelling() -> None:
    args = parse([], {"PORT": "7100", "SHUTDOWN_GRACE": "2.5", "GRPC_WORKERS": "4", "LOG_LEVEL": "DEBUG"})
    assert (args.port, args.host, args.shutdown_grace, args.workers, args.log_level) == (
        7100,
        "0.0.0.0",
        2.5,
        4,
        "debug",
    )
    assert parse(["-port=7200"]).port == 7200 and parse(["--port", "0"]).port == 0
    assert (parse([]).port, parse([]).workers) == (7000, 8)


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--port", "x"], {}, "argument -port/--port: expected a number, got 'x'"),
        ([], {"GRPC_WORKERS": "1"}, "argument --workers: must be at least 2, got '1'"),
        (["--shutdown-grace", "-1"], {}, "must be at least 0"),
        (["--log-level", "loud"], {}, "invalid choice: 'loud'"),
    ],
)
def test_bad_values_exit_2_naming_the_flag(
    argv: list[str], env: dict[str, str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        parse(argv, env)
    assert caught.value.code == 2
    assert message in capsys.readouterr().err


def test_log_lines_are_json_with_static_and_record_fields() -> None:
    record = logging.LogRecord("svc", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    record.fields = {"port": 9}
    line = json.loads(JsonFormatter({"environment": "dev"}).format(record))
    assert line["msg"] == "hello world" and line["level"] == "warning" and line["logger"] == "svc"
    assert line["port"] == 9 and line["environment"] == "dev" and line["time"].endswith("Z")


def test_bind_names_the_address_it_cannot_listen_on() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = new_server(2)
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port}"):
            bind(server, "127.0.0.1", port)
    free = bind(new_server(2), "127.0.0.1", 0)
    assert free > 0
    assert isinstance(new_server(2), grpc.Server)
