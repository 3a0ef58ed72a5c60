from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.config import DEFAULTS, load_config, parse_config
from gitops_poc.errors import ConfigError


def write_env(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text)
    return path


def config_error(tmp_path: Path, text: str) -> tuple[Path, ConfigError]:
    """The error loading `text` as .env raises (the test fails when it loads)."""
    path = write_env(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    return path, caught.value


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
        ("NAMESPACE_PREFIX=" + "p" * 60 + "\n", "NAMESPACE_PREFIX", "namespace"),
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
    _, error = config_error(tmp_path, text)
    message = str(error)
    assert error.key == key
    assert error.exit_code == 2
    assert key in message
    assert fragment in message


def test_error_names_the_line_of_the_offending_key(tmp_path: Path) -> None:
    path, error = config_error(tmp_path, "# comment\nGITLAB_GROUP=ok\nENVIRONMENTS=Dev\n")
    assert str(error).startswith(f"{path}:3: ENVIRONMENTS=")


def test_error_names_the_environment_variable_as_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, {"SERVICES": "Bad"})
    assert "environment variable SERVICES" in str(caught.value)


def test_unknown_key_suggests_the_closest_known_key(tmp_path: Path) -> None:
    path, error = config_error(tmp_path, "GITLAB_GROUP=a\nSERVICS=x\n")
    assert str(error) == f"{path}:2: unknown key SERVICS; did you mean SERVICES?"


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


# --- derived names that would collide, reserved names ---------------------------------------------------


def test_service_env_pairs_making_the_same_name_are_refused(tmp_path: Path) -> None:
    path, error = config_error(tmp_path, 'SERVICES="a-b a"\nENVIRONMENTS="c b-c prod"\n')
    message = str(error)
    assert error.key == "SERVICES"
    assert message.startswith(f"{path}:1: SERVICES='a-b a': ")
    assert "'a-b' in environment 'c'" in message
    assert "'a' in environment 'b-c'" in message
    assert "'a-b-c'" in message
    assert "\n" not in message


def test_an_environment_named_default_is_refused(tmp_path: Path) -> None:
    path, error = config_error(tmp_path, 'ENVIRONMENTS="dev default prod"\n')
    assert error.key == "ENVIRONMENTS"
    assert str(error).startswith(f"{path}:1: ENVIRONMENTS='dev default prod': ")
    assert ".cicd/default.yaml" in str(error)


@pytest.mark.parametrize(("name", "reason"), [("default", "ServiceAccount"), ("gitops-config", "repository")])
def test_reserved_service_names_are_refused(tmp_path: Path, name: str, reason: str) -> None:
    path, error = config_error(tmp_path, f'SERVICES="web {name}"\n')
    assert error.key == "SERVICES"
    assert str(error).startswith(f"{path}:1: SERVICES='web {name}': service name '{name}' is reserved")
    assert reason in str(error)


def test_the_reserved_repository_name_is_the_platforms_own() -> None:
    from gitops_poc.config import RESERVED_SERVICES
    from gitops_poc.platform import GITOPS_CONFIG_REPO

    assert GITOPS_CONFIG_REPO in RESERVED_SERVICES


def test_service_name_error_is_none_for_a_good_name_and_explains_a_bad_one() -> None:
    from gitops_poc.config import service_name_error

    assert service_name_error("billing") is None
    assert "not a valid Kubernetes name" in str(service_name_error("bill ing"))
    assert "empty" in str(service_name_error(""))
    assert "reserved" in str(service_name_error("default"))


# --- the file itself: duplicates, lines that are not KEY=value ------------------------------------------


def test_a_key_set_twice_names_both_lines(tmp_path: Path) -> None:
    path, error = config_error(tmp_path, 'SERVICES="a b"\nGITLAB_GROUP=acme\n\nSERVICES="c"\n')
    assert error.key == "SERVICES"
    assert (
        str(error)
        == f"{path}:4: SERVICES='c' is set again; line 1 already sets SERVICES='a b' (keep one: the last"
        " would win)"
    )


