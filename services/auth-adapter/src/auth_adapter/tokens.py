"""Token validation: static tokens from VALID_TOKENS and HS256 JWTs signed with JWT_SECRET.

No token is built in: with neither variable set every token is rejected.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable
from dataclasses import dataclass

import jwt
from gateway_config import Jwt

CLIENT_ROLE = "CLIENT"
CACHE_SIZE = 10_000


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
        self._secret = jwt_secret or None
        self._settings = settings
        required = ["exp", "sub"]
        required += ["iss"] if settings.issuer else []
        required += ["aud"] if settings.audience else []
        self._options = {"require": required}
        # Verified JWTs by their exact text (signature included): a repeat skips the HMAC and the claim
        # checks but not the time window. Bounded; emptied when full.
        self._verified: dict[str, tuple[Identity, float, float]] = {}

    @property
    def static_count(self) -> int:
        return len(self._static)

    @property
    def accepts_jwt(self) -> bool:
        return self._secret is not None

    def validate(self, token: str) -> Identity:
        digest = _digest(token)
        matched = 0
        for position, candidate in enumerate(self._static, start=1):
            if hmac.compare_digest(digest, candidate):  # every entry is compared: no early exit
                matched = position
        if matched:
            return Identity(f"static-token-{matched}", "", frozenset({CLIENT_ROLE}), self._static_permissions)
        if self._secret is None or token.count(".") != 2:
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
        s = self._settings
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                issuer=s.issuer,
                audience=s.audience,
                leeway=s.leeway_seconds,
                options=self._options,  # type: ignore[arg-type]
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("token expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenError("token not yet valid") from None
        except jwt.InvalidSignatureError:
            raise TokenError("token signature does not verify") from None
        except jwt.InvalidIssuerError:
            raise TokenError("token issuer not accepted") from None
        except jwt.InvalidAudienceError:
            raise TokenError("token audience not accepted") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenError(f"token lacks the {exc.claim!r} claim") from None
        except jwt.InvalidTokenError:
            raise TokenError("malformed token") from None
        subject = claims.get("sub")
        session = claims.get("sid", claims.get("session_id", ""))
        if not isinstance(subject, str) or not subject or not isinstance(session, str):
            raise TokenError("token claims sub/sid are not strings")
        identity = Identity(subject, session, _names(claims.get("roles")), _names(claims.get("permissions")))
        # The window PyJWT just accepted: nbf - leeway <= now < exp + leeway (exp is required).
        not_before = float(claims.get("nbf", float("-inf"))) - s.leeway_seconds
        return identity, not_before, float(claims["exp"]) + s.leeway_seconds


def _names(value: object) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset(v for v in value if isinstance(v, str))
    return frozenset()
