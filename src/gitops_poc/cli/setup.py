"""`gitops-poc setup infrastructure|registry|pull|push`: stand the platform up on a cluster.

Every command computes its plan first (`--dry-run` prints it and changes nothing), then carries it out with
progress. Secrets never reach a command line or the screen.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.markup import escape

from gitops_poc.cli.common import EnvFileOption, RootOption, load_platform
from gitops_poc.cli.output import OutputFormat, err, print_json
from gitops_poc.cluster.applyset import DEFAULT_MAX_PRUNE, LiveSet
from gitops_poc.cluster.model import ClusterPlan, HelmRelease, Step, VaultBootstrap
from gitops_poc.errors import UsageError
from gitops_poc.platform import Platform
from gitops_poc.redact import remember

if TYPE_CHECKING:
    from gitops_poc.cluster.apply import ClusterRunner
    from gitops_poc.cluster.registry import RegistryCredentials

T = TypeVar("T")

app = typer.Typer(help="Stand the platform up on Kubernetes (minikube by default).", no_args_is_help=True)
DryRunOption = typer.Option(
    False, "--dry-run", help="Print the plan (objects, releases, patches, in order); change nothing."
)
OutputOption = typer.Option(OutputFormat.text, "--output", "-o", help="text, or json for scripts.")


def show_plan(title: str, plan: ClusterPlan, *, dry_run: bool = False) -> None:
    err.print(f"[bold]{escape(title)}[/]: {len(plan)} step(s)")
    for number, step in enumerate(plan.steps, start=1):
        err.print(f"  {number:2}. {escape(step.describe())}")
    for note in plan.notes:
        err.print(f"[yellow]note:[/] {escape(note)}")
    releases = [s for s in plan.steps if isinstance(s, HelmRelease)]
    if dry_run and releases:
        upgraded = ", ".join(s.name for s in releases if not s.unchanged) or "-"
        current = ", ".join(s.name for s in releases if s.unchanged) or "-"
        count = sum(1 for s in releases if s.unchanged)
        err.print(
            f"releases: {len(releases) - count} would be installed or upgraded ({escape(upgraded)}), "
            f"{count} already current ({escape(current)})"
        )


def settle(plan: ClusterPlan, kube_context: str, *, not_up: str = "") -> ClusterPlan:
    """Mark the releases already deployed as planned (read with helm: read-only, also in a dry run); a
    release whose state cannot be read is planned as an upgrade, and its step says why (a real run reads it
    again just before). `not_up`: why the platform's cluster is not read now (minikube stopped)."""
    from gitops_poc.cluster.helm_state import read_releases
    from gitops_poc.cluster.releases import Lookup, release_key, settle_releases
    from gitops_poc.cluster.tools import find_tool
    from gitops_poc.render.helm import Helm

    releases = [s for s in plan.steps if isinstance(s, HelmRelease)]
    if not releases:
        return plan
    binary = find_tool("helm")
    if binary is None:
        missing = Lookup(unreadable="helm is not installed")
        return settle_releases(plan, {release_key(s, kube_context): missing for s in releases}, kube_context)
    later = [s for s in releases if not_up and not s.context]
    now = replace(plan, steps=tuple(s for s in releases if not (not_up and not s.context)))
    lookups = read_releases(now, Helm(binary), kube_context)
    lookups.update({release_key(s, kube_context): Lookup(unreadable=not_up) for s in later})
    return settle_releases(plan, lookups, kube_context)


def check_custom_resources(plan: ClusterPlan, platform: Platform) -> None:
    """Stop (exit 2, nothing changed) when a custom resource of the plan fails its CRD from the pinned
    charts; say so when the CRDs cannot be had (the API server then is the only check)."""
    from gitops_poc.cluster.plan_check import custom_resource_problems
    from gitops_poc.cluster.tools import find_tool
    from gitops_poc.render.crds import load_crd_schemas
    from gitops_poc.render.helm import Helm

    binary = find_tool("helm")
    crds = load_crd_schemas(
        platform.config,
        Helm(binary) if binary else None,
        os.environ,
        on_pull=lambda message: err.print(escape(message)),
    )
    problems, unchecked = custom_resource_problems(plan, crds)
    if problems:
        raise UsageError(
            f"{len(problems)} object(s) of the plan would be rejected by the API server (CRDs of the pinned"
            " charts); nothing was changed:\n  " + "\n  ".join(problems)
        )
    if unchecked:
        err.print(
            f"[yellow]note:[/] {unchecked} custom resource(s) not checked before applying: "
            f"{escape('; '.join(crds.unavailable) or 'no CRD for them')}"
        )


