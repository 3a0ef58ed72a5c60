"""`gitops-poc demo` end to end: real git, OpenBao, helm with the published k8app chart, gitlab-ci-local."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import IN_CI, REPO_ROOT, require_binary, require_shared_charts
from tests.demo.test_servers import alive
from tests.publish.conftest import assert_fast_forward_only

GITLAB_CI_LOCAL = REPO_ROOT / ".tools" / "node" / "node_modules" / ".bin" / "gitlab-ci-local"


def test_the_whole_loop(tmp_path: Path) -> None:
    require_binary("helm")
    if not GITLAB_CI_LOCAL.exists():  # installed by `make tools` with its own Node 22
        message = "gitlab-ci-local is not installed (run `make tools`)"
        if IN_CI:
            pytest.fail(message + " - CI must have every real component")
        pytest.skip(message)
    require_shared_charts("k8app")
    workspace = tmp_path / "demo"
    # As `make demo` runs it: a process of its own, no terminal, the tools on PATH.
    proc = subprocess.run(
        [sys.executable, "-m", "gitops_poc", "demo", "--workspace", str(workspace)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    steps = re.findall(r"==> \[(\d+)/(\d+)\]", output)
    assert [int(n) for n, _ in steps] == list(range(1, len(steps) + 1)) and len(steps) == int(
        steps[0][1]
    ) == 14
    # The review of a merge request raising prod's memory: the note's summary, and where the whole note is.
    assert re.search(r"gitops-poc review\*\* `HEAD` → `head`: Applications: 1 changed", output)
    note = workspace / "logs" / "review.md"
    assert f"the whole note (as posted on the merge request with --post): {note}" in output
    assert "<code>health-demo-prod</code>" in note.read_text(encoding="utf-8")

    clone = workspace / "clones" / "health-demo"
    sha = subprocess.run(
        ["git", "-C", str(clone), "log", "--format=%H", "--grep=feat: answer", "-1"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()[:8]  # CI_COMMIT_SHORT_SHA: 8 characters, as GitLab makes it
    # The dev image changed by the pipeline job, promoted to staging, prod untouched because pinned.
    assert re.search(rf"image in dev\s+0\.1\.0 -> {sha}", output)
    assert re.search(rf"image in staging\s+0\.1\.0 -> {sha}", output)
    assert re.search(r"image in prod\s+0\.1\.0 \(unchanged\)", output)
    assert "prod is pinned: the promotion changed nothing (exit 5)" in output
    # The release brakes: a job stopped by a freeze window, prod refused without evidence, a rollback.
    assert "inside a deny window" in output and "demo freeze" in output
    assert "prod was not changed (fail closed)" in output
    assert "the rollback pinned staging: the next promotion stood down (exit 5)" in output
    # The diff shows what ArgoCD would change in dev: the image of the Deployment.
    assert re.search(rf"[-+].*image: registry\.gitlab\.com/gitops-poc/health-demo:{sha}", output)
    # The Vault matrix, with no leak.
    assert "each reads its own (15), 210 reads of others denied" in output and "leaks: 0" in output
    assert "servers      stopped" in output or re.search(r"servers\s+stopped", output)
    # History on the remotes was only ever fast-forwarded.
    bare = workspace / "remotes" / "gitops-poc" / "health-demo.git"
    assert_fast_forward_only(bare)
    pid = int(re.search(r"OpenBao dev server on \S+ \(pid (\d+)\)", output).group(1))  # type: ignore[union-attr]
    assert not alive(pid)
    # The report: written, named with its file:// address, one row per service, the Vault matrix in it.
    page = workspace / "report" / "index.html"
    assert f"open {page.as_uri()}" in output
    text = page.read_text(encoding="utf-8")
    assert (
        text.count('<tr data-service="') == 5
        and 'class="a-leak"' not in text
        and text.count('class="a-ok"') == 15
    )
    assert re.search(rf"health-demo.*ok +{sha}", output)  # `status`: dev runs the pipeline's image
