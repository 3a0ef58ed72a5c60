"""Errors the user can act on. Each carries the exit code the CLI returns."""

from __future__ import annotations


class GitopsError(Exception):
    """A failure with a message meant for the user (no traceback)."""

    exit_code = 1


class UsageError(GitopsError):
    """Unusable input: a bad configuration value, a file that cannot be parsed."""

    exit_code = 2


class ToolError(GitopsError):
    """A tool or service the command needs is missing, unreachable or failed (helm, Vault). Exit 2, as bad
    input: 1 means "a finding" (differences, errors, a guard) for several commands and must never be
    mistaken for one."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration value is invalid; the message names the file, the key and the value."""

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None) -> None:
        self.source = source
        self.key = key
        prefix = f"{source}: " if source else ""
        super().__init__(prefix + message)


class ChangesPending(GitopsError):
    """`--check` found files that would change."""

    exit_code = 1
