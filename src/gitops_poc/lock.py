"""One writer at a time per platform folder: an exclusive lock on the folder itself.

`flock` on the folder's descriptor: no lock file to commit, ignore or clean up, and a killed run (even
`kill -9`) releases it. A second run does not wait: it stops at once and says which process holds the lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gitops_poc.errors import UsageError


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


@contextmanager
def platform_lock(root: Path, command: str) -> Iterator[None]:
    """Hold the platform folder's lock for the block (`root` must exist); PlatformBusy when it is taken."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PlatformBusy(
                f"{root}: {_holder(fd)} is changing this platform folder; `{command}` did nothing. "
                "Run it again when that one has finished."
            ) from None
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
