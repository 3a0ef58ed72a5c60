"""Every HTTP conversation of the tool (GitLab, Vault, Kubernetes, chart repositories) follows the same rules.

- One origin: a client talks only to the scheme, host and port it was configured with. A redirect or a
  pagination link to another origin (another host, another port, https -> http) is refused before anything
  is sent there, so no credential header (PRIVATE-TOKEN, X-Vault-Token, Authorization, cookies) can leave.
- An overall deadline per request: the answer is complete within it, however slowly the server sends it
  (a per-read timeout alone lets a server sending one byte a second hold the command for ever).
- Retry-After (and GitLab's RateLimit-Reset) honoured only up to a cap; a longer or unparsable one is an
  error, never a wait of hours or a crash.
- Pagination bounded: a `next` link that leads back to a page already read, or more than MAX_PAGES pages,
  stops the listing with an error.

`GuardedSession` is the requests.Session every requests-based client gets (python-gitlab, hvac, the chart
repository probe); the Kubernetes client (urllib3) takes `run_with_deadline` and follows no redirects.
"""

from __future__ import annotations

import email.utils
import math
import queue
import re
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import requests

from gitops_poc.errors import UsageError
from gitops_poc.urls import origin, show_origin, shown

T = TypeVar("T")

DEADLINE_VARIABLE = "GITOPS_POC_HTTP_DEADLINE"
DEFAULT_DEADLINE = 30.0  # seconds for one request, its whole answer included
RETRY_AFTER_CAP = 30.0  # the longest Retry-After waited for; a longer one is an error
MAX_PAGES = 1000  # pages of one listing (100 items each for GitLab: 100,000 items)
MAX_REDIRECTS = 5  # same-origin redirects of one request


class NetworkRefused(requests.RequestException):
    """A request or answer this module refuses; the message is ours and holds no credential."""


class CrossOriginRefused(NetworkRefused):
    """A redirect or link to an origin other than the configured one."""


class WaitTooLong(NetworkRefused):
    """The server asks to wait longer than RETRY_AFTER_CAP before retrying."""


class PaginationLoop(NetworkRefused):
    """A listing's `next` links lead back to a page already read, or go on beyond MAX_PAGES."""


class DeadlineExceeded(requests.exceptions.Timeout):
    """A request got no complete answer within its overall deadline."""


# --- URLs ---------------------------------------------------------------------------------------------------
def checked_url(url: str, name: str) -> str:
    """`url` (no trailing slash) when it is an http(s):// URL with a host and a valid port; else UsageError
    naming `name` (the variable or option) and the value without its credentials."""
    value = url.strip()
    try:
        origin(value)
        if re.search(r"\s", value):
            raise ValueError("white space")
    except ValueError:
        raise UsageError(
            f"{name}={shown(value)!r} is not an http(s):// URL with a host (e.g. https://gitlab.example.com)"
        ) from None
    return value.rstrip("/")


# --- the overall deadline -----------------------------------------------------------------------------------
def deadline_from_env(environ: Mapping[str, str] | None = None) -> float:
    """GITOPS_POC_HTTP_DEADLINE in seconds (default DEFAULT_DEADLINE); UsageError when not positive."""
    from gitops_poc.envseconds import seconds

    return seconds(DEADLINE_VARIABLE, DEFAULT_DEADLINE, environ)


