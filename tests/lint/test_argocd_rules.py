"""ArgoCD consistency: the generated ApplicationSet/AppProject edited into each defect."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitops_poc.config import parse_config
from gitops_poc.lint import RULES, Severity
from gitops_poc.lint.argocd_rules import patch_enables, substitute
from gitops_poc.platform import Platform

from .helpers import line_of, lint, of_rule, write

APPSET = "gitops-config/argocd/applicationset.yaml"
PROJECT = "gitops-config/argocd/project.yaml"
Edit = Callable[[str], str]


@dataclass(frozen=True)
class Case:
    rule_id: str
    file: str  # the file edited, and where the finding must be
    edit: Edit | None  # None deletes the file
    marker: str | None  # text on the expected line of the edited file
    message: str = ""
    severity: Severity | None = None


def replace(old: str, new: str) -> Edit:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return edit


def drop_lines(*needles: str) -> Edit:
    def edit(text: str) -> str:
        kept = [line for line in text.splitlines(keepends=True) if not any(n in line for n in needles)]
        assert len(kept) < len(text.splitlines()), needles
        return "".join(kept)

    return edit


CASES = [
    Case("argocd-file-missing", PROJECT, None, None),
    Case(
        "argocd-invalid",
        APPSET,
        replace("kind: ApplicationSet", "kind: Application"),
        "kind: Application",
        "'Application'",
    ),
    Case(
        "argocd-generator-unsupported",
        APPSET,
        replace("  syncPolicy:\n    preserve", "    - clusters: {}\n  syncPolicy:\n    preserve"),
        "- clusters: {}",
    ),
    Case(
        "argocd-env-missing",
        APPSET,
        replace(
            "                - env: staging\n                  namespace: poc-staging\n                 "
            " autoSync: 'true'\n                  chartVersion: 3.13.0\n",
            "",
        ),
        "generators:",
        "'staging'",
    ),
    Case(
        "argocd-env-unknown",
        APPSET,
        replace(
            "- env: staging\n                  namespace: poc-staging",
            "- env: stage\n                  namespace: poc-staging",
        ),
        "- env: stage",
        "'stage'",
    ),
    Case(
        "argocd-service-missing",
        APPSET,
        drop_lines("- service: web-http", "gitops-poc/web-http.git"),
        "generators:",
        "'web-http'",
    ),
    Case(
        "argocd-service-unknown",
        APPSET,
        replace("- service: web-http", "- service: web-https"),
        "- service: web-https",
    ),
    Case(
        "argocd-namespace-mismatch",
        APPSET,
        replace("namespace: poc-staging", "namespace: staging"),
        "namespace: staging",
        "'poc-staging'",
    ),
    Case(
        "argocd-cluster-mismatch",
        APPSET,
        replace(
            "        server: https://kubernetes.default.svc\n        namespace: '{{.namespace}}'",
            "        name: prod-eu\n        namespace: '{{.namespace}}'",
        ),
        "namespace: poc-dev",
        "deploys to cluster name 'prod-eu'; ENVIRONMENT_CLUSTERS says server 'https://kubernetes.default.svc'",
    ),
    Case("argocd-destination-not-allowed", PROJECT, None, None),  # placeholder, replaced below
    Case("argocd-repo-not-allowed", PROJECT, None, None),
    Case(
        "argocd-repo-mismatch",
        APPSET,
        replace("https://gitlab.com/gitops-poc/web-grpc.git", "https://gitlab.com/other/web-grpc.git"),
        "other/web-grpc",
        "web-grpc",
    ),
    Case(
        "argocd-project-mismatch",
        APPSET,
        replace("project: gitops-poc", "project: default"),
        "project: default",
        "'default'",
    ),
    Case(
        "argocd-chart-unpinned",
        APPSET,
        replace("targetRevision: '{{.chartVersion}}'", "targetRevision: '*'"),
        "targetRevision: '*'",
    ),
    Case(
        "argocd-chart-unpinned",
        APPSET,
        replace("targetRevision: '{{.chartVersion}}'", "targetRevision: ^3.13.0"),
        "targetRevision: ^3",
    ),
    Case(
        "argocd-chart-version",
        APPSET,
        replace("targetRevision: '{{.chartVersion}}'", "targetRevision: 3.4.0"),
        "targetRevision: 3.4.0",
        "CHART_VERSION 3.13.0",
    ),
    # The element of one environment: the finding is at that element's chartVersion.
    Case(
        "argocd-chart-unpinned",
        APPSET,
        replace(
            "autoSync: 'true'\n                  chartVersion: 3.13.0",
            "autoSync: 'true'\n                  chartVersion: ~3.13",
        ),
        "chartVersion: ~3.13",
        "of dev",
    ),
    Case(
        "argocd-chart-version",
        APPSET,
        replace(
            "autoSync: 'false'\n                  chartVersion: 3.13.0",
            "autoSync: 'false'\n                  chartVersion: 3.12.1",
        ),
        "chartVersion: 3.12.1",
        "chart version 3.12.1 of prod differs from CHART_VERSION 3.13.0",
    ),
    Case(
        "argocd-prod-auto-sync",
        APPSET,
        replace("        syncOptions:", "        automated:\n          prune: true\n        syncOptions:"),
        "automated:",
        "prod syncs automatically (its autoSync: 'false' is read by nothing)",
    ),
    Case(
        "argocd-prod-auto-sync",
        APPSET,
        replace('eq .autoSync "true"', 'ne .autoSync "true"'),
        "templatePatch:",
        "prod",
    ),
    Case(
        "argocd-prod-auto-sync",
        APPSET,
        replace('eq .autoSync "true"', "and .autoSync .env"),
        "templatePatch:",
        "cannot tell",
        Severity.WARNING,
    ),
    Case(
        "argocd-auto-sync-mismatch",
        APPSET,
        replace(
            "namespace: poc-staging\n                  autoSync: 'true'",
            "namespace: poc-staging\n                  autoSync: 'false'",
        ),
        "templatePatch:",
        "staging does not sync",
    ),
    Case(
        "argocd-ignore-differences",
        APPSET,
        replace(
            "      destination:\n",
            "      ignoreDifferences:\n        - group: apps\n          kind: Deployment\n"
            "          jsonPointers:\n            - /spec/replicas\n      destination:\n",
        ),
        "ignoreDifferences:",
    ),
    Case("argocd-values-ref", APPSET, drop_lines("ref: values"), "valueFiles:", "ref: values"),
]
# Project-side cases edit project.yaml, but the finding points at the ApplicationSet element that needs it.
PROJECT_CASES = [
    (
        "argocd-destination-not-allowed",
        drop_lines("namespace: poc-prod"),
        "namespace: poc-prod",
        "'poc-prod'",
    ),
    (
        "argocd-repo-not-allowed",
        drop_lines("gitops-poc/auth-adapter.git"),
        "repoURL: https://gitlab.com/gitops-poc/auth-adapter.git",
        "auth-adapter.git",
    ),
    (
        "argocd-repo-not-allowed",
        drop_lines("https://d7561985.github.io/k8app"),
        "repoURL: https://d7561985.github.io/k8app",
        "k8app",
    ),
]
CASES = [c for c in CASES if c.edit is not None or c.rule_id == "argocd-file-missing"]
ARGOCD_RULES = {c.rule_id for c in CASES} | {c[0] for c in PROJECT_CASES}


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rule_id}-{i}" for i, c in enumerate(CASES)])
def test_rule(case: Case, generated_root: Path, default_platform: Platform) -> None:
    text = (generated_root / case.file).read_text()
    edited = case.edit(text) if case.edit else None
    write(generated_root, case.file, edited)
    findings = of_rule(lint(default_platform, generated_root), case.rule_id)
    line = line_of(edited, case.marker) if edited is not None and case.marker else None
    at = [f for f in findings if f.file == case.file and f.line == line and case.message in f.message]
    assert at, f"expected {case.rule_id} at {case.file}:{line} ({case.message!r}), got {findings}"
    assert at[0].severity is (case.severity or RULES[case.rule_id].severity)


@pytest.mark.parametrize("rule_id, edit, marker, message", PROJECT_CASES)
def test_project_rule(
    rule_id: str, edit: Edit, marker: str, message: str, generated_root: Path, default_platform: Platform
) -> None:
    write(generated_root, PROJECT, edit((generated_root / PROJECT).read_text()))
    findings = of_rule(lint(default_platform, generated_root), rule_id)
    line = line_of((generated_root / APPSET).read_text(), marker)
    in_appset = [f for f in findings if f.file == APPSET and message in f.message]
    assert [f.line for f in in_appset] == [line]
    assert "project.yaml" in in_appset[0].hint


def test_glob_source_repos_as_the_seed_wrote_them(generated_root: Path, default_platform: Platform) -> None:
    text = (generated_root / PROJECT).read_text()
    lines = [line for line in text.splitlines(keepends=True) if "https://gitlab.com/gitops-poc/" not in line]
    glob = "".join(lines).replace(
        "    - https://d7561985.github.io/k8app\n",
        "    - https://d7561985.github.io/k8app\n    - https://gitlab.com/gitops-poc/*\n",
    )
    write(generated_root, PROJECT, glob)
    assert lint(default_platform, generated_root) == []
    # '*' does not cross '/', as in ArgoCD: a subgroup needs its own pattern.
    write(generated_root, PROJECT, glob.replace("gitops-poc/*", "gitops-*"))
    refused = of_rule(lint(default_platform, generated_root), "argocd-repo-not-allowed")
    assert {f.message.split()[1] for f in refused if f.file == APPSET} == {
        default_platform.repo_url(s) for s in default_platform.services
    }


PLATFORM_APPS = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: extra-dev
spec:
  project: gitops-poc
  source:
    repoURL: https://gitlab.com/gitops-poc/gitops-config.git
    path: platform/dev
  destination:
    server: https://kubernetes.default.svc
    namespace: poc-dev
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: extra-qa
spec:
  project: other
  source:
    repoURL: https://github.com/someone/else.git
    path: platform/qa
  destination:
    server: https://kubernetes.default.svc
    namespace: poc-qa
"""


