"""The shared runtime pieces: JSON log lines, the common flags, binding errors."""

from __future__ import annotations

import argparse
import json
import logging
import socket
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from service_runtime import JsonFormatter, add_server_flags, bind


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
    assert parse(["--port", "65535"]).port == 65535


def test_drain_and_stream_bound_come_from_flags_or_the_environment() -> None:
    defaults = parse([])
    assert (defaults.shutdown_drain, defaults.shutdown_grace, defaults.max_streams) == (5.0, 5.0, 2000)
    args = parse(["--max-streams", "10"], {"SHUTDOWN_DRAIN": "0.25"})
    assert (args.shutdown_drain, args.max_streams) == (0.25, 10)


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--port", "x"], {}, "argument -port/--port: expected a number, got 'x'"),
        ([], {"GRPC_WORKERS": "1"}, "argument --workers: must be at least 2, got '1'"),
        (["--shutdown-grace", "-1"], {}, "must be at least 0"),
        (["--log-level", "loud"], {}, "invalid choice: 'loud'"),
        # gRPC takes a port modulo 65536: 70000 would listen on 4464 without a word.
        (["--port", "70000"], {}, "argument -port/--port: must be at most 65535, got '70000'"),
        ([], {"PORT": "65536"}, "argument -port/--port: must be at most 65535, got '65536'"),
        (["--port=-1"], {}, "must be at least 0, got '-1'"),
        (["--port", "\uff18\uff10\uff18\uff11"], {}, "expected a number"),  # full-width digits
        (["--port", "80.5"], {}, "expected a number, got '80.5'"),
        (["--shutdown-grace", "nan"], {}, "expected a finite number, got 'nan'"),
        ([], {"SHUTDOWN_DRAIN": "inf"}, "argument --shutdown-drain: expected a finite number, got 'inf'"),
        ([], {"SHUTDOWN_DRAIN": "-0.5"}, "argument --shutdown-drain: must be at least 0"),
        (["--max-streams", "0"], {}, "argument --max-streams: must be at least 1, got '0'"),
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


def new_server(workers: int) -> grpc.Server:
    return grpc.server(ThreadPoolExecutor(max_workers=workers))


def test_bind_names_the_address_it_cannot_listen_on() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = new_server(2)
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port}"):
            bind(server, "127.0.0.1", port)
    with pytest.raises(OSError, match="not a TCP port"):
        bind(new_server(2), "127.0.0.1", 70000)
    free = bind(new_server(2), "127.0.0.1", 0)
    assert free > 0
