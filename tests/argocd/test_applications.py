"""Comparing two sets of Applications, and the YAML/JSON functions ArgoCD adds to Sprig."""

from __future__ import annotations

import copy
from typing import Any

from gitops_poc.argocd import goyaml, sprig
from gitops_poc.argocd.applications import Application, compare, field_changes
from gitops_poc.argocd.gotemplate import Template


def manifest(name: str, namespace: str = "poc-dev", auto: bool = True) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "project": "p",
        "destination": {"namespace": namespace},
        "sources": [{"repoURL": "chart", "targetRevision": "1.0.0"}, {"ref": "values"}],
        "syncPolicy": {"syncOptions": ["CreateNamespace=true"]},
    }
    if auto:
        spec["syncPolicy"]["automated"] = {"prune": True}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd", "labels": {"app.kubernetes.io/name": "api"}},
        "spec": spec,
    }


def apps(*manifests: dict[str, Any]) -> list[Application]:
    return [Application(m, "set") for m in manifests]


def test_added_changed_deleted_and_unchanged() -> None:
    changed = manifest("b")
    changed["spec"]["sources"][0]["targetRevision"] = "2.0.0"
    del changed["spec"]["syncPolicy"]["automated"]
    changed["metadata"]["labels"]["app.kubernetes.io/part-of"] = "x"
    result = compare(
        apps(manifest("a"), manifest("b"), manifest("c")), apps(manifest("a"), changed, manifest("d"))
    )
    assert [a.name for a in result.added] == ["d"]
    assert [a.name for a in result.deleted] == ["c"]
    assert result.unchanged == 1
    (change,) = result.changed
    assert {f.path: (f.before, f.after) for f in change.fields} == {
        "spec.sources[0].targetRevision": ("1.0.0", "2.0.0"),
        "spec.syncPolicy.automated": ({"prune": True}, None),
        'metadata.labels["app.kubernetes.io/part-of"]': (None, "x"),
    }
    removed = next(f for f in change.fields if f.path == "spec.syncPolicy.automated")
    assert removed.removed and not removed.added


def test_a_rename_is_a_deletion_and_an_addition() -> None:
    result = compare(apps(manifest("api-dev")), apps(manifest("api-development")))
    assert [a.name for a in result.deleted] == ["api-dev"]
    assert [a.name for a in result.added] == ["api-development"]
    assert not result.changed


def test_lists_of_different_length_are_one_change() -> None:
    before, after = manifest("a"), manifest("a")
    after["spec"]["sources"].append({"repoURL": "extra"})
    (change,) = field_changes(before, after)
    assert change.path == "spec.sources" and len(change.after) == 3


def test_type_changes_count() -> None:
    assert field_changes({"a": 1}, {"a": 1.0}) == field_changes({"a": 1}, {"a": 1.0})
    assert [c.path for c in field_changes({"a": 1}, {"a": "1"})] == ["a"]


def test_application_accessors() -> None:
    (app,) = apps(manifest("api-dev", auto=True))
    assert (app.service, app.environment, app.destination_namespace, app.auto_sync) == (
        "api",
        "-",
        "poc-dev",
        True,
    )
    disabled = copy.deepcopy(app.manifest)
    disabled["spec"]["syncPolicy"]["automated"]["enabled"] = False
    assert not Application(disabled, "set").auto_sync
    assert Application(app.manifest, "set", {"service": "svc", "env": "qa"}).environment == "qa"


def render(text: str, data: dict[str, Any]) -> str:
    return Template.parse(text, sprig.FUNCS).execute(data, missing_key="error")


def test_to_yaml_reads_back_to_the_same_data() -> None:
    data = {
        "b": {"list": [1.0, "two", True, None, {"k": "yes"}], "empty": {}, "none": []},
        "a": "multi\nline",
        "c": "true",
        "d": "1e3",
        "e": 2.5,
        "f": 1e21,
        "g": ": colon",
        "h": "",
    }
    text = render("{{ toYaml .d }}", {"d": data})
    assert not text.endswith("\n")
    assert goyaml.load_json_like(text) == goyaml.json_like(data)
    assert text.splitlines()[0] == 'a: "multi\\nline"'


def test_from_yaml_gives_json_numbers_and_string_keys() -> None:
    assert render("{{ (fromYaml .t).a }} {{ (fromYaml .t).num }}", {"t": "a: x\nnum: 3\n"}) == "x 3"
    assert render("{{ index (fromYamlArray .t) 1 }}", {"t": "- a\n- b\n"}) == "b"
    assert goyaml.load_json_like("2: a\non: b\n") == {"2": "a", "true": "b"}


def test_normalize_makes_a_dns_name() -> None:
    assert render('{{ normalize "Feature/ABC_123." }}', {}) == "feature-abc-123"
    assert len(render("{{ normalize .s }}", {"s": "a" * 300})) == 253
