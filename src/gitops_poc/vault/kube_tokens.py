"""ServiceAccount tokens from a real cluster (`kubectl create token`), for `vault check --identity
kubernetes`.

The token arrives on kubectl's stdout and goes straight into the login request: never printed, never an
argument of another process.
"""

from __future__ import annotations

import shutil
import subprocess

from gitops_poc import proc
from gitops_poc.errors import GitopsError, UsageError
from gitops_poc.proc import Opt, Part, Value
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
        # kubectl reads no operand after `--` here: the name is a checked Value, everything else --opt=value.
        command: list[Part] = [
            binary,
            Opt("--context", context),
            Opt("--namespace", namespace),
            "create",
            "token",
            Value(service_account, "service account"),
            Opt("--audience", audience),
            Opt("--duration", TOKEN_DURATION),
        ]
        try:
            done = proc.run(command, text=True, timeout=60)
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
