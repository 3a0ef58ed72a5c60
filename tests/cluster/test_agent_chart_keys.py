"""The gitlab-agent chart has no offline copy here: the values keys our release sets are pinned to the ones
read in the chart's own files.

Source: gitlab-org/charts/gitlab-agent as copied in GitHub repository Ro-Fo/Gitlab-agent-helm, `values.yaml`
at commit 0ce35ead4fc304015c386b3b249a51c1ed02815f (Chart.yaml there: version 2.1.0, appVersion v17.0.0), and
the templates in uundedd/cluster `k8s/gitlab-agent/templates/` at commit
678868f13b5181f1615c7d670afc1aaee490513e (deployment.yaml reads config.kasAddress; secret.yaml writes
config.token into the `<release>-gitlab-agent-token` Secret; clusterrolebinding.yaml binds cluster-admin only
`if .Values.rbac.create`; _helpers.tpl names the ServiceAccount serviceAccount.name; ocs/clusterrole.yaml
grants get/list on Secrets cluster-wide `if .Values.config.operational_container_scanning.enabled`; no
template grants the agent's own ServiceAccount anything else, so with rbac.create false `setup push` gives it
Leases and Events in its namespace, see push.agent_own_rights). The
pinned version (GITLAB_AGENT_CHART_VERSION 2.12.2) is rendered in tests/e2e/test_up.py where the public
repository is reachable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitops_poc.cluster.apply import nested
from gitops_poc.cluster.push import AGENT_SERVICE_ACCOUNT, agent_release
from gitops_poc.cluster.values_keys import unknown_keys
from gitops_poc.config import load_config
from gitops_poc.platform import Platform
from gitops_poc.yamlio import load_plain

# The chart's default values tree as far as keys go (leaves as in the chart; lists and free-form maps empty).
CHART_KEYS: dict[str, Any] = {
    "image": {"repository": "", "pullPolicy": "", "tag": ""},
    "imagePullSecrets": [],
    "nameOverride": "",
    "fullnameOverride": "",
    "replicas": 2,
    "maxSurge": 1,
    "maxUnavailable": 0,
    "rbac": {"create": True, "useExistingRole": None},
    "serviceAccount": {"create": True, "annotations": {}, "name": None},
    "podSecurityContext": {},
    "securityContext": {},
    "podAnnotations": {},
    "serviceMonitor": {"enabled": False},
    "config": {
        "kasAddress": "wss://kas.gitlab.com",
        "kasHeaders": [],
        "token": None,
        "secretName": None,
        "kasCaCert": None,
        "observability": {
            "enabled": True,
            "tls": {"enabled": False, "cert": None, "key": None, "secret": {"create": False, "name": ""}},
        },
        "operational_container_scanning": {"enabled": True},
    },
    "extraEnv": [],
    "extraArgs": [],
    "extraVolumeMounts": [],
    "extraVolumes": [],
    "resources": {},
    "nodeSelector": {},
    "tolerations": [],
    "affinity": {},
    "priorityClassName": "",
    "runtimeClassName": "",
    "hostAliases": [],
    "podLabels": {},
    "additionalLabels": {},
    "initContainers": [],
    "terminationMessagePolicy": "",
}


def release_values() -> dict[str, Any]:
    """Everything our release gives the chart: the shipped file, --set-string, the private values file."""
    release = agent_release(Platform(load_config(None, {})), "glagent-placeholder")
    (values_file,) = release.values_files
    tree: dict[str, Any] = load_plain(Path(values_file).read_text())
    for key, value in nested(dict(release.set_strings)).items():
        tree.setdefault(key, {}).update(value)
    for key, value in nested(release.private_values.as_dict()).items():
        tree.setdefault(key, {}).update(value)
    return tree


def test_every_key_the_agent_release_sets_is_one_the_chart_reads() -> None:
    values = release_values()
    assert unknown_keys(CHART_KEYS, values, chart="gitlab-agent") == []
    assert values["config"]["kasAddress"] == "wss://kas.gitlab.com" and values["config"]["token"]


def test_the_values_keep_the_agent_to_the_rights_setup_push_grants() -> None:
    values = release_values()
    assert values["rbac"]["create"] is False  # no cluster-admin ClusterRoleBinding
    # The ServiceAccount the chart creates is the one the RoleBindings of `setup push` name.
    assert values["serviceAccount"] == {"create": True, "name": AGENT_SERVICE_ACCOUNT}
    # No cluster-wide Secret reading for container-scanning pods.
    assert values["config"]["operational_container_scanning"] == {"enabled": False}


def test_a_misspelt_key_would_be_caught() -> None:
    assert unknown_keys(CHART_KEYS, {"config": {"kasAdress": "wss://x"}, "rbacs": {}}) == [
        "config.kasAdress",
        "rbacs",
    ]
