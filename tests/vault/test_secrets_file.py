"""The secrets file: validated against the platform, one clear message per problem, values never shown."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitops_poc.config import load_config
from gitops_poc.errors import UsageError
from gitops_poc.platform import Platform
from gitops_poc.vault.model import ValueSource
from gitops_poc.vault.secrets_file import ORIGINAL_KEYS, build_seeds, load_secrets_file, parse_secrets_file

PLATFORM = Platform(load_config(None, {}))
FILE = Path("secrets.yaml")

BAD = [
    (
        "api-gatewy:\n  dev:\n    K: v\n",
        (
            "secrets.yaml:1: unknown service 'api-gatewy' (not in SERVICES: "
            "api-gateway auth-adapter web-grpc web-http health-demo); did you mean 'api-gateway'?"
        ),
    ),
    (
        "api-gateway:\n  dev:\n    K: v\n  production:\n    K: v\n",
        "secrets.yaml:4: unknown environment 'production'",
    ),
    ("api gateway:\n  dev: {}\n", "secrets.yaml:1: service 'api gateway' cannot be part of a Vault path"),
    (
        "api-gateway:\n  'dev*':\n    K: v\n",
        "secrets.yaml:2: environment 'dev*' cannot be part of a Vault path",
    ),
    ("web-http:\n  dev:\n    1KEY: v\n", "secrets.yaml:3: key '1KEY' is not an environment variable name"),
    (
        "web-http:\n  dev:\n    DEBUG: true\n",
        "secrets.yaml:3: web-http.dev.DEBUG is a YAML boolean; quote it",
    ),
    (
        "web-http:\n  dev:\n    LIST: [a, b]\n",
        "secrets.yaml:3: web-http.dev.LIST must be a single value (text or number), found a list",
    ),
    ("web-http:\n  dev: just-text\n", "secrets.yaml:2: web-http.dev must be a mapping, found text"),
    ("- web-http\n", "secrets.yaml: the top level must be a mapping, found a list"),
    ("web-http:\n  dev:\n    K: 'unclosed\n", "secrets.yaml:4: invalid YAML"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m.split(": ", 1)[1][:40] for _, m in BAD])
def test_bad_files_name_file_line_and_value(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_secrets_file(text, FILE, PLATFORM)
    assert message in str(caught.value)
    assert caught.value.exit_code == 2


def test_valid_file() -> None:
    text = (
        "# kept out of git\napi-gateway:\n  prod:\n    API_KEY: k\n    PORT: 8080\n    NEW_TOKEN:\nweb-http:"
        " {}\n"
    )
    parsed = parse_secrets_file(text, FILE, PLATFORM)
    assert parsed.entries == {("api-gateway", "prod"): {"API_KEY": "k", "PORT": "8080", "NEW_TOKEN": None}}
    assert "k" not in repr(parsed).replace("secrets.yaml", "")
    assert parse_secrets_file("", FILE, PLATFORM).entries == {}


AS_WRITTEN = [
    "0123",
    "007",
    "1.50",
    "0x1F",
    "0o17",
    "1_000",
    "1e3",
    "-.5",
    "+12",
    ".inf",
    "2024-01-01",
    "8080",
]


def test_numbers_and_dates_keep_the_text_as_written() -> None:
    """YAML would read `PIN: 0123` as 123 and `1.50` as 1.5: a secret value is the text the user wrote."""
    lines = "".join(f"    K{i}: {text}\n" for i, text in enumerate(AS_WRITTEN))
    parsed = parse_secrets_file(f"web-http:\n  dev:\n{lines}", FILE, PLATFORM)
    assert parsed.entries[("web-http", "dev")] == {f"K{i}": text for i, text in enumerate(AS_WRITTEN)}
    seed = build_seeds(PLATFORM, parsed)[("web-http", "dev")]
    assert seed.values["K0"] == "0123" and seed.values["K2"] == "1.50" and seed.values["K3"] == "0x1F"


def test_missing_file_and_permissions(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="the secrets file does not exist"):
        load_secrets_file(tmp_path / "nope.yaml", PLATFORM)
    path = tmp_path / "s.yaml"
    path.write_text("web-http: {}\n")
    os.chmod(path, 0o600)
    assert load_secrets_file(path, PLATFORM).world_readable is False
    os.chmod(path, 0o644)
    assert load_secrets_file(path, PLATFORM).world_readable is True


def test_default_seeds_follow_the_original_with_fixes() -> None:
    counter = iter(range(1000))
    seeds = build_seeds(PLATFORM, generate=lambda: f"random-{next(counter)}")
    assert set(seeds) == {(s, e) for s in PLATFORM.services for e in PLATFORM.environments}
    dev = seeds[("api-gateway", "dev")]
    # The original's keys, but no publicly known demo value unless asked for: random, even in development.
    assert set(dev.values) == {"LOG_LEVEL", "API_KEY", "AUTH_ADAPTER_HOST"}
    assert dev.values["API_KEY"].startswith("random-") and dev.sources["API_KEY"] is ValueSource.GENERATED
    assert seeds[("auth-adapter", "dev")].values["JWT_SECRET"].startswith("random-")
    prod = seeds[("api-gateway", "prod")]
    assert prod.values["API_KEY"].startswith("random-") and prod.sources["API_KEY"] is ValueSource.GENERATED
    assert prod.values["AUTH_ADAPTER_HOST"] == "auth-adapter-sv"  # a setting, the same everywhere
    auth = seeds[("auth-adapter", "staging")]
    assert set(auth.values) == {"VALID_TOKENS", "JWT_SECRET"}
    assert all(v.startswith("random-") for v in auth.values.values())
    assert len({seeds[("auth-adapter", e)].values["JWT_SECRET"] for e in ("staging", "prod")}) == 2
    assert dict(seeds[("web-grpc", "prod")].values) == {"SERVICE_NAME": "web-grpc", "ENVIRONMENT": "prod"}


def test_no_demo_value_unless_asked_for() -> None:
    demo = {d.demo for keys in ORIGINAL_KEYS.values() for d in keys if d.demo}
    for seeds in (build_seeds(PLATFORM), build_seeds(PLATFORM, demo_values=False)):
        assert not demo & {v for seed in seeds.values() for v in seed.values.values()}
        assert not any(ValueSource.DEMO in seed.sources.values() for seed in seeds.values())
    # Asked for: the original's demo values, in the development environment only.
    asked = build_seeds(PLATFORM, demo_values=True, generate=lambda: "random")
    assert asked[("auth-adapter", "dev")].values["JWT_SECRET"] == "demo-jwt-secret"
    assert asked[("api-gateway", "dev")].sources["API_KEY"] is ValueSource.DEMO
    assert asked[("auth-adapter", "staging")].values["JWT_SECRET"] == "random"


def test_file_values_are_laid_over_the_defaults() -> None:
    parsed = parse_secrets_file("api-gateway:\n  dev:\n    API_KEY: mine\n    EXTRA:\n", FILE, PLATFORM)
    seed = build_seeds(PLATFORM, parsed, generate=lambda: "gen")[("api-gateway", "dev")]
    assert dict(seed.values) == {
        "LOG_LEVEL": "info",
        "API_KEY": "mine",
        "AUTH_ADAPTER_HOST": "auth-adapter-sv",
        "EXTRA": "gen",
    }
    assert seed.explicit == {"API_KEY"} and seed.generated_in_file == {"EXTRA"}
    assert seed.sources["API_KEY"] is ValueSource.FILE and seed.sources["EXTRA"] is ValueSource.GENERATED


def test_new_services_get_a_generic_secret() -> None:
    platform = Platform(load_config(None, {"SERVICES": "billing", "ENVIRONMENTS": "qa live"}))
    seeds = build_seeds(platform)
    assert dict(seeds[("billing", "live")].values) == {"SERVICE_NAME": "billing", "ENVIRONMENT": "live"}
