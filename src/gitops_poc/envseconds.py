"""A positive number of seconds from an environment variable (the overall deadlines), checked once here."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from gitops_poc.errors import UsageError


def seconds(variable: str, default: float, environ: Mapping[str, str] | None = None) -> float:
    """`variable` in seconds (`default` when unset or blank); UsageError naming it when not positive."""
    env = os.environ if environ is None else environ
    raw = env.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0
    if not 0 < value < math.inf:
        raise UsageError(f"{variable}={raw!r} is not a positive number of seconds")
    return value
