"""The private file the issued tokens go to (ROOT/.env by default, mode 0600), where `setup registry` and
`setup push` read them. Nothing else ever holds them."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from gitops_poc.envfile import bindings, set_key
from gitops_poc.errors import UsageError
from gitops_poc.redact import remember


def present_keys(path: Path) -> set[str]:
    """Keys set to a non-empty value in the file (none when it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return set()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the credentials file: {exc.strerror}") from None
    return {b.key for b, _ in bindings(text) if b.key and b.value}


def store(path: Path, values: Mapping[str, str]) -> None:
    """Set `values` in the file, other lines kept; written atomically and left readable by the owner only."""
    remember(values.values())
    try:
        text: str | None = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = None
    for key, value in values.items():
        text = set_key(text, key, value)
    assert text is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
