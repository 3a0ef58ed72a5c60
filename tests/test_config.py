from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.config import DEFAULTS, load_config, parse_config
from gitops_poc.errors import ConfigError


def write_env(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text)
    return path


def test_missing_file_gives_the_original_defaults() -> None:
    config = load_config(None, {})
    assert config.gitlab_group == "gitops-poc"
    assert config.services == ("api-gateway", "auth-adapter", "web-grpc", "web-http", "health-demo")
    assert config.environments == ("dev", "staging", "prod")
    assert config.namespace_prefix == "poc"
    assert config.docker_registry == "registry.gitlab.com"
    assert config.chart_version == "3.13.0"
    assert config.production_environments == ("prod",)
    assert config.auto_sync_environments == ("dev", "staging")


def test_example_file_equals_the_built_in_defaults() -> None:
    example = Path(__file__).parent.parent / ".env.example"
    assert load_config(example, {}) == load_config(None, {})


def test_process_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write_env(tmp_path, "GITLAB_GROUP=from-file\nGITLAB_HOST=git.example.com\n")
    config = load_config(path, {"GITLAB_GROUP": "from-env"})
    assert config.gitlab_group == "from-env"
    assert config.gitlab_host == "git.example.com"


def test_references_expand_with_overrides_first(tmp_path: Path) -> None:
    path = write_env(tmp_path, "GITLAB_HOST=git.example.com\nVAULT_PATH_PREFIX=${GITLAB_GROUP}-secrets\n")
    config = load_config(path, {"GITLAB_GROUP": "acme"})
    assert config.docker_registry == "registry.git.example.com"  # default ${GITLAB_HOST} reference
    assert config.vault_path_prefix == "acme-secrets"


def test_shell_default_syntax_applies_only_when_unset(tmp_path: Path) -> None:
    path = write_env(tmp_path, "GITLAB_GROUP=${TEAM:-platform}\n")
    assert load_config(path, {}).gitlab_group == "platform"
    assert load_config(path, {"TEAM": "payments"}).gitlab_group == "payments"


def test_empty_namespace_prefix_means_no_prefix(tmp_path: Path) -> None:
    config = load_config(write_env(tmp_path, "NAMESPACE_PREFIX=\n"), {})
    assert config.namespace_prefix == ""
    config = load_config(write_env(tmp_path, 'NAMESPACE_PREFIX=""\n'), {})
    assert config.namespace_prefix == ""


def test_lists_accept_spaces_and_commas() -> None:
    config = parse_config('SERVICES="a-svc, b-svc  c-svc"\nENVIRONMENTS=dev,prod\n', ".env", {})
    assert config.services == ("a-svc", "b-svc", "c-svc")
    assert config.environments == ("dev", "prod")
    assert config.auto_sync_environments == ("dev",)


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ('SERVICES="api-gateway Api_Gateway"\n', "SERVICES", "'Api_Gateway'"),
        ('SERVICES="web web"\n', "SERVICES", "'web' is listed twice"),
        ("SERVICES=\n", "SERVICES", "empty"),
        ('SERVICES="9lives"\n', "SERVICES", "'9lives'"),
        ("SERVICES=" + "a" * 61 + "\n", "SERVICES", "-sv"),
        ("ENVIRONMENTS=Dev\n", "ENVIRONMENTS", "'Dev'"),
        ('ENVIRONMENTS="dev dev"\n', "ENVIRONMENTS", "listed twice"),
        ("NAMESPACE_PREFIX=" + "p" * 60 + "\n", "ENVIRONMENTS", "namespace"),
        ("CHART_VERSION=*\n", "CHART_VERSION", "exact chart version"),
        ("CHART_VERSION=^3.0\n", "CHART_VERSION", "'^3.0'"),
        ("CHART_REPO=ftp://charts\n", "CHART_REPO", "ftp://charts"),
        ("GITLAB_HOST=https://gitlab.com\n", "GITLAB_HOST", "https://gitlab.com"),
        ("GITOPS_MODE=both\n", "GITOPS_MODE", "'both'"),
        ("AUTO_SYNC_ENVIRONMENTS=prod\n", "AUTO_SYNC_ENVIRONMENTS", "production never syncs"),
        ("AUTO_SYNC_ENVIRONMENTS=qa\n", "AUTO_SYNC_ENVIRONMENTS", "'qa' is not in ENVIRONMENTS"),
        ("PRODUCTION_ENVIRONMENTS=live\n", "PRODUCTION_ENVIRONMENTS", "'live'"),
        ("VAULT_PATH_PREFIX=/abs/path\n", "VAULT_PATH_PREFIX", "/abs/path"),
        ("GITLAB_GROUP=my group\n", "GITLAB_GROUP", "my group"),
    ],
)
def test_bad_values_name_file_key_and_value(tmp_path: Path, text: str, key: str, fragment: str) -> None:
    path = write_env(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    message = str(caught.value)
    assert caught.value.key == key
    assert caught.value.exit_code == 2
    assert key in message
    assert fragment in message


def test_error_names_the_line_of_the_offending_key(tmp_path: Path) -> None:
    path = write_env(tmp_path, "# comment\nGITLAB_GROUP=ok\nENVIRONMENTS=Dev\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert str(caught.value).startswith(f"{path}:3: ENVIRONMENTS=")


def test_error_names_the_environment_variable_as_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, {"SERVICES": "Bad"})
    assert "environment variable SERVICES" in str(caught.value)


def test_unknown_key_suggests_the_closest_known_key(tmp_path: Path) -> None:
    path = write_env(tmp_path, "GITLAB_GROUP=a\nSERVICS=x\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert str(caught.value) == f"{path}:2: unknown key SERVICS; did you mean SERVICES?"


def test_original_unused_key_is_accepted(tmp_path: Path) -> None:
    assert load_config(write_env(tmp_path, "PROJECT_PREFIX=x\n"), {}).gitlab_group == "gitops-poc"


def test_secret_values_are_never_echoed(tmp_path: Path) -> None:
    config = load_config(write_env(tmp_path, "GITLAB_AGENT_TOKEN=glagent-secretvalue\n"), {})
    assert "glagent-secretvalue" not in repr(config)
    assert config.gitlab_agent_token.get_secret_value() == "glagent-secretvalue"


def test_reference_cycle_is_reported(tmp_path: Path) -> None:
    path = write_env(tmp_path, "GITLAB_GROUP=${VAULT_PATH_PREFIX}\nVAULT_PATH_PREFIX=${GITLAB_GROUP}\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_config(path, {})


def test_every_default_is_documented_in_the_example() -> None:
    example = (Path(__file__).parent.parent / ".env.example").read_text()
    for key in DEFAULTS:
        assert f"\n{key}=" in example, key
