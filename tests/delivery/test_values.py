from __future__ import annotations

import difflib

import pytest

from gitops_poc.delivery.image import Image
from gitops_poc.delivery.values import read_image, set_image
from gitops_poc.errors import UsageError
from tests.delivery.conftest import SEED

DIGEST = "sha256:" + "ab" * 32


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:2] in ("- ", "+ ")
    ]


def test_only_the_tag_line_changes_and_comments_stay() -> None:
    text = (SEED / "prod.yaml").read_text()
    new = set_image(text, "prod.yaml", Image(None, "2.0.0"), 17)
    assert changed_lines(text, new) == ['-   tag: "0.1.0"', '+   tag: "2.0.0" # gitops-poc: pipeline 17']
    state = read_image(new, "prod.yaml")
    assert (state.tag, state.digest, state.pipeline) == ("2.0.0", None, 17)


def test_repository_and_digest() -> None:
    text = (SEED / "dev.yaml").read_text()
    new = set_image(text, "dev.yaml", Image("registry.example.com/team/api", "1.0", DIGEST), 3)
    state = read_image(new, "dev.yaml")
    assert (state.repository, state.tag, state.digest, state.pipeline) == (
        "registry.example.com/team/api",
        "1.0",
        DIGEST,
        3,
    )
    assert f'tag: "1.0@{DIGEST}" # gitops-poc: pipeline 3' in new
    assert len(changed_lines(text, new)) == 4


def test_the_teams_comment_on_the_tag_line_and_the_lines_after_it_are_kept() -> None:
    text = (
        "image:\n  tag: 0.1.0   # deployed by CI\n  # pull policy below\n  pullPolicy: Always\nreplicas: 1\n"
    )
    once = set_image(text, "x", Image(None, "2"), 5)
    twice = set_image(once, "x", Image(None, "3"), 6)
    assert (
        twice == 'image:\n  tag: "3" # deployed by CI; gitops-poc: pipeline 6\n'
        "  # pull policy below\n  pullPolicy: Always\nreplicas: 1\n"
    )
    assert read_image(twice, "x").pipeline == 6


def test_without_a_pipeline_the_record_goes() -> None:
    text = set_image("image:\n  tag: '1'\n", "x", Image(None, "2"), 9)
    assert read_image(set_image(text, "x", Image(None, "3"), None), "x").pipeline is None


def test_a_file_without_image_gets_one() -> None:
    new = set_image("# header\nreplicas: 2\n", "x", Image("r/x", "1"), None)
    assert new == '# header\nreplicas: 2\nimage:\n  repository: r/x\n  tag: "1"\n'


def test_a_tag_helm_reads_as_a_number_is_written_as_a_string() -> None:
    assert read_image("image:\n  tag: 1.10\n", "x").tag == "1.1"  # what Helm would deploy
    assert 'tag: "1.10"' in set_image("image:\n  tag: 1.0\n", "x", Image(None, "1.10"), None)


@pytest.mark.parametrize("text", ["image: nginx:1\n", "- a\n", "image: [1]\n"])
def test_unusable_shapes_are_refused(text: str) -> None:
    with pytest.raises(UsageError):
        set_image(text, "x.yaml", Image(None, "1"), None)
