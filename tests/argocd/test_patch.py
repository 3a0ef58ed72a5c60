"""templatePatch application (strategic merge and JSON patch) and the default fasttemplate substitution."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_poc.argocd import fasttemplate
from gitops_poc.argocd.fasttemplate import FastTemplateError
from gitops_poc.argocd.patch import PatchError, apply_template_patch, json_patch, strategic_merge


def app() -> dict[str, Any]:
    return {
        "metadata": {"name": "a", "finalizers": ["one"], "labels": {"x": "1", "y": "2"}},
        "spec": {
            "project": "p",
            "sources": [{"repoURL": "r1"}, {"repoURL": "r2"}],
            "syncPolicy": {"syncOptions": ["A=true"]},
        },
    }


def test_maps_merge_lists_replace_and_null_deletes() -> None:
    patched = strategic_merge(
        app(),
        {
            "metadata": {"labels": {"y": None, "z": "3"}},
            "spec": {"sources": [{"repoURL": "only"}], "syncPolicy": {"automated": {"prune": True}}},
        },
        (),
    )
    assert patched["metadata"]["labels"] == {"x": "1", "z": "3"}
    assert patched["spec"]["sources"] == [{"repoURL": "only"}]
    assert patched["spec"]["syncPolicy"] == {"syncOptions": ["A=true"], "automated": {"prune": True}}


def test_finalizers_merge_as_a_set_like_object_meta() -> None:
    patched = strategic_merge(app(), {"metadata": {"finalizers": ["one", "two"]}}, ())
    assert patched["metadata"]["finalizers"] == ["one", "two"]


def test_patch_directives() -> None:
    assert (
        strategic_merge(app(), {"spec": {"syncPolicy": {"$patch": "delete"}}}, ())["spec"].get("syncPolicy")
        is None
    )
    replaced = strategic_merge(app(), {"metadata": {"labels": {"$patch": "replace", "only": "1"}}}, ())
    assert replaced["metadata"]["labels"] == {"only": "1"}
    with pytest.raises(PatchError, match="not supported"):
        strategic_merge(app(), {"spec": {"$retainKeys": ["a"]}}, ())


def test_empty_spec_in_a_patch_clears_everything_but_the_project() -> None:
    # argo-cd #17040: `spec:` with nothing under it is a null spec.
    patched = apply_template_patch(app(), "spec:\n")
    assert patched["spec"] == {"project": "p"}


def test_the_original_is_not_modified() -> None:
    original = app()
    apply_template_patch(original, "metadata:\n  labels:\n    x: changed\n")
    assert original == app()


def test_json_patch_operations() -> None:
    patched = json_patch(
        app(),
        [
            {"op": "add", "path": "/spec/sources/1/helm", "value": {"valuesObject": {"replicas": 2}}},
            {"op": "replace", "path": "/metadata/labels/x", "value": "9"},
            {"op": "remove", "path": "/metadata/labels/y"},
            {"op": "copy", "from": "/metadata/name", "path": "/metadata/labels/name"},
            {"op": "move", "from": "/spec/sources/0", "path": "/spec/sources/-"},
            {"op": "test", "path": "/spec/project", "value": "p"},
        ],
    )
    assert patched["metadata"]["labels"] == {"x": "9", "name": "a"}
    assert patched["spec"]["sources"] == [
        {"repoURL": "r2", "helm": {"valuesObject": {"replicas": 2}}},
        {"repoURL": "r1"},
    ]


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "remove", "path": "/spec/nope"}],
        [{"op": "test", "path": "/spec/project", "value": "other"}],
        [{"op": "frobnicate", "path": "/spec"}],
        [{"path": "/spec"}],
    ],
)
def test_bad_json_patches_fail(operations: list[Any]) -> None:
    with pytest.raises(PatchError):
        json_patch(app(), operations)


def test_patch_text_that_is_not_a_map_or_list_fails() -> None:
    with pytest.raises(PatchError, match="expected a map"):
        apply_template_patch(app(), "just a string")
    with pytest.raises(PatchError, match="invalid templatePatch"):
        apply_template_patch(app(), "spec: [unclosed")


# --- fasttemplate ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{name}}-{{env}}", "api-dev"),
        ("{{ name }}/{{  env}}", "api/dev"),
        ("{{values.team}}", "core"),
        ("{{nope}} and {{ }}", "{{nope}} and {{ }}"),  # unknown or empty tags stay as written
        ("{{count}}", "{{count}}"),  # only string parameters are substituted
        ("no template", "no template"),
        ("{{name\n}}", "{{name\n}}"),  # Go's regexp needs {{...}} on one line before anything is replaced
        ("a\n{{name}}\nb", "a\napi\nb"),
    ],
)
def test_fasttemplate(text: str, expected: str) -> None:
    params = {"name": "api", "env": "dev", "values.team": "core", "count": 3}
    assert fasttemplate.render(text, params) == expected


def test_fasttemplate_unclosed_tag_is_an_error() -> None:
    with pytest.raises(FastTemplateError, match="cannot find end tag"):
        fasttemplate.render("{{name}} {{broken", {"name": "x"})


# RFC 6902 Appendix A: (document, patch, result or None when the patch must fail).
RFC6902_EXAMPLES = {
    "A.1 add an object member": (
        {"foo": "bar"},
        [{"op": "add", "path": "/baz", "value": "qux"}],
        {"baz": "qux", "foo": "bar"},
    ),
    "A.2 add an array element": (
        {"foo": ["bar", "baz"]},
        [{"op": "add", "path": "/foo/1", "value": "qux"}],
        {"foo": ["bar", "qux", "baz"]},
    ),
    "A.3 remove an object member": (
        {"baz": "qux", "foo": "bar"},
        [{"op": "remove", "path": "/baz"}],
        {"foo": "bar"},
    ),
    "A.4 remove an array element": (
        {"foo": ["bar", "qux", "baz"]},
        [{"op": "remove", "path": "/foo/1"}],
        {"foo": ["bar", "baz"]},
    ),
    "A.5 replace a value": (
        {"baz": "qux", "foo": "bar"},
        [{"op": "replace", "path": "/baz", "value": "boo"}],
        {"baz": "boo", "foo": "bar"},
    ),
    "A.6 move a value": (
        {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
        [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
        {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}},
    ),
    "A.7 move an array element": (
        {"foo": ["all", "grass", "cows", "eat"]},
        [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
        {"foo": ["all", "cows", "eat", "grass"]},
    ),
    "A.8 test a value: success": (
        {"baz": "qux", "foo": ["a", 2, "c"]},
        [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
        {"baz": "qux", "foo": ["a", 2, "c"]},
    ),
    "A.9 test a value: error": ({"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}], None),
    "A.10 add a nested member object": (
        {"foo": "bar"},
        [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
        {"foo": "bar", "child": {"grandchild": {}}},
    ),
    "A.11 ignore unrecognized elements": (
        {"foo": "bar"},
        [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}],
        {"foo": "bar", "baz": "qux"},
    ),
    "A.12 add to a nonexistent target": (
        {"foo": "bar"},
        [{"op": "add", "path": "/baz/bat", "value": "qux"}],
        None,
    ),
    "A.14 ~ escape ordering": (
        {"/": 9, "~1": 10},
        [{"op": "test", "path": "/~01", "value": 10}],
        {"/": 9, "~1": 10},
    ),
    "A.15 comparing strings and numbers": (
        {"/": 9, "~1": 10},
        [{"op": "test", "path": "/~01", "value": "10"}],
        None,
    ),
    "A.16 add an array value": (
        {"foo": ["bar"]},
        [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
        {"foo": ["bar", ["abc", "def"]]},
    ),
}


@pytest.mark.parametrize("case", RFC6902_EXAMPLES)
def test_rfc6902_appendix_a(case: str) -> None:
    document, operations, expected = RFC6902_EXAMPLES[case]
    if expected is None:
        with pytest.raises(PatchError):
            json_patch(document, operations)
    else:
        assert json_patch(document, operations) == expected
