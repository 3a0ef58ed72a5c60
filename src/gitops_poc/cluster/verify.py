"""`verify`, the smoke test: is the platform really up? Every check runs, whatever failed before it.

Each check is a pure function of what the cluster answered (plain dicts); `run_checks` asks the cluster
through a `Reader` and turns any error into that check's failure with the reason, so a missing cluster
gives a full report of failed checks, not a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from gitops_poc.cluster.checks import Check, failed, passed
from gitops_poc.cluster.infrastructure import VAULT_NAMESPACE, VSO_NAMESPACE
from gitops_poc.cluster.push import AGENT_NAMESPACE
from gitops_poc.errors import GitopsError
from gitops_poc.platform import PULL_SECRET, Platform

VSS_API = "secrets.hashicorp.com/v1beta1"
ARGO_API = "argoproj.io/v1alpha1"
VSO_DEFAULT_CONNECTION = "default"  # the chart's defaultVaultConnection


class Reader(Protocol):
    def list(
        self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]: ...

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class PlannedCheck:
    group: str
    name: str
    run: Callable[[], Check]
    error_fix: str = ""  # what to do when the check cannot run at all (besides an unreachable cluster)


def _name(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", "?"))


# --- pure judgements ---------------------------------------------------------------------------------------


def pods_ready(
    group: str,
    name: str,
    namespace: str,
    pods: list[dict[str, Any]],
    fix: str = "run `gitops-poc setup infrastructure`",
) -> Check:
    if not pods:
        return failed(group, name, f"no pods in {namespace}", fix)
    bad = []
    for pod in pods:
        status = pod.get("status") or {}
        if status.get("phase") == "Succeeded":
            continue  # finished jobs
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        if status.get("phase") != "Running" or conditions.get("Ready") != "True":
            bad.append(f"{_name(pod)} ({status.get('phase', '?')})")
    if bad:
        return failed(
            group,
            name,
            f"not ready in {namespace}: {', '.join(bad)}",
            f"kubectl -n {namespace} describe pods",
        )
    return passed(group, name, f"{len(pods)} pod(s) ready in {namespace}")


def vault_connection_ok(group: str, name: str, connection: dict[str, Any] | None, expected: str) -> Check:
    """The operator of another cluster reaches Vault only through VAULT_EXTERNAL_ADDR."""
    where = f"VaultConnection {VSO_NAMESPACE}/{VSO_DEFAULT_CONNECTION}"
    if connection is None:
        return failed(group, name, f"no {where}", "run `gitops-poc setup infrastructure`")
    address = str((connection.get("spec") or {}).get("address", ""))
    if not expected or address.rstrip("/") != expected:
        return failed(
            group,
            name,
            f"{where} points at {address or '(nothing)'}, not VAULT_EXTERNAL_ADDR ({expected or 'not set'})",
            "set VAULT_EXTERNAL_ADDR, then run `gitops-poc setup infrastructure`",
        )
    return passed(group, name, f"{where} points at {address}")


def application_ok(group: str, name: str, app: dict[str, Any] | None) -> Check:
    if app is None:
        return failed(group, name, "no such Application", "run `gitops-poc setup pull`")
    status = app.get("status") or {}
    sync = (status.get("sync") or {}).get("status", "Unknown")
    health = (status.get("health") or {}).get("status", "Unknown")
    detail = f"{sync}, {health}"
    if sync == "Synced" and health == "Healthy":
        return passed(group, name, detail)
    return failed(group, name, detail, f"argocd app get {name} (or the ArgoCD UI: `gitops-poc proxy argocd`)")


def deployment_ok(
    group: str,
    name: str,
    namespace: str,
    deployment: dict[str, Any] | None,
    missing_fix: str = "is its Application synced?",
) -> Check:
    if deployment is None:
        return failed(group, name, f"no Deployment {name} in {namespace}", missing_fix)
    wanted = int((deployment.get("spec") or {}).get("replicas", 1) or 0)
    ready = int((deployment.get("status") or {}).get("readyReplicas") or 0)
    detail = f"{ready}/{wanted} ready in {namespace}"
    if ready >= wanted:
        return passed(group, name, detail)
    return failed(group, name, detail, f"kubectl -n {namespace} describe deployment {name}")


def vault_secrets_ok(
    group: str, name: str, namespace: str, prefix: str, statics: list[dict[str, Any]], secret_names: set[str]
) -> Check:
    mine = [s for s in statics if _name(s).startswith(prefix)]
    if not mine:
        return failed(
            group,
            name,
            f"no VaultStaticSecret {prefix}* in {namespace}",
            "the service's values need `secrets:` and `secretsProvider.provider: vault`",
        )
    problems = []
    for item in mine:
        target = str(((item.get("spec") or {}).get("destination") or {}).get("name", ""))
        if target not in secret_names:
            problems.append(f"{_name(item)} -> Secret {target or '?'} missing")
    if problems:
        return failed(group, name, "; ".join(problems), f"kubectl -n {namespace} describe vaultstaticsecret")
    return passed(group, name, f"{len(mine)} VaultStaticSecret(s) synced into their Secrets in {namespace}")


def pull_secret_ok(
    group: str,
    name: str,
    namespace: str,
    secret: dict[str, Any] | None,
    accounts: dict[str, dict[str, Any] | None],
    accounts_fix: str = "run `gitops-poc setup registry` (after ArgoCD created them)",
) -> Check:
    if secret is None:
        return failed(
            group, name, f"no Secret {PULL_SECRET} in {namespace}", "run `gitops-poc setup registry`"
        )
    if secret.get("type") != "kubernetes.io/dockerconfigjson":
        return failed(
            group,
            name,
            f"{PULL_SECRET} in {namespace} has type {secret.get('type')}",
            "run `gitops-poc setup registry`",
        )
    missing = [
        account
        for account, body in accounts.items()
        if body is None or PULL_SECRET not in {p.get("name") for p in body.get("imagePullSecrets") or []}
    ]
    if missing:
        return failed(
            group,
            name,
            f"ServiceAccounts without {PULL_SECRET} in {namespace}: {', '.join(missing)}",
            accounts_fix,
        )
    return passed(group, name, f"{PULL_SECRET} present; {len(accounts)} ServiceAccount(s) list it")


def platform_objects_ok(
    group: str,
    name: str,
    namespace: str,
    account: tuple[str, dict[str, Any] | None],
    auth: tuple[str, dict[str, Any] | None],
) -> Check:
    """Push mode: the service's ServiceAccount and VaultAuth, which `setup push` applies (no ArgoCD does)."""
    missing = [
        f"{kind} {found_name}"
        for kind, (found_name, body) in (("ServiceAccount", account), ("VaultAuth", auth))
        if body is None
    ]
    if missing:
        return failed(
            group,
            name,
            f"missing in {namespace}: {', '.join(missing)}",
            "run `gitops-poc setup push` (it applies gitops-config/platform/<env>/)",
        )
    return passed(group, name, f"ServiceAccount {account[0]} and VaultAuth {auth[0]} in {namespace}")


