"""The gateway's routes and Envoy's path rules, in one place for api-gateway (writes them) and auth-adapter
(authorizes on them).

Envoy (HttpConnectionManager, as api-gateway configures it) treats a request path like this before any
filter or route sees it, and `normalize` does the same:

1. a `#` anywhere in the path: rejected (400; Envoy's default `http_reject_path_with_fragment`);
2. `path_with_escaped_slashes_action: REJECT_REQUEST`: `%2F`/`%2f`/`%5C`/`%5c` before the query: rejected;
3. `normalize_path: true`: the part before `?` canonicalized as Chromium's `url::CanonicalizePath` does it
   (Envoy's `PathUtil::canonicalPath`): `\\` is `/`, `%2e` is a dot, `.` and `..` segments resolved (never
   above the root), escaped unreserved characters decoded, characters that need it escaped, `%00` rejected;
4. `merge_slashes: true`: runs of `/` before the query become one.

A segment starting with `.;` or `..;` is refused outright: recent Envoy versions strip such parameters
before canonicalizing (runtime flag `strip_dotdot_segments_with_parameters`), older ones do not, so the
route it reaches depends on the Envoy build; the adapter does not guess.

Route matching is Envoy's `path_separated_prefix`: on the path without query and fragment, case-sensitive,
the prefix followed by nothing or by `/`; the first route that matches wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway_config.model import Api, Auth, GatewayConfig, Method

# The HttpConnectionManager settings `normalize` mirrors; api-gateway writes exactly these.
NORMALIZE_PATH = True
MERGE_SLASHES = True
ESCAPED_SLASHES_ACTION = "REJECT_REQUEST"


@dataclass(frozen=True)
class Route:
    """One Envoy route: `prefix` as `path_separated_prefix`, to `api`'s cluster, under one policy."""

    prefix: str
    api: Api
    method: Method | None = None
    rewrite: str | None = None  # prefix_rewrite; None keeps the path

    @property
    def auth(self) -> Auth | None:
        """The one policy of every path this route takes: the method's, else the API's; None denies."""
        if self.method is not None and self.method.auth is not None:
            return self.method.auth
        return self.api.auth

    @property
    def policy_key(self) -> str:
        """Where the policy is configured (`API/method` or `API`); rate-limit buckets are per key."""
        if self.method is not None and self.method.auth is not None:
            return f"{self.api.name}/{self.method.name}"
        return self.api.name


def build_routes(config: GatewayConfig) -> tuple[Route, ...]:
    """Per API: a route per method, then the API's own; under `api_route` (prefix rewritten) and, for
    native gRPC clients, at the service's own path (unless api_route is `/`, where the two are one)."""
    result: list[Route] = []
    bases = [config.api_route] + (["/"] if config.api_route != "/" else [])
    for base in bases:
        rewrite = base != "/"
        for api in config.apis:
            for method in api.methods:
                own = f"/{api.name}/{method.name}"
                result.append(Route(f"{base}{api.name}/{method.name}", api, method, own if rewrite else None))
            result.append(Route(f"{base}{api.name}", api, None, f"/{api.name}" if rewrite else None))
    return tuple(result)


# --- Envoy's path normalisation -----------------------------------------------------------------------

# Chromium's kPathCharLookup (url_canon_path.cc) as Envoy ships it: what happens to each byte.
_PASS, _ESCAPE, _UNESCAPE, _INVALID, _DOT = 0, 1, 2, 3, 4
_TABLE = [_ESCAPE] * 256
_TABLE[0] = _INVALID
for _c in b"!$&'()*+,/:;=@[]":
    _TABLE[_c] = _PASS
for _c in b"-_~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz":
    _TABLE[_c] = _UNESCAPE
_TABLE[ord(".")] = _DOT
_HEX = b"0123456789abcdefABCDEF"
_ESCAPED_SLASH = re.compile(r"%(?:2f|5c)", re.IGNORECASE)
# Already canonical and merged (the common case): pass-through characters only, no empty, `.` or `..`
# segment, no segment with dot parameters.
_CANONICAL = re.compile(r"(?:/(?!\.\.?(?:/|;|$))[A-Za-z0-9\-._~!$&'()*+,;=:@\[\]]+)*/?")
_DOT_PARAMETERS = re.compile(r"(?:^|/)\.\.?;")


def _is_dot(spec: bytes, i: int) -> int:
    if spec[i] == 0x2E:
        return 1
    if spec[i : i + 3] in (b"%2e", b"%2E"):
        return 3
    return 0


def _decode(spec: bytes, i: int) -> int | None:
    """The byte `%XX` at i stands for, or None when it is not a valid escape."""
    if i + 2 < len(spec) and spec[i + 1] in _HEX and spec[i + 2] in _HEX:
        return int(spec[i + 1 : i + 3], 16)
    return None


def _back_up(out: bytearray) -> None:
    """Drop the last segment: the output ends with '/' and keeps its first '/'."""
    i = len(out) - 1
    if i == 0:
        return
    i -= 1
    while out[i] != 0x2F and i > 0:
        i -= 1
    del out[i + 1 :]


