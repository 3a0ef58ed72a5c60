"""ArgoCD's glob rules for sourceRepos and destinations."""

from __future__ import annotations

import pytest

from gitops_poc.lint.argoglob import allowed, glob_match


@pytest.mark.parametrize(
    "pattern, value, separator, expected",
    [
        ("*", "anything/at/all", "/", True),
        ("https://gitlab.com/group/*", "https://gitlab.com/group/svc", "/", True),
        ("https://gitlab.com/group/*", "https://gitlab.com/group/sub/svc", "/", False),
        ("https://gitlab.com/group/**", "https://gitlab.com/group/sub/svc", "/", True),
        ("https://gitlab.com/gr?up/svc", "https://gitlab.com/group/svc", "/", True),
        ("https://gitlab.com/{a,b}/svc", "https://gitlab.com/b/svc", "/", True),
        ("https://gitlab.com/[ab]/svc", "https://gitlab.com/c/svc", "/", False),
        ("poc-*", "poc-dev", "", True),
        ("poc-*", "other", "", False),
        ("a.b", "axb", "", False),
    ],
)
def test_glob_match(pattern: str, value: str, separator: str, expected: bool) -> None:
    assert glob_match(pattern, value, separator) is expected


def test_repo_urls_are_normalized() -> None:
    assert allowed(["https://GitLab.com/group/svc.git"], "https://gitlab.com/group/svc", "/", repo=True)
    assert allowed(["https://gitlab.com/group/*"], "https://gitlab.com/group/svc.git", "/", repo=True)


def test_negation_denies() -> None:
    patterns = ["https://gitlab.com/group/*", "!https://gitlab.com/group/secret"]
    assert allowed(patterns, "https://gitlab.com/group/app.git", "/", repo=True)
    assert not allowed(patterns, "https://gitlab.com/group/secret.git", "/", repo=True)
    assert not allowed([], "https://gitlab.com/group/app.git", "/", repo=True)
