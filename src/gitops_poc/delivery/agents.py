"""Which GitLab agent (kube context) each environment's push-mode deploy job uses, read from a shared
pipeline as `gitops-poc init` writes it (`plan` shows it, `lint` checks it against ENVIRONMENT_CLUSTERS)."""

from __future__ import annotations

from typing import Any

DEPLOY_JOB_PREFIX = "deploy:"


def deploy_contexts(pipeline: Any) -> dict[str, str]:
    """env -> the KUBE_CONTEXT of its `deploy:<env>` job: the job's own, else the pipeline's."""
    if not isinstance(pipeline, dict):
        return {}
    shared = pipeline.get("variables")
    default = shared.get("KUBE_CONTEXT", "") if isinstance(shared, dict) else ""
    found = {}
    for name, job in pipeline.items():
        if isinstance(name, str) and name.startswith(DEPLOY_JOB_PREFIX) and isinstance(job, dict):
            own = job.get("variables")
            context = own.get("KUBE_CONTEXT", default) if isinstance(own, dict) else default
            found[name.removeprefix(DEPLOY_JOB_PREFIX)] = str(context)
    return found
