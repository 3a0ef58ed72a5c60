"""Initial secret values: the secrets file (kept out of git), generated values, and the original demo data.

File shape (`.secrets.yaml` at the platform root by default, git-ignored):

    api-gateway:            # a service from SERVICES
      prod:                 # an environment from ENVIRONMENTS
        API_KEY: "s3cr3t"   # an environment-variable name and its value
        EXTRA_TOKEN:        # no value: a random one is generated

Every service x environment gets a secret, so the VaultStaticSecret of every Deployment finds its path.
The file's keys are laid over the defaults of that service: non-secret settings (the same everywhere) and
secret keys with random values. The original's demo values (publicly known: they are in its repository) are
used only when asked for (`demo_values`, `--demo-values`), and then only in the development environment.
"""

from __future__ import annotations

import difflib
import re
import secrets
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.nodes import ScalarNode

from gitops_poc import fileio
from gitops_poc.errors import UsageError
from gitops_poc.platform import Platform, Tier
from gitops_poc.redact import remember
from gitops_poc.vault.model import ValueSource
from gitops_poc.yamlio import YamlSyntaxError, load_round_trip

ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# One segment of a Vault path as this tool writes it; '/', '*', '+', '#', '?', '%' and spaces would change
# what the path or a policy glob means, or break the URL.
PATH_SEGMENT = re.compile(r"^[A-Za-z0-9_.-]+$")
DEFAULT_SECRETS_FILE = ".secrets.yaml"
Generator = Callable[[], str]


@dataclass(frozen=True)
class DefaultKey:
    """A key every secret of a service starts with. `demo` is the original's dev value for secret keys."""

    name: str
    secret: bool
    demo: str | None = None  # for secret keys: the development value (None = always random)
    value: Callable[[Platform, str, str], str] | None = (
        None  # for settings: (platform, service, env) -> value
    )


# The keys the original setup-vault-secrets.sh wrote, with AUTH_ADAPTER_HOST fixed to the chart's Service
# name. Secret keys get random values; the demo values only on request, and only in development.
ORIGINAL_KEYS: dict[str, tuple[DefaultKey, ...]] = {
    "api-gateway": (
        DefaultKey("LOG_LEVEL", secret=False, value=lambda p, s, e: "info"),
        DefaultKey("API_KEY", secret=True, demo="demo-api-key-12345"),
        DefaultKey("AUTH_ADAPTER_HOST", secret=False, value=lambda p, s, e: p.service_host("auth-adapter")),
    ),
    "auth-adapter": (
        DefaultKey("VALID_TOKENS", secret=True, demo="demo-token-1,demo-token-2"),
        DefaultKey("JWT_SECRET", secret=True, demo="demo-jwt-secret"),
    ),
}
# Every other service (the original's web-grpc, web-http, health-demo, and new ones).
GENERIC_KEYS: tuple[DefaultKey, ...] = (
    DefaultKey("SERVICE_NAME", secret=False, value=lambda p, s, e: s),
    DefaultKey("ENVIRONMENT", secret=False, value=lambda p, s, e: e),
)


def default_keys(service: str) -> tuple[DefaultKey, ...]:
    return ORIGINAL_KEYS.get(service, GENERIC_KEYS)


def random_value() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class SeedValues:
    """The initial content of one secret. `explicit` keys came from the secrets file with a value."""

    values: Mapping[str, str]
    sources: Mapping[str, ValueSource]
    explicit: frozenset[str] = frozenset()
    generated_in_file: frozenset[str] = frozenset()  # declared in the file without a value

    def __repr__(self) -> str:  # never show values
        return f"SeedValues(keys={sorted(self.values)})"


@dataclass(frozen=True)
class SecretsFile:
    """Validated secrets file: {(service, env): {KEY: value or None (generate)}}. Values stay out of repr."""

    path: Path
    entries: Mapping[tuple[str, str], Mapping[str, str | None]]
    world_readable: bool = False

    def __repr__(self) -> str:
        return f"SecretsFile({self.path}, {len(self.entries)} secret(s))"


class _ScalarsAsWritten(RoundTripConstructor):
    """Numbers and dates stay the text as written: `PIN: 0123` is "0123" (not 123), `1.50` stays "1.50",
    `0x1F` stays "0x1F". A secret value is text for the container, so YAML's reading of it must not apply."""

    def as_written(self, node: ScalarNode) -> str:
        return str(node.value)


for _tag in ("int", "float", "timestamp"):
    # add_constructor copies the table into this subclass: ruamel's own RoundTripConstructor is untouched.
    _ScalarsAsWritten.add_constructor(f"tag:yaml.org,2002:{_tag}", _ScalarsAsWritten.as_written)


def _secrets_yaml() -> YAML:
    yaml = YAML(typ="rt")  # round-trip for the line numbers; only loads, so none of the dump settings
    yaml.Constructor = _ScalarsAsWritten
    return yaml


def check_path_segment(value: str, what: str, where: str) -> None:
    if not PATH_SEGMENT.match(value):
        raise UsageError(
            f"{where}: {what} {value!r} cannot be part of a Vault path: use letters, digits, '_', '.' and '-'"
        )


