"""URLs safe to print (`shown`) and their origins (scheme, host, port), the unit a credential is sent to;
without the HTTP stack, so planning and git code may use them."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

Origin = tuple[str, str, int]
DEFAULT_PORTS = {"http": 80, "https": 443}


def shown(url: str) -> str:
    """`url` without a user or password (safe to print)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))


def origin(url: str) -> Origin:
    """(scheme, host, port) of an http(s) URL; ValueError for anything else."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s):// URL with a host: {shown(url)}")
    return scheme, parts.hostname.lower(), parts.port or DEFAULT_PORTS[scheme]


def show_origin(where: Origin) -> str:
    scheme, host, port = where
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + ("" if port == DEFAULT_PORTS[scheme] else f":{port}")


__all__ = ["DEFAULT_PORTS", "Origin", "origin", "show_origin", "shown"]
