"""reCAPTCHA siteverify (v2 and v3); any failure to get an answer counts as a failed check.

One POST to the configured URL and nothing else: a redirect is never followed (the form carries the
secret), and `timeout_seconds` bounds the whole exchange (connect, TLS, request, every byte of the answer),
not each socket operation, so a server dripping bytes cannot hold a worker past it. (The name lookup of
the host is the resolver's and is bounded by its own timeouts.)
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass

log = logging.getLogger("auth_adapter.recaptcha")
MAX_ANSWER = 64 * 1024


class _Deadline(io.RawIOBase):
    """A socket's reading side whose every read gets only the time left before the deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock, self._deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self._sock.settimeout(_left(self._deadline))
        return self._sock.recv_into(buffer)


class _Reader:
    """What http.client.HTTPResponse needs of a socket: a file to read the answer from."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._file = io.BufferedReader(_Deadline(sock, deadline))

    def makefile(self, mode: str) -> io.BufferedReader[_Deadline]:
        return self._file


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("reCAPTCHA deadline passed")
    return left


def post_form(url: str, form: dict[str, str], timeout: float) -> tuple[int, bytes]:
    """POST `form` to `url` (http or https) within `timeout` seconds in all: (status, at most MAX_ANSWER
    bytes of body); a redirect status comes back as it is, unfollowed. OSError/ValueError on failure."""
    deadline = time.monotonic() + timeout
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    sock = socket.create_connection((parts.hostname, port), timeout=_left(deadline))
    try:
        if parts.scheme == "https":
            sock.settimeout(_left(deadline))
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)
        body = urllib.parse.urlencode(form).encode()
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = (
            f"POST {target} HTTP/1.1\r\nHost: {parts.netloc.rpartition('@')[2]}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        sock.settimeout(_left(deadline))
        sock.sendall(head.encode("ascii") + body)
        response = http.client.HTTPResponse(_Reader(sock, deadline))  # type: ignore[arg-type]
        response.begin()
        if 300 <= response.status < 400:
            return response.status, b""
        return response.status, response.read(MAX_ANSWER)
    except http.client.HTTPException as exc:
        raise ValueError(f"bad HTTP answer: {type(exc).__name__}") from None
    finally:
        sock.close()


@dataclass(frozen=True)
class RecaptchaSettings:
    url: str | None  # None or empty: reCAPTCHA is off and every check passes
    secret_v2: str | None = None
    secret_v3: str | None = None
    v3_min_score: float = 0.5
    timeout_seconds: float = 3.0


class Recaptcha:
    def __init__(self, settings: RecaptchaSettings) -> None:
        self.settings = settings

    @property
    def enabled(self) -> bool:
        return bool(self.settings.url)

    def verify(self, token: str, version: int) -> bool:
        s = self.settings
        if not s.url:
            return True
        secret = s.secret_v3 if version == 3 else s.secret_v2
        if not token or not secret:
            return False
        try:
            status, data = post_form(s.url, {"secret": secret, "response": token}, s.timeout_seconds)
            if status != 200:
                fields = {"version": version, "http_status": status}
                log.warning("recaptcha refused", extra={"fields": fields})
                return False
            answer = json.loads(data)
        except (OSError, ValueError, RecursionError) as exc:  # deadline, refused, bad HTTP, bad/deep JSON
            log.warning(
                "recaptcha unreachable", extra={"fields": {"version": version, "reason": type(exc).__name__}}
            )
            return False
        if not isinstance(answer, dict) or answer.get("success") is not True:
            return False
        if version == 3:
            score = answer.get("score")
            return isinstance(score, int | float) and not isinstance(score, bool) and score >= s.v3_min_score
        return True
