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

# Labels the chart puts on every pod, and so what a selector of the platform's own must match.
POD_SELECTOR_LABELS = ("app", "release")


def required_keys(chart_version: str) -> dict[tuple[str, ...], str]:
    """The keys `chart_version` cannot render without (none for versions not listed)."""
    return REQUIRED_KEYS.get(chart_version.removeprefix("v"), {})


def failing_values(chart_version: str) -> dict[tuple[str, ...], tuple[str, str]]:
    return FAILING_VALUES.get(chart_version.removeprefix("v"), {})