def test_other_applications_are_checked_against_the_project(
    generated_root: Path, default_platform: Platform
) -> None:
    extra = "gitops-config/argocd/extra.yaml"
    write(generated_root, extra, PLATFORM_APPS)
    findings = [f for f in lint(default_platform, generated_root) if f.file == extra]
    assert {(f.rule_id, f.line) for f in findings} == {
        ("argocd-project-mismatch", line_of(PLATFORM_APPS, "project: other")),
        ("argocd-repo-not-allowed", line_of(PLATFORM_APPS, "someone/else")),
        ("argocd-destination-not-allowed", line_of(PLATFORM_APPS, "namespace: poc-qa")),
    }
    write(generated_root, extra, PLATFORM_APPS.replace("  name: extra-qa", "  name: [broken"))
    (syntax,) = [f for f in lint(default_platform, generated_root) if f.file == extra]
    assert (syntax.rule_id, syntax.line) == ("yaml-syntax", line_of(PLATFORM_APPS, "name: extra-qa") + 1)


def test_other_configurations_lint_clean(tmp_path: Path) -> None:
    from gitops_poc.changes import apply_changes
    from gitops_poc.generate import plan_init

    platform = Platform(
        parse_config(
            'SERVICES="a b"\nENVIRONMENTS="dev qa prod dr"\nPRODUCTION_ENVIRONMENTS="prod'
            ' dr"\nNAMESPACE_PREFIX=\nGITLAB_GROUP=acme/platform\nAUTO_SYNC_ENVIRONMENTS=dev\n',
            ".env",
            {},
        )
    )
    apply_changes(tmp_path, plan_init(platform, tmp_path))
    assert lint(platform, tmp_path) == []


