"""yaml11-value: unquoted values Helm reads (YAML 1.1) differently from YAML 1.2 tools, checked with real
helm."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitops_poc.lint import chart_rules
from gitops_poc.lint.documents import parse_document, read_documents
from gitops_poc.yamlio import load_all_k8s

TEXT = """\
appName: demo
image:
  repository: demo
  tag: 0755
service:
  enabled: off
  ports:
    http: {externalPort: 80, internalPort: 8080, protocol: TCP}
configmap:
  FLAG: on
  MODE: 0755
  COUNT: 1_000
  SAFE: "0755"
  y: key
livenessProbe:
  enabled: "off"
"""


def findings(text: str) -> list[tuple[str, int | None, str, str]]:
    doc = parse_document(Path("default.yaml"), "default.yaml", text)
    return sorted(
        (f.rule_id, f.line, f.message, f.hint)
        for f in chart_rules.check_file(doc)
        if f.rule_id in ("yaml11-value", "configmap-yaml11-bool", "image-tag-number")
    )


def test_each_difference_once_with_line_and_fix() -> None:
    assert findings(TEXT) == [
        (
            "configmap-yaml11-bool",
            10,
            'configmap.FLAG: on is read by Helm as a boolean and renders as "true"',
            'quote it: FLAG: "on"',
        ),
        (
            "image-tag-number",
            4,
            "image.tag is the number 493, not the text that was written; the chart fails to "
            "render a numeric tag (its appver label needs text)",
            'quote the tag exactly as the image was tagged, e.g. tag: "1.10"',
        ),
        (
            "yaml11-value",
            6,
            'service.enabled: off is false for Helm (YAML 1.1), but the string "off" for YAML 1.2 tools',
            'write false if that is what you mean, or quote it ("off") to keep the text',
        ),
        (
            "yaml11-value",
            11,
            "configmap.MODE: 0755 is 493 for Helm (YAML 1.1), but 755 for YAML 1.2 tools",
            'write 493 if that is what you mean, or quote it ("0755") to keep the text',
        ),
        (
            "yaml11-value",
            12,
            'configmap.COUNT: 1_000 is 1000 for Helm (YAML 1.1), but the string "1_000" for YAML 1.2 tools',
            'write 1000 if that is what you mean, or quote it ("1_000") to keep the text',
        ),
        (
            "yaml11-value",
            14,
            'configmap: the key y is "true" for Helm (YAML 1.1), but the string "y" for YAML 1.2 tools',
            'quote the key: "y":',
        ),
    ]


def test_what_the_findings_say_is_what_helm_renders(helm: str, k8app_chart: Path, tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    required = (
        tmp_path / "default.yaml"
    )  # what the pinned chart cannot render without, as default.yaml holds it
    required.write_text("service:\n  type: ClusterIP\n")

    def template() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [helm, "template", "rel", str(k8app_chart), "-n", "ns", "-f", str(required), "-f", str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    # image-tag-number: the tag 0755 is the number 493, and the chart cannot render a number there.
    path.write_text(TEXT)
    failed = template()
    assert failed.returncode != 0 and "k8app.labelVersion" in failed.stderr and "got float64" in failed.stderr
    path.write_text(TEXT.replace("tag: 0755", "tag: '493'"))
    result = template()
    assert result.returncode == 0, result.stderr
    objects = {doc["kind"]: doc for doc in load_all_k8s(result.stdout)}
    assert "Service" not in objects  # service.enabled: off
    assert objects["ConfigMap"]["data"] == {
        "FLAG": "true",
        "MODE": "493",
        "COUNT": "1000",
        "SAFE": "0755",
        "true": "key",
    }
    assert objects["Deployment"]["spec"]["template"]["spec"]["containers"][0]["image"] == "demo:493"
    # livenessProbe.enabled: "off" is a non-empty string: truthy, a probe is rendered; lint says nothing
    # about it
    assert "livenessProbe" in objects["Deployment"]["spec"]["template"]["spec"]["containers"][0]

    # text-key-not-text: `tag: yes` is the boolean true for Helm, and the chart fails on it as on a number.
    path.write_text(TEXT.replace("tag: 0755", "tag: yes"))
    failed = template()
    assert failed.returncode != 0 and "k8app.labelVersion" in failed.stderr and "got bool" in failed.stderr
    doc = parse_document(Path("default.yaml"), "default.yaml", TEXT.replace("tag: 0755", "tag: yes"))
    flagged = [f for f in chart_rules.check_file(doc) if f.line == 4]
    assert [(f.rule_id, f.severity.value) for f in flagged] == [("text-key-not-text", "error")]
    assert "image.tag is the boolean true" in flagged[0].message


@pytest.mark.parametrize(
    "text",
    [
        "a: 'on'\nb: \"0755\"\nc: true\nd: 1.10\ne: 0o17\nf: 0x1F\ng: 08\nh: 2024-01-02\n# turn it on\n",
        "list: [a, 'y', 1]\n",
    ],
)
def test_no_finding_when_both_read_the_same(text: str) -> None:
    assert findings(text) == []


def test_lines_in_multi_document_files(tmp_path: Path) -> None:
    path = tmp_path / "apps.yaml"
    path.write_text("kind: A\n---\nkind: B\nspec:\n  enabled: yes\n")
    docs = read_documents(path, "apps.yaml")
    assert [d.line for d in docs[1].yaml11_differences] == [5]
