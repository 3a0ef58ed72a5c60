"""Reading gitops-config/platform/<env>/ as ArgoCD's platform-<env> Application would sync it (push mode
applies the same objects through `setup push`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.cluster.platform_objects import platform_folder, read_platform_objects
from gitops_poc.errors import UsageError
from gitops_poc.generate.delivery import platform_objects
from gitops_poc.platform import Platform


def test_reads_what_init_generated_in_file_and_document_order(
    generated_root: Path, default_platform: Platform
) -> None:
    found = read_platform_objects(generated_root, default_platform)
    assert list(found) == list(default_platform.environments)
    for env in default_platform.environments:
        expected = [
            doc
            for service in sorted(default_platform.services)
            for doc in platform_objects(default_platform, service, env)
        ]
        assert [(d["kind"], d["metadata"]) for d in found[env]] == [
            (d["kind"], d["metadata"]) for d in expected
        ]
        assert [d for d in found[env] if d["kind"] != "PodDisruptionBudget"] == [
            d for d in expected if d["kind"] != "PodDisruptionBudget"
        ]
    kinds = [doc["kind"] for doc in found["prod"]]
    assert kinds[:3] == ["ServiceAccount", "VaultAuth", "PodDisruptionBudget"]
    # The files, not a regeneration: the budget is the one init took from the service's values files.
    assert found["prod"][2]["spec"]["minAvailable"] == 2


def test_an_object_added_by_hand_is_applied_too_with_the_environments_namespace(
    generated_root: Path, default_platform: Platform
) -> None:
    extra = platform_folder(generated_root, "dev") / "zz-team.yml"
    extra.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: team-settings\ndata:\n  a: 'on'\n")
    (platform_folder(generated_root, "dev") / "README.md").write_text("not a manifest\n")
    last = read_platform_objects(generated_root, default_platform)["dev"][-1]
    assert last == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "team-settings", "namespace": "poc-dev"},
        "data": {"a": "on"},
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: poc-prod\n",
            "zz.yaml (document 1): metadata.namespace is 'poc-prod'; the objects of this folder belong in "
            "'poc-dev'",
        ),
        ("---\n- a\n", "zz.yaml (document 1): expected a Kubernetes object (a mapping), got list"),
        ("apiVersion: v1\nmetadata:\n  name: x\n", "zz.yaml (document 1): kind is missing or not a string"),
        (
            "kind: A\napiVersion: v1\nmetadata: {name: x}\n---\nkind: B\napiVersion: v1\n",
            "(document 2): metadata is missing",
        ),
        ("kind: [\n", "zz.yaml"),
    ],
)
def test_bad_documents_are_bad_input_naming_file_document_and_value(
    generated_root: Path, default_platform: Platform, text: str, message: str
) -> None:
    (platform_folder(generated_root, "dev") / "zz.yaml").write_text(text)
    with pytest.raises(UsageError) as caught:
        read_platform_objects(generated_root, default_platform)
    assert message in str(caught.value)


def test_a_root_without_init_says_to_run_init(tmp_path: Path, default_platform: Platform) -> None:
    with pytest.raises(
        UsageError, match=r"gitops-config/platform/dev: no such folder; run `gitops-poc init`"
    ):
        read_platform_objects(tmp_path, default_platform)