class _Worker:
    """A daemon thread that runs one job after another and ends after IDLE_SECONDS without work.

    A thread per request cost about 0.35 ms each (48,000 requests in a `vault check` of 2,000 x 3)."""

    IDLE_SECONDS = 5.0

    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = False

    def submit(self, job: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            self._jobs.put((job, future))
            if not self._running:
                self._running = True
                threading.Thread(target=self._loop, name=self.name, daemon=True).start()
        return future

    def _loop(self) -> None:
        while True:
            try:
                job, future = self._jobs.get(timeout=self.IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._jobs.empty():
                        self._running = False
                        return
                continue
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(job())
                except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread as is
                    future.set_exception(exc)


class Deadline:
    """Runs jobs (one request each) so that the caller gets the result within `seconds` or DeadlineExceeded.

    The job runs on a daemon worker thread (never joined at exit) and the caller stops waiting at the
    deadline; a worker stuck on a slow answer is left behind and the next job gets a new one."""

    def __init__(self, seconds: float, name: str = "http-request") -> None:
        self.seconds = seconds
        self.name = name
        self._worker = _Worker(name)

    def run(self, job: Callable[[], T]) -> T:
        future = self._worker.submit(job)
        try:
            return future.result(timeout=self.seconds)
        except FutureTimeout:
            if future.done():  # the job's own timeout (socket.timeout is a TimeoutError too)
                raise
            self._worker = _Worker(self.name)
            raise DeadlineExceeded(f"no complete answer within {self.seconds:g} s") from None


# --- Retry-After --------------------------------------------------------------------------------------------
def retry_after_seconds(value: str, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or an HTTP date); None when unparsable."""
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _page_key(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    parts = urlsplit(url)
    return parts.path.rstrip("/"), tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))


class GuardedSession(requests.Session):
    """A requests.Session bound to one origin, with an overall deadline per request, capped Retry-After
    and bounded pagination. `service` names the server in messages ("GitLab", "Vault")."""

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        deadline: float | None = None,
        retry_after_cap: float = RETRY_AFTER_CAP,
        max_pages: int = MAX_PAGES,
    ) -> None:
        super().__init__()
        self.origin = origin(base_url)
        self.service = service
        self.deadline = Deadline(deadline_from_env() if deadline is None else deadline, f"{service}-request")
        self.retry_after_cap = retry_after_cap
        self.max_pages = max_pages
        self.max_redirects = MAX_REDIRECTS
        self._next: tuple[str, tuple[tuple[str, str], ...]] | None = None
        self._pages: set[tuple[str, tuple[tuple[str, str], ...]]] = set()

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        send = super().request
        return self.deadline.run(lambda: send(method, url, *args, **kwargs))

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Every request goes through here, redirected ones included: refuse other origins before sending."""
        url = str(request.url or "")
        try:
            where = origin(url)
        except ValueError:
            where = None
        if where != self.origin:
            raise CrossOriginRefused(
                f"{self.service} at {show_origin(self.origin)} sent us to "
                f"{show_origin(where) if where else shown(url)}: refused (credentials go only to the "
                "configured address; if the service moved, configure its new address)"
            )
        self._count_page(request)
        response = super().send(request, **kwargs)
        if response.status_code == 429 or response.status_code >= 500:
            self._cap_wait(response)
        self._note_next(response)
        return response

    # --- Retry-After / RateLimit-Reset -------------------------------------------------------------------
    def _cap_wait(self, response: requests.Response) -> None:
        headers = response.headers
        wait: float | None = None
        given = ""
        if "Retry-After" in headers:
            given = f"Retry-After: {headers['Retry-After']}"
            wait = retry_after_seconds(headers["Retry-After"])
        elif "RateLimit-Reset" in headers:  # GitLab: the Unix time when the limit resets
            raw = headers["RateLimit-Reset"].strip()
            given = f"RateLimit-Reset: {raw}"
            wait = max(0.0, int(raw) - time.time()) if raw.isascii() and raw.isdigit() else None
        headers.pop("RateLimit-Reset", None)
        if wait is None:  # absent or unparsable: the client's own short backoff
            headers.pop("Retry-After", None)
            return
        if wait > self.retry_after_cap:
            raise WaitTooLong(
                f"{self.service} at {show_origin(self.origin)} answered {response.status_code} with "
                f"{given[:60]!r}, a wait of more than the {self.retry_after_cap:g} s waited at most: "
                "try again later"
            )
        headers["Retry-After"] = str(math.ceil(wait))

    # --- pagination ----------------------------------------------------------------------------------------
    def _count_page(self, request: requests.PreparedRequest) -> None:
        key = _page_key(str(request.url))
        if key != self._next:  # not a follow-up of the last page: a new listing (or no listing)
            self._pages = set()
        self._next = None
        self._pages.add(key)
        if len(self._pages) > self.max_pages:
            raise PaginationLoop(
                f"{self.service} at {show_origin(self.origin)} lists more than {self.max_pages} pages "
                f"for {key[0]}: stopped"
            )

    def _note_next(self, response: requests.Response) -> None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return
        key = _page_key(requests.compat.urljoin(str(response.url), link))
        if key in self._pages:
            raise PaginationLoop(
                f"{self.service} at {show_origin(self.origin)} links the listing {key[0]} back to a page "
                "already read (a pagination loop): stopped"
            )
        self._next = key
