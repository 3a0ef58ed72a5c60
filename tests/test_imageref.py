"""The one image-reference parser: the distribution reference grammar's cases, each answered with why."""

from __future__ import annotations

import pytest

from gitops_poc.imageref import pinned_reference_problem, registry_problem, repository_problem

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    "repository",
    [
        "nginx",
        "library/nginx",
        "registry.gitlab.com/g/s",
        "localhost:5000/a",
        "[::1]:443/a",
        "Reg.Example.com/a",
    ],
)
def test_repositories_of_the_grammar(repository: str) -> None:
    assert repository_problem(repository) is None


@pytest.mark.parametrize(
    ("repository", "why"),
    [
        ("Team/app", "'Team' is not a path part"),  # no '.', ':' or localhost: a path part, lowercase
        ("localhost/App", "'App' is not a path part"),
        ("r.io:65536/a", "port '65536'"),
        ("r.io:0/a", "port '0'"),
        ("r.io:/a", "port ''"),
        ("r.io:８０/a", "port '８０'"),
        ("[::1]:99999/a", "port '99999'"),
        ("-r.io/a", "not a host name"),
        ("r.io/a/", "'' is not a path part"),
        ("", "empty"),
        ("a/" + "b" * 300, "at most 255"),
    ],
)
def test_repositories_the_grammar_refuses_say_why(repository: str, why: str) -> None:
    assert why in (repository_problem(repository) or "")


def test_registries() -> None:
    assert registry_problem("registry.example.com:5000/team") is None
    assert "port '70000'" in (registry_problem("registry.example.com:70000") or "")
    assert "'..' is not a path part" in (registry_problem("registry.example.com/a/..") or "")
    assert "no host" in (registry_problem("/team") or "")


@pytest.mark.parametrize(
    ("reference", "ok"),
    [
        ("r.io/g/tool:1.0", True),
        (f"r.io/g/tool@{DIGEST}", True),
        (f"r.io/g/tool:1.0@{DIGEST}", True),
        ("localhost:5000/tool:1", True),
        ("r.io/g/tool", False),  # floating: no tag, no digest
        ("r.io:5000/g/tool", False),
        ("r.io/g/tool:-1", False),
        ("r.io/g/tool@sha256:abc", False),
        ("r.io/G/tool:1", False),
        ("r.io:99999/g/tool:1", False),
    ],
)
def test_pinned_references(reference: str, ok: bool) -> None:
    assert (pinned_reference_problem(reference) is None) is ok
