from __future__ import annotations

from pathlib import Path

from gitops_poc.render.diff import Change, ValueChange, compare, diff_manifests, diff_values, format_path
from gitops_poc.render.manifests import parse_manifests
from gitops_poc.render.model import Rendered


def test_maps_are_descended_lists_and_scalars_compared_whole() -> None:
    old = {
        "replicas": 3,
        "args": ["-a", "-b"],
        "resources": {"limits": {"cpu": "2", "memory": "1Gi"}},
        "hpa": {"on": True},
    }
    new = {
        "replicas": 1,
        "args": ["-a"],
        "resources": {"limits": {"cpu": "2", "memory": "256Mi"}},
        "pdb": {"on": True},
    }
    assert diff_values(old, new) == [
        ValueChange(("replicas",), Change.CHANGED, 3, 1),
        ValueChange(("args",), Change.CHANGED, ["-a", "-b"], ["-a"]),
        ValueChange(("resources", "limits", "memory"), Change.CHANGED, "1Gi", "256Mi"),
        ValueChange(("hpa",), Change.REMOVED, old={"on": True}),
        ValueChange(("pdb",), Change.ADDED, new={"on": True}),
    ]


def test_types_matter_and_equal_values_do_not_show() -> None:
    assert diff_values({"a": "3", "b": 1, "c": None}, {"a": 3, "b": 1, "c": None}) == [
        ValueChange(("a",), Change.CHANGED, "3", 3)
    ]
    assert diff_values({"x": True}, {"x": 1})[0].change is Change.CHANGED
    # An explicit null is a value of its own (Helm passes it to the chart).
    assert diff_values({"a": 1}, {"a": None}) == [ValueChange(("a",), Change.CHANGED, 1, None)]


def test_paths_quote_keys_that_are_not_plain_words() -> None:
    assert format_path(("configfiles", "data", "config.yaml")) == 'configfiles.data["config.yaml"]'
    change = ValueChange(("image", "tag"), Change.CHANGED, "1", "2")
    assert change.as_dict() == {"path": "image.tag", "change": "changed", "old": "1", "new": "2"}
    assert "old" not in ValueChange(("a",), Change.ADDED, new=1).as_dict()


DEPLOY = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {n}\n"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata: {}\n"
HPA = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n"


def test_manifests_are_matched_by_kind_and_name() -> None:
    old = parse_manifests(f"---\n{DEPLOY.format(n=3)}---\n{CM}---\n{HPA}")
    new = parse_manifests(
        f"---\n{CM}---\n{DEPLOY.format(n=1)}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web-sv\n"
    )
    changes = diff_manifests(old, new, "prod", "dev")
    assert [(c.key, c.change) for c in changes] == [
        ("Deployment/web", Change.CHANGED),
        ("Service/web-sv", Change.ADDED),
        ("HorizontalPodAutoscaler/web", Change.REMOVED),
    ]
    assert changes[0].diff.splitlines()[:2] == ["--- prod/Deployment/web", "+++ dev/Deployment/web"]
    assert "-  replicas: 3\n+  replicas: 1\n" in changes[0].diff
    assert changes[1].diff.startswith("--- /dev/null\n+++ dev/Service/web-sv\n")
    assert changes[2].diff.splitlines()[1] == "+++ /dev/null"
    assert diff_manifests(old, old) == []


def _rendered(env: str, values: dict[str, object], manifests: str | None) -> Rendered:
    parsed = None if manifests is None else tuple(parse_manifests(manifests))
    return Rendered("web", env, f"poc-{env}", "web", None, (), values, None, parsed)


def test_compare_reports_manifests_only_when_both_sides_rendered(tmp_path: Path) -> None:
    report = compare(
        _rendered("prod", {"replicas": 3}, DEPLOY.format(n=3)),
        _rendered("dev", {"replicas": 1}, DEPLOY.format(n=1)),
    )
    assert report.changed and report.base == "prod" and report.head == "dev"
    assert [c.key for c in report.manifests or ()] == ["Deployment/web"]
    values_only = compare(_rendered("prod", {"a": 1}, None), _rendered("dev", {"a": 1}, DEPLOY.format(n=1)))
    assert values_only.manifests is None and not values_only.changed
    assert values_only.as_dict()["manifests"] is None


def test_embedded_files_diff_line_by_line() -> None:
    text = (
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  config.yaml: "a: 1\\nb: {b}\\nc:'
        ' 3\\n"\n'
    )
    [change] = diff_manifests(parse_manifests(text.format(b=2)), parse_manifests(text.format(b=5)))
    assert "-    b: 2\n+    b: 5\n" in change.diff
    assert "    a: 1\n" in change.diff  # context lines of the embedded file, not one escaped string


def test_key_order_and_whitespace_are_no_difference() -> None:
    old = parse_manifests(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web-sv\n  labels: {chart: app-1, app: web}\n"
        "spec:\n\n  ports: [{port: 80, name: http}]\n"
    )
    same = parse_manifests(
        "kind: Service\napiVersion: v1\nmetadata:\n  labels:\n    app: web\n    chart: app-1\n"
        "  name: web-sv\n"
        "spec:\n  ports:\n  - name: http\n    port: 80\n"
    )
    assert diff_manifests(old, same) == []
    relabelled = parse_manifests(
        "kind: Service\napiVersion: v1\nmetadata:\n  labels:\n    app: web\n    chart: app-2\n"
        "  name: web-sv\n"
        "spec:\n  ports:\n  - name: http\n    port: 80\n"
    )
    [change] = diff_manifests(old, relabelled)
    changed = [line for line in change.diff.splitlines()[2:] if line[:1] in "+-"]
    assert changed == ["-    chart: app-1", "+    chart: app-2"]
