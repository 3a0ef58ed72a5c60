"""Render and compare the desired state offline: merged values, `helm template` as ArgoCD runs it, validation.

chart.py resolves the chart (local path or pinned, cached pull), helm.py runs helm, manifests.py parses its
output, validate.py and checks.py validate it for a Kubernetes version, service.py ties them together for
one service × environment, diff.py compares two renders.
"""
