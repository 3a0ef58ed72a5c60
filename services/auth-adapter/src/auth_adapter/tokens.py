"""Token validation: static tokens from VALID_TOKENS and HS256 JWTs signed with JWT_SECRET.

No token is built in: with neither variable set every token is rejected. JWTs are verified here rather
than through PyJWT (a quarter of its cost per token, which bounds the adapter's throughput): the header
must say HS256 (no `none`, no other algorithm, no `crit`), the HMAC must match in constant time, and
`exp`/`nbf`/`iat` must be JSON numbers (RFC 7519 NumericDate: a numeric string is refused).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import math
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

from gateway_config import Jwt

CLIENT_ROLE = "CLIENT"
CACHE_SIZE = 10_000
GOOD_HEADERS = 64


class Identity(NamedTuple):  # built per new token: a tuple costs a third of a frozen dataclass
    user_id: str
    session_id: str
    roles: frozenset[str]
    permissions: frozenset[str]


class TokenError(Exception):
    """Why a token was refused; the text never contains the token."""


class _HmacSha256:
    """HMAC-SHA256 (RFC 2104) with the key's inner and outer blocks hashed once: each MAC copies the two
    keyed SHA-256 states. Two copies and two updates cost a quarter less than copying a keyed `hmac`
    object (callgrind: 16k vs 21k instructions per token), on the adapter's hottest path; the tests check it
    equals `hmac.new` for keys shorter than, as long as and longer than the block."""

    def __init__(self, key: bytes) -> None:
        block = hashlib.sha256().block_size
        if len(key) > block:
            key = hashlib.sha256(key).digest()
        key = key.ljust(block, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


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
        static = list(static_tokens)
        self._static = [_digest(t) for t in static]
        # A token shaped like a JWS (two dots) can match a static token only if one has that shape: when
        # none has, the comparisons are skipped for JWTs (which says nothing secret: the shape is public).
        self._static_jws_shaped = any(t.count(".") == 2 for t in static)
        self._static_permissions = frozenset(static_permissions)
        self._key = jwt_secret.encode("utf-8") if jwt_secret else None
        self._mac = _HmacSha256(self._key) if self._key else None
        self._settings = settings
        required = ["exp", "sub"]
        required += ["iss"] if settings.issuer else []
        required += ["aud"] if settings.audience else []
        self._required = tuple(required)
        self._leeway = settings.leeway_seconds
        self._issuer = settings.issuer
        self._audience = settings.audience
        # Verified JWTs by their exact text (signature included): a repeat skips the HMAC and the claim
        # checks but not the time window. Bounded; emptied when full.
        self._verified: dict[str, tuple[Identity, float, float]] = {}
        self._seen_once: set[int] = set()  # hashes of JWTs verified once (not remembered yet)
        self._good_headers: set[str] = set()  # JWS headers already found HS256 without `crit`

    @property
    def static_count(self) -> int:
        return len(self._static)

    @property
    def accepts_jwt(self) -> bool:
        return self._key is not None

    def validate(self, token: str) -> Identity:
        if self._key is not None and not self._static_jws_shaped and token.count(".") == 2:
            return self._jwt(token)
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
        # Remembered from its second verification on: a table filled with tokens seen once (a new JWT per
        # call) is never read and measured costlier than the verification it would save (bench_services);
        # a set of hashes is small. A colliding hash only remembers a verified token sooner.
        seen = hash(token)
        if seen in self._seen_once:
            if len(self._verified) >= CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = (identity, not_before, expires)
        else:
            if len(self._seen_once) >= CACHE_SIZE:
                self._seen_once.clear()
            self._seen_once.add(seen)
        return identity

    def _decode(self, token: str) -> tuple[Identity, float, float]:
        """Verify an HS256 JWT (RFC 7515/7519) and its claims; the window it is valid in."""
        claims = self._verified_claims(token)
        get = claims.get
        exp, nbf, iat = get("exp", _ABSENT), get("nbf", _ABSENT), get("iat", _ABSENT)
        # NumericDates: a JSON int passes at once; anything else (float, string, bool, null) is checked.
        if exp.__class__ is not int:
            exp = _numeric_date("exp", exp)
        if nbf.__class__ is not int:
            nbf = _numeric_date("nbf", nbf)
        if iat.__class__ is not int:
            iat = _numeric_date("iat", iat)
        for name in self._required:
            if name not in claims:
                raise TokenError(f"token lacks the {name!r} claim")
        leeway = self._leeway
        now = time.time()
        if exp <= now - leeway:
            raise TokenError("token expired")
        if (nbf is not None and nbf > now + leeway) or (iat is not None and iat > now + leeway):
            raise TokenError("token not yet valid")
        if self._issuer is not None and claims["iss"] != self._issuer:
            raise TokenError("token issuer not accepted")
        if self._audience is not None:
            audience = claims["aud"]
            names = [audience] if isinstance(audience, str) else audience
            if not isinstance(names, list) or self._audience not in [a for a in names if isinstance(a, str)]:
                raise TokenError("token audience not accepted")
        subject = get("sub")
        session = get("sid", get("session_id", ""))
        if subject.__class__ is not str or not subject or session.__class__ is not str:
            raise TokenError("token claims sub/sid are not strings")
        roles, permissions = get("roles"), get("permissions")
        identity: Identity = _new(
            Identity,
            (
                subject,
                session,
                _NO_NAMES if roles is None else _names(roles),
                _NO_NAMES if permissions is None else _names(permissions),
            ),
        )
        # The window just accepted: nbf - leeway <= now < exp + leeway.
        if nbf is None and iat is None:
            return identity, -math.inf, exp + leeway
        starts = max(nbf if nbf is not None else -math.inf, iat if iat is not None else -math.inf)
        return identity, starts - leeway, exp + leeway

    def _verified_claims(self, token: str) -> dict[str, Any]:
        """The claims of a JWS in compact form whose header says HS256 and whose signature verifies."""
        assert self._mac is not None
        signing_input, _, signature_part = token.rpartition(".")
        header_part, _, payload_part = signing_input.partition(".")
        try:
            signed = signing_input.encode("ascii")
            signature = _unbase64(signature_part)
        except ValueError:  # not ASCII, not base64url, a length base64 never has: refused, not a failed call
            raise TokenError("malformed token") from None
        known = header_part in self._good_headers  # one issuer's tokens share one header: checked once
        if not known:
            header = _json_object(header_part)
            if header is None or header.get("alg") != "HS256" or "crit" in header:
                raise TokenError("malformed token")  # alg none, RS256 with an HMAC key, unknown extensions
        if not hmac.compare_digest(self._mac.digest(signed), signature):
            raise TokenError("token signature does not verify")
        if not known:  # remembered once signed with the key: no one else can fill the set
            if len(self._good_headers) >= GOOD_HEADERS:
                self._good_headers.clear()
            self._good_headers.add(header_part)
        claims = _json_object(payload_part)
        if claims is None:
            raise TokenError("malformed token")
        return claims


_URLSAFE = bytes.maketrans(b"-_", b"+/")
_PADDING = (b"", b"", b"==", b"=")  # by length % 4; 1 is never valid base64 (a2b_base64 says so)


def _unbase64(part: str) -> bytes:
    """An unpadded base64url part (RFC 7515 section 2) decoded; ValueError (binascii.Error, or
    UnicodeEncodeError for non-ASCII) if it is anything else. Strict: not empty, no whitespace, no padding,
    none of base64's own `+` and `/`, no other character (cheaper than matching a pattern first)."""
    if not part or "+" in part or "/" in part or "=" in part:
        raise binascii.Error("not base64url")
    encoded = part.encode("ascii").translate(_URLSAFE) + _PADDING[len(part) % 4]
    return binascii.a2b_base64(encoded, strict_mode=True)


