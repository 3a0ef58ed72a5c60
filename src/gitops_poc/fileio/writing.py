"""Writing a file of the tool: whole or not at all, and only over a regular file.

The text goes to a temporary file beside the target, then is renamed over it, so a reader (or the next run
after a crash, a full disk or Ctrl-C) sees the old file or the new one. What is at the path must be nothing
or a regular file: a device (/dev/full), a FIFO, a folder or a symlink is refused, never replaced or
written through. Every failure of the file system is an error naming the path and the cause.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from gitops_poc.errors import UsageError


class WriteRefused(UsageError):
    """Something other than a regular file is where the file would go (exit 2, naming it)."""


class WriteFailed(UsageError):
    """The file system refused the write (a full disk, a file size limit, no permission): nothing changed."""


def _existing_mode(path: Path) -> int | None:
    """The permission bits of the regular file at `path`, None when absent; WriteRefused otherwise."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise WriteRefused(f"{path}: a part of the path is a file, not a folder") from None
    except OSError as exc:
        raise WriteFailed(f"{path}: cannot write: {exc.strerror or exc}") from None
    if stat.S_ISLNK(info.st_mode):
        raise WriteRefused(f"{path} is a symlink; refusing to write through or over it (make it a file)")
    if stat.S_ISDIR(info.st_mode):
        raise WriteRefused(f"{path} is a folder where a file is to be written")
    if not stat.S_ISREG(info.st_mode):
        raise WriteRefused(f"{path} is not a regular file (a FIFO, socket or device); refusing to replace it")
    return stat.S_IMODE(info.st_mode)


def write_atomic(
    path: Path, content: str | bytes, *, new_mode: int = 0o644, private: bool = False, sync: bool = False
) -> None:
    """Put `content` (str as UTF-8, as given: no newline translation) at `path` atomically.

    An existing file keeps its permissions; a new one gets `new_mode`. `private` makes it 0600 either way
    (credentials). `sync` flushes it to the disk before the rename, for files another program starts from.
    Missing folders are created. Nothing is left behind on failure."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    mode = _existing_mode(path)
    mode = 0o600 if private else (new_mode if mode is None else mode)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # 0600
    except FileExistsError:
        raise WriteRefused(f"{path}: a part of the path is a file, not a folder") from None
    except OSError as exc:
        raise WriteFailed(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        _existing_mode(path)  # again, just before the rename: nothing swapped in meanwhile
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise WriteFailed(f"{path}: cannot write: {exc.strerror or exc}; the file is unchanged") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
