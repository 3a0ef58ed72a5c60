"""Token validation: static tokens from VALID_TOKENS and HS256 JWTs signed with JWT_SECRET.

No token is built in: with neither variable set every token is rejected. JWTs are verified here rather
than through PyJWT (a quarter of its cost per token, which bounds the adapter's throughput): the header
must say HS256 (no `none`, no other algorithm, no `crit`), the HMAC must match in constant time, and
`exp`/`nbf`/`iat` must be JSON numbers (RFC 7519 NumericDate: a numeric string is refused).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gateway_config import Jwt

CLIENT_ROLE = "CLIENT"
CACHE_SIZE = 10_000
GOOD_HEADERS = 64


@dataclass(frozen=True)
class Identity:
    user_id: str
    session_id: str
    roles: frozenset[str]
    permissions: frozenset[str]


class TokenError(Exception):
    """Why a token was refused; the text never contains the token."""


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


class TokenValidator:
    def __init__(
        self,
        static_tokens: Iterable[str],
        jwt_secret: str | None,
        settings: Jwt,
        static_permissions: Iterable[str] = ("read", "write"),
    ) -> None:
        # Digests of equal length, compared with hmac.compare_digest: the time taken says nothing about
        # how much of a guess was right, nor about the tokens' lengths.
        self._static = [_digest(t) for t in static_tokens]
        self._static_permissions = frozenset(static_permissions)
        self._key = jwt_secret.encode("utf-8") if jwt_secret else None
        self._settings = settings
        required = ["exp", "sub"]
        required += ["iss"] if settings.issuer else []
        required += ["aud"] if settings.audience else []
        self._required = tuple(required)
        # Verified JWTs by their exact text (signature included): a repeat skips the HMAC and the claim
        # checks but not the time window. Bounded; emptied when full.
        self._verified: dict[str, tuple[Identity, float, float]] = {}
        self._good_headers: set[str] = set()  # JWS headers already found HS256 without `crit`

    @property
    def static_count(self) -> int:
        return len(self._static)

    @property
    def accepts_jwt(self) -> bool:
        return self._key is not None

    def validate(self, token: str) -> Identity:
        digest = _digest(token)
        matched = 0
        for position, candidate in enumerate(self._static, start=1):
            if hmac.compare_digest(digest, candidate):  # every entry is compared: no early exit
                matched = position
        if matched:
            return Identity(f"static-token-{matched}", "", frozenset({CLIENT_ROLE}), self._static_permissions)
        if self._key is None or token.count(".") != 2:
            raise TokenError("invalid token")
        return self._jwt(token)

    def _jwt(self, token: str) -> Identity:
        cached = self._verified.get(token)
        if cached is not None:
            identity, not_before, expires = cached
            now = time.time()
            if not_before <= now < expires:
                return identity
            self._verified.pop(token, None)  # outside its window now: the full check gives the reason
        identity, not_before, expires = self._decode(token)
        if len(self._verified) >= CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (identity, not_before, expires)
        return identity

    def _decode(self, token: str) -> tuple[Identity, float, float]:
        """Verify an HS256 JWT (RFC 7515/7519) and its claims; the window it is valid in."""
        claims = self._verified_claims(token)
        s = self._settings
        now = time.time()
        times: dict[str, float] = {}
        for name in ("exp", "nbf", "iat"):
            if name in claims:
                value = claims[name]
                # NumericDate is a JSON number (RFC 7519 section 2): no string, no boolean, finite.
                if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                    raise TokenError(f"token claim {name!r} is not a NumericDate")
                times[name] = float(value)
        for name in self._required:
            if name not in claims:
                raise TokenError(f"token lacks the {name!r} claim")
        if times["exp"] <= now - s.leeway_seconds:
            raise TokenError("token expired")
        if times.get("nbf", float("-inf")) > now + s.leeway_seconds:
            raise TokenError("token not yet valid")
        if times.get("iat", float("-inf")) > now + s.leeway_seconds:
            raise TokenError("token not yet valid")
        if s.issuer is not None and claims["iss"] != s.issuer:
            raise TokenError("token issuer not accepted")
        if s.audience is not None:
            audience = claims["aud"]
            names = [audience] if isinstance(audience, str) else audience
            if not isinstance(names, list) or s.audience not in [a for a in names if isinstance(a, str)]:
                raise TokenError("token audience not accepted")
        subject = claims.get("sub")
        session = claims.get("sid", claims.get("session_id", ""))
        if not isinstance(subject, str) or not subject or not isinstance(session, str):
            raise TokenError("token claims sub/sid are not strings")
        identity = Identity(subject, session, _names(claims.get("roles")), _names(claims.get("permissions")))
        # The window just accepted: nbf - leeway <= now < exp + leeway.
        not_before = max(times.get("nbf", float("-inf")), times.get("iat", float("-inf"))) - s.leeway_seconds
        return identity, not_before, times["exp"] + s.leeway_seconds

    def _verified_claims(self, token: str) -> dict[str, Any]:
        """The claims of a JWS in compact form whose header says HS256 and whose signature verifies."""
        assert self._key is not None
        header_part, _, rest = token.partition(".")
        payload_part, _, signature_part = rest.partition(".")
        if not (_BASE64URL.fullmatch(payload_part) and _BASE64URL.fullmatch(signature_part)):
            raise TokenError("malformed token")
        known = header_part in self._good_headers  # one issuer's tokens share one header: checked once
        if not known:
            header = _json_object(header_part) if _BASE64URL.fullmatch(header_part) else None
            if header is None or header.get("alg") != "HS256" or "crit" in header:
                raise TokenError("malformed token")  # alg none, RS256 with an HMAC key, unknown extensions
        signed = f"{header_part}.{payload_part}".encode("ascii")
        expected = hmac.digest(self._key, signed, "sha256")  # one-shot, in C
        if not hmac.compare_digest(expected, _unbase64(signature_part)):
            raise TokenError("token signature does not verify")
        if not known:  # remembered once signed with the key: no one else can fill the set
            if len(self._good_headers) >= GOOD_HEADERS:
                self._good_headers.clear()
            self._good_headers.add(header_part)
        claims = _json_object(payload_part)
        if claims is None:
            raise TokenError("malformed token")
        return claims


_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


def _unbase64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _no_constant(name: str) -> object:
    raise ValueError(name)  # NaN and Infinity are not JSON


def _json_object(part: str) -> dict[str, Any] | None:
    try:
        value = json.loads(_unbase64(part).decode("utf-8"), parse_constant=_no_constant)
    except ValueError:  # bad base64 (binascii.Error), bad UTF-8, bad JSON
        return None
    return value if isinstance(value, dict) else None


def _names(value: object) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset(v for v in value if isinstance(v, str))
    return frozenset()