def _line(node: Any, key: Any) -> int | None:
    try:
        return int(node.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return None


def _where(path: Path, line: int | None) -> str:
    return f"{path}:{line}" if line else str(path)


def _known(kind: str, value: str, known: tuple[str, ...], key: str, where: str) -> None:
    if value not in known:
        hint = difflib.get_close_matches(value, known, n=1)
        also = f"; did you mean {hint[0]!r}?" if hint else ""
        raise UsageError(f"{where}: unknown {kind} {value!r} (not in {key}: {' '.join(known)}){also}")


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    return (
        "text"
        if isinstance(value, str)
        else "a number"
        if isinstance(value, (int, float))
        else type(value).__name__
    )


def _mapping(node: Any, what: str, where: str) -> Mapping[Any, Any]:
    if node is None:
        return {}
    if not isinstance(node, Mapping):
        raise UsageError(f"{where}: {what} must be a mapping, found {_kind(node)}")
    return node


def _scalar(value: Any, key: str, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise UsageError(f'{where}: {key} is a YAML boolean; quote it ("true") if you mean the text')
    if isinstance(value, str):  # numbers and dates arrive as the text written (see _ScalarsAsWritten)
        return str(value)
    raise UsageError(f"{where}: {key} must be a single value (text or number), found {_kind(value)}")


def _key(key: Any, what: str, where: str) -> str:
    """A mapping key as text; a null or boolean key is an error (YAML would make it "None" or "True")."""
    if key is None:
        raise UsageError(f"{where}: {what} is null (~ or nothing before ':'); write the name")
    if isinstance(key, bool):
        raise UsageError(f'{where}: {what} is a YAML boolean; quote it ("yes") if you mean the text')
    if not isinstance(key, str):
        raise UsageError(f"{where}: {what} must be a name, found {_kind(key)}")
    return key


_QUOTED = re.compile(r"""(["'])(?:(?!\1).){4,}\1""")


def _load(text: str, path: Path) -> Any:
    """The file's YAML; a syntax error names the file, line and key, and quotes no text of the file (values
    are secrets)."""
    try:
        return load_round_trip(text, str(path), _secrets_yaml())
    except YamlSyntaxError as exc:
        problem = exc.problem
        if not problem.startswith("found duplicate key"):
            problem = _QUOTED.sub("(text not shown)", problem)
        raise YamlSyntaxError(exc.path, exc.line, problem) from None


def parse_secrets_file(text: str, path: Path, platform: Platform) -> SecretsFile:
    """Validate the file against the platform; the first problem raises UsageError naming file and line."""
    top = _mapping(_load(text, path), "the top level", str(path))
    entries: dict[tuple[str, str], dict[str, str | None]] = {}
    for service, envs in top.items():
        where = _where(path, _line(top, service))
        service = _key(service, "a service name", where)
        check_path_segment(service, "service", where)
        _known("service", service, platform.services, "SERVICES", where)
        for env, keys in _mapping(envs, f"service {service!r}", where).items():
            where = _where(path, _line(envs, env))
            env = _key(env, "an environment name", where)
            check_path_segment(env, "environment", where)
            _known("environment", env, platform.environments, "ENVIRONMENTS", where)
            values: dict[str, str | None] = {}
            for key, value in _mapping(keys, f"{service}.{env}", where).items():
                where = _where(path, _line(keys, key))
                key = _key(key, "a key", where)
                if not ENV_VAR.match(key):
                    raise UsageError(
                        f"{where}: key {key!r} is not an environment variable name (letters, digits, '_'; "
                        "not starting with a digit): the chart passes each key to the container as one"
                    )
                values[key] = _scalar(value, f"{service}.{env}.{key}", where)
                remember([values[key]])
            entries[(service, env)] = values
    return SecretsFile(path, entries)


def load_secrets_file(path: Path, platform: Platform) -> SecretsFile:
    try:
        text = fileio.read_text(path, fileio.SECRETS_FILE)
        mode = path.stat().st_mode
    except fileio.FileMissing:
        raise UsageError(f"{path}: the secrets file does not exist") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the secrets file: {exc.strerror}") from None
    parsed = parse_secrets_file(text, path, platform)
    return SecretsFile(parsed.path, parsed.entries, world_readable=bool(mode & (stat.S_IRWXG | stat.S_IRWXO)))


def build_seeds(
    platform: Platform,
    secrets_file: SecretsFile | None = None,
    *,
    demo_values: bool = False,
    generate: Generator = random_value,
) -> dict[tuple[str, str], SeedValues]:
    """The initial content of every service x environment secret (only used where the secret is absent)."""
    entries = secrets_file.entries if secrets_file else {}
    seeds: dict[tuple[str, str], SeedValues] = {}
    for service in platform.services:
        for env in platform.environments:
            development = platform.tier(env) is Tier.DEVELOPMENT
            values: dict[str, str] = {}
            sources: dict[str, ValueSource] = {}
            for default in default_keys(service):
                if not default.secret:
                    assert default.value is not None
                    values[default.name] = default.value(platform, service, env)
                    sources[default.name] = ValueSource.DEFAULT
                elif demo_values and development and default.demo is not None:
                    values[default.name], sources[default.name] = default.demo, ValueSource.DEMO
                else:
                    values[default.name], sources[default.name] = generate(), ValueSource.GENERATED
            explicit: set[str] = set()
            declared: set[str] = set()
            for key, value in entries.get((service, env), {}).items():
                if value is None:
                    values[key], sources[key] = generate(), ValueSource.GENERATED
                    declared.add(key)
                else:
                    values[key], sources[key] = value, ValueSource.FILE
                    explicit.add(key)
            seeds[(service, env)] = SeedValues(values, sources, frozenset(explicit), frozenset(declared))
    return seeds
