"""The authorization decision for one request, as the original adapter made it, with its defects fixed.

Pure of gRPC: a path, the request headers and the connection's source address in; a Decision out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway_config import Auth, GatewayConfig, Policy

from auth_adapter.ratelimit import RateLimiter
from auth_adapter.recaptcha import Recaptcha
from auth_adapter.tokens import CLIENT_ROLE, Identity, TokenError, TokenValidator

IDENTITY_HEADERS = ("user-id", "session-id")
CLEAR_COOKIE = "token=; Path=/; Max-Age=0; HttpOnly"
OK = 200


@dataclass(frozen=True)
class Decision:
    code: int  # 200 allows; otherwise the HTTP status the client gets
    reason: str
    upstream: Mapping[str, str] = field(default_factory=dict)  # set on the request (overwriting)
    remove: tuple[str, ...] = ()  # removed from the request before it goes upstream
    to_client: Mapping[str, str] = field(default_factory=dict)  # on the response to the client

    @property
    def allowed(self) -> bool:
        return self.code == OK


def split_path(path: str) -> tuple[str, str] | None:
    """(API, "API/method") of a request path; the query string and fragment are not part of it."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    segments = path.split("/")
    if len(segments) < 2 or not segments[-2]:
        return None
    return segments[-2], f"{segments[-2]}/{segments[-1]}"


def client_address(headers: Mapping[str, str], source: str, trusted_hops: int) -> str:
    """The client as the trusted proxies saw it: x-forwarded-for counted from the right, never x-real-ip."""
    if trusted_hops > 0:
        forwarded = [e.strip() for e in headers.get("x-forwarded-for", "").split(",") if e.strip()]
        if forwarded:
            return forwarded[-min(trusted_hops, len(forwarded))]
    return source or "unknown"


def _token(headers: Mapping[str, str]) -> str:
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "token" and value:
            return value
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


class Authorizer:
    def __init__(
        self, config: GatewayConfig, tokens: TokenValidator, limiter: RateLimiter, recaptcha: Recaptcha
    ) -> None:
        self._policies: dict[str, Auth] = config.policies()
        self._trusted_hops = config.trusted_hops
        self._tokens = tokens
        self._limiter = limiter
        self._recaptcha = recaptcha

    def decide(self, path: str, headers: Mapping[str, str], source: str) -> Decision:
        parts = split_path(path)
        if parts is None:
            return Decision(400, "bad path")
        api, method_key = parts
        client = client_address(headers, source, self._trusted_hops)

        method_auth = self._policies.get(method_key)
        auth, key = (method_auth, method_key) if method_auth is not None else (self._policies.get(api), api)
        if auth is None:
            return Decision(400, "unknown auth for method")
        passed_v2 = False
        if auth.rate_limit is not None and not self._limiter.allow(key, client, auth.rate_limit):
            # Over the limit: a solved v2 challenge lets a person through and refills the bucket.
            if not (self._recaptcha.enabled and self._recaptcha.verify(headers.get("x-rc-token-2", ""), 2)):
                return Decision(429, "rate limit exceeded")
            self._limiter.reset(key, client)
            passed_v2 = True
        if (
            auth.need_recaptcha
            and not passed_v2
            and not self._recaptcha.verify(headers.get("x-rc-token", ""), 3)
        ):
            return Decision(412, "recaptcha failed")
        if auth.policy is Policy.NO_NEED:
            return _allow(None)

        token = _token(headers)
        if not token:
            return _allow(None) if auth.policy is Policy.OPTIONAL else Decision(401, "token required")
        try:
            identity = self._tokens.validate(token)
        except TokenError as exc:
            clear = {"set-cookie": CLEAR_COOKIE}
            if auth.policy is Policy.OPTIONAL:
                return _allow(None, clear, reason=f"anonymous: {exc}")
            return Decision(401, str(exc), to_client=clear)
        if auth.policy is Policy.REQUIRED and not _permitted(identity, auth.permission):
            return Decision(403, "access denied")
        return _allow(identity)


def _permitted(identity: Identity, permission: str) -> bool:
    if not permission:
        return CLIENT_ROLE in identity.roles
    return permission in identity.permissions


def _allow(
    identity: Identity | None, to_client: Mapping[str, str] | None = None, reason: str = "allowed"
) -> Decision:
    """Identity headers only from a validated token; whatever the client sent under those names is dropped."""
    if identity is None:
        return Decision(OK, reason, remove=IDENTITY_HEADERS, to_client=to_client or {})
    upstream = {"user-id": identity.user_id}
    if identity.session_id:
        upstream["session-id"] = identity.session_id
    remove = tuple(h for h in IDENTITY_HEADERS if h not in upstream)
    return Decision(OK, reason, upstream=upstream, remove=remove, to_client=to_client or {})
