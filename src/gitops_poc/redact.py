"""Secret values this process has seen, so that no message or crash log can carry one.

Config loading, the secrets file and the Vault token reader register what they read; the CLI's error and
crash handlers take every registered value (and the known secret environment variables) out of the text.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

# Names of process-environment variables that hold credentials.
SECRET_VARIABLES = (
    "VAULT_TOKEN",
    "GITLAB_TOKEN",
    "GITLAB_DEPLOY_TOKEN",
    "GITLAB_AGENT_TOKEN",
    "CI_PUSH_TOKEN",
)
MIN_LENGTH = 4  # shorter values would blank out ordinary words; no real credential is that short

_known: set[str] = set()


def remember(values: Iterable[str | None]) -> None:
    """Register secret values read by this process."""
    _known.update(v for v in values if v and len(v) >= MIN_LENGTH)


def redact(text: str) -> str:
    """`text` with every known secret value replaced by ***."""
    secrets = set(_known)
    secrets.update(v for name in SECRET_VARIABLES if len(v := os.environ.get(name, "")) >= MIN_LENGTH)
    for value in sorted(secrets, key=len, reverse=True):
        text = text.replace(value, "***")
    return text
