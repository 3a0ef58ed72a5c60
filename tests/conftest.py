"""Shared fixtures. Real components (git, helm, OpenBao) are used wherever they run here."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gitops_poc.changes import apply_changes
from gitops_poc.config import DEFAULTS, load_config
from gitops_poc.generate import plan_init
from gitops_poc.helmrepo import serve_chart_repository, shared_charts_dir
from gitops_poc.platform import Platform
from gitops_poc.render.chart import pull_chart
from gitops_poc.render.helm import Helm
from gitops_poc.render.model import ChartRef, LocalChart

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOLS_BIN = REPO_ROOT / ".tools" / "bin"
IN_CI = os.environ.get("CI", "").lower() == "true"
# Captured before the autouse fixture clears them: end-to-end tests use the real systems they point at.
REAL_SYSTEMS = {
    k: os.environ[k]
    for k in ("KUBECONFIG", "VAULT_ADDR", "VAULT_TOKEN", "GITLAB_URL", "GITLAB_TOKEN")
    if k in os.environ
}


def require_binary(name: str) -> str:
    """Path of a real helper binary; missing fails the run under CI=true and skips elsewhere."""
    candidate = TOOLS_BIN / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if found is None:
        message = f"{name} is not installed (run `make tools`)"
        if IN_CI:
            pytest.fail(message + " - CI must have every real component")
        pytest.skip(message)
    return found


# Kept: the opt-in switches and addresses of the end-to-end tests and where test artifacts go.
_TEST_SWITCHES = (
    "GITOPS_POC_E2E",
    "GITOPS_REVIEW_E2E",
    "GITOPS_POC_TEST_ARTIFACTS",
    "GITOPS_POC_SHARED_CHARTS",
)


def _ambient(key: str) -> bool:
    """What a GitLab CI job (its predefined CI_*/GITLAB_* variables) or a platform engineer's shell sets
    that the tool reads: a test sets what it means, never inherits a job token or a server address."""
    if key.startswith(_TEST_SWITCHES):
        return False
    return key.startswith(("CI_", "GITLAB_", "GITOPS_", "ARGOCD_")) or key in ("SYNC_WINDOWS", "SERVICE_NAME")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads the developer's credentials, cluster, or platform configuration."""
    ambient = [k for k in os.environ if _ambient(k)]
    for key in ("VAULT_TOKEN", "VAULT_ADDR", "KUBECONFIG", *DEFAULTS, *ambient):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    for var in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        monkeypatch.setenv(var, str(tmp_path_factory.mktemp(var.lower())))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "test@example.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "test@example.invalid")


@pytest.fixture
def helm() -> str:
    return require_binary("helm")


SHARED_CHARTS = shared_charts_dir(REPO_ROOT)


def require_shared_charts(folder: str) -> Path:
    """An offline copy of a published Helm repository (`../shared/charts/<folder>`); missing fails under
    CI."""
    path = SHARED_CHARTS / folder
    if not (path / "index.yaml").is_file():
        message = f"the offline chart repository {path} is missing (shared/charts beside the checkout)"
        if IN_CI:
            pytest.fail(message + " - CI must have every real component")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def chart_repos() -> Iterator[dict[str, str]]:
    """URL of each offline chart repository (k8app, argo, hashicorp), served on loopback for the session.

    Tests point `CHART_REPO` (or a release's repository) at these URLs so charts are pulled exactly as users
    pull them: `helm pull --repo URL --version V`, into the cache, then `helm template`.
    """
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield {
            folder: stack.enter_context(serve_chart_repository(require_shared_charts(folder)))
            for folder in ("k8app", "argo", "hashicorp")
        }


@pytest.fixture(scope="session")
def k8app_repo(chart_repos: dict[str, str]) -> str:
    """`CHART_REPO` for the published k8app `app` chart (3.12.1 and 3.13.0), served on loopback."""
    return chart_repos["k8app"]


@pytest.fixture
def platform_charts_env(chart_repos: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Every chart repository of the platform on loopback: CHART_REPO (k8app) and the repositories of the
    pinned Vault Secrets Operator and Argo CD charts, whose CRDs validate the custom resources."""
    monkeypatch.setenv("CHART_REPO", chart_repos["k8app"])
    monkeypatch.setenv("HASHICORP_HELM_REPO", chart_repos["hashicorp"])
    monkeypatch.setenv("ARGO_HELM_REPO", chart_repos["argo"])
    return chart_repos


@pytest.fixture(scope="session")
def session_chart_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One chart cache (XDG_CACHE_HOME) for the tests that share it: pulled and extracted once."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture
def cached_platform_charts(
    platform_charts_env: dict[str, str], session_chart_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """platform_charts_env with the session's chart cache: the pinned charts are pulled once per worker."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(session_chart_cache))
    return platform_charts_env


PINNED_CHART_VERSION = DEFAULTS["CHART_VERSION"]


@pytest.fixture(scope="session")
def k8app_charts(k8app_repo: str, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The published k8app chart of a version, pulled once per session as users pull it.

    For tests that run `helm template` themselves; commands under test get `CHART_REPO` (`k8app_env`)."""
    cache = tmp_path_factory.mktemp("k8app-charts")
    helm = Helm(require_binary("helm"))
    pulled: dict[str, Path] = {}

    def chart(version: str) -> Path:
        if version not in pulled:
            result = pull_chart(ChartRef(k8app_repo, "app", version), helm, cache)
            assert isinstance(result, LocalChart), result
            pulled[version] = result.path
        return pulled[version]

    return chart


@pytest.fixture
def k8app_chart(k8app_charts: Callable[[str], Path]) -> Path:
    """The pinned chart (CHART_VERSION's default), unpacked."""
    return k8app_charts(PINNED_CHART_VERSION)


@pytest.fixture
def k8app_env(k8app_repo: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """`CHART_REPO` points at the loopback copy, so commands pull the published chart into their cache."""
    monkeypatch.setenv("CHART_REPO", k8app_repo)
    return k8app_repo


@pytest.fixture
def default_platform() -> Platform:
    return Platform(load_config(None, {}))


@pytest.fixture
def generated_root(tmp_path: Path, default_platform: Platform) -> Iterator[Path]:
    """A platform root generated by `init` from the built-in defaults."""
    root = tmp_path / "platform"
    apply_changes(root, plan_init(default_platform, root))
    yield root