def carry_out(
    title: str, plan: ClusterPlan, runner: ClusterRunner | None, *, dry_run: bool, output: OutputFormat
) -> int:
    """Show the plan, run it (unless a dry run) with progress, and report."""
    from gitops_poc.cli.waiting import Waiting, step_label
    from gitops_poc.cluster.apply import apply_plan

    if runner is not None:
        runner.report = lambda message: err.print(f"  {escape(message)}")
    with Waiting(err) as waiting:

        def progress(done: int, total: int, step: Step) -> None:
            if done >= total:
                waiting.stop()
                return
            if output is OutputFormat.text:
                skipped = isinstance(step, HelmRelease) and step.unchanged
                tail = ", skipped" if skipped else " ..."
                err.print(f"[cyan]{done + 1}/{total}[/] {escape(step.describe())}{tail}")
            # The Vault step runs `vault provision`, whose progress bar is a live display of its own.
            waiting.start(step_label(step), live=not isinstance(step, VaultBootstrap))

        if output is OutputFormat.json:
            done = 0 if dry_run or runner is None else apply_plan(plan, runner, progress)
            print_json({"dry_run": dry_run, "done": done, **plan.as_json()})
            return 0
        show_plan(title, plan, dry_run=dry_run or runner is None)
        if dry_run or runner is None:
            err.print("[dim]dry run: nothing changed[/]")
            return 0
        done = apply_plan(plan, runner, progress)
    unchanged = sum(1 for s in plan.steps if isinstance(s, HelmRelease) and s.unchanged)
    kept = f", {unchanged} release(s) unchanged" if unchanged else ""
    err.print(f"[green]Done:[/] {done} step(s){kept}.")
    return 0


@contextmanager
def vault_environment(addr: str, token: str) -> Iterator[None]:
    """VAULT_ADDR/VAULT_TOKEN for the vault package's own loaders, for the block only (never argv)."""
    saved = {k: os.environ.get(k) for k in ("VAULT_ADDR", "VAULT_TOKEN")}
    os.environ["VAULT_ADDR"], os.environ["VAULT_TOKEN"] = addr, token
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def vault_bootstrapper(
    root: Path, env_file: Path | None, platform: Platform
) -> Callable[[VaultBootstrap], None]:
    """The VaultBootstrap step: port-forward, initialise/unseal (standalone), then `vault provision`."""

    def run(step: VaultBootstrap) -> None:
        from gitops_poc.cli import vault as vault_cmd
        from gitops_poc.cluster.apply import wait_pod_running
        from gitops_poc.cluster.kube import Kube
        from gitops_poc.cluster.portforward import port_forward
        from gitops_poc.vault.bootstrap import KEYS_FILE, bootstrap_vault, read_keys
        from gitops_poc.vault.client import VaultTarget, make_client

        context = platform.config.kube_context
        keys = root / KEYS_FILE
        wait_pod_running(Kube.from_kubeconfig(context), step.namespace, f"{step.service}-0")
        with port_forward(context, step.namespace, f"svc/{step.service}", step.port) as forward:
            if not step.dev_mode:
                report = bootstrap_vault(make_client(VaultTarget(forward.url), None), keys)
                err.print(f"  {escape(report.describe())} (keys in {escape(str(keys))}, mode 0600)")
            with vault_environment(forward.url, str(read_keys(keys)["root_token"])):
                vault_cmd.provision(
                    root=root,
                    env_file=env_file,
                    secrets_file=None,
                    dry_run=False,
                    overwrite_secrets=False,
                    demo_values=False,
                    prune=False,
                    kubernetes_host=None,
                    kubernetes_ca_file=None,
                    token_ttl="1h",
                    token_file=None,
                    output=OutputFormat.text,
                )

    return run


