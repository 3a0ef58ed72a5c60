"""Chart repository credentials for one helm process, never in its argv.

`CHART_REPO=https://user:password@host/charts` is how a private repository is configured; handed to helm as
`--repo=URL` the password would sit in argv (`ps`, /proc/PID/cmdline). Instead the repository is added under
a private name to a throwaway repository configuration (`helm repo add --password-stdin`: the password
through stdin) and the chart is named through it (`NAME/chart`). helm then sends the password to that
repository alone (no `--pass-credentials`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from gitops_poc import proc, redact
from gitops_poc.argv import Opt, Part, Value
from gitops_poc.errors import ToolError, UsageError

ALIAS = "gitops-poc-private"


class RepositoryUnreadable(ToolError):
    """`helm repo add` of the private repository failed; the message is helm's own."""


TIMEOUT_SECONDS = 120.0


def _credentials(url: str) -> tuple[str, str, str] | None:
    """(URL without its user and password, user, password) when `url` carries a password."""
    try:
        parts = urlsplit(url)
        password, user = parts.password, parts.username
    except ValueError:
        return None
    if not password:
        return None
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc)), user or "", password


@contextmanager
def private_repository(binary: str, parts: Sequence[Part]) -> Iterator[tuple[list[Part], dict[str, str]]]:
    """`parts` (a helm command line whose last part is the chart operand) and the environment to run it with.
    Without a `--repo=URL` carrying a password: unchanged, no extra environment. With one: `--repo` gone, the
    chart named `ALIAS/chart` from a private repository configuration that lives as long as the block."""
    found = [(i, part) for i, part in enumerate(parts) if isinstance(part, Opt) and part.name == "--repo"]
    secret = _credentials(str(found[0][1].value)) if found else None
    if secret is None:
        yield list(parts), {}
        return
    url, user, password = secret
    if not user:  # helm reads a password from stdin only beside a user name
        raise UsageError(f"CHART_REPO: {url} has a password but no user name (https://USER:***@host)")
    at = found[0][0]
    redact.remember([password])
    chart = parts[-1]
    name = chart.text if isinstance(chart, Value) else str(chart)
    folder = Path(tempfile.mkdtemp(prefix="gitops-poc-helm-"))
    try:
        env = {
            "HELM_REPOSITORY_CONFIG": str(folder / "repositories.yaml"),
            "HELM_REPOSITORY_CACHE": str(folder / "cache"),
        }
        add: list[Part] = [binary, "repo", "add", "--force-update", "--password-stdin"]
        add += [Opt("--username", user), "--", ALIAS, Value(url, "CHART_REPO")]
        try:
            result = proc.run(
                add, env={**os.environ, **env}, input=password, text=True, timeout=TIMEOUT_SECONDS
            )
        except subprocess.TimeoutExpired:
            raise RepositoryUnreadable(
                f"helm repo add {url}: no answer within {TIMEOUT_SECONDS:.0f} s"
            ) from None
        if result.returncode != 0:
            message = result.stderr.strip().removeprefix("Error: ") or f"exit code {result.returncode}"
            raise RepositoryUnreadable(f"helm could not read the chart repository {url}: {message}")
        rest = [part for i, part in enumerate(parts[:-1]) if i != at]
        yield [*rest, Value(f"{ALIAS}/{name}", "CHART_NAME")], env
    finally:
        shutil.rmtree(folder, ignore_errors=True)
