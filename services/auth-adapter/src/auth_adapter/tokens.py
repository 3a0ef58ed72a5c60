"""Token validation: static tokens from VALID_TOKENS and HS256 JWTs signed with JWT_SECRET.

No token is built in: with neither variable set every token is rejected. JWTs are verified here rather
than through PyJWT (a quarter of its cost per token, which bounds the adapter's throughput): the header
must say HS256 (no `none`, no other algorithm, no `crit`), the signature part must be the HMAC's one
base64url encoding (compared in constant time), every part strict base64url, and `exp`/`nbf`/`iat` JSON
numbers (RFC 7519 NumericDate: a numeric string is refused). Any str is judged: refused with a reason,
never raised out of `validate` as another exception.

The usual token (a header already verified, integer dates, string claims) is verified by `_jws`, a C
extension, when it is built: it only ever accepts what this code accepts, and hands every other token back
to it (test_auth_adapter_jws.py compares them token by token; the token tests run on both). Without a C
compiler the package installs without it and this code verifies every token.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import importlib
import json
import math
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from gateway_config import Jwt

_Verifier: type[_jws.Verifier] | None
try:
    from auth_adapter import _jws

    _Verifier = _jws.Verifier
except ImportError:  # built without a C compiler: every token takes the Python path
    _Verifier = None

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


def _compact_sha256() -> Callable[[bytes], Any]:
    """CPython's built-in SHA-256 (`_sha2` from 3.12, `_sha256` before; what hashlib falls back to without
    OpenSSL), else hashlib's. Per MAC it touches a fraction of the code and memory OpenSSL's EVP layer does
    (context copies through the provider, cleansing on free): with the CPU caches cold, as a Check finds
    them inside the server, 5.8 against 10.1 us per token (4 MB walked between MACs; 1.1 against 0.7 us
    in a loop). The tests check it against `hmac.new`."""
    for name in ("_sha2", "_sha256"):
        try:
            constructor: Callable[[bytes], Any] = importlib.import_module(name).sha256
        except (ImportError, AttributeError):
            continue
        return constructor
    return hashlib.sha256


_SHA256 = _compact_sha256()


class _HmacSha256:
    """HMAC-SHA256 (RFC 2104) with the key's inner and outer blocks hashed once: each MAC copies the two
    keyed SHA-256 states. Two copies and two updates cost a quarter less than copying a keyed `hmac`
    object (callgrind: 16k vs 21k instructions per token), on the adapter's hottest path; the tests check it
    equals `hmac.new`'s for keys shorter than, as long as and longer than the block."""

    def __init__(self, key: bytes) -> None:
        block = hashlib.sha256().block_size
        if len(key) > block:
            key = hashlib.sha256(key).digest()
        key = key.ljust(block, b"\0")
        self._inner = _SHA256(bytes(b ^ 0x36 for b in key))
        self._outer = _SHA256(bytes(b ^ 0x5C for b in key))

    def signature(self, message: bytes) -> bytes:
        """The MAC as a JWS signature part: base64url, unpadded (43 characters for SHA-256's 32 bytes)."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return binascii.b2a_base64(outer.digest(), newline=False).translate(_TO_URLSAFE)[:43]


def _digest(token: str) -> bytes:
    # surrogatepass: any str encodes (surrogateescape raised on a lone surrogate outside U+DC80-DCFF)
    digest: bytes = _SHA256(token.encode("utf-8", "surrogatepass")).digest()
    return digest


class TokenValidator:
    def __init__(
        self,
        static_tokens: Iterable[str],
        jwt_secret: str | None,
        settings: Jwt,
        static_permissions: Iterable[str] = ("read", "write"),
        compiled: bool = True,
    ) -> None:
        """`compiled=False` verifies every JWT in Python even when the C extension is built (the tests run
        both)."""
        # Digests of equal length, compared with hmac.compare_digest: the time taken says nothing about
        # how much of a guess was right, nor about the tokens' lengths.
        static = list(static_tokens)
        self._static = [_digest(t) for t in static]
        # A token shaped like a JWS (two dots) can match a static token only if one has that shape: when
        # none has, the comparisons are skipped for JWTs (which says nothing secret: the shape is public).
        self._static_jws_shaped = any(t.count(".") == 2 for t in static)
        self._static_permissions = frozenset(static_permissions)
        # The identity of each static token, named by its position from 1 (built once, not per call).
        self._static_identities = [
            Identity(f"static-token-{n}", "", frozenset({CLIENT_ROLE}), self._static_permissions)
            for n in range(1, len(static) + 1)
        ]
        self._key = jwt_secret.encode("utf-8") if jwt_secret else None
        self._mac = _HmacSha256(self._key) if self._key else None
        self._jws_are_jwts = self._key is not None and not self._static_jws_shaped  # no static look-up then
        self._settings = settings
        required = ["exp", "sub"]
        # `is not None` as where they are checked: an empty issuer was checked but not required (KeyError)
        required += ["iss"] if settings.issuer is not None else []
        required += ["aud"] if settings.audience is not None else []
        self._required_order = tuple(required)  # the first one missing is named
        self._required = frozenset(required)
        self._leeway = settings.leeway_seconds
        self._issuer = settings.issuer
        self._audience = settings.audience
        # Verified JWTs by their exact text (signature included): a repeat skips the HMAC and the claim
        # checks but not the time window. Bounded; emptied when full.
        self._verified: dict[str, tuple[Identity, float, float]] = {}
        self._seen_once: set[int] = set()  # hashes of JWTs verified once (not remembered yet)
        self._good_headers: set[bytes] = set()  # JWS headers already found HS256 without `crit`
        # The C path for the usual token: None (not built, not asked for, no key) leaves all to _decode.
        self._fast: Callable[[str, float], tuple[Identity, float, float] | None] | None = None
        if compiled and _Verifier is not None and self._key:
            self._fast = _Verifier(
                self._key,
                self._good_headers,  # filled by _decode, read by the C path: one set
                _SCAN,
                Identity,
                _NO_NAMES,
                settings.leeway_seconds,
                settings.issuer,
                settings.audience,
            ).verify

    @property
    def static_count(self) -> int:
        return len(self._static)

    @property
    def accepts_jwt(self) -> bool:
        return self._key is not None

    def validate(self, token: str) -> Identity:
        if not self._jws_are_jwts or token.count(".") != 2:
            static = self._static_identity(token)
            if static is not None:
                return static
            if self._key is None or token.count(".") != 2:
                raise TokenError("invalid token")
        # A JWT (the path every new token takes, in one frame).
        cached = self._verified.get(token)
        if cached is not None:
            identity, not_before, expires = cached
            now = _now()
            if not_before <= now < expires:
                return identity
            self._verified.pop(token, None)  # outside its window now: the full check gives the reason
        fast = self._fast
        verified = (fast is not None and fast(token, _now())) or self._decode(token)
        # Remembered from its second verification on: a table filled with tokens seen once (a new JWT per
        # call) is never read and measured costlier than the verification it would save (bench_services);
        # a set of hashes is small. A colliding hash only remembers a verified token sooner.
        seen, seen_once = hash(token), self._seen_once
        if seen in seen_once:
            if len(self._verified) >= CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = verified
        else:
            if len(seen_once) >= CACHE_SIZE:
                seen_once.clear()
            seen_once.add(seen)
        return verified[0]

    def _static_identity(self, token: str) -> Identity | None:
        digest = _digest(token)
        matched = 0
        for position, candidate in enumerate(self._static, start=1):
            if hmac.compare_digest(digest, candidate):  # every entry is compared: no early exit
                matched = position
        return self._static_identities[matched - 1] if matched else None

    def _decode(self, token: str) -> tuple[Identity, float, float]:
        """Verify an HS256 JWS in compact form (RFC 7515/7519) and its claims; the window it is valid in.

        One function for the signature and the claims: with the CPU caches cold, as inside the server, each
        Python frame and each step costs several times what it costs in a loop."""
        mac = self._mac
        assert mac is not None
        try:  # split as bytes: the parts are hashed, decoded and compared as bytes
            encoded = token.encode("ascii")
        except UnicodeEncodeError:
            raise TokenError("malformed token") from None
        signed, _, signature_part = encoded.rpartition(b".")
        header_part, _, payload_part = signed.partition(b".")
        known = header_part in self._good_headers  # one issuer's tokens share one header: checked once
        if not known:
            header = _json_object(header_part)
            if header is None or header.get("alg") != "HS256" or "crit" in header:
                raise TokenError("malformed token")  # alg none, RS256 with an HMAC key, unknown extensions
        # The signature part compared as text with the MAC's canonical base64url: one encoding per MAC, so
        # no variant of it (other trailing bits) verifies. Only a mismatch is looked at further.
        if not hmac.compare_digest(mac.signature(signed), signature_part):
            try:
                _unbase64(signature_part)
            except ValueError:  # not base64url, or a length base64 never has: refused, not a failed call
                raise TokenError("malformed token") from None
            raise TokenError("token signature does not verify")
        if not known:  # remembered once signed with the key: no one else can fill the set
            if len(self._good_headers) >= GOOD_HEADERS:
                self._good_headers.clear()
            self._good_headers.add(header_part)
        claims = _json_object(payload_part)
        if claims is None:
            raise TokenError("malformed token")
        # The claims read in one pass, C all the way; _ABSENT for each one the token lacks.
        exp, nbf, iat, subject, session, roles, permissions = map(claims.get, _CLAIMS, _ABSENTS)
        # NumericDates: a JSON int passes at once; anything else (float, string, bool, null) is checked.
        if exp.__class__ is not int:
            exp = _numeric_date("exp", exp)
        if nbf is _ABSENT:
            nbf = None
        elif nbf.__class__ is not int:
            nbf = _numeric_date("nbf", nbf)
        if iat is _ABSENT:
            iat = None
        elif iat.__class__ is not int:
            iat = _numeric_date("iat", iat)
        if not claims.keys() >= self._required:
            missing = next(name for name in self._required_order if name not in claims)
            raise TokenError(f"token lacks the {missing!r} claim")
        leeway = self._leeway
        now = _now()
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
        if session is _ABSENT:
            session = claims.get("session_id", "")
        if subject.__class__ is not str or not subject or session.__class__ is not str:
            raise TokenError("token claims sub/sid are not strings")
        identity: Identity = _new(
            Identity,
            (
                subject,
                session,
                _NO_NAMES if roles is _ABSENT else _names(roles),
                frozenset(filter(_IS_STR, permissions))
                if permissions.__class__ is list
                else _names(permissions),
            ),
        )
        # The window just accepted: nbf - leeway <= now < exp + leeway.
        if nbf is None and iat is None:
            return identity, _ALWAYS, exp + leeway
        starts = max(nbf if nbf is not None else _ALWAYS, iat if iat is not None else _ALWAYS)
        return identity, starts - leeway, exp + leeway


# base64url to base64, and base64's own `+`, `/` and `=` to `!`, which the strict decoder refuses: the
# alphabet checked and mapped in one pass.
_URLSAFE = bytes.maketrans(b"-_+/=", b"+/!!!")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_PADDING = (b"", b"", b"==", b"=")  # by length % 4; 1 is never valid base64 (a2b_base64 says so)


def _unbase64(part: bytes) -> bytes:
    """An unpadded base64url part (RFC 7515 section 2) decoded; ValueError (binascii.Error) if it is
    anything else. Strict: not empty, no whitespace, no padding, none of base64's own `+` and `/`, no other
    character (one translate maps them to one the strict decoder refuses: cheaper than looking for each)."""
    if not part:
        raise binascii.Error("not base64url")
    return binascii.a2b_base64(part.translate(_URLSAFE) + _PADDING[len(part) % 4], strict_mode=True)


_A2B = binascii.a2b_base64
_CLAIMS = ("exp", "nbf", "iat", "sub", "sid", "roles", "permissions")
_ALWAYS = -math.inf  # the start of a window without nbf or iat
_ABSENT = object()
_ABSENTS = (_ABSENT,) * len(_CLAIMS)
_now = time.time


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


def _json_object(part: bytes) -> dict[str, Any] | None:
    """The JSON object a base64url part holds; None for anything else (an empty part decodes to no JSON)."""
    try:  # _unbase64 inline: a frame less per token
        text = _A2B(part.translate(_URLSAFE) + _PADDING[len(part) % 4], strict_mode=True).decode()
        try:  # the C scanner straight away: JSON without surrounding whitespace, as issuers write it
            value, end = _SCAN(text, 0)
        except StopIteration:
            end = -1
        if end != len(text):  # anything else (whitespace, trailing data, errors) through the full decoder
            value = _JSON.decode(text)
    except (ValueError, RecursionError):  # bad base64 (binascii.Error), bad UTF-8, bad or too deep JSON
        return None
    return value if value.__class__ is dict else None


def _names(value: Any) -> frozenset[str]:
    if value.__class__ is list:
        return frozenset(filter(_IS_STR, value))  # C all the way: no comprehension frame
    if isinstance(value, str):
        return frozenset(value.split())
    return _NO_NAMES


_IS_STR: Callable[[object], bool] = str.__instancecheck__  # JSON gives exact strs


_NO_NAMES: frozenset[str] = frozenset()
_new = tuple.__new__  # an Identity built without NamedTuple's Python-level __new__ (one frame per token)