@app.command("infrastructure")
def infrastructure(
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    dry_run: bool = DryRunOption,
    output: OutputFormat = OutputOption,
) -> int:
    """Start minikube when it is not running (MINIKUBE_CPUS/MEMORY/DISK_SIZE), enable the ingress and
    metrics-server addons, install Vault, the Vault Secrets Operator and ArgoCD from pinned charts with the
    values files shipped in gitops-poc, wait for them, then initialise/unseal Vault and run `vault provision`
    over a managed port-forward. Then, in each cluster of ENVIRONMENT_CLUSTERS (its kube context, see
    CLUSTER_CONTEXTS), only the Vault Secrets Operator (same pinned chart and values file) with its default
    VaultConnection at VAULT_EXTERNAL_ADDR (required with such clusters: exit 2 without it), and the
    TokenReview binding Vault's logins need there. Safe to re-run: only what is missing or different
    changes."""
    from gitops_poc.cluster.apply import default_runner
    from gitops_poc.cluster.doctor import is_minikube_context
    from gitops_poc.cluster.infrastructure import minikube_profile, plan_infrastructure
    from gitops_poc.cluster.minikube import read_infra_state
    from gitops_poc.vault.bootstrap import KEYS_FILE, dev_root_token, read_keys

    platform = load_platform(root, env_file)
    cfg = platform.config
    state = read_infra_state(minikube_profile(platform), is_minikube_context(cfg.kube_context))
    token = None
    if cfg.vault_dev_mode:
        keys = root / KEYS_FILE
        # A dry run creates no token, but compares the deployed release with the one kept from a real run.
        kept = str(read_keys(keys)["root_token"]) if keys.is_file() else "(generated at apply)"
        token = kept if dry_run else dev_root_token(keys)
    # A stopped minikube answers nothing (and may time out): its releases are read once it runs.
    stopped = "minikube is not running yet" if state.minikube_running is False else ""
    plan = settle(
        plan_infrastructure(platform, state, dev_root_token=token), cfg.kube_context, not_up=stopped
    )
    runner = (
        None if dry_run else default_runner(cfg.kube_context, vault_bootstrapper(root, env_file, platform))
    )
    return carry_out("setup infrastructure", plan, runner, dry_run=dry_run, output=output)


def _registry_credentials(platform: Platform, *, required: bool, dry_run: bool) -> RegistryCredentials | None:
    """GITLAB_DEPLOY_TOKEN_USER/GITLAB_DEPLOY_TOKEN from the environment or .env, else a hidden prompt."""
    from gitops_poc.cluster.registry import RegistryCredentials

    cfg = platform.config
    user, token = cfg.gitlab_deploy_token_user, cfg.gitlab_deploy_token.get_secret_value()
    if user and token:
        return RegistryCredentials(user, token)
    if dry_run:
        return RegistryCredentials(user or "(GITLAB_DEPLOY_TOKEN_USER)", "") if required else None
    if not sys.stdin.isatty():
        if not required:
            return None
        raise UsageError(
            "GITLAB_DEPLOY_TOKEN_USER and GITLAB_DEPLOY_TOKEN are not set (environment or .env) and there "
            "is no terminal to ask on; set them (the token is never taken as an option)"
        )
    user = user or typer.prompt("GitLab deploy token username", default="", show_default=False)
    token = token or typer.prompt("GitLab deploy token", hide_input=True, default="", show_default=False)
    remember([token])
    if not user or not token:
        if not required:
            return None
        raise UsageError("no deploy token username or token given")
    return RegistryCredentials(user, token)


def _read_state(read: Callable[[], T], empty: T, *, dry_run: bool, what: str) -> T:
    """The cluster's state; a dry run without a reachable cluster plans as for an empty one."""
    from gitops_poc.cluster.kube import ClusterUnreachable

    try:
        return read()
    except ClusterUnreachable as exc:
        if not dry_run:
            raise
        err.print(f"[yellow]note:[/] {escape(str(exc))}; {what} planned as for an empty cluster")
        return empty


