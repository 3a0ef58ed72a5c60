"""reCAPTCHA siteverify (v2 and v3) with a timeout; any failure to get an answer counts as a failed check."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

log = logging.getLogger("auth_adapter.recaptcha")
MAX_ANSWER = 64 * 1024


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
        body = urllib.parse.urlencode({"secret": secret, "response": token}).encode()
        request = urllib.request.Request(
            s.url, data=body, method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        try:
            with urllib.request.urlopen(request, timeout=s.timeout_seconds) as response:  # noqa: S310 - configured URL
                answer = json.loads(response.read(MAX_ANSWER))
        except urllib.error.HTTPError as exc:
            exc.close()
            log.warning("recaptcha refused", extra={"fields": {"version": version, "http_status": exc.code}})
            return False
        except (OSError, ValueError) as exc:  # timeouts, refused connections, bad JSON
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
