"""The chart repositories benchmarks pull from: the public ones when k8app's answers, else the offline copies
in ../shared/charts served on loopback (k8app, and the Vault Secrets Operator and Argo CD charts whose CRDs
validate the custom resources)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from gitops_poc.helmrepo import repository_reachable, serve_chart_repository, shared_charts_dir

REPO = Path(__file__).resolve().parent.parent
FOLDERS = {"CHART_REPO": "k8app", "HASHICORP_HELM_REPO": "hashicorp", "ARGO_HELM_REPO": "argo"}


@contextmanager
def chart_repositories(public: str) -> Iterator[dict[str, str]]:
    """Settings to put in the environment: {} when the public repositories answer."""
    if repository_reachable(public):
        yield {}
        return
    with ExitStack() as stack:
        urls = {
            key: stack.enter_context(serve_chart_repository(shared_charts_dir(REPO) / folder))
            for key, folder in FOLDERS.items()
        }
        print(f"{public} cannot be reached: serving the offline copies at {', '.join(urls.values())}")
        yield urls
