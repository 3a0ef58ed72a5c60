from __future__ import annotations

import pytest

from gitops_poc.delivery.image import Image, check_digest, check_repository, check_tag, split_tag_field
from gitops_poc.errors import UsageError

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize("tag", ["1.2.3", "v1.0.0-rc.1", "a1b2c3d4", "_x", "A" * 128, "latest", "1_2"])
def test_valid_tags(tag: str) -> None:
    assert check_tag(tag) == tag


@pytest.mark.parametrize(
    ("tag", "shown"),
    [
        ('1.0"; rm -rf /', "'1.0\"; rm -rf /'"),
        ("$(id)", "'$(id)'"),
        ("x" * 200, "(200 characters)"),
        ("", "''"),
        (".hidden", "'.hidden'"),
        ("-flag", "'-flag'"),
        ("a b", "'a b'"),
        ("line\nbreak", "'line\\nbreak'"),
        ("1.0@sha256:abc", "'1.0@sha256:abc'"),
    ],
)
def test_invalid_tags_are_named(tag: str, shown: str) -> None:
    with pytest.raises(UsageError) as caught:
        check_tag(tag)
    assert shown in str(caught.value) and caught.value.exit_code == 2


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:abc",
        "sha256:" + "A" * 64,
        "sha512:" + "a" * 128,
        "md5:" + "a" * 32,
        "sha256:" + "a" * 65,
        "a" * 64,
    ],
)
def test_invalid_digests(digest: str) -> None:
    with pytest.raises(UsageError, match="not an image digest"):
        check_digest(digest)


def test_valid_digest() -> None:
    assert check_digest(DIGEST) == DIGEST


@pytest.mark.parametrize(
    "repository",
    [
        "registry.gitlab.com/group/svc",
        "localhost:5000/a/b",
        "nginx",
        "a.b-c/d__e/f.g",
        "127.0.0.1:5000/x",
        "[::1]:5000/x",
        "Registry.Example.com:65535/x",  # a host name may have capitals (DNS ignores case)
        "localhost/x",
    ],
)
def test_valid_repositories(repository: str) -> None:
    assert check_repository(repository) == repository


@pytest.mark.parametrize(
    "repository",
    [
        "registry.gitlab.com/Group/svc",
        "repo:tag",
        "repo@" + DIGEST,
        "https://registry/x",
        "a//b",
        "a/b/",
        "$(id)/x",
        "a/" + "b" * 300,
        # capitals: without '.' or ':' the first part is a path part, not a registry (docker refuses it)
        "Group/svc",
        "MyOrg/app",
        "registry.gitlab.com/group/Svc",
        # ports are 1-65535
        "registry.example.com:99999/a",
        "registry.example.com:65536/a",
        "registry.example.com:0/a",
        "[::1]:70000/x",
        "registry.example.com:٥٠٠٠/a",
    ],
)
def test_invalid_repositories(repository: str) -> None:
    with pytest.raises(UsageError):
        check_repository(repository)


def test_tag_field_carries_the_digest() -> None:
    image = Image("r/x", "1.2.3", DIGEST)
    assert image.tag_field == f"1.2.3@{DIGEST}"
    assert split_tag_field(image.tag_field) == ("1.2.3", DIGEST)
    assert split_tag_field("1.2.3") == ("1.2.3", None)