@app.command("registry")
def registry(
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    dry_run: bool = DryRunOption,
    output: OutputFormat = OutputOption,
) -> int:
    """Create each environment's namespace, the `regsecret` pull secret for DOCKER_REGISTRY (updated in
    place), and add it to the imagePullSecrets of the namespace's default and service ServiceAccounts (what
    they list already is kept). Credentials: GITLAB_DEPLOY_TOKEN_USER/GITLAB_DEPLOY_TOKEN from the environment
    or .env, else asked for with hidden input; never an option."""
    from gitops_poc.cluster.apply import default_runner
    from gitops_poc.cluster.kube import Kube
    from gitops_poc.cluster.registry import RegistryState, plan_registry, read_registry_state

    platform = load_platform(root, env_file)
    credentials = _registry_credentials(platform, required=True, dry_run=dry_run)
    assert credentials is not None
    context = platform.config.kube_context
    state = _read_state(
        lambda: read_registry_state(lambda c: Kube.from_kubeconfig(c or context), platform),
        RegistryState(),
        dry_run=dry_run,
        what="ServiceAccounts",
    )
    plan = plan_registry(platform, credentials, state)
    runner = None if dry_run else default_runner(context)
    return carry_out("setup registry", plan, runner, dry_run=dry_run, output=output)


def _require_namespace(context: str, namespace: str, hint: str) -> None:
    from gitops_poc.cluster.kube import Kube

    if Kube.from_kubeconfig(context).get("v1", "Namespace", None, namespace) is None:
        raise UsageError(f"namespace {namespace} does not exist in {context}: {hint}")


def _cluster_targets(platform: Platform, options: list[str]) -> tuple[Step, ...]:
    """`--cluster NAME=CONTEXT` -> the registration steps, with server and CA from that context."""
    import base64

    from gitops_poc.cluster.clusters import ClusterTarget, parse_cluster_option, plan_registration
    from gitops_poc.vault.kube_ca import ca_from_kubeconfig, server_from_kubeconfig

    steps: list[Step] = []
    for option in options:
        name, context = parse_cluster_option(option, platform)
        server = server_from_kubeconfig(context, os.environ)
        ca, origin = ca_from_kubeconfig(context, os.environ)
        if server is None or ca is None:
            raise UsageError(
                f"--cluster {option}: the kubeconfig must give the API server and CA of {context!r} "
                f"({origin})"
            )
        target = ClusterTarget(name, context, server, base64.b64encode(ca.encode()).decode())
        steps += plan_registration(platform, target)
    return tuple(steps)


@app.command("pull")
def pull(
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    cluster: list[str] = typer.Option(
        [],
        "--cluster",
        metavar="NAME=CONTEXT",
        help="Register a cluster of ENVIRONMENT_CLUSTERS with ArgoCD, reached through kube context CONTEXT "
        "(as `argocd cluster add` does; repeatable).",
    ),
    dry_run: bool = DryRunOption,
    output: OutputFormat = OutputOption,
) -> int:
    """ArgoCD pull delivery: repository credentials as a labelled Secret (GITLAB_DEPLOY_TOKEN_USER/
    GITLAB_DEPLOY_TOKEN; public repositories need none), then the AppProject, the platform Applications and
    the ApplicationSet, by server-side apply. The ArgoCD admin password is never printed (`proxy argocd
    --show-password` shows it on request)."""
    from gitops_poc.cluster.apply import default_runner
    from gitops_poc.cluster.pull import plan_pull
    from gitops_poc.release.policy import release_windows

    platform = load_platform(root, env_file)
    cfg = platform.config
    credentials = _registry_credentials(platform, required=False, dry_run=dry_run)
    if not dry_run:
        _require_namespace(
            cfg.kube_context, cfg.argocd_namespace, "run `gitops-poc setup infrastructure` first"
        )
    plan = plan_pull(platform, credentials, _cluster_targets(platform, cluster), release_windows(root))
    check_custom_resources(plan, platform)
    runner = None if dry_run else default_runner(cfg.kube_context)
    return carry_out("setup pull", plan, runner, dry_run=dry_run, output=output)


