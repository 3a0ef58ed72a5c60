"""Envoy's path rules and route table as gateway_config implements them, against Envoy's own test vectors
(envoyproxy/envoy test/common/http/path_utility_test.cc, conn_manager_utility.cc, config_impl.cc)."""

from __future__ import annotations

import pytest
from gateway_config import RouteTable, loads, normalize
from gateway_config.routing import canonicalize, merge_slashes, without_query

# PathUtilityTest.NormalizeValidPaths and NormalizeCasePath: Chromium's CanonicalizePath as Envoy uses it.
CANONICAL = [
    ("/a/b/../c", "/a/c"),
    ("/a/b/./c", "/a/b/c"),
    ("a/b/../c", "/a/c"),
    ("/a/b/../../../../c", "/c"),
    ("/a/..\\c", "/c"),
    ("/%c0%af", "/%c0%af"),
    ("/%5c%25", "/%5c%25"),
    ("/a/b/%2E%2E/c", "/a/c"),
    ("/a/b/%2E./c", "/a/c"),
    ("/a/b/%2E/c", "/a/b/c"),
    ("..", "/"),
    ("/../a/b", "/a/b"),
    ("/./a/b", "/a/b"),
    ("/A/B/C", "/A/B/C"),
    ("/a/b/%2e%2e/c", "/a/c"),
    ("/a/%2F%2f/c", "/a/%2F%2f/c"),
    ("/xyz", "/xyz"),
    ("/x/y/z", "/x/y/z"),
    # Chromium's table: unreserved escapes decoded, others kept as written, unsafe bytes escaped
    ("/%41%7e%2d/%5F", "/A~-/_"),
    ('/a b"<>`{}|^', "/a%20b%22%3C%3E%60%7B%7D%7C%5E"),
    ("/caf\u00e9", "/caf%C3%A9"),
    ("/a/%zz/%", "/a/%zz/%"),
    ("/%%30%30", "/%2500"),  # a nested escape never becomes a valid one
    ("/a/.%2e/b", "/b"),
    ("/a/..x/.b", "/a/..x/.b"),
]
INVALID = ["/xyz/.%00../abc", "/xyz/%00.%00./abc", "/xyz/AAAAA%%0000/abc", "/a\x00b"]
# PathUtilityTest.MergeSlashes
MERGED = [
    ("", ""),
    ("a//b/c", "a/b/c"),
    ("/a//b/c/", "/a/b/c/"),
    ("a//b/c/", "a/b/c/"),
    ("/a", "/a"),
    ("//a/b/c", "/a/b/c"),
    ("/a//b/c", "/a/b/c"),
    ("/a/b/c//", "/a/b/c/"),
    ("/a///b/c", "/a/b/c"),
    ("/a////b/c", "/a/b/c"),
    ("/a//b?a=///c", "/a/b?a=///c"),
    ("/a//b?", "/a/b?"),
    ("//a/?b", "/a/?b"),
]
# PathUtilityTest.RemoveQueryAndFragment
QUERY = ["/abc", "/abc?", "/abc?param=value", "/abc??", "/abc#", "/abc#fragment?param=value", "/abc?#"]


@pytest.mark.parametrize(("raw", "expected"), CANONICAL)
def test_canonicalize_as_envoys_normalize_path(raw: str, expected: str) -> None:
    assert canonicalize(raw) == expected
    assert canonicalize(expected) == expected  # a normalized path stays as it is


@pytest.mark.parametrize("raw", INVALID)
def test_canonicalize_fails_where_envoy_answers_400(raw: str) -> None:
    assert canonicalize(raw) is None
    assert normalize(raw) is None


@pytest.mark.parametrize(("raw", "expected"), MERGED)
def test_merge_slashes_as_envoy(raw: str, expected: str) -> None:
    assert merge_slashes(raw) == expected


@pytest.mark.parametrize("raw", QUERY)
def test_the_query_and_fragment_are_not_part_of_the_matched_path(raw: str) -> None:
    assert without_query(raw) == "/abc"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/api/S/m", "/api/S/m"),
        ("/api//S/./m?x=/../y", "/api/S/m?x=/../y"),  # the query is left alone
        ("/api/S/x/%2e%2e/m", "/api/S/m"),
        ("/api\\S", "/api/S"),
        ("\\api\\S", None),  # does not start with "/": Envoy answers 404 before normalizing
        ("/api/S/m/..", "/api/S/"),
        ("//", "//"),  # Envoy's merge_slashes keeps both slashes of a path that is only slashes
        ("/api/S%2fm", None),  # path_with_escaped_slashes_action: REJECT_REQUEST
        ("/api/S%5Cm", None),
        ("/api/S/m?q=%2F", "/api/S/m?q=%2F"),  # ...before the query only
        ("/api/S/m#f", None),  # a fragment: rejected
        ("/api/S/m?q#f", None),
        ("/api/S/..;/T", None),  # dot segment with parameters: build-dependent, refused
        ("/api/S/.;x/T", None),
        ("api/S", None),  # not a path Envoy routes (404 before normalization)
    ],
)
def test_normalize_is_what_envoys_connection_manager_does_first(raw: str, expected: str | None) -> None:
    assert normalize(raw) == expected


CONFIG = """
api_route: /api/
apis:
  - name: Shop
    auth: {policy: optional}
    methods:
      - {name: Admin, auth: {policy: required, permission: admin}}
      - {name: Browse}
  - name: ShopAdmin
    auth: {policy: no-need}
"""


def test_the_route_table_is_first_match_on_whole_segments_case_sensitive() -> None:
    table = RouteTable.of(loads(CONFIG))
    assert [r.prefix for r in table.routes] == [
        "/api/Shop/Admin",
        "/api/Shop/Browse",
        "/api/Shop",
        "/api/ShopAdmin",
        "/Shop/Admin",
        "/Shop/Browse",
        "/Shop",
        "/ShopAdmin",
    ]

    def key(path: str) -> str | None:
        route = table.match(path)
        return None if route is None else f"{route.prefix} {route.policy_key}"

    assert key("/api/Shop/Admin") == "/api/Shop/Admin Shop/Admin"
    assert key("/api/Shop/Admin/x/Shop/Browse") == "/api/Shop/Admin Shop/Admin"
    assert key("/api/Shop/AdminX") == "/api/Shop Shop"
    assert key("/api/ShopAdmin/Shop/Admin") == "/api/ShopAdmin ShopAdmin"
    assert key("/api/Shop/Browse?x") == "/api/Shop/Browse Shop"  # no auth of its own: the API's
    assert key("/api/Shop/") == "/api/Shop Shop"
    assert key("/api/shop/Admin") is None
    assert key("/api") is None and key("/") is None and key("/apiShop") is None
    assert key("/Shop/Admin") == "/Shop/Admin Shop/Admin"