def test_substitute_leaves_what_it_cannot_resolve() -> None:
    assert substitute("poc-{{env}}", {"env": "dev"}) == "poc-dev"
    assert substitute("{{ .repoURL }}", {"repoURL": "u"}) == "u"
    assert substitute("{{.env | upper}}", {"env": "dev"}) is None
    assert substitute("{{.missing}}", {}) is None


@pytest.mark.parametrize(
    "patch, params, expected",
    [
        (
            '{{- if eq .autoSync "true" }}\nspec:\n  syncPolicy:\n    automated: {}\n{{- end }}\n',
            {"autoSync": "true"},
            True,
        ),
        (
            '{{- if eq .autoSync "true" }}\nspec:\n  syncPolicy:\n    automated: {}\n{{- end }}\n',
            {"autoSync": "false"},
            False,
        ),
        (
            '{{- if ne .env "prod" }}\nautomated: {}\n{{- else }}\nsyncOptions: []\n{{- end }}\n',
            {"env": "prod"},
            False,
        ),
        (
            '{{- if eq .env "prod" }}\nsyncOptions: []\n{{- else }}\nautomated: {}\n{{- end }}\n',
            {"env": "dev"},
            True,
        ),
        ("spec:\n  syncPolicy:\n    automated: {}\n", {}, True),
        ("spec:\n  info: []\n", {}, False),
        ("{{- if .autoSync }}\nautomated: {}\n{{- end }}\n", {"autoSync": "true"}, None),
    ],
)
def test_patch_enables(patch: str, params: dict[str, str], expected: bool | None) -> None:
    assert patch_enables(patch, params) is expected
