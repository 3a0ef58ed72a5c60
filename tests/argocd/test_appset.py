"""ApplicationSet expansion: the generated ApplicationSet gives exactly services x environments, in both
template modes; generators, templatePatch and the errors ArgoCD would stop on."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gitops_poc.argocd.applications import RESOURCES_FINALIZER, Application
from gitops_poc.argocd.appset import ApplicationSetError, expand, expand_all, load_applicationsets
from gitops_poc.config import load_config
from gitops_poc.generate.gitops_config import render_files
from gitops_poc.layout import APPLICATIONSET_FILE
from gitops_poc.platform import IN_CLUSTER_SERVER, Platform

CONFIGS = {
    "defaults": {},
    "four-envs-no-prefix": {
        "ENVIRONMENTS": "dev qa staging prod",
        "NAMESPACE_PREFIX": "",
        "SERVICES": "a b c",
    },
    "auto-sync-dev-only": {
        "ENVIRONMENTS": "dev staging prod",
        "AUTO_SYNC_ENVIRONMENTS": "dev",
        "GITLAB_GROUP": "acme/team",
        "SERVICES": "billing",
    },
    "two-prod": {"ENVIRONMENTS": "dev prod-eu prod-us", "PRODUCTION_ENVIRONMENTS": "prod-eu prod-us"},
    "chart-per-env": {"CHART_VERSION": "3.12.1", "CHART_VERSIONS": "dev=3.13.0 staging=3.13.0"},
}


def platform_for(settings: dict[str, str]) -> Platform:
    return Platform(load_config(None, settings))


def generated_appsets(platform: Platform) -> list[dict[str, Any]]:
    text = render_files(platform)[APPLICATIONSET_FILE]
    return load_applicationsets(text, str(APPLICATIONSET_FILE))


def by_name(apps: list[Application]) -> dict[str, Application]:
    return {app.name: app for app in apps}


@pytest.mark.parametrize("settings", CONFIGS.values(), ids=CONFIGS.keys())
def test_generated_applicationset_gives_services_times_environments(settings: dict[str, str]) -> None:
    platform = platform_for(settings)
    apps = expand_all(generated_appsets(platform), "applicationset.yaml")

    expected = {
        platform.application_name(s, e): (s, e) for s in platform.services for e in platform.environments
    }
    assert [app.name for app in apps] == list(expected)  # matrix order: services outer, environments inner
    for app in apps:
        service, env = expected[app.name]
        spec = app.spec
        assert (app.service, app.environment) == (service, env)
        assert spec["destination"] == {"server": IN_CLUSTER_SERVER, "namespace": platform.namespace(env)}
        assert app.metadata["namespace"] == platform.config.argocd_namespace
        assert spec["project"] == platform.project_name
        chart, values = spec["sources"]
        assert chart["helm"]["releaseName"] == platform.release_name(service)
        # Each Application deploys its environment's chart version (CHART_VERSIONS, else CHART_VERSION).
        assert chart["targetRevision"] == platform.config.chart_version_of(env)
        assert chart["helm"]["valueFiles"] == ["$values/.cicd/default.yaml", f"$values/.cicd/{env}.yaml"]
        assert values == {
            "repoURL": platform.repo_url(service),
            "targetRevision": platform.config.git_branch,
            "ref": "values",
        }
        # Production never syncs by itself; automated sync exactly where the configuration says.
        assert app.auto_sync is platform.auto_sync(env)
        assert ("automated" in spec["syncPolicy"]) is platform.auto_sync(env)
        assert "CreateNamespace=true" in spec["syncPolicy"]["syncOptions"]
        # preserveResourcesOnDeletion: no resources finalizer, deleting the Application keeps the workloads.
        assert "finalizers" not in app.metadata and not app.cascades
    prod = [a for a in apps if platform.tier(a.environment).value == "production"]
    assert prod and not any(a.auto_sync for a in prod)


def _to_fasttemplate(node: Any) -> Any:
    if isinstance(node, str):
        return re.sub(r"\{\{\.(\w+)\}\}", r"{{\1}}", node)
    if isinstance(node, dict):
        return {_to_fasttemplate(k): _to_fasttemplate(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_to_fasttemplate(v) for v in node]
    return node


@pytest.mark.parametrize("settings", CONFIGS.values(), ids=CONFIGS.keys())
def test_default_templating_gives_the_same_applications_except_the_patch(settings: dict[str, str]) -> None:
    platform = platform_for(settings)
    (appset,) = generated_appsets(platform)
    spec = appset["spec"]
    plain = {
        **appset,
        "spec": {
            k: v for k, v in spec.items() if k not in ("goTemplate", "goTemplateOptions", "templatePatch")
        },
    }
    plain["spec"]["template"] = _to_fasttemplate(spec["template"])
    assert plain["spec"]["template"]["metadata"]["name"] == "{{service}}-{{env}}"

    go_apps, fast_apps = by_name(expand(appset, "go")), by_name(expand(plain, "fast"))
    assert go_apps.keys() == fast_apps.keys()
    for name, go_app in go_apps.items():
        go_manifest = go_app.manifest
        go_manifest["spec"]["syncPolicy"].pop("automated", None)  # only the templatePatch adds it
        assert fast_apps[name].manifest == go_manifest


def appset_doc(spec: dict[str, Any], name: str = "test", namespace: str | None = "argocd") -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    base_template = {
        "metadata": {"name": "{{.name}}"},
        "spec": {"project": "default", "destination": {"namespace": "{{.name}}"}},
    }
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": meta,
        "spec": {
            "goTemplate": True,
            "goTemplateOptions": ["missingkey=error"],
            "template": base_template,
            **spec,
        },
    }


def names(spec: dict[str, Any]) -> list[str]:
    return [app.name for app in expand(appset_doc(spec), "f.yaml")]


def test_list_elements_and_elements_yaml_are_both_used() -> None:
    spec = {"generators": [{"list": {"elements": [{"name": "a"}], "elementsYaml": "- name: b\n- name: c\n"}}]}
    assert names(spec) == ["a", "b", "c"]


def test_several_generators_are_concatenated() -> None:
    spec = {"generators": [{"list": {"elements": [{"name": "a"}]}}, {"list": {"elements": [{"name": "b"}]}}]}
    assert names(spec) == ["a", "b"]


def test_matrix_second_child_is_interpolated_with_the_first() -> None:
    spec = {
        "generators": [
            {
                "matrix": {
                    "generators": [
                        {"list": {"elements": [{"svc": "api"}, {"svc": "web"}]}},
                        {"list": {"elements": [{"name": "{{.svc}}-dev"}, {"name": "{{.svc}}-prod"}]}},
                    ]
                }
            }
        ],
    }
    assert names(spec) == ["api-dev", "api-prod", "web-dev", "web-prod"]


def test_matrix_go_template_merge_keeps_the_first_childs_values_and_merges_maps() -> None:
    spec = {
        "template": {"metadata": {"name": "{{.name}}-{{.cfg.a}}-{{.cfg.b}}"}, "spec": {"project": "p"}},
        "generators": [
            {
                "matrix": {
                    "generators": [
                        {"list": {"elements": [{"name": "first", "cfg": {"a": "1"}}]}},
                        {"list": {"elements": [{"name": "second", "cfg": {"a": "9", "b": "2"}}]}},
                    ]
                }
            }
        ],
    }
    assert names(spec) == ["first-1-2"]


def test_matrix_default_templating_rejects_conflicting_keys() -> None:
    doc = appset_doc(
        {
            "goTemplate": False,
            "template": {"metadata": {"name": "{{name}}"}, "spec": {}},
            "generators": [
                {
                    "matrix": {
                        "generators": [
                            {"list": {"elements": [{"name": "a"}]}},
                            {"list": {"elements": [{"name": "b"}]}},
                        ]
                    }
                }
            ],
        }
    )
    del doc["spec"]["goTemplateOptions"]
    with pytest.raises(
        ApplicationSetError, match="found duplicate key name with different value, a: a ,b: b"
    ):
        expand(doc, "f.yaml")


@pytest.mark.parametrize(
    ("children", "message"),
    [
        ([{"list": {"elements": [{"name": "a"}]}}], "found less than two generators"),
        ([{"list": {"elements": [{"name": "a"}]}}] * 3, "more than the max allowed"),
    ],
)
def test_matrix_needs_exactly_two_children(children: list[Any], message: str) -> None:
    with pytest.raises(ApplicationSetError, match=message):
        names({"generators": [{"matrix": {"generators": children}}]})


def test_selector_filters_parameter_sets() -> None:
    elements = [{"name": "a", "tier": "web"}, {"name": "b", "tier": "db"}, {"name": "c"}]
    assert names(
        {"generators": [{"list": {"elements": elements}, "selector": {"matchLabels": {"tier": "web"}}}]}
    ) == ["a"]
    expr = {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]}
    assert names({"generators": [{"list": {"elements": elements}, "selector": expr}]}) == ["a", "c"]


def test_generator_template_overrides_the_spec_template() -> None:
    own = {"metadata": {}, "spec": {"destination": {"namespace": "override-{{.name}}"}}}
    apps = expand(appset_doc({"generators": [{"list": {"elements": [{"name": "a"}], "template": own}}]}), "f")
    assert apps[0].name == "a"
    assert apps[0].spec["destination"]["namespace"] == "override-a"
    assert apps[0].spec["project"] == "default"


@pytest.mark.parametrize("generator", ["git", "clusters", "scmProvider", "pullRequest", "plugin", "merge"])
def test_generators_that_need_a_live_system_are_refused_by_name(generator: str) -> None:
    with pytest.raises(ApplicationSetError, match=f"the {generator} generator is not supported"):
        names({"generators": [{generator: {}}]})


def test_unknown_generator_is_an_error() -> None:
    with pytest.raises(ApplicationSetError, match="unknown generator lst"):
        names({"generators": [{"lst": {"elements": []}}]})


def test_missing_key_error_names_the_field_and_the_element() -> None:
    spec = {
        "template": {"metadata": {"name": "{{.name}}-{{.envx}}"}, "spec": {}},
        "generators": [{"list": {"elements": [{"name": "api", "env": "dev"}]}}],
    }
    with pytest.raises(ApplicationSetError) as info:
        names(spec)
    message = str(info.value)
    assert "f.yaml: ApplicationSet test: spec.template.metadata.name" in message
    assert 'map has no entry for key "envx"' in message and "name=api" in message


def test_without_missingkey_error_a_missing_key_renders_no_value() -> None:
    doc = appset_doc(
        {
            "template": {"metadata": {"name": "x"}, "spec": {"project": "{{.nope}}"}},
            "generators": [{"list": {"elements": [{"name": "a"}]}}],
        }
    )
    doc["spec"].pop("goTemplateOptions")
    assert expand(doc, "f")[0].spec["project"] == "<no value>"


def test_default_templating_needs_string_values_and_leaves_unknown_tags() -> None:
    template = {
        "metadata": {"name": "{{ name }}"},
        "spec": {"project": "{{nope}}", "info": "{{values.team}}"},
    }
    doc = appset_doc(
        {
            "goTemplate": False,
            "template": template,
            "generators": [{"list": {"elements": [{"name": "a", "values": {"team": "t1"}}]}}],
        }
    )
    app = expand(doc, "f")[0]
    assert (app.name, app.spec["project"], app.spec["info"]) == ("a", "{{nope}}", "t1")
    doc["spec"]["generators"][0]["list"]["elements"][0]["replicas"] = 3
    with pytest.raises(ApplicationSetError, match=r"elements\[0\]\.replicas: error parsing value as string"):
        expand(doc, "f")


def test_generator_numbers_are_float64_as_in_argocd() -> None:
    spec = {
        "template": {"metadata": {"name": "{{.name}}"}, "spec": {"info": "{{.replicas}}/{{.big}}"}},
        "generators": [{"list": {"elements": [{"name": "a", "replicas": 3, "big": 1000000}]}}],
    }
    assert expand(appset_doc(spec), "f")[0].spec["info"] == "3/1e+06"


def test_map_keys_are_templated_too() -> None:
    spec = {
        "template": {"metadata": {"name": "{{.name}}", "labels": {"team-{{.name}}": "yes"}}, "spec": {}},
        "generators": [{"list": {"elements": [{"name": "a"}]}}],
    }
    assert expand(appset_doc(spec), "f")[0].labels == {"team-a": "yes"}


def test_duplicate_and_invalid_names_stop_the_applicationset() -> None:
    with pytest.raises(ApplicationSetError, match="duplicate name: a"):
        names({"generators": [{"list": {"elements": [{"name": "a"}, {"name": "a"}]}}]})
    with pytest.raises(ApplicationSetError, match="'Bad_Name' is not a valid Kubernetes name"):
        names({"generators": [{"list": {"elements": [{"name": "Bad_Name"}]}}]})


def test_resources_finalizer_unless_resources_are_preserved() -> None:
    gen = {"generators": [{"list": {"elements": [{"name": "a"}]}}]}
    app = expand(appset_doc(gen), "f")[0]
    assert app.metadata["finalizers"] == [RESOURCES_FINALIZER] and app.cascades
    kept = expand(appset_doc({**gen, "syncPolicy": {"preserveResourcesOnDeletion": True}}), "f")[0]
    assert "finalizers" not in kept.metadata and not kept.cascades


def test_applications_land_in_the_applicationset_namespace() -> None:
    spec = {
        "template": {"metadata": {"name": "{{.name}}", "namespace": "elsewhere"}, "spec": {}},
        "generators": [{"list": {"elements": [{"name": "a"}]}}],
    }
    assert expand(appset_doc(spec), "f")[0].metadata["namespace"] == "argocd"


def test_empty_parameter_set_leaves_the_template_unrendered() -> None:
    spec = {
        "template": {"metadata": {"name": "static"}, "spec": {"info": "{{.name}}"}},
        "generators": [{"list": {"elements": [{}]}}],
    }
    app = expand(appset_doc(spec), "f")[0]
    assert (app.name, app.spec["info"]) == ("static", "{{.name}}") and "finalizers" not in app.metadata
    with pytest.raises(ApplicationSetError, match="'{{.name}}' is not a valid Kubernetes name"):
        names({"generators": [{"list": {"elements": [{}]}}]})


def test_template_patch_yaml_and_json_patch() -> None:
    elements = [
        {"name": "a", "auto": True, "files": ["x.yaml", "y.yaml"]},
        {"name": "b", "auto": False, "files": []},
    ]
    patch = (
        "spec:\n  source:\n    helm:\n      valueFiles:\n      {{- range .files }}\n        - {{ . }}\n"
        "      {{- end }}\n{{- if .auto }}\n  syncPolicy:\n    automated:\n      prune: true\n{{- end }}\n"
    )
    spec = {"generators": [{"list": {"elements": elements}}], "templatePatch": patch}
    a, b = expand(appset_doc(spec), "f")
    assert a.spec["source"]["helm"]["valueFiles"] == ["x.yaml", "y.yaml"] and a.auto_sync
    assert b.spec["source"]["helm"] == {}  # `valueFiles:` rendered empty is null: the key is deleted
    assert not b.auto_sync
    json_patch = '[{"op": "add", "path": "/spec/info", "value": {{ .files | toJson }}}]'
    a, _ = expand(appset_doc({**spec, "templatePatch": json_patch}), "f")
    assert a.spec["info"] == ["x.yaml", "y.yaml"]


def test_template_patch_cannot_change_the_project_and_reports_bad_yaml() -> None:
    spec = {
        "generators": [{"list": {"elements": [{"name": "a"}]}}],
        "templatePatch": "spec:\n  project: other\n",
    }
    assert expand(appset_doc(spec), "f")[0].spec["project"] == "default"
    spec["templatePatch"] = "spec:\n  project: [unclosed\n"
    with pytest.raises(ApplicationSetError, match="spec.templatePatch"):
        expand(appset_doc(spec), "f")


def test_two_applicationsets_may_not_generate_the_same_application() -> None:
    gen = {"generators": [{"list": {"elements": [{"name": "a"}]}}]}
    with pytest.raises(ApplicationSetError, match="generated by both ApplicationSet one and two"):
        expand_all([appset_doc(gen, "one"), appset_doc(gen, "two")], "f")


def test_load_keeps_only_applicationsets_and_reads_yaml_1_1() -> None:
    text = (
        "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata: {name: p}\n---\napiVersion:"
        " argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: s}\nspec:\n  goTemplate: true\n "
        " generators:\n  - list:\n      elements:\n      - {name: a, enabled: yes}\n  template:\n   "
        " metadata: {name: '{{.name}}-{{.enabled}}'}\n    spec: {}\n"
    )
    appsets = load_applicationsets(text, "f.yaml")
    assert [d["metadata"]["name"] for d in appsets] == ["s"]
    assert expand(appsets[0], "f.yaml")[0].name == "a-true"  # `yes` is a boolean to Kubernetes (YAML 1.1)


def test_per_environment_chart_versions_reach_each_application() -> None:
    platform = platform_for(CONFIGS["chart-per-env"])
    apps = by_name(expand_all(generated_appsets(platform), "applicationset.yaml"))
    revisions = {name: app.spec["sources"][0]["targetRevision"] for name, app in apps.items()}
    assert {revisions[f"health-demo-{env}"] for env in ("dev", "staging")} == {"3.13.0"}
    assert revisions["health-demo-prod"] == "3.12.1"
