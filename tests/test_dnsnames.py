"""The Kubernetes name rules, checked against apimachinery's own examples (validation_test.go)."""

from __future__ import annotations

import pytest

from gitops_poc.dnsnames import DNS1035_LABEL, DNS1123_LABEL, DNS1123_SUBDOMAIN


@pytest.mark.parametrize("name", ["a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a", "1-a"])
def test_dns1123_labels(name: str) -> None:
    assert DNS1123_LABEL.matches(name) and DNS1123_LABEL.problem(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "",
        "A",
        "ABC",
        "aBc",
        "A1",
        "A-1",
        "1-A",
        "-",
        "a-",
        "-a",
        "1-",
        "-1",
        "_",
        "a_",
        "_a",
        "a_b",
        "1_",
        "_1",
        "1_2",
        ".",
        "a.",
        ".a",
        "a.b",
        "1.",
        ".1",
        "1.2",
        " ",
        "a ",
        " a",
        "a b",
        "1 ",
        " 1",
        "1 2",
        "a" * 64,
        "abc\n",
    ],
)
def test_not_dns1123_labels(name: str) -> None:
    assert not DNS1123_LABEL.matches(name)


@pytest.mark.parametrize(
    "name", ["a", "a.a", "1.a", "a-1.a--1--2--b", "0.0", "a" * 253, ("a" * 63 + ".") * 3 + "a"]
)
def test_dns1123_subdomains(name: str) -> None:
    assert DNS1123_SUBDOMAIN.matches(name)


@pytest.mark.parametrize("name", ["", "A", "a.", ".a", "a..b", "a_b", "a-.b", "a.-b", "a" * 254, "a\n"])
def test_not_dns1123_subdomains(name: str) -> None:
    assert not DNS1123_SUBDOMAIN.matches(name)
    assert DNS1123_SUBDOMAIN.problem(name) if name else True


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("a", True),
        ("ab-c", True),
        ("a1", True),
        ("1a", False),
        ("a-", False),
        ("a" * 63, True),
        ("a" * 64, False),
        ("Ab", False),
    ],
)
def test_dns1035_labels(name: str, ok: bool) -> None:
    assert DNS1035_LABEL.matches(name) is ok


def test_problems_name_the_rule_and_the_limit() -> None:
    assert DNS1035_LABEL.problem("1a") == (
        "is not a valid DNS-1035 label (lowercase letters, digits and '-', starting with a lowercase letter"
        " and ending with a letter or digit)"
    )
    assert DNS1123_LABEL.problem("a" * 64) == "is 64 characters long; at most 63 are allowed"
