"""Image references by the distribution reference grammar: the one parser of every image, registry, tag and
digest a command takes or a configuration names.

github.com/distribution/reference (reference.go, normalize.go): `[domain[:port]/]path[:tag][@digest]`. The
first part is a domain only when it holds '.' or ':' or is `localhost`; anything else is the first path
component, and path components are lowercase (`docker pull Team/app` fails: "repository name must be
lowercase"). A port is 1-65535. Each function answers why a text is not valid (None when it is), so every
caller words its error for its own option or key.
"""

from __future__ import annotations

import re

# github.com/opencontainers/distribution-spec (spec.md, "Pulling manifests"): a tag is at most 128 characters.
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
# Only sha256 is written by us: it is what registries compute and what the chart's image line passes through.
DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_LABEL = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
_DOMAIN_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_IPV6 = re.compile(r"\[[0-9A-Fa-f:]+\]")
MAX_NAME = 255  # reference.go NameTotalLengthMax: domain and path together
PATH_RULE = "path parts are lowercase letters and digits separated by '.', '_', '__' or '-'"


def _port_problem(port: str) -> str | None:
    if not re.fullmatch("[0-9]{1,5}", port) or not 0 < int(port) < 65536:
        return f"port {port!r} is not a port from 1 to 65535"
    return None


def domain_problem(domain: str) -> str | None:
    """Why `domain` (`host[:port]`, `[ipv6][:port]`) is not a registry host."""
    host, port = domain, None
    if domain.startswith("["):
        end = domain.find("]") + 1
        host, rest = domain[:end], domain[end:]
        if rest:
            port = rest[1:] if rest.startswith(":") else rest
    elif ":" in domain:
        host, port = domain.rsplit(":", 1)
    if not (_IPV6.fullmatch(host) if host.startswith("[") else _DOMAIN_NAME.fullmatch(host)):
        return f"{host!r} is not a host name (letters, digits, '-' and '.')"
    return _port_problem(port) if port is not None else None


def is_domain(first: str) -> bool:
    """Is the first part of a reference its registry? (normalize.go's splitDockerDomain)"""
    return "." in first or ":" in first or first == "localhost" or first.startswith("[")


def path_problem(path: str) -> str | None:
    for part in path.split("/"):
        if not PATH_COMPONENT.fullmatch(part):
            return f"{part!r} is not a path part ({PATH_RULE})"
    return None


def repository_problem(repository: str) -> str | None:
    """Why `repository` (`[registry[:port]/]path`, no tag or digest) is not an image repository."""
    if not repository:
        return "it is empty"
    if len(repository) > MAX_NAME:
        return f"it is {len(repository)} characters long; at most {MAX_NAME}"
    first, slash, rest = repository.partition("/")
    if slash and is_domain(first):
        return domain_problem(first) or path_problem(rest)
    return path_problem(repository)


def registry_problem(registry: str) -> str | None:
    """Why `registry` (`host[:port]` and an optional path under it, as DOCKER_REGISTRY) is not a registry
    that image repositories can be placed under."""
    domain, slash, path = registry.partition("/")
    if not domain:
        return "it names no host"
    return domain_problem(domain) or (path_problem(path) if slash else None)


def tag_problem(tag: str) -> str | None:
    if TAG.fullmatch(tag):
        return None
    if len(tag) > 128:
        return "a tag has at most 128 characters"
    if not tag:
        return "a tag must not be empty"
    return "a tag is letters, digits, '_', '.' and '-', and does not start with '.' or '-'"


def digest_problem(digest: str) -> str | None:
    if DIGEST.fullmatch(digest):
        return None
    return "a digest is 'sha256:' followed by 64 lowercase hexadecimal digits"


def pinned_reference_problem(reference: str) -> str | None:
    """Why `reference` is not `repository:tag` or `repository@sha256:...` (one of them, as a pipeline's
    image must be: no floating `latest` by omission)."""
    name, at, digest = reference.partition("@")
    if at and (problem := digest_problem(digest)):
        return problem
    repository = name
    if ":" in name.rsplit("/", 1)[-1]:
        repository, _, tag = name.rpartition(":")
        if problem := tag_problem(tag):
            return problem
    elif not at:
        return "it has no tag or digest: pin one (<repository>:<tag> or <repository>@sha256:<digest>)"
    return repository_problem(repository)
