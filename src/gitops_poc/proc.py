"""The one place the tool starts child processes: argv from typed parts (argv.py: a value is only ever read
as a value), each child in a process group of its own that ends with it (a deadline, an error, Ctrl-C), and
a record of every argv started, for tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import PurePath
from typing import IO, Any, Literal, overload

from gitops_poc.argv import END_OF_OPTIONS, Opt, Part, Value, render

__all__ = ["END_OF_OPTIONS", "Opt", "Part", "Value", "end_group", "recording", "run", "start"]

# Test hook: every argv started is appended to this file as one JSON list per line.
RECORD_VARIABLE = "GITOPS_POC_RECORD_ARGV"
GRACE_SECONDS = 5.0

# --- the record (tests) ---------------------------------------------------------------------------------
_observers: list[Callable[[list[str]], None]] = []
_record_lock = threading.Lock()


@contextlib.contextmanager
def recording() -> Iterator[list[list[str]]]:
    """Every argv this process starts inside the block, in order."""
    started: list[list[str]] = []
    _observers.append(started.append)
    try:
        yield started
    finally:
        _observers.remove(started.append)


def _record(argv: list[str]) -> None:
    for observer in list(_observers):
        observer(argv)
    target = os.environ.get(RECORD_VARIABLE)
    if target:
        with _record_lock, open(target, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(argv) + "\n")


# --- starting and ending --------------------------------------------------------------------------------
def end_group(process: subprocess.Popen[Any], grace: float = GRACE_SECONDS) -> None:
    """End `process` and every process it started (its process group: a helper git forked, a job shell):
    SIGTERM, then SIGKILL after `grace` seconds for what is left. Safe to call once it has ended."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # descendants that outlived the leader, or ignored SIGTERM
    process.wait()


Stream = int | IO[Any] | None


def start(
    parts: Sequence[Part],
    *,
    cwd: str | PurePath | None = None,
    env: Mapping[str, str] | None = None,
    stdin: Stream = subprocess.DEVNULL,
    stdout: Stream = None,
    stderr: Stream = None,
    text: bool = False,
) -> subprocess.Popen[Any]:
    """A long-lived child (a server, a port-forward, a streamed `helm upgrade`) in a process group of its
    own; the caller ends it with `end_group`. FileNotFoundError when the program does not exist."""
    argv = render(parts)
    _record(argv)
    return subprocess.Popen(
        argv,
        cwd=cwd,
        env=None if env is None else dict(env),
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        text=text,
        errors="replace" if text else None,
        start_new_session=True,
    )


@overload
def run(
    parts: Sequence[Part],
    *,
    cwd: str | PurePath | None = ...,
    env: Mapping[str, str] | None = ...,
    input: str | None = ...,
    timeout: float | None = ...,
    text: Literal[True],
) -> subprocess.CompletedProcess[str]: ...


@overload
def run(
    parts: Sequence[Part],
    *,
    cwd: str | PurePath | None = ...,
    env: Mapping[str, str] | None = ...,
    input: bytes | None = ...,
    timeout: float | None = ...,
    text: Literal[False] = ...,
) -> subprocess.CompletedProcess[bytes]: ...


def run(
    parts: Sequence[Part],
    *,
    cwd: str | PurePath | None = None,
    env: Mapping[str, str] | None = None,
    input: str | bytes | None = None,
    timeout: float | None = None,
    text: bool = False,
) -> subprocess.CompletedProcess[Any]:
    """Run to the end with its output captured (stdin: `input`, else nothing). After `timeout` seconds the
    whole group is ended and subprocess.TimeoutExpired raised; an error or Ctrl-C while it runs ends it too,
    and nothing it started outlives it. FileNotFoundError when the program does not exist."""
    process = start(
        parts,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=text,
    )
    try:
        out, err = process.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise subprocess.TimeoutExpired(process.args, timeout or 0) from None
    finally:
        end_group(process, grace=1.0)  # also what it left behind when it ended on its own
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)
