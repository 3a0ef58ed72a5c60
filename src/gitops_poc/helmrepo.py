"""Serve a folder that is a Helm chart repository (an `index.yaml` with relative URLs) on loopback.

Used where the public repositories cannot be reached: tests and the demo serve the offline copies in
`shared/charts/<folder>` so that `helm pull --repo URL --version V` takes the same path it takes for users.

    python -m gitops_poc.helmrepo [--unless-reachable URL] FOLDER

prints the repository URL to use on its first line (URL itself when it answers, else a loopback one) and
serves FOLDER until it is stopped (SIGTERM or Ctrl-C).
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
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


def repository_reachable(url: str, timeout: float = 5.0) -> bool:
    """Does `url` answer as a classic Helm repository (its index.yaml) within `timeout` seconds, answer
    included? OCI registries are taken as given. Through httpguard: a redirect to another origin is not
    followed (a user or password in the URL stays with its host)."""
    if url.startswith("oci://"):
        return True
    import requests

    from gitops_poc.httpguard import GuardedSession

    try:
        with GuardedSession(url, service="the chart repository", deadline=timeout) as session:
            response = session.get(f"{url.rstrip('/')}/index.yaml", timeout=timeout, stream=True)
            response.close()
            return bool(response.status_code == 200)
    except (requests.RequestException, OSError, ValueError):
        return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gitops_poc.helmrepo",
        description="Serve an offline copy of a Helm chart repository on loopback; print the URL to use.",
    )
    parser.add_argument("folder", type=Path, help="a folder holding index.yaml and the chart .tgz files")
    parser.add_argument(
        "--unless-reachable",
        metavar="URL",
        help="print URL and exit when it answers; serve FOLDER only when it does not",
    )
    args = parser.parse_args(argv)
    if args.unless_reachable and repository_reachable(args.unless_reachable):
        print(args.unless_reachable, flush=True)
        return 0
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        with serve_chart_repository(args.folder) as url:
            if args.unless_reachable:
                print(
                    f"{args.unless_reachable} cannot be reached: serving the offline copy {args.folder}"
                    f" at {url}",
                    file=sys.stderr,
                    flush=True,
                )
            print(url, flush=True)
            stop.wait()
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