@pytest.mark.parametrize("key", ["GITLAB_AGENT_TOKEN", "VAULT_TOKEN"])
def test_a_secret_set_twice_is_not_echoed(tmp_path: Path, key: str) -> None:
    path, error = config_error(tmp_path, f"{key}=glagent-one\n{key}=glagent-two\n")
    assert "glagent" not in str(error)
    assert str(error).startswith(f"{path}:2: {key}='***' is set again; line 1")


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (
            "GITLAB_GROUP=a\nthis is not an assignment\n",
            2,
            "cannot parse (not shown: it may hold a credential)",
        ),
        ('GITLAB_GROUP=a\n\n# c\nSERVICES="web\n', 4, "'SERVICES=\"web'"),
        ("GITLAB_GROUP=a\nSERVICES\n", 2, "SERVICES has no '='"),
    ],
)
def test_a_line_that_is_not_key_value_is_an_error(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    path, error = config_error(tmp_path, text)
    assert str(error).startswith(f"{path}:{line}: ")
    assert fragment in str(error)
    assert error.exit_code == 2


def test_an_unparsable_line_mentioning_a_token_is_not_echoed(tmp_path: Path) -> None:
    path, error = config_error(tmp_path, "GITLAB_AGENT_TOKEN glagent-secretvalue\n")
    assert str(error).startswith(f"{path}:1: ")
    assert "secretvalue" not in str(error)


def test_line_numbers_count_blank_lines_before_a_key(tmp_path: Path) -> None:
    path, error = config_error(tmp_path, "GITLAB_GROUP=a\n\n\n\nENVIRONMENTS=Dev\n")
    assert str(error).startswith(f"{path}:5: ENVIRONMENTS='Dev'")


def test_a_missing_file_is_an_error_in_the_core(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.env", {})
    assert str(caught.value).startswith(f"{tmp_path / 'nope.env'}: ")


# --- messages -----------------------------------------------------------------------------------------


def test_a_lowercase_key_suggests_its_uppercase_spelling(tmp_path: Path) -> None:
    path, error = config_error(tmp_path, "gitlab_group=acme\n")
    assert str(error) == f"{path}:1: unknown key gitlab_group; did you mean GITLAB_GROUP?"


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        (
            "VAULT_TOKEN",
            "Vault is reached through the process environment (VAULT_ADDR/VAULT_TOKEN), not .env",
        ),
        ("VAULT_ADDR", "Vault is reached through the process environment (VAULT_ADDR/VAULT_TOKEN), not .env"),
        ("KUBECONFIG", "the cluster is reached through the process environment (KUBECONFIG), not .env"),
    ],
)
def test_process_only_keys_in_the_file_are_explained(tmp_path: Path, key: str, fragment: str) -> None:
    path, error = config_error(tmp_path, f"GITLAB_GROUP=a\n{key}=hvs-secretvalue\n")
    assert str(error) == f"{path}:2: unknown key {key}: {fragment}"


def test_reference_cycle_names_file_line_and_key(tmp_path: Path) -> None:
    path, error = config_error(
        tmp_path, "# c\nGITLAB_GROUP=${VAULT_PATH_PREFIX}\nVAULT_PATH_PREFIX=x-${GITLAB_GROUP}\n"
    )
    message = str(error)
    assert error.key == "GITLAB_GROUP"
    assert message.startswith(f"{path}:2: GITLAB_GROUP='${{VAULT_PATH_PREFIX}}': ")
    assert "GITLAB_GROUP -> VAULT_PATH_PREFIX -> GITLAB_GROUP" in message


def test_unterminated_reference_names_file_line_and_key(tmp_path: Path) -> None:
    path, error = config_error(tmp_path, "GITLAB_GROUP=a\nCHART_NAME=${GITLAB_GROUP\n")
    assert error.key == "CHART_NAME"
    assert str(error).startswith(f"{path}:2: CHART_NAME='${{GITLAB_GROUP': ")
    assert "'}'" in str(error)


def test_values_from_the_environment_are_not_expanded_again(tmp_path: Path) -> None:
    path = write_env(tmp_path, "VAULT_PATH_PREFIX=${GITLAB_GROUP}\n")
    # The shell already expanded the process environment; a literal ${...} there is text, not a reference.
    with pytest.raises(ConfigError) as caught:
        load_config(path, {"GITLAB_GROUP": "${VAULT_PATH_PREFIX}"})
    assert "cycle" not in str(caught.value)
    assert caught.value.key == "GITLAB_GROUP"