def _after_dot(spec: bytes, after: int) -> tuple[str, int]:
    """Chromium's ClassifyAfterDot: ("cur" | "up" | "name", input consumed after the first dot)."""
    end = len(spec)
    if after == end:
        return "cur", 0
    if spec[after] in (0x2F, 0x5C):
        return "cur", 1
    second = _is_dot(spec, after)
    if second:
        after_second = after + second
        if after_second == end:
            return "up", second
        if spec[after_second] in (0x2F, 0x5C):
            return "up", second + 1
    return "name", 0


def _nested_escape(spec: bytes, next_i: int, percent: int, out: bytearray) -> None:
    """Chromium's CheckForNestedEscapes: "%%30%30" must not become a valid escape once unescaped."""
    length = len(out)
    last = out[length - 1]
    append_next = percent == length - 2
    if append_next:
        if next_i == len(spec) or spec[next_i] >= 0x80:
            return
        out.append(spec[next_i])
    if _decode(bytes(out), percent) is not None:
        if not append_next:
            out.append(out[percent + 1])
        out[percent + 1] = ord("2")
        out[percent + 2] = ord("5")
        out.append(last)
    elif append_next:
        del out[length:]


def canonicalize(path: str) -> str | None:
    """Chromium's CanonicalizePath on a path without query, as Envoy's normalize_path applies it; None
    where it fails (Envoy answers 400)."""
    spec = path.encode("utf-8", "surrogateescape")
    out = bytearray()
    if not spec or spec[0] not in (0x2F, 0x5C):
        out.append(0x2F)
        if not spec:
            return "/"
    ok = True
    last_invalid_percent = -(10**9)
    i, end = 0, len(spec)
    while i < end:
        ch = spec[i]
        kind = _TABLE[ch]
        dot = _is_dot(spec, i) if ch in (0x2E, 0x25) else 0
        if dot:
            if out and out[-1] == 0x2F:
                disposition, consumed = _after_dot(spec, i + dot)
                if disposition == "name":
                    out.append(0x2E)
                    i += dot
                    continue
                if disposition == "up":
                    _back_up(out)
                i += dot + consumed
                continue
            out.append(0x2E)
            i += dot
            continue
        if ch == 0x5C:
            out.append(0x2F)
        elif ch == 0x25:
            value = _decode(spec, i)
            if value is not None:
                i += 2
                if _TABLE[value] == _UNESCAPE:
                    out.append(value)
                    if last_invalid_percent >= len(out) - 3:
                        _nested_escape(spec, i + 1, last_invalid_percent, out)
                else:
                    out += spec[i - 2 : i + 1]
                    if _TABLE[value] == _INVALID:
                        ok = False
            else:
                last_invalid_percent = len(out)
                out.append(0x25)
        elif kind == _INVALID:
            out += b"%%%02X" % ch
            ok = False
        elif kind == _ESCAPE:
            out += b"%%%02X" % ch
        else:
            out.append(ch)
        i += 1
    return out.decode("ascii") if ok else None


def merge_slashes(path: str) -> str:
    """Envoy's PathUtil::mergeSlashes: runs of '/' before the query become one."""
    head, mark, query = path.partition("?")
    if "//" not in head:
        return path
    merged = "/".join(s for s in head.split("/") if s)
    prefix = "/" if head.startswith("/") else ""
    suffix = "/" if head.endswith("/") else ""  # Envoy's: "//" stays "//"
    return f"{prefix}{merged}{suffix}{mark}{query}"


def normalize(path: str) -> str | None:
    """The path as Envoy's routes and filters see it (query kept), or None where Envoy rejects it or
    where its route would depend on the Envoy build (dot segments with parameters)."""
    if "#" in path or not path.startswith("/"):  # Envoy: 400 for a fragment, 404 for a relative path
        return None
    head, mark, query = path.partition("?")
    if _CANONICAL.fullmatch(head):
        return path
    if _ESCAPED_SLASH.search(head) or _DOT_PARAMETERS.search(head):
        return None
    canonical = canonicalize(head) if NORMALIZE_PATH else head
    if canonical is None or _DOT_PARAMETERS.search(canonical):
        return None
    result = f"{canonical}{mark}{query}"
    return merge_slashes(result) if MERGE_SLASHES else result


def without_query(path: str) -> str:
    """Envoy's PathUtil::removeQueryAndFragment."""
    for i, ch in enumerate(path):
        if ch in "?#":
            return path[:i]
    return path


class RouteTable:
    """First match wins over `path_separated_prefix` routes, as Envoy's route table does."""

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self.routes = routes
        self._first: dict[str, int] = {}
        for index, route in enumerate(routes):
            self._first.setdefault(route.prefix, index)

    @classmethod
    def of(cls, config: GatewayConfig) -> RouteTable:
        return cls(build_routes(config))

    def match(self, path: str) -> Route | None:
        """The route Envoy takes for an already normalized path (query allowed), or None."""
        path = without_query(path)
        best: int | None = None
        # path_separated_prefix P matches when the path is P or starts with P + '/': the candidates are
        # the path itself and each of its prefixes that ends just before a '/'.
        start = 0
        while True:
            cut = path.find("/", start)
            candidate = path if cut < 0 else path[:cut]
            index = self._first.get(candidate)
            if index is not None and (best is None or index < best):
                best = index
            if cut < 0:
                break
            start = cut + 1
        return None if best is None else self.routes[best]
