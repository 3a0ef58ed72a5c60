"""A secret read from a file (or stdin with `-`), for options such as --token-file: never from argv."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

from gitops_poc.errors import UsageError
from gitops_poc.redact import remember


def read_secret(path: Path, option: str, stdin: IO[str] | None = None) -> str:
    """The file's text, stripped; an unreadable or empty file is bad input naming the option and the path."""
    try:
        text = (stdin or sys.stdin).read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{option} {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{option} {path}: not UTF-8 text") from None
    remember([text])  # before any check: whatever goes wrong next, no message or crash log shows it
    secret = text.strip()
    if not secret:
        raise UsageError(f"{option} {path}: the file is empty")
    return secret