@app.command("push")
def push(
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    token_file: Path | None = typer.Option(
        None,
        "--token-file",
        dir_okay=False,
        allow_dash=True,
        help="Read the token of the agent in ArgoCD's cluster (KUBE_CONTEXT) from this file ('-' = stdin) "
        "instead of GITLAB_AGENT_TOKEN.",
    ),
    max_prune: int = typer.Option(
        DEFAULT_MAX_PRUNE,
        "--max-prune",
        min=0,
        help="Stop (exit 1, nothing changed) when more platform objects than this would be pruned.",
    ),
    dry_run: bool = DryRunOption,
    output: OutputFormat = OutputOption,
) -> int:
    """GitLab agents (push delivery), one per cluster: bind each to the `edit` role in the namespaces of the
    environments its cluster runs (not cluster-admin), apply those environments' platform objects from
    gitops-config/platform/<env>/ (ServiceAccounts, VaultAuths, PDBs: what ArgoCD's platform-<env> applies in
    pull mode) by server-side apply, and install the pinned gitlab-agent chart there.

    ArgoCD's cluster (KUBE_CONTEXT) gets the agent GITLAB_AGENT_NAME with GITLAB_AGENT_TOKEN (or
    --token-file); a cluster of ENVIRONMENT_CLUSTERS gets the agent named after it, in its kube context, with
    the token GITLAB_AGENT_TOKEN_<CLUSTER> (capitals, '_' for '-'; `gitlab bootstrap` writes them). A token
    not set is asked for with hidden input. Tokens go to helm through a private values file (0600, deleted
    after), never --set.

    Each environment's platform objects form an ApplySet (parent ConfigMap gitops-poc-platform, members
    labelled applyset.kubernetes.io/part-of): an object of it that gitops-config/platform/<env>/ no longer
    holds is deleted (pruned); nothing without that label ever is. More than --max-prune deletions: exit 1,
    nothing changed (--dry-run lists them)."""
    from gitops_poc.cluster.apply import default_runner
    from gitops_poc.cluster.applyset_live import read_live_sets
    from gitops_poc.cluster.kube import Kube
    from gitops_poc.cluster.platform_objects import read_platform_objects
    from gitops_poc.cluster.push import check_prune_guard, plan_push

    platform = load_platform(root, env_file)
    objects = read_platform_objects(root, platform)
    tokens = {
        cluster: _agent_token(platform, cluster, token_file if cluster is None else None, dry_run=dry_run)
        for cluster in platform.agent_clusters
    }
    context = platform.config.kube_context
    unknown: dict[str, LiveSet | None] = dict.fromkeys(platform.environments)
    live = _read_state(
        lambda: read_live_sets(platform, objects, lambda other: Kube.from_kubeconfig(other or context)),
        unknown,
        dry_run=dry_run,
        what="the platform objects to prune",
    )
    plan = plan_push(platform, tokens, objects, live)
    check_custom_resources(plan, platform)
    plan = settle(plan, context)
    if not dry_run:
        check_prune_guard(plan, max_prune)  # before any change
    runner = None if dry_run else default_runner(context)
    code = carry_out("setup push", plan, runner, dry_run=dry_run, output=output)
    check_prune_guard(plan, max_prune)  # a dry run shows the plan, then says the guard would stop it
    return code


def _agent_token(platform: Platform, cluster: str | None, token_file: Path | None, *, dry_run: bool) -> str:
    """The agent token of `cluster`: --token-file, else its .env key, else a hidden prompt (never argv)."""
    from gitops_poc.config import agent_token_key

    if token_file is not None:
        from gitops_poc.secretfile import read_secret

        return read_secret(token_file, "--token-file")
    token = platform.config.agent_token(cluster)
    if token or dry_run:
        return token
    key = agent_token_key(cluster)
    if not sys.stdin.isatty():
        hint = "; set it or pass --token-file -" if cluster is None else "; set it"
        raise UsageError(f"{key} is not set (environment or .env){hint}")
    what = "GitLab agent token" + (f" of cluster {cluster}" if cluster else "")
    token = str(typer.prompt(what, hide_input=True, default="", show_default=False)).strip()
    remember([token])
    if not token:
        raise UsageError(f"no agent token given ({key})")
    return token