# --- the checks of a platform -------------------------------------------------------------------------------


def plan_checks(
    platform: Platform,
    reader_of: Callable[[str], Callable[[], Reader]],
    vault_check: Callable[[], Check] | None = None,
) -> list[PlannedCheck]:
    """Every check, in report order. `reader_of(context)` ("" = KUBE_CONTEXT) gives the reader of a cluster;
    it is called inside each check, so a connection failure is that check's failure. Applications are read
    in ArgoCD's cluster, workloads in their environment's cluster. Push mode (GITOPS_MODE=push) has no
    Applications: the GitLab agent of each cluster is checked instead."""
    argocd = platform.config.argocd_namespace
    reader = reader_of("")
    push = platform.config.gitops_mode == "push"
    checks = [
        PlannedCheck("infrastructure", ns, partial(_pods, reader, ns))
        for ns in (VAULT_NAMESPACE, VSO_NAMESPACE, argocd)
    ]
    # Another cluster runs only the Vault Secrets Operator (Vault and ArgoCD serve it from ArgoCD's), whose
    # default VaultConnection must point at VAULT_EXTERNAL_ADDR.
    for other in platform.remote_clusters:
        group, remote = f"infrastructure@{other}", reader_of(platform.cluster_context(other))
        checks += [
            PlannedCheck(group, VSO_NAMESPACE, partial(_pods, remote, VSO_NAMESPACE, group)),
            PlannedCheck(
                group,
                "vault-connection",
                partial(_vault_connection, remote, group, platform.config.vault_external_addr),
            ),
        ]
    if push:
        for cluster in platform.agent_clusters:
            where = f"agents@{cluster}" if cluster else "agents"
            agent_reader = reader_of(platform.cluster_context(cluster))
            checks.append(
                PlannedCheck(
                    where,
                    platform.agent_name_of_cluster(cluster),
                    partial(_agent_pods, agent_reader, where, platform.agent_name_of_cluster(cluster)),
                )
            )
    for env in platform.environments:
        namespace = platform.namespace(env)
        cluster = platform.cluster_of(env)
        where = f"{env}@{cluster}" if cluster else env
        env_reader = reader_of(platform.cluster_context(cluster))
        apps = [platform.platform_application_name(env)] + [
            platform.application_name(s, env) for s in platform.services
        ]
        checks += [
            PlannedCheck(
                f"applications/{env}", app, partial(_application, reader, f"applications/{env}", argocd, app)
            )
            for app in apps
            if not push
        ]
        checks += [
            PlannedCheck(
                f"platform/{where}",
                s,
                partial(
                    _platform_objects,
                    env_reader,
                    f"platform/{where}",
                    s,
                    namespace,
                    platform.service_account(s),
                    platform.vault_auth_name(s),
                ),
            )
            for s in platform.services
            if push
        ]
        # Push mode: a service's Deployment comes from its pipeline's deploy job, not from an Application.
        missing_fix = (
            f"run the service's deploy:{env} pipeline job (`gitops-poc ci deploy --env {env}`)"
            if push
            else "is its Application synced?"
        )
        checks += [
            PlannedCheck(
                f"deployments/{where}",
                platform.app_name(s),
                partial(
                    _deployment,
                    env_reader,
                    f"deployments/{where}",
                    namespace,
                    platform.app_name(s),
                    missing_fix,
                ),
            )
            for s in platform.services
        ]
        checks += [
            PlannedCheck(
                f"secrets/{where}",
                s,
                partial(
                    _vault_secrets,
                    env_reader,
                    f"secrets/{where}",
                    s,
                    namespace,
                    f"{platform.app_name(s)}-vault-",
                ),
            )
            for s in platform.services
        ]
        accounts = ("default", *(platform.service_account(s) for s in platform.services))
        checks.append(
            PlannedCheck(
                f"registry/{where}",
                PULL_SECRET,
                partial(
                    _pull_secret,
                    env_reader,
                    f"registry/{where}",
                    namespace,
                    accounts,
                    "run `gitops-poc setup push` (it applies the services' ServiceAccounts listing it), "
                    "then `gitops-poc setup registry`"
                    if push
                    else "run `gitops-poc setup registry` (after ArgoCD created them)",
                ),
            )
        )
    if vault_check is not None:
        checks.append(
            PlannedCheck(
                "vault",
                "least-privilege",
                vault_check,
                "make Vault reachable: the cluster (port-forward to svc/vault), or VAULT_ADDR and "
                "VAULT_TOKEN; then `gitops-poc vault check --identity kubernetes`",
            )
        )
    return checks


