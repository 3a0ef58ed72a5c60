"""The authorization decision for one request, as the original adapter made it, with its defects fixed.

Pure of gRPC: a path, the request headers and the connection's source address (a function giving it, called
only when a rate limit needs it) in; a Decision out.
The policy is the one of the route Envoy takes for the path (gateway_config.RouteTable over the path
normalized as Envoy normalizes it): one path, one route, one policy; no route, no access.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import NamedTuple

from gateway_config import Auth, GatewayConfig, IdentitySource, Policy, Route, RouteTable, normalize

from auth_adapter.ratelimit import RateLimiter
from auth_adapter.recaptcha import Recaptcha
from auth_adapter.tokens import CLIENT_ROLE, TokenError, TokenValidator

CLEAR_COOKIE = "token=; Path=/; Max-Age=0; HttpOnly"
# Paths remembered with their route, emptied when full; only paths up to ROUTE_CACHE_PATH characters (a
# client chooses the path: 10,000 of Envoy's 60 KiB headers would be 600 MB), so at most about 5 MB.
ROUTE_CACHE = 10_000
ROUTE_CACHE_PATH = 256
OK = 200


NONE: Mapping[str, str] = MappingProxyType({})


class Decision(NamedTuple):  # a tuple: a third of a frozen dataclass's cost to build, once per call
    code: int  # 200 allows; otherwise the HTTP status the client gets
    reason: str
    upstream: Mapping[str, str] = NONE  # set on the request (overwriting)
    remove: tuple[str, ...] = ()  # removed from the request before it goes upstream
    to_client: Mapping[str, str] = NONE  # on the response to the client

    @property
    def allowed(self) -> bool:
        return self.code == OK


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


class _Target(NamedTuple):
    """What a path decides before the token: the policy of its route and where that is configured, or
    the denial when there is no policy (the route's properties read once per path, not once per call)."""

    auth: Auth | None
    key: str
    denial: Decision | None
    screened: bool = False  # a rate limit or a reCAPTCHA before the token
    policy: Policy = Policy.REQUIRED
    permission: str | None = None


_REJECTED_PATH = Decision(400, "path rejected")  # Envoy's 400: a fragment, or a path it cannot normalize
_NO_ROUTE = Decision(404, "no route")
_NO_AUTH = Decision(400, "unknown auth for method")
_RATE_LIMITED = Decision(429, "rate limit exceeded")
_RECAPTCHA_FAILED = Decision(412, "recaptcha failed")
_TOKEN_REQUIRED = Decision(401, "token required")
_ACCESS_DENIED = Decision(403, "access denied")
_new = tuple.__new__  # a Decision built without NamedTuple's Python-level __new__ (one frame per call)


class Authorizer:
    def __init__(
        self, config: GatewayConfig, tokens: TokenValidator, limiter: RateLimiter, recaptcha: Recaptcha
    ) -> None:
        self._table = RouteTable.of(config)
        self._trusted_hops = config.trusted_hops
        names = tuple(name for name, _ in config.identity_headers)
        sources = config.identity_headers
        self._user_headers = tuple(n for n, source in sources if source is IdentitySource.USER)
        self._session_headers = tuple(n for n, source in sources if source is IdentitySource.SESSION)
        kept = {IdentitySource.USER, IdentitySource.SESSION}
        # What is removed: every identity header but those then set from the token (precomputed: per call).
        self._remove_anonymous = names
        self._remove_with_session = tuple(n for n, source in config.identity_headers if source not in kept)
        self._remove_without_session = tuple(
            n for n, source in config.identity_headers if source is not IdentitySource.USER
        )
        self._routes: dict[str, _Target] = {}
        self._anonymous = Decision(OK, "allowed", NONE, self._remove_anonymous, NONE)
        self._tokens = tokens
        self._limiter = limiter
        self._recaptcha = recaptcha

    def route(self, path: str) -> Route | None:
        """The route Envoy takes for `path` as Envoy receives it (or as it hands it on): None when Envoy
        rejects the path or routes it nowhere."""
        normalized = normalize(path)
        return None if normalized is None else self._table.match(normalized)

    def _target(self, head: str) -> _Target:
        """The route's policy for `head` (a path without its query), remembered (bounded): decide looks in
        self._routes first."""
        normalized = normalize(head)
        route = None if normalized is None else self._table.match(normalized)
        if route is None:
            found = _Target(None, "", _REJECTED_PATH if normalized is None else _NO_ROUTE)
        else:
            auth = route.auth
            if auth is None:
                found = _Target(None, route.policy_key, _NO_AUTH)
            else:
                screened = auth.rate_limit is not None or auth.need_recaptcha
                found = _Target(auth, route.policy_key, None, screened, auth.policy, auth.permission)
        if len(head) <= ROUTE_CACHE_PATH:
            if len(self._routes) >= ROUTE_CACHE:
                self._routes.clear()
            self._routes[head] = found
        return found

    def _screen(
        self, auth: Auth, key: str, headers: Mapping[str, str], source: Callable[[], str]
    ) -> Decision | None:
        """The route's rate limit and reCAPTCHA: the denial, or None to go on to the token."""
        passed_v2 = False
        if auth.rate_limit is not None:  # the client address only where a limit needs it
            client = client_address(headers, source(), self._trusted_hops)
            if not self._limiter.allow(key, client, auth.rate_limit):
                # Over the limit: a solved v2 challenge lets a person through and refills the bucket.
                if not (
                    self._recaptcha.enabled and self._recaptcha.verify(headers.get("x-rc-token-2", ""), 2)
                ):
                    return _RATE_LIMITED
                self._limiter.reset(key, client)
                passed_v2 = True
        if (
            auth.need_recaptcha
            and not passed_v2
            and not self._recaptcha.verify(headers.get("x-rc-token", ""), 3)
        ):
            return _RECAPTCHA_FAILED
        return None

    def decide(self, path: str, headers: Mapping[str, str], source: Callable[[], str]) -> Decision:
        if "#" in path:  # Envoy rejects a fragment anywhere, the query included
            return _REJECTED_PATH
        head = path.partition("?")[0]
        auth, key, denial, screened, policy, permission = self._routes.get(head) or self._target(head)
        if denial is not None:
            return denial
        if screened:
            assert auth is not None
            denial = self._screen(auth, key, headers, source)
            if denial is not None:
                return denial
        if policy is Policy.NO_NEED:
            return self._anonymous

        token = _token(headers)
        if not token:
            return self._anonymous if policy is Policy.OPTIONAL else _TOKEN_REQUIRED
        try:
            identity = self._tokens.validate(token)
        except TokenError as exc:
            clear = {"set-cookie": CLEAR_COOKIE}
            if policy is Policy.OPTIONAL:
                return Decision(OK, f"anonymous: {exc}", NONE, self._remove_anonymous, clear)
            return Decision(401, str(exc), to_client=clear)
        if policy is Policy.REQUIRED and not (
            permission in identity.permissions if permission else CLIENT_ROLE in identity.roles
        ):
            return _ACCESS_DENIED
        # Every identity header the upstreams trust (config `identity_headers`) is removed from the
        # client's request; those derived from the validated token are then set (overwriting).
        upstream = dict.fromkeys(self._user_headers, identity.user_id)
        if identity.session_id:
            upstream.update(dict.fromkeys(self._session_headers, identity.session_id))
            return _new(Decision, (OK, "allowed", upstream, self._remove_with_session, NONE))
        return _new(Decision, (OK, "allowed", upstream, self._remove_without_session, NONE))
