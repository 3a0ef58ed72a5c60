"""Editing the managed keys of a team's values file changes those lines and nothing else."""

from __future__ import annotations

import pytest

from gitops_poc.generate.services import ManagedKey, indentation, keep_managed

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
    changed = [(a, b) for a, b in zip(before, after) if a != b]
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
