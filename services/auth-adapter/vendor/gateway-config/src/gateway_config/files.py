"""Reading a file the services are given by path: a regular file only, never more than a bound.

A FIFO, a device (/dev/zero) or a directory is refused at once instead of blocking or reading forever;
a file over the bound is refused instead of filling memory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_CONFIG_BYTES = 1024 * 1024  # a gateway config.yaml is a few KiB; a ConfigMap holds at most 1 MiB


class FileRefused(Exception):
    """Why a file was not read (the message names no content, only the reason)."""


def read_regular(path: str | Path, limit: int = MAX_CONFIG_BYTES) -> bytes:
    """The bytes of the regular file at `path` (symlinks followed); FileRefused otherwise."""
    try:
        # O_NONBLOCK: opening a FIFO without a writer returns at once (and is then refused below).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise FileRefused(f"cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused("cannot read: not a regular file")
        if info.st_size > limit:
            raise FileRefused(f"cannot read: larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # grew while being read
            raise FileRefused(f"cannot read: larger than {limit} bytes")
        return b"".join(chunks)
    except OSError as exc:
        raise FileRefused(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def read_text(path: str | Path, limit: int = MAX_CONFIG_BYTES) -> str:
    """`read_regular` decoded as UTF-8; FileRefused naming where the first bad byte is when it is not."""
    data = read_regular(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise FileRefused(f"not UTF-8 text (byte {exc.start}, line {line}, column {column})") from None
