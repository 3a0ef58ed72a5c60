"""release.yaml's windows generated into the AppProject (validated against the AppProject CRD of the pinned
Argo CD chart, served on loopback) and into the shared pipeline's SYNC_WINDOWS; lint's window rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_poc.changes import apply_changes
from gitops_poc.generate import plan_init
from gitops_poc.layout import PROJECT_FILE, RELEASE_FILE, SHARED_PIPELINE_FILE
from gitops_poc.lint import lint_platform
from gitops_poc.platform import Platform
from gitops_poc.release.policy import windows_from_json
from gitops_poc.render.crdschema import CrdSchemas
from gitops_poc.render.manifests import Manifest
from gitops_poc.render.validate import validate_manifests
from gitops_poc.yamlio import load_plain

RELEASE = """\
# Freezes of the platform (hand-written; init generates them into the AppProject and the pipeline).
syncWindows:
  - kind: deny
    schedule: "0 18 * * 5"
    duration: 62h
    timeZone: Europe/Berlin
    namespaces: [poc-prod]
    description: weekend freeze
  - kind: allow
    schedule: "0 8 * * mon-fri"
    duration: 10h
    applications: ["*-prod"]
    manualSync: true
gates:
  staging->prod: {health: true, soak: 1h}
"""


def generate(root: Path, platform: Platform, release: str) -> None:
    (root / RELEASE_FILE).parent.mkdir(parents=True, exist_ok=True)
    (root / RELEASE_FILE).write_text(release)
    apply_changes(root, plan_init(platform, root))


@pytest.mark.helm
def test_windows_reach_the_appproject_and_the_pipeline(
    generated_root: Path, default_platform: Platform, argocd_crds: CrdSchemas
) -> None:
    generate(generated_root, default_platform, RELEASE)
    project = load_plain((generated_root / PROJECT_FILE).read_text())
    assert project["spec"]["syncWindows"] == [
        {
            "kind": "deny",
            "schedule": "0 18 * * 5",
            "duration": "62h",
            "namespaces": ["poc-prod"],
            "timeZone": "Europe/Berlin",
            "description": "weekend freeze",
        },
        {
            "kind": "allow",
            "schedule": "0 8 * * mon-fri",
            "duration": "10h",
            "applications": ["*-prod"],
            "manualSync": True,
        },
    ]
    report = validate_manifests([Manifest(str(PROJECT_FILE), "", project)], "1.34", argocd_crds)
    assert report.ok, [str(f) for f in report.findings]
    # The schema is enforced: a window the CRD refuses is reported.
    project["spec"]["syncWindows"][0]["manualSync"] = "yes"
    assert not validate_manifests([Manifest(str(PROJECT_FILE), "", project)], "1.34", argocd_crds).ok

    variables = load_plain((generated_root / SHARED_PIPELINE_FILE).read_text())["variables"]
    assert variables["PROMOTION_GATES"] == '{"staging->prod":{"health":true,"soak":"3600s"}}'
    carried = windows_from_json(variables["SYNC_WINDOWS"])
    assert [w.as_argocd() for w in carried] == load_plain((generated_root / PROJECT_FILE).read_text())[
        "spec"
    ]["syncWindows"]
    # Idempotent: a second run changes nothing.
    assert plan_init(default_platform, generated_root) == []
    assert [
        f for f in lint_platform(default_platform, generated_root) if f.rule_id.startswith("window-")
    ] == []


def test_without_release_yaml_nothing_changes(generated_root: Path, default_platform: Platform) -> None:
    assert "syncWindows" not in load_plain((generated_root / PROJECT_FILE).read_text())["spec"]
    assert "SYNC_WINDOWS" not in load_plain((generated_root / SHARED_PIPELINE_FILE).read_text())["variables"]


def test_a_bad_release_yaml_stops_init_naming_file_key_and_value(
    generated_root: Path, default_platform: Platform
) -> None:
    from gitops_poc.errors import UsageError

    (generated_root / RELEASE_FILE).write_text(
        "syncWindows:\n  - kind: deny\n    schedule: '0 0 * * *'\n    duration: 2d\n"
    )
    with pytest.raises(UsageError) as caught:
        plan_init(default_platform, generated_root)
    assert "gitops-config/release.yaml: syncWindows[0].duration: '2d'" in str(caught.value)


@pytest.mark.parametrize(
    ("window", "rule_id", "line_text"),
    [
        ("schedule: '0 25 * * *'\n    duration: 1h", "window-schedule", "schedule:"),
        ("schedule: '0 0 * * *'\n    duration: 0s", "window-duration", "duration:"),
        ("schedule: '0 0 * * *'\n    duration: 1d", "window-duration", "duration:"),
        (
            "schedule: '0 0 * * *'\n    duration: 1h\n    timeZone: Europe/Atlantis",
            "window-time-zone",
            "timeZone:",
        ),
        ("schedule: '0 0 30 2 *'\n    duration: 1h", "window-never-opens", "schedule:"),
        ("schedule: '0 0 * * *'\n    duration: 1h\n    namespace: [poc-prod]", "window-invalid", "- kind"),
        (
            "schedule: '0 0 * * *'\n    duration: 1h\ngates:\n  staging->prod: {soak: 1h}",
            "gates-production-none",
            "staging->prod",
        ),
    ],
)
def test_lint_window_rules(
    generated_root: Path, default_platform: Platform, window: str, rule_id: str, line_text: str
) -> None:
    text = f"syncWindows:\n  - kind: deny\n    {window}\n"
    (generated_root / RELEASE_FILE).write_text(text)
    found = [f for f in lint_platform(default_platform, generated_root) if f.rule_id == rule_id]
    line = next(n for n, t in enumerate(text.splitlines(), 1) if line_text in t)
    assert [(f.file, f.line) for f in found] == [(RELEASE_FILE.as_posix(), line)], found
    assert found[0].hint
