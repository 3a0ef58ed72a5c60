"""Edit one key of a `.env` file in place, keeping every other line and comment."""

from __future__ import annotations

import re


def set_key(text: str | None, key: str, value: str) -> str:
    """Return `text` with `key` set to `value` (double-quoted); appended when the key is absent."""
    line = f'{key}="{value}"'
    pattern = re.compile(rf"^(\s*(?:export\s+)?){re.escape(key)}\s*=.*$", re.MULTILINE)
    if text is None:
        return line + "\n"
    if pattern.search(text):
        # Multi-line quoted values are not used for list keys; replace the single assignment line.
        return pattern.sub(lambda m: m.group(1) + line, text, count=1)
    separator = "" if not text or text.endswith("\n") else "\n"
    return f"{text}{separator}{line}\n"
