"""Push and pull delivery aimed at the same environment: ArgoCD's automated sync (selfHeal) reverts every
helm deploy the push pipeline makes, and the two keep fighting over the same objects. And push mode's deploy
jobs going through another cluster's GitLab agent than ENVIRONMENT_CLUSTERS says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitops_poc.delivery.agents import DEPLOY_JOB_PREFIX, deploy_contexts
from gitops_poc.layout import SERVICE_PIPELINE, SERVICES_DIR, SHARED_PIPELINE_FILE
from gitops_poc.lint.catalog import rule
from gitops_poc.lint.findings import Finding
from gitops_poc.platform import Platform
from gitops_poc.yamlio import YamlSyntaxError, load_plain, read_text


def _mode(path: Path) -> tuple[str | None, int | None]:
    """GITOPS_MODE in a pipeline file's top-level variables, and its line (None: not set, or no file)."""
    text = read_text(path)
    if text is None:
        return None, None
    try:
        data: Any = load_plain(text, str(path))
    except YamlSyntaxError:
        return None, None
    variables = data.get("variables") if isinstance(data, dict) else None
    value = variables.get("GITOPS_MODE") if isinstance(variables, dict) else None
    if isinstance(value, dict):  # the `value:`/`description:` form
        value = value.get("value")
    if value is None:
        return None, None
    line = next((n for n, t in enumerate(text.splitlines(), 1) if t.strip().startswith("GITOPS_MODE:")), None)
    return str(value), line


def check_delivery(platform: Platform, root: Path) -> list[Finding]:
    auto = [env for env in platform.environments if platform.auto_sync(env)]
    if not auto:
        return []
    shared_mode, shared_line = _mode(root / SHARED_PIPELINE_FILE)
    default = shared_mode or platform.config.gitops_mode
    findings: list[Finding] = []
    pushing: list[str] = []
    for service in platform.services:
        relative = Path(SERVICES_DIR) / service / SERVICE_PIPELINE
        own, line = _mode(root / relative)
        if own == "push" and default != "push":
            findings.append(_finding(relative.as_posix(), line, [service], auto))
        elif (own or default) == "push":
            pushing.append(service)
    if pushing:
        where = SHARED_PIPELINE_FILE.as_posix() if shared_mode else ".env"
        findings.append(_finding(where, shared_line if shared_mode else None, pushing, auto))
    return findings


def _finding(file: str, line: int | None, services: list[str], auto: list[str]) -> Finding:
    apps = ", ".join(f"{s}-{e}" for s in services[:3] for e in auto) + (" ..." if len(services) > 3 else "")
    return rule("push-pull-conflict").at(
        file,
        line,
        f"GITOPS_MODE is push for {', '.join(services)}, yet ArgoCD syncs {', '.join(auto)} automatically "
        f"({apps}): selfHeal reverts every helm deploy and the two fight over the same objects",
    )


def check_agents(platform: Platform, root: Path) -> list[Finding]:
    """Each `deploy:<env>` job of the shared pipeline deploys through the agent of the environment's cluster
    (Platform.agent_context_of), as pull mode's Applications go to it (argocd-cluster-mismatch)."""
    path = root / SHARED_PIPELINE_FILE
    text = read_text(path)
    if text is None:
        return []
    try:
        pipeline = load_plain(text, str(path))
    except YamlSyntaxError:
        return []
    lines = text.splitlines()
    findings = []
    for env, context in deploy_contexts(pipeline).items():
        if env not in platform.environments or context == (want := platform.agent_context_of(env)):
            continue
        job = f"{DEPLOY_JOB_PREFIX}{env}"
        line = next((n for n, t in enumerate(lines, 1) if t.strip().strip("'\"").startswith(job)), None)
        findings.append(
            rule("push-agent-mismatch").at(
                SHARED_PIPELINE_FILE.as_posix(),
                line,
                f"job {job} deploys through kube context {context!r}; ENVIRONMENT_CLUSTERS says {want!r}",
            )
        )
    return findings
