"""A secret read from a file (or stdin with `-`), for options such as --token-file: never from argv."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

from gitops_poc import fileio
from gitops_poc.errors import UsageError
from gitops_poc.redact import remember


def read_secret_text(path: Path, option: str, stdin: IO[str] | None = None) -> str:
    """The whole text of a token file (bounded as fileio.TOKEN_FILE), or of stdin with `-`."""
    if str(path) == "-":
        text = (stdin or sys.stdin).read(fileio.TOKEN_FILE.limit + 1)
        if len(text) > fileio.TOKEN_FILE.limit:
            raise UsageError(f"{option} -: more than {fileio.TOKEN_FILE.limit} characters on standard input")
        return text
    try:
        return fileio.read_text(path, fileio.TOKEN_FILE)
    except fileio.FileRefused as exc:
        raise UsageError(f"{option} {exc}") from None


def read_secret(path: Path, option: str, stdin: IO[str] | None = None) -> str:
    """The file's one line, stripped. An unreadable or empty file, or one holding more than one line, is bad
    input naming the option and the path (never the content)."""
    text = read_secret_text(path, option, stdin)
    remember([text])  # before any check: whatever goes wrong next, no message or crash log shows it
    secret = text.strip()
    remember([secret, *secret.splitlines()])
    if not secret:
        raise UsageError(f"{option} {path}: the file is empty")
    if "\n" in secret:
        raise UsageError(f"{option} {path}: holds more than one line (not shown); a token is one line")
    if not secret.isprintable() or not secret.isascii():
        raise UsageError(
            f"{option} {path}: the token holds control or non-ASCII characters (not shown); a token is "
            "one line of printable ASCII characters"
        )
    return secret
