"""Editing the managed keys of a team's values file changes those lines and nothing else."""

from __future__ import annotations

import pytest

from gitops_poc.generate.services import ManagedKey, keep_managed
from gitops_poc.yamlio import indentation

TWO_SPACES = """\
# team file
appName: old-name   # kept comment
imagePullSecrets:
  - name: regsecret
service:
  enabled: true
  ports:
    http: {externalPort: 80, internalPort: 8080}
args:
  - -port=8081
  - "--flag"
configfiles:
  mountPath: /opt
  data:
    config.yaml: |
      list:
          - deeply: indented
      key: 'quoted'
"""

FOUR_SPACES = """\
appName: old-name
service:
    enabled: true
    ports:
        grpc:
            externalPort: 9000
args:
    -   -a
    -   -b
"""

KUBECTL_STYLE = """\
appName: old-name
imagePullSecrets:
- name: regsecret
resources:
  limits:
    cpu: "1"
"""


@pytest.mark.parametrize("text", [TWO_SPACES, FOUR_SPACES, KUBECTL_STYLE])
def test_only_the_managed_line_changes(text: str) -> None:
    result = keep_managed(text, [ManagedKey(("appName",), "new-name")], "default.yaml")
    before, after = text.splitlines(), result.splitlines()
    assert len(before) == len(after)
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(changed) == 1
    assert changed[0][1].startswith("appName: new-name")


def test_values_already_in_line_return_the_text_untouched() -> None:
    assert keep_managed(TWO_SPACES, [ManagedKey(("appName",), "old-name")], "f") is TWO_SPACES


@pytest.mark.parametrize(
    ("text", "expected"),
    [(TWO_SPACES, (2, 4, 2)), (FOUR_SPACES, (4, 8, 4)), (KUBECTL_STYLE, (2, 2, 0)), ("a: 1\n", (2, 4, 2))],
)
def test_indentation_is_read_from_the_file(text: str, expected: tuple[int, int, int]) -> None:
    assert indentation(text) == expected


def test_nulls_stay_null() -> None:
    text = "appName: old\npdb:\n  maxUnavailable: null  # the chart default must go\n"
    result = keep_managed(text, [ManagedKey(("appName",), "new")], "f")
    assert result == "appName: new\npdb:\n  maxUnavailable: null  # the chart default must go\n"


def test_a_value_of_another_shape_is_not_replaced() -> None:
    text = "environment: dev\nimage: registry.example.com/team/app:1.0\n"
    keys = [ManagedKey(("environment",), "dev"), ManagedKey(("image", "repository"), "registry/acme/app")]
    assert keep_managed(text, keys, "f") is text


def test_a_file_of_comments_gets_the_keys_below_them() -> None:
    result = keep_managed("# only a comment\n", [ManagedKey(("environment",), "qa")], "f")
    assert result == "# only a comment\nenvironment: qa\n"
