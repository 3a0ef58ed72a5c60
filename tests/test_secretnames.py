"""The one list of credentials file names: every spelling of a kept name, nothing ordinary."""

from __future__ import annotations

import pytest

from gitops_poc.layout import NEVER_COMMITTED
from gitops_poc.secretnames import credential_part, is_credential_name

ISSUE_EXAMPLES = (".env.local", ".env~", ".env.bak", ".ENV", ".secrets.yaml.orig")
CREDENTIALS = (
    *NEVER_COMMITTED,
    *ISSUE_EXAMPLES,
    ".Env.Production",
    ".env-staging",
    ".env_old",
    "prod.env",
    ".local.env",
    ".#.env",
    "#.env#",
    ".env.swp",
    "..secrets.yaml.swp",
    ".vault-keys.json.swo",
    "secrets.yaml",
    "Secrets.YML.save",
    ".secrets.yml",
    "vault-keys.json",
    ".vault-keys.json.1",
)
ORDINARY = (
    ".env.example",
    ".ENV.Sample",
    "environment.yaml",
    "env",
    ".environment",
    "envoy.yaml",
    "secretsyaml",
    "my-secrets.yaml",
    "values.yaml",
    ".gitlab-ci.yml",
    "README.md",
    "default.yaml",
    "",
)


@pytest.mark.parametrize("name", CREDENTIALS)
def test_every_spelling_of_a_credentials_file_is_one(name: str) -> None:
    assert is_credential_name(name)


@pytest.mark.parametrize("name", ORDINARY)
def test_ordinary_names_are_not(name: str) -> None:
    assert not is_credential_name(name)


def test_a_folder_named_like_one_covers_everything_in_it() -> None:
    assert credential_part(".env/prod") == ".env"
    assert credential_part("a/.ENV.d/x.yaml") == ".ENV.d"
    assert credential_part(".cicd/dev.yaml") is None
