"""Facts about the published k8app `app` chart that generation and lint both rely on.

Checked against the real chart's templates and values.yaml by tests/test_k8app.py.
"""

from __future__ import annotations

# The Service is always ClusterIP whatever service.type says, but 3.13.0's NOTES.txt reads service.type as
# text and its values.yaml has no default: without the key every render fails.
SERVICE_TYPE = "ClusterIP"

# Keys a chart version fails to render without, with the value to write.
REQUIRED_KEYS: dict[str, dict[tuple[str, ...], str]] = {
    "3.13.0": {("service", "type"): SERVICE_TYPE},
}

# Values of a required key that make the version's templates fail anyway: (substring, why).
FAILING_VALUES: dict[str, dict[tuple[str, ...], tuple[str, str]]] = {
    "3.13.0": {
        ("service", "type"): ("LoadBalancer", "NOTES.txt then indexes the service.ports map as a list")
    },
}

# Render defects of published versions, confirmed by rendering each version
# (tests/lint/test_chart_contract.py): a values key that makes that version's templates emit YAML helm
# cannot parse, so every render fails.
# - hpa.behavior: kube-hpa.yaml writes `behavior:` then `{{- toYaml .Values.hpa.behavior | indent 4 }}`; the
#   `{{-` eats the newline, the first key lands on the `behavior:` line ("mapping values are not allowed").
# - rbac.create without rbac.resources: rbac.yaml writes `resources:` then `toYaml ... | indent 2`, which
#   puts `[]` (or `null`) at the key's own column ("could not find expected ':'").
HPA_BEHAVIOR = "hpa-behavior"
RBAC_NO_RESOURCES = "rbac-no-resources"
RENDER_DEFECTS: dict[str, frozenset[str]] = {
    "3.12.1": frozenset({HPA_BEHAVIOR, RBAC_NO_RESOURCES}),
    "3.13.0": frozenset({HPA_BEHAVIOR, RBAC_NO_RESOURCES}),
}
# With rbac.resources, rbac.create renders a ClusterRole in rbac.authorization.k8s.io/v1beta1 (both versions):
# not served since Kubernetes 1.22, so the API server rejects it (render's validation reports it).

# Labels the chart puts on every pod, and so what a selector of the platform's own must match.
POD_SELECTOR_LABELS = ("app", "release")


def required_keys(chart_version: str) -> dict[tuple[str, ...], str]:
    """The keys `chart_version` cannot render without (none for versions not listed)."""
    return REQUIRED_KEYS.get(chart_version.removeprefix("v"), {})


def failing_values(chart_version: str) -> dict[tuple[str, ...], tuple[str, str]]:
    return FAILING_VALUES.get(chart_version.removeprefix("v"), {})


def render_defects(chart_version: str) -> frozenset[str]:
    """The known render defects of `chart_version` (none for versions not listed)."""
    return RENDER_DEFECTS.get(chart_version.removeprefix("v"), frozenset())
