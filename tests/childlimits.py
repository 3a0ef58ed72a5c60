"""Start a test's child process with resource limits or a signal disposition set, without `preexec_fn`.

`preexec_fn` runs Python in the forked child before exec. In a test worker that has used grpc (the services'
tests run in the same session), grpc's fork handlers and its poller thread's state then abort that child
now and then (SIGABRT, "Epoll1Poller ... epoll_wait error: Bad file descriptor"). A small Python program
that sets the limits and execs the real command has no such parent state.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Sequence

_EXEC = """\
import json, os, resource, signal, sys
spec = json.loads(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) rather than kills
for number in spec["default_signals"]:
    signal.signal(number, signal.SIG_DFL)
for name, value in spec["limits"].items():
    resource.setrlimit(getattr(resource, name), (value, value))
os.execvp(sys.argv[2], sys.argv[2:])
"""


def limited(
    argv: Sequence[str],
    *,
    file_size: int | None = None,
    address_space: int | None = None,
    default_signals: Sequence[signal.Signals] = (),
) -> list[str]:
    """`argv` run with files limited to `file_size` bytes (SIGXFSZ ignored, so write(2) fails with EFBIG),
    memory to `address_space` bytes, and `default_signals` back to their defaults: a test run started in the
    background inherits SIGINT ignored, one under nohup SIGHUP too, and a process rightly keeps ignoring
    what it was started ignoring."""
    limits = {"RLIMIT_FSIZE": file_size, "RLIMIT_AS": address_space}
    spec = {
        "limits": {k: v for k, v in limits.items() if v is not None},
        "default_signals": [int(number) for number in default_signals],
    }
    return [sys.executable, "-c", _EXEC, json.dumps(spec), *argv]
