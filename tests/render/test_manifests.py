from __future__ import annotations

import pytest

from gitops_poc.errors import GitopsError
from gitops_poc.render.manifests import parse_manifests

OUTPUT = """\
---
# Source: app/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: web-sv
  namespace: poc-dev
spec:
  ports: []
---
# Source: app/templates/empty.yaml
---
# Source: app/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
"""


def test_documents_keep_their_template_identity_and_text() -> None:
    manifests = parse_manifests(OUTPUT)
    assert [(m.source, m.key, m.namespace) for m in manifests] == [
        ("app/templates/service.yaml", "Service/web-sv", "poc-dev"),
        ("app/templates/deployment.yaml", "Deployment/web", None),
    ]
    assert manifests[0].text.startswith("apiVersion: v1\n") and "# Source" not in manifests[0].text
    assert manifests[1].body["metadata"] == {"name": "web"}


def test_a_document_that_is_not_an_object_is_an_error() -> None:
    with pytest.raises(GitopsError, match="app/templates/list.yaml rendered a list"):
        parse_manifests("---\n# Source: app/templates/list.yaml\n- a\n- b\n", "svc/dev")


def test_objects_without_kind_or_name_are_still_listed() -> None:
    [manifest] = parse_manifests("---\nmetadata: {}\n")
    assert manifest.key == "?/?" and manifest.source == "helm template"