def _pods(reader: Callable[[], Reader], namespace: str, group: str = "infrastructure") -> Check:
    return pods_ready(group, namespace, namespace, reader().list("v1", "Pod", namespace))


def _vault_connection(reader: Callable[[], Reader], group: str, expected: str) -> Check:
    found = reader().get(VSS_API, "VaultConnection", VSO_NAMESPACE, VSO_DEFAULT_CONNECTION)
    return vault_connection_ok(group, "vault-connection", found, expected)


def _agent_pods(reader: Callable[[], Reader], group: str, agent: str) -> Check:
    pods = reader().list("v1", "Pod", AGENT_NAMESPACE)
    return pods_ready(group, agent, AGENT_NAMESPACE, pods, "run `gitops-poc setup push`")


def _application(reader: Callable[[], Reader], group: str, namespace: str, app: str) -> Check:
    return application_ok(group, app, reader().get(ARGO_API, "Application", namespace, app))


def _deployment(
    reader: Callable[[], Reader], group: str, namespace: str, name: str, missing_fix: str
) -> Check:
    found = reader().get("apps/v1", "Deployment", namespace, name)
    return deployment_ok(group, name, namespace, found, missing_fix)


def _platform_objects(
    reader: Callable[[], Reader], group: str, service: str, namespace: str, account: str, auth: str
) -> Check:
    kube = reader()
    found_account = kube.get("v1", "ServiceAccount", namespace, account)
    found_auth = kube.get(VSS_API, "VaultAuth", namespace, auth)
    return platform_objects_ok(group, service, namespace, (account, found_account), (auth, found_auth))


