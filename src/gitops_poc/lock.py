"""One writer at a time per platform folder: an exclusive lock on the folder itself.

`flock` on the folder's descriptor: no lock file to commit, ignore or clean up, and a killed run (even
`kill -9`) releases it. A second run stops at once (or after the bounded wait its caller allows) and says
which process holds the lock.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from gitops_poc.errors import UsageError

POLL_SECONDS = 0.2


class PlatformBusy(UsageError):
    """Another process is changing the platform folder."""


def _holder(fd: int) -> str:
    """Who holds a flock on the same inode ("process PID (command line)"), from /proc/locks (Linux)."""
    info = os.fstat(fd)
    wanted = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return "another process"
    for line in lines:
        fields = line.split()
        if "FLOCK" in fields and wanted in fields:
            pid = fields[fields.index(wanted) - 1]
            try:
                args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                command = " ".join(a.decode(errors="replace") for a in args if a)
            except OSError:
                command = ""
            shown = command if len(command) <= 120 else command[:117] + "..."
            return f"process {pid}" + (f" ({shown})" if shown else "")
    return "another process"


def _take(fd: int, wait_seconds: float, on_wait: Callable[[str], None] | None) -> bool:
    """Take the lock, polling up to `wait_seconds` for it (0: one try)."""
    deadline = time.monotonic() + wait_seconds
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            if on_wait is not None and not told:
                on_wait(f"waiting up to {wait_seconds:g}s for {_holder(fd)} to finish")
                told = True
            time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))


@contextmanager
def platform_lock(
    root: Path, command: str, wait_seconds: float = 0.0, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the platform folder's lock for the block (`root` must exist); PlatformBusy when it is taken (after
    waiting up to `wait_seconds` for it, with one `on_wait` message)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if not _take(fd, wait_seconds, on_wait):
            waited = f" (waited {wait_seconds:g}s)" if wait_seconds else ""
            raise PlatformBusy(
                f"{root}: {_holder(fd)} is changing this platform folder; `{command}` did nothing{waited}. "
                "Run it again when that one has finished."
            )
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