def test_a_too_long_namespace_blames_the_prefix(tmp_path: Path) -> None:
    prefix = "p" * 56  # "-dev" fits in 63 characters, "-staging" does not
    path, error = config_error(tmp_path, f'ENVIRONMENTS="dev staging"\nNAMESPACE_PREFIX={prefix}\n')
    assert error.key == "NAMESPACE_PREFIX"
    assert str(error).startswith(f"{path}:2: NAMESPACE_PREFIX='{prefix}': namespace '{prefix}-staging'")


def test_each_remote_cluster_has_its_own_agent_token_key() -> None:
    from gitops_poc.config import agent_token_key

    assert agent_token_key(None) == "GITLAB_AGENT_TOKEN"
    assert agent_token_key("prod-eu") == "GITLAB_AGENT_TOKEN_PROD_EU"
    text = 'ENVIRONMENT_CLUSTERS="prod=prod-eu"\nGITLAB_AGENT_TOKEN=glagent-own\n'
    config = parse_config(text + "GITLAB_AGENT_TOKEN_PROD_EU=glagent-file\n", ".env", {})
    assert (config.agent_token(None), config.agent_token("prod-eu")) == ("glagent-own", "glagent-file")
    # The process environment wins over the file, as for every key.
    environ = {"GITLAB_AGENT_TOKEN_PROD_EU": "glagent-env"}
    assert parse_config(text, ".env", environ).agent_token("prod-eu") == "glagent-env"
    assert "glagent-file" not in repr(config) + str(config.model_dump(mode="json"))


def test_an_agent_token_key_of_no_cluster_is_an_error_that_hides_the_value() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            'ENVIRONMENT_CLUSTERS="prod=prod-eu"\nGITLAB_AGENT_TOKEN_PROD_US=glagent-typo\n', ".env", {}
        )
    message = str(caught.value)
    assert "GITLAB_AGENT_TOKEN_PROD_US" in message and "GITLAB_AGENT_TOKEN_PROD_EU" in message
    assert ".env:2" in message and "glagent-typo" not in message


def test_a_cluster_named_like_the_agent_of_argocds_cluster_is_refused() -> None:
    with pytest.raises(ConfigError, match="named like GITLAB_AGENT_NAME"):
        parse_config('ENVIRONMENT_CLUSTERS="prod=minikube-agent"\n', ".env", {})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://vault.example.com/", "https://vault.example.com"),
        ("http://10.20.0.5:8200", "http://10.20.0.5:8200"),
        ("", ""),
    ],
)
def test_vault_external_addr_is_a_url_other_clusters_can_reach(value: str, expected: str) -> None:
    assert parse_config(f"VAULT_EXTERNAL_ADDR={value}\n", ".env", {}).vault_external_addr == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("vault.example.com:8200", "is not a Vault address (http(s)://HOST[:PORT]"),
        ("https://vault.example.com/v1/secret", "is not a Vault address"),
        ("http://vault.vault.svc:8200", "only answers inside one cluster or on this machine"),
        ("http://vault.vault.svc.cluster.local:8200", "only answers inside one cluster"),
        ("http://localhost:8200", "only answers inside one cluster or on this machine"),
    ],
)
def test_a_vault_external_addr_other_clusters_cannot_use_is_refused(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(f"GITLAB_GROUP=acme\nVAULT_EXTERNAL_ADDR={value}\n", ".env", {})
    assert caught.value.key == "VAULT_EXTERNAL_ADDR"
    assert str(caught.value).startswith(f".env:2: VAULT_EXTERNAL_ADDR={value!r}: {value!r} ")
    assert message in str(caught.value)


def test_an_environment_can_have_its_own_chart_version() -> None:
    config = parse_config('CHART_VERSION=3.12.1\nCHART_VERSIONS="dev=3.13.0"\n', ".env", {})
    assert [config.chart_version_of(env) for env in config.environments] == ["3.13.0", "3.12.1", "3.12.1"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("qa=3.13.0", "environment 'qa' is not in ENVIRONMENTS (dev staging prod)"),
        ("dev=^3.13", "dev: '^3.13' is not an exact chart version"),
        ("dev=3.13.0 dev=3.12.1", "an environment is given two versions"),
        ("dev", "'dev' is not NAME=VALUE"),
    ],
)
def test_a_bad_chart_versions_entry_names_the_key_and_value(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(f'CHART_VERSIONS="{value}"\n', ".env", {})
    assert caught.value.key == "CHART_VERSIONS"
    assert str(caught.value).startswith(f".env:1: CHART_VERSIONS='{value}': ")
    assert message in str(caught.value)