def _vault_secrets(
    reader: Callable[[], Reader], group: str, service: str, namespace: str, prefix: str
) -> Check:
    kube = reader()
    statics = kube.list(VSS_API, "VaultStaticSecret", namespace)
    secrets = {_name(s) for s in kube.list("v1", "Secret", namespace)}
    return vault_secrets_ok(group, service, namespace, prefix, statics, secrets)


def _pull_secret(
    reader: Callable[[], Reader], group: str, namespace: str, accounts: Iterable[str], accounts_fix: str
) -> Check:
    kube = reader()
    secret = kube.get("v1", "Secret", namespace, PULL_SECRET)
    found = {a: kube.get("v1", "ServiceAccount", namespace, a) for a in accounts}
    return pull_secret_ok(group, PULL_SECRET, namespace, secret, found, accounts_fix)


UNREACHABLE_FIX = (
    "run `gitops-poc doctor`: is the cluster running (`minikube start`), and do KUBECONFIG and the kube "
    "context (KUBE_CONTEXT, CLUSTER_CONTEXTS) point at it?"
)


def run_checks(planned: Iterable[PlannedCheck]) -> list[Check]:
    """Run every check; an error becomes that check's failure with its reason, and the next check runs."""
    from gitops_poc.cluster.kube import ClusterUnreachable

    results = []
    for check in planned:
        try:
            results.append(check.run())
        except ClusterUnreachable as exc:
            results.append(failed(check.group, check.name, str(exc), UNREACHABLE_FIX))
        except GitopsError as exc:
            results.append(failed(check.group, check.name, str(exc), check.error_fix))
    return results


def per_cluster(factory: Callable[[str], Reader]) -> Callable[[str], Callable[[], Reader]]:
    """A remembering reader per kube context ("" = the platform's own)."""
    readers: dict[str, Callable[[], Reader]] = {}

    def reader_of(context: str) -> Callable[[], Reader]:
        if context not in readers:
            readers[context] = remembering(partial(factory, context))
        return readers[context]

    return reader_of


def remembering(factory: Callable[[], Reader]) -> Callable[[], Reader]:
    """One reader for all checks; once the cluster proved unreachable, later checks fail at once with the
    same reason instead of each waiting for a timeout."""
    from gitops_poc.cluster.kube import ClusterUnreachable

    state: dict[str, Any] = {}

    def get() -> Reader:
        if "error" in state:
            raise state["error"]
        if "reader" not in state:
            try:
                state["reader"] = _Guard(factory(), state)
            except ClusterUnreachable as exc:
                state["error"] = exc
                raise
        reader: Reader = state["reader"]
        return reader

    return get


class _Guard:
    def __init__(self, inner: Reader, state: dict[str, Any]) -> None:
        self.inner, self.state = inner, state

    def _call(self, fn: Callable[[], Any]) -> Any:
        from gitops_poc.cluster.kube import ClusterUnreachable

        if "error" in self.state:
            raise self.state["error"]
        try:
            return fn()
        except ClusterUnreachable as exc:
            self.state["error"] = exc
            raise

    def list(
        self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call(
            lambda: self.inner.list(api_version, kind, namespace, label_selector)
        )
        return result

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self._call(lambda: self.inner.get(api_version, kind, namespace, name))
        return result
