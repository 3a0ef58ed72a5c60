"""ServiceAccount tokens from a real cluster (`kubectl create token`), for `vault check --identity
kubernetes`.

The token arrives on kubectl's stdout and goes straight into the login request: never printed, never an
argument of another process.
"""

from __future__ import annotations

import shutil
import subprocess

from gitops_poc.errors import GitopsError, UsageError
from gitops_poc.redact import remember
from gitops_poc.vault.check import JwtSource

TOKEN_DURATION = "10m"


def find_kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        raise UsageError(
            "kubectl is not on PATH (`make tools` installs it in .tools/bin); --identity kubernetes needs it"
        )
    return found


def kubectl_jwt_source(context: str, kubectl: str | None = None) -> JwtSource:
    binary = kubectl or find_kubectl()

    def source(namespace: str, service_account: str, audience: str) -> str:
        command = [
            binary,
            "--context",
            context,
            "--namespace",
            namespace,
            "create",
            "token",
            service_account,
            "--audience",
            audience,
            "--duration",
            TOKEN_DURATION,
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        except subprocess.TimeoutExpired:
            raise GitopsError(f"kubectl create token {service_account} -n {namespace} timed out") from None
        if done.returncode != 0:
            raise GitopsError(
                f"kubectl create token {service_account} -n {namespace} (context {context}) failed: "
                f"{done.stderr.strip() or done.returncode}"
            )
        remember([done.stdout])
        return done.stdout.strip()

    return source