_ABSENT = object()


def _numeric_date(name: str, value: Any) -> Any:
    """The claim as a NumericDate, None when absent; a JSON number (RFC 7519 section 2): no string, no
    boolean, finite."""
    if value is _ABSENT:
        return None
    if value.__class__ is bool or not isinstance(value, int | float) or not math.isfinite(value):
        raise TokenError(f"token claim {name!r} is not a NumericDate")
    return value


def _no_constant(name: str) -> object:
    raise ValueError(name)  # NaN and Infinity are not JSON


# One decoder for every token (json.loads with an option builds a new one per call); decode is stateless.
_JSON = json.JSONDecoder(parse_constant=_no_constant)
_SCAN: Any = _JSON.scan_once  # type: ignore[attr-defined]  # the C scanner; not in the typing stubs


def _json_object(part: str) -> dict[str, Any] | None:
    try:
        text = _unbase64(part).decode("utf-8")
        try:  # the C scanner straight away: JSON without surrounding whitespace, as issuers write it
            value, end = _SCAN(text, 0)
        except StopIteration:
            end = -1
        if end != len(text):  # anything else (whitespace, trailing data, errors) through the full decoder
            value = _JSON.decode(text)
    except ValueError:  # bad base64 (binascii.Error), bad UTF-8, bad JSON
        return None
    return value if value.__class__ is dict else None


def _names(value: object) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset([v for v in value if v.__class__ is str])  # a list: no generator frames
    return _NO_NAMES


_NO_NAMES: frozenset[str] = frozenset()
_new = tuple.__new__  # an Identity built without NamedTuple's Python-level __new__ (one frame per token)
