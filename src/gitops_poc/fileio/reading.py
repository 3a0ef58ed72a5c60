"""Reading a file the user or the platform folder names: a regular file, at most its kind's size.

A FIFO nobody writes, a device (/dev/zero), a socket or a folder given where a file is expected must be an
error naming it at once, never a wait or a read that fills memory. The file is opened with O_NONBLOCK (a
FIFO's open returns without a writer) and fstat decides on the opened file itself, so nothing swapped in
between a check and the open is read.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from gitops_poc.errors import UsageError

_CHUNK = 1 << 16


@dataclass(frozen=True)
class FileKind:
    """What a file is to the tool (named in errors) and the most it may hold."""

    name: str
    limit: int


# Each cap is far above any real file of the kind and far below what would hurt the machine.
ENV_FILE = FileKind("configuration (.env) file", 1 << 20)
SECRETS_FILE = FileKind("secrets file", 4 << 20)
TOKEN_FILE = FileKind("token file", 64 << 10)
CREDENTIALS_FILE = FileKind("credentials file", 1 << 20)
CA_FILE = FileKind("certificate or kubeconfig file", 4 << 20)
YAML_FILE = FileKind("YAML file", 16 << 20)  # values files, ApplicationSets, pipelines of the platform
TEMPLATE = FileKind("template", 4 << 20)
JSON_STATE = FileKind("state file", 16 << 20)  # the tool's own records (progress, bootstrap, publish)
CRD_CACHE = FileKind("CRD cache", 64 << 20)  # the schemas of every CRD of the pinned charts


class FileRefused(UsageError):
    """The path is not a readable regular file within its kind's size (exit 2, naming the path)."""


class FileMissing(FileRefused):
    """Nothing is at the path (callers for which absence is normal catch this one)."""


class NotText(FileRefused):
    """A regular file whose bytes are not UTF-8 (a finding where the content is judged, as in lint)."""


def _open(path: Path, follow: bool) -> int:
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        return os.open(path, flags)
    except FileNotFoundError:
        raise FileMissing(f"{path}: no such file") from None
    except NotADirectoryError:
        raise FileRefused(f"{path}: {_file_on_the_way(path)} is a file, not a folder") from None
    except IsADirectoryError:
        raise FileRefused(f"{path} is a folder where a file is expected") from None
    except OSError as exc:
        if not follow and os.path.islink(path):  # ELOOP from O_NOFOLLOW
            raise FileRefused(f"{path} is a symlink; refusing to follow it (make it a file)") from None
        raise FileRefused(f"{path}: cannot read: {exc.strerror or exc}") from None


def _file_on_the_way(path: Path) -> Path:
    """The first part of `path` that is a file where a folder is needed."""
    for parent in reversed(path.parents):
        if parent.is_file():
            return parent
    return path.parent


def read_bytes(path: Path, kind: FileKind, *, follow: bool = True) -> bytes:
    """The bytes of the regular file at `path`. FileMissing when nothing is there; FileRefused for a folder,
    FIFO, socket or device, a file over `kind.limit`, or a read error. With `follow=False` a final symlink
    is refused too."""
    fd = _open(path, follow)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileRefused(f"{path} is a folder where a file is expected")
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(
                f"{path} is not a regular file (a FIFO, socket or device); only regular files are read"
            )
        too_big = FileRefused(
            f"{path}: larger than {kind.limit} bytes, the most a {kind.name} may hold; is it the right file?"
        )
        if info.st_size > kind.limit:
            raise too_big
        chunks: list[bytes] = []
        size = 0
        while size <= kind.limit:  # st_size can lie (procfs) or grow while read: count what arrives
            chunk = os.read(fd, min(_CHUNK, kind.limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > kind.limit:
            raise too_big
        return b"".join(chunks)
    except OSError as exc:
        raise FileRefused(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def decode(data: bytes, path: Path) -> str:
    """`data` as UTF-8; FileRefused naming the line, column and byte of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise NotText(
            f"{path}: not UTF-8 text (byte {exc.start}, line {line}, column {column}); save it as UTF-8"
        ) from None


def read_text(path: Path, kind: FileKind, *, follow: bool = True, universal: bool = True) -> str:
    """`read_bytes` decoded as UTF-8; with `universal` (as Path.read_text) CRLF and CR read as LF, else the
    text as written."""
    text = decode(read_bytes(path, kind, follow=follow), path)
    return text.replace("\r\n", "\n").replace("\r", "\n") if universal and "\r" in text else text
