"""References between services, and values that tie a config to one namespace.

Services of one environment share a namespace and call each other by the short name of the Service the
chart creates, `<appName>-sv` (seed README principles, chart contract section 1). Addresses are looked for
in every string value: `host:port`, `scheme://host[:port]/...`, cluster FQDNs, and in configmap values a
bare service name.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from gitops_poc.lint.catalog import rule
from gitops_poc.lint.documents import KeyPath, YamlDocument
from gitops_poc.lint.findings import Finding, Severity
from gitops_poc.lint.model import ServiceFiles
from gitops_poc.platform import Platform

_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
ADDRESS = re.compile(
    rf"(?<![A-Za-z0-9_.\-/])(?:(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://)?(?P<host>{_LABEL}(?:\.{_LABEL})*)"
    rf"(?::(?P<port>[0-9]{{1,5}}))?(?![A-Za-z0-9_-])"
)
CLUSTER_SUFFIXES = (("svc",), ("svc", "cluster", "local"))
DEFAULT_PORTS = {"http": 80, "https": 443}
# Top-level keys whose strings are not addresses of services.
SKIP_KEYS = frozenset(
    {"appName", "environment", "image", "imagePullSecrets", "serviceAccountName", "secrets"}
)


@dataclass(frozen=True)
class Address:
    text: str
    scheme: str | None
    name: str  # the first DNS label: the Service name
    rest: tuple[str, ...]  # the other labels: namespace, svc, cluster, local
    port: int | None

    @property
    def cluster_fqdn(self) -> bool:
        return len(self.rest) >= 2 and tuple(self.rest[1:]) in CLUSTER_SUFFIXES


@dataclass(frozen=True)
class Scope:
    """What the scan needs to know about the platform."""

    platform: Platform
    services: Mapping[str, ServiceFiles]
    namespaces: frozenset[str]
    namespace_pattern: re.Pattern[str] | None

    @classmethod
    def of(cls, platform: Platform, services: Mapping[str, ServiceFiles]) -> Scope:
        namespaces = frozenset(platform.namespace(env) for env in platform.environments)
        # Unprefixed namespaces are plain environment names ("dev"): too common a word to look for alone.
        prefixed = sorted(ns for ns in namespaces if ns not in platform.environments)
        pattern = (
            re.compile(rf"(?<![a-z0-9-])({'|'.join(map(re.escape, prefixed))})(?![a-z0-9-])")
            if prefixed
            else None
        )
        return cls(platform, services, namespaces, pattern)

    @cached_property
    def _service_by_host(self) -> dict[str, str]:
        """Built once: a lookup per address, not a scan of every service (lint stays linear)."""
        hosts: dict[str, str] = {}
        for service in self.platform.services:
            hosts.setdefault(self.platform.service_host(service), service)
        return hosts

    def target_of_host(self, name: str) -> str | None:
        return self._service_by_host.get(name)


def _strings(data: Any, keys: KeyPath = ()) -> Iterator[tuple[KeyPath, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            if keys or key not in SKIP_KEYS:
                yield from _strings(value, (*keys, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _strings(value, (*keys, index))
    elif isinstance(data, str):
        yield keys, data


def _addresses(line: str, bare: bool) -> Iterator[Address]:
    for match in ADDRESS.finditer(line):
        host, port, scheme = match["host"], match["port"], match["scheme"]
        labels = host.split(".")
        address = Address(match[0], scheme, labels[0], tuple(labels[1:]), int(port) if port else None)
        whole = bare and match[0] == line.strip()
        if scheme or port or whole or address.cluster_fqdn:
            yield address


class _FileScan:
    def __init__(self, doc: YamlDocument, files: ServiceFiles, env: str | None, scope: Scope) -> None:
        self.doc, self.files, self.env, self.scope = doc, files, env, scope
        self.platform = scope.platform

    def run(self) -> Iterator[Finding]:
        for keys, value in _strings(self.doc.data):
            bare = len(keys) == 2 and keys[0] == "configmap"
            for index, line in enumerate(value.splitlines() or [value]):
                yield from self._line(keys, index, line, bare)

    def _at(
        self,
        rule_id: str,
        keys: KeyPath,
        index: int,
        message: str,
        hint: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        return rule(rule_id).at(self.doc.display, self.doc.text_line(keys, index), message, hint, severity)

    def _line(self, keys: KeyPath, index: int, line: str, bare: bool) -> Iterator[Finding]:
        where = ".".join(map(str, keys))
        pinned = False
        if self.scope.namespace_pattern and (found := self.scope.namespace_pattern.search(line)):
            pinned = True
            yield self._at("namespace-dependent", keys, index, f"{where} names namespace {found[1]!r}")
        for address in _addresses(line, bare):
            in_cluster = (
                not address.rest
                or address.cluster_fqdn
                or (len(address.rest) == 1 and address.rest[0] in self.scope.namespaces)
            )
            if address.rest and address.rest[0] in self.scope.namespaces and not pinned:
                pinned = True
                yield self._at(
                    "namespace-dependent",
                    keys,
                    index,
                    f"{where}: {address.text} names namespace {address.rest[0]!r}",
                )
            elif address.cluster_fqdn and not pinned:
                if self.env is None:
                    yield self._at("default-fqdn", keys, index, f"{where}: {address.text} is a cluster FQDN")
                else:
                    yield self._at(
                        "env-fqdn",
                        keys,
                        index,
                        f"{where}: {address.text} is a cluster FQDN in the {self.env} file",
                    )
            if in_cluster:
                yield from self._reference(keys, index, where, address)

    def _reference(self, keys: KeyPath, index: int, where: str, address: Address) -> Iterator[Finding]:
        platform, own = self.platform, self.files.name
        name = address.name
        if name in platform.services:
            if name == own and address.port is None and address.scheme is None:
                return  # a service's own name (NAME: web-grpc) is not an address
            target = name
            yield self._at(
                "reference-missing-sv",
                keys,
                index,
                f"{where}: {address.text} names service {name}, but its Service is"
                f" {platform.service_host(name)}",
                f"use {platform.service_host(name)}" + (f":{address.port}" if address.port else ""),
            )
        elif (found := self.scope.target_of_host(name)) is not None:
            target = found
            yield from self._target(keys, index, where, address, target)
        elif name.endswith("-sv"):
            hosts = [platform.service_host(s) for s in platform.services]
            close = difflib.get_close_matches(name, hosts, n=1, cutoff=0.6)
            yield self._at(
                "reference-unknown-service",
                keys,
                index,
                f"{where}: {address.text}: no service in SERVICES has the Service {name}",
                f"did you mean {close[0]}?" if close else "use <service>-sv of a service in SERVICES",
            )
            return
        else:
            return
        if self.env is not None and target != own:
            yield self._at(
                "env-service-reference",
                keys,
                index,
                f"{where}: the {self.env} file refers to service {target} ({address.text})",
                "move the value to default.yaml: references to other services are the same in every"
                " environment",
            )

    def _target(
        self, keys: KeyPath, index: int, where: str, address: Address, target: str
    ) -> Iterator[Finding]:
        files = self.scope.services.get(target)
        if files is None or files.default is None:
            return  # reported as a missing service/default.yaml of its own
        if not files.service_enabled:
            yield self._at(
                "reference-no-service",
                keys,
                index,
                f"{where}: {address.text}: {target} has service.enabled false, so there is no Service"
                f" {address.name}",
            )
            return
        port = address.port if address.port is not None else DEFAULT_PORTS.get((address.scheme or "").lower())
        if port is not None and port not in files.ports:
            exposed = ", ".join(map(str, sorted(files.ports))) or "none"
            yield self._at(
                "reference-wrong-port",
                keys,
                index,
                f"{where}: {address.text}: Service {address.name} exposes port(s) {exposed}, not {port}",
                (
                    f"use {address.name}:{min(files.ports)}"
                    if files.ports
                    else "add the port to the target's service.ports"
                ),
            )


def check_file(doc: YamlDocument, files: ServiceFiles, env: str | None, scope: Scope) -> list[Finding]:
    """Addresses in one values file; `env` None for default.yaml."""
    return list(_FileScan(doc, files, env, scope).run())
