"""Serve a folder that is a Helm chart repository (an `index.yaml` with relative URLs) on loopback.

Used where the public repositories cannot be reached: tests and the demo serve the offline copies in
`shared/charts/<folder>` so that `helm pull --repo URL --version V` takes the same path it takes for users.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from gitops_poc.errors import UsageError

# Where the offline copies lie: `<checkout>/../shared/charts`, unless the variable names another folder.
SHARED_CHARTS_VARIABLE = "GITOPS_POC_SHARED_CHARTS"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        return


def shared_charts_dir(checkout: Path, environ: dict[str, str] | None = None) -> Path:
    """The folder holding the offline chart repositories (it may not exist)."""
    env = os.environ if environ is None else environ
    override = env.get(SHARED_CHARTS_VARIABLE)
    return Path(override) if override else checkout.resolve().parent / "shared" / "charts"


@contextmanager
def serve_chart_repository(folder: Path) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 (a free port) for the duration of the block; yields the repository URL."""
    if not (folder / "index.yaml").is_file():
        raise UsageError(f"{folder}: not a Helm chart repository (no index.yaml)")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name=f"helm-repo-{folder.name}", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
