"""`gitops-poc ci ...`: what a service's pipeline runs: write an image into an environment (pull mode),
promote it, pin an environment, or deploy with Helm through the GitLab agent (push mode)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from gitops_poc.cli.output import OutputFormat, err, print_json
from gitops_poc.errors import UsageError

if TYPE_CHECKING:
    from gitops_poc.delivery.deploy import HelmDeploy
    from gitops_poc.delivery.target import Target
    from gitops_poc.delivery.writeback import WriteBack
    from gitops_poc.platform import Platform

app = typer.Typer(
    help="Pipeline commands: bump/promote/pin/unpin write to a service repository's .cicd/<env>.yaml "
    "and push "
    "without ever losing a concurrent change; deploy runs helm through the GitLab agent (push mode).",
    no_args_is_help=True,
)

RepoDirOption = typer.Option(
    Path("."), "--repo-dir", "-C", help="The service repository (a clone or CI's checkout).", file_okay=False
)
PushOption = typer.Option(
    False,
    "--push",
    help="Push to the remote branch (retrying on races); without it, only "
    "commit onto the checked-out branch.",
)
RemoteOption = typer.Option(
    None,
    "--remote",
    envvar="GITOPS_POC_REMOTE",
    help="Remote name, URL or path to push to (default: $CI_PROJECT_URL.git in GitLab CI, else origin). "
    "Credentials come from CI_PUSH_TOKEN or CI_JOB_TOKEN through a git credential helper, never the URL, "
    "and only for the token's GitLab (GITLAB_URL, else CI_SERVER_URL).",
)
BranchOption = typer.Option(
    None,
    "--branch",
    help="Branch to write (default: CI_COMMIT_BRANCH, CI_DEFAULT_BRANCH, the checked-out branch).",
)
PipelineOption = typer.Option(
    None,
    "--pipeline",
    envvar="CI_PIPELINE_IID",
    help="Number of the pipeline that built the image (default: CI_PIPELINE_IID). "
    "A bump from an older pipeline "
    "than the one recorded in the file stands down (exit 4).",
)
ForceOlderOption = typer.Option(
    False, "--force-older", help="Write even when a newer pipeline wrote the current value."
)
AttemptsOption = typer.Option(
    30, "--attempts", min=1, max=1000, help="Push attempts before giving up (exit 6)."
)
OutputOption = typer.Option(OutputFormat.text, "--output", "-o", help="text, or json for scripts.")
BreakGlassOption = typer.Option(
    False,
    "--break-glass",
    help="Go on inside a freeze (a sync window holding the environment); needs --reason, which the "
    "commit records as a Break-glass trailer.",
)
ReasonOption = typer.Option(None, "--reason", help="Why --break-glass (recorded in the commit).")
ReleaseConfigOption = typer.Option(
    None,
    "--release-config",
    envvar="GITOPS_POC_RELEASE_CONFIG",
    help="gitops-config/release.yaml to take the sync windows from (default: the pipeline's SYNC_WINDOWS "
    "variable, which `init` generates from it).",
    dir_okay=False,
)
ServiceOption = typer.Option(
    None,
    "--service",
    envvar="SERVICE_NAME",
    help="Service (default: SERVICE_NAME, set by its .gitlab-ci.yml, else the project or folder name); "
    "names the Application the sync windows are matched against.",
)
EXIT_HELP = (
    "Exit codes: 0 updated or already up to date, 2 bad input, 4 superseded by a newer pipeline, "
    "5 environment pinned, 6 gave up after --attempts lost races, 7 held by a freeze window, "
    "8 a promotion gate failed, "
    "1 other git failures."
)


EnvironmentsOption = typer.Option(
    None,
    "--environments",
    envvar="ENVIRONMENTS",
    help="The platform's environments, in promotion order (default: ENVIRONMENTS, which the generated "
    "pipeline sets; else dev staging prod).",
)


def _environments(given: str | None) -> tuple[str, ...]:
    from gitops_poc.config import DEFAULTS, environments_of

    if given is None:
        return environments_of(DEFAULTS["ENVIRONMENTS"], "built-in default")
    return environments_of(
        given, "ENVIRONMENTS" if os.environ.get("ENVIRONMENTS") == given else "--environments"
    )


def _check_env(env: str, environments: tuple[str, ...], option: str = "--env") -> str:
    """`env` when it is one of the platform's environments: a values file of another name (left from a
    removed environment, or a typo's twin) is never written."""
    from gitops_poc.config import environment_error

    if problem := environment_error(env, environments):
        raise UsageError(f"{option}: {problem}")
    return env


def _on_retry(attempt: int, pause: float, message: str) -> None:
    first = message.splitlines()[-1] if message else "rejected"
    err.print(
        escape(
            f"push {attempt} lost a race ({first.strip()}); fetching the new head, retrying in {pause:.2f} s"
        )
    )


def _finish(
    result: WriteBack,
    target: Target,
    output: OutputFormat,
    then: Callable[[], dict[str, Any]] | None = None,
) -> int:
    """Print what the write did; with `then` (push mode's redeploy), run it after a write that went
    through and report both (`--output json`: one document, the follow-up under `deploy`)."""
    from gitops_poc.delivery.writes import report
    from gitops_poc.errors import GitopsError

    for note in (*target.notes, *result.decision.warnings):
        err.print(escape(f"warning: {note}"))
    code = _print_write(result, target)
    followed = then() if then is not None and code == 0 else None
    if output is OutputFormat.json:
        print_json({**report(result, target), **({"deploy": followed} if followed is not None else {})})
    if followed is not None and not followed["ok"]:
        raise GitopsError(followed["message"])
    return code


def _print_write(result: WriteBack, target: Target) -> int:
    from gitops_poc.delivery.decide import EXIT_CODES, Outcome

    decision = result.decision
    text = decision.message
    if decision.outcome is Outcome.UPDATED:
        where = (
            f"pushed to {target.branch} of {target.url}" if result.pushed else "committed locally (no --push)"
        )
        text += f"; {where} as {result.commit[:12] if result.commit else '?'}"
        if result.attempts > 1:
            text += f" after {result.attempts} attempts"
    style = {"updated": "green", "unchanged": "dim", "superseded": "yellow", "pinned": "yellow"}.get(
        decision.outcome.value, "red"
    )
    err.print(f"[{style}]{decision.outcome.value}[/]: {escape(text)}")
    return EXIT_CODES[decision.outcome]


def _service(service: str | None, repo_dir: Path) -> str:
    return service or os.environ.get("CI_PROJECT_NAME") or repo_dir.resolve().name


def _freeze(
    env: str,
    service: str,
    release_config: Path | None,
    break_glass: bool,
    reason: str | None,
    action: str,
) -> tuple[tuple[str, str], ...]:
    """The freeze check at the moment the command runs; the commit trailers of a break-glass override."""
    from gitops_poc.delivery.pins import now_utc
    from gitops_poc.release.freeze import job_freeze

    check = job_freeze(
        os.environ,
        release_config=release_config,
        service=service,
        env=env,
        now=now_utc(),
        break_glass=break_glass,
        reason=reason,
        action=action,
    )
    if check.note:
        err.print(escape(f"warning: {check.note}"))
    return check.trailers


def _target(
    repo_dir: Path, remote: str | None, branch: str | None, pipeline: str | None, push: bool
) -> Target:
    from gitops_poc.delivery.target import resolve_target

    return resolve_target(repo_dir, os.environ, remote=remote, branch=branch, pipeline=pipeline, push=push)


@app.command("bump", epilog=EXIT_HELP)
def bump(
    env: str = typer.Option(..., "--env", help="Environment whose .cicd/<env>.yaml gets the image."),
    tag: str = typer.Option(
        ..., "--tag", help="Image tag (OCI grammar: letters, digits, '_', '.', '-'; <= 128)."
    ),
    digest: str | None = typer.Option(
        None, "--digest", help="sha256:<64 hex>; makes the deployed reference immutable (<tag>@sha256:...)."
    ),
    repository: str | None = typer.Option(None, "--repository", help="Image repository to set as well."),
    push: bool = PushOption,
    pipeline: str | None = PipelineOption,
    force_older: bool = ForceOlderOption,
    remote: str | None = RemoteOption,
    branch: str | None = BranchOption,
    attempts: int = AttemptsOption,
    environments: str | None = EnvironmentsOption,
    repo_dir: Path = RepoDirOption,
    output: OutputFormat = OutputOption,
    service: str | None = ServiceOption,
    break_glass: bool = BreakGlassOption,
    reason: str | None = ReasonOption,
    release_config: Path | None = ReleaseConfigOption,
) -> int:
    """Set image.tag (and image.repository) in .cicd/ENV.yaml as a key-level edit; commit and push.

    Comments and layout are kept; the pipeline number is recorded beside the tag. Nothing is committed when
    the image is already there. A rejected push fetches the new head, re-applies the change on it and
    retries with jittered backoff; it never forces and never merges. Inside a freeze window of the
    environment's Application it changes nothing (exit 7).
    """
    from gitops_poc.delivery.image import Image, check_digest, check_repository, check_tag
    from gitops_poc.delivery.pins import now_utc
    from gitops_poc.delivery.writeback import RetryPolicy
    from gitops_poc.delivery.writes import bump as run_bump

    image = Image(
        check_repository(repository) if repository is not None else None,
        check_tag(tag),
        check_digest(digest) if digest is not None else None,
    )
    _check_env(env, _environments(environments))
    trailers = _freeze(env, _service(service, repo_dir), release_config, break_glass, reason, "bump of")
    target = _target(repo_dir, remote, branch, pipeline, push)
    result = run_bump(
        target,
        env,
        image,
        now_utc(),
        push=push,
        force_older=force_older,
        policy=RetryPolicy(attempts=attempts),
        on_retry=_on_retry,
        trailers=trailers,
    )
    return _finish(result, target, output)


@app.command("promote", epilog=EXIT_HELP)
def promote(
    source: str = typer.Option(..., "--from", help="Environment whose image is promoted."),
    env: str = typer.Option(..., "--to", help="Environment that gets it."),
    allow_skip: bool = typer.Option(
        False, "--allow-skip", help="Allow skipping environments of ENVIRONMENTS."
    ),
    environments: str | None = EnvironmentsOption,
    push: bool = PushOption,
    force_older: bool = ForceOlderOption,
    remote: str | None = RemoteOption,
    branch: str | None = BranchOption,
    attempts: int = AttemptsOption,
    repo_dir: Path = RepoDirOption,
    output: OutputFormat = OutputOption,
    service: str | None = ServiceOption,
    break_glass: bool = BreakGlassOption,
    reason: str | None = ReasonOption,
    release_config: Path | None = ReleaseConfigOption,
    skip_gates: bool = typer.Option(
        False,
        "--skip-gates",
        help="Promote without the evidence the gates ask for; needs --reason (recorded as Gates-skipped).",
    ),
    kube_context: str | None = typer.Option(
        None,
        "--kube-context",
        help="Kube context of Argo CD's cluster, where the source's Application is read (push mode: the "
        "source environment's cluster, where its Helm release is read; default: KUBE_CONTEXT).",
    ),
) -> int:
    """Copy the exact image (repository, tag, digest) of --from into --to; commit and push.

    The order comes from ENVIRONMENTS: only to the next environment unless --allow-skip. Refused when the
    source has no image; a pinned target is left alone (exit 5). The source's pipeline record travels
    with the image, so an older image never replaces a newer one (exit 4, --force-older overrides).
    Inside a freeze window of the target's Application it changes nothing (exit 7). Gates (release.yaml's
    `gates`, default health + soak 30m into production): the source's Argo CD Application must be Synced,
    Healthy, its last sync Succeeded, at a revision containing the image's commit, running the image, and
    healthy for the soak time; else nothing changes (exit 8). Push mode (GITOPS_MODE=push): the source's
    Helm release must be deployed with the image, its Deployments rolled out, for the soak time. The
    evidence goes into the commit as trailers. An unreachable cluster fails closed (exit 2).
    """
    from gitops_poc.delivery.decide import promotion_order_error
    from gitops_poc.delivery.pins import now_utc
    from gitops_poc.delivery.writeback import RetryPolicy
    from gitops_poc.delivery.writes import promote as run_promote
    from gitops_poc.release.promotion import promotion_gates

    order = _environments(environments)
    if problem := promotion_order_error(
        order, _check_env(source, order, "--from"), _check_env(env, order, "--to"), allow_skip
    ):
        raise UsageError(problem)
    name = _service(service, repo_dir)
    trailers = _freeze(env, name, release_config, break_glass, reason, "promotion to")
    target = _target(repo_dir, remote, branch, None, push)
    gated = promotion_gates(
        os.environ,
        target=target,
        push=push,
        source=source,
        env=env,
        service=name,
        skip_gates=skip_gates,
        reason=reason,
        kube_context=kube_context,
        release_config=release_config,
        now=now_utc(),
    )
    if gated.note:
        err.print(escape(f"warning: {gated.note}"))
    result = run_promote(
        target,
        source,
        env,
        now_utc(),
        push=push,
        force_older=force_older,
        policy=RetryPolicy(attempts=attempts),
        on_retry=_on_retry,
        trailers=(*trailers, *gated.trailers),
        expected=gated.expected,
        require_pin=gated.pinned,
    )
    return _finish(result, target, output)


def _pinner(target: Target) -> str:
    """Who pins: the GitLab user running the pipeline, else the commit identity."""
    return os.environ.get("GITLAB_USER_LOGIN") or str(target.identity)


@app.command("rollback", epilog=EXIT_HELP)
def rollback(
    env: str = typer.Option(..., "--env", help="Environment to roll back."),
    to: str | None = typer.Option(
        None, "--to", help="An earlier image tag of the environment, or a commit (its file's image then)."
    ),
    steps: int | None = typer.Option(
        None, "--steps", min=1, max=1000, help="How many images back (default 1: the previous one)."
    ),
    allow_repository_change: bool = typer.Option(
        False, "--allow-repository-change", help="Roll back even when the image repository differs."
    ),
    reason: str | None = typer.Option(
        None, "--reason", help="Why (added to the pin's reason; with --break-glass, recorded as that too)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the change it would commit; write nothing."),
    push: bool = PushOption,
    remote: str | None = RemoteOption,
    branch: str | None = BranchOption,
    attempts: int = AttemptsOption,
    environments: str | None = EnvironmentsOption,
    repo_dir: Path = RepoDirOption,
    output: OutputFormat = OutputOption,
    service: str | None = ServiceOption,
    break_glass: bool = BreakGlassOption,
    release_config: Path | None = ReleaseConfigOption,
    kube_context: str | None = typer.Option(
        None,
        "--kube-context",
        help="Push mode: the kube context helm redeploys through (default: KUBE_CONTEXT; in CI the agent's).",
    ),
    timeout: str = typer.Option("5m", "--timeout", help="Push mode: how long helm waits for the rollout."),
) -> int:
    """Write an earlier image of ENV back into .cicd/ENV.yaml, exactly (repository, tag, digest), and pin ENV.

    The image comes from the history of .cicd/ENV.yaml (each commit that changed it). The pin, in the same
    commit, names the rollback, so the next pipeline's bump stands down (exit 5) instead of undoing it;
    `ci unpin` releases it. The write is `ci bump`'s: key-level, retried on lost races, never forced. A
    rollback to another image repository is refused unless --allow-repository-change. Inside a freeze
    window it changes nothing (exit 7) unless --break-glass. Push mode (GITOPS_MODE=push): after the
    commit, the image is redeployed as `ci deploy` does (helm upgrade --install through the agent's kube
    context, the rollback recorded as the revision's description); --dry-run also prints that command.
    """
    from gitops_poc.config import load_config
    from gitops_poc.delivery.pins import now_utc
    from gitops_poc.delivery.writeback import RetryPolicy
    from gitops_poc.platform import Platform
    from gitops_poc.release.rollback_job import plan_rollback, preview, run_rollback

    _check_env(env, _environments(environments))
    if to is not None and steps is not None:
        raise UsageError("--to and --steps exclude each other: give one")
    platform = Platform(load_config(None, os.environ))
    push_mode = platform.config.gitops_mode == "push"
    if push_mode:
        name = _deployed_service(platform, service, repo_dir)
        _check_context(kube_context)
    target = _target(repo_dir, remote, branch, None, push)
    now = now_utc()
    plan = plan_rollback(
        target,
        env,
        now,
        push=push,
        steps=steps,
        to=to,
        allow_repository_change=allow_repository_change,
        reason=reason,
        pinner=_pinner(target),
    )

    def redeploy(trailers: tuple[tuple[str, str], ...]) -> tuple[HelmDeploy, str, str]:
        """Push mode's redeploy of the rollback's image: the plan, the helm binary, the command."""
        from gitops_poc.delivery.deploy import helm_major, plan_deploy, release_description
        from gitops_poc.render.helm import find_helm

        deploy_plan = plan_deploy(
            platform,
            repo_dir.resolve(),
            name,
            env,
            plan.target.image,
            kube_context=kube_context or platform.config.kube_context,
            timeout=timeout,
            description=release_description((*plan.trailers(), *trailers)),
        )
        binary = find_helm()
        return deploy_plan, binary, deploy_plan.command("helm", helm_major(binary))

    if dry_run:
        decision, diff = preview(target, env, plan, now)
        command = redeploy(())[2] if push_mode else None
        if output is OutputFormat.json:
            print_json(
                {
                    "result": "dry-run",
                    "environment": env,
                    "from": {"reference": plan.current.reference, "commit": plan.current.commit},
                    "to": {"reference": plan.target.reference, "commit": plan.target.commit},
                    "pin": plan.pin.as_dict(),
                    "diff": diff,
                    **({"deploy": {"command": command}} if command else {}),
                }
            )
        else:
            from gitops_poc.cli.output import out

            out.out(diff, end="", highlight=False)
        if command:
            err.print(escape(f"Would run: {command}"))
        err.print(escape(f"dry run: {decision.message}; nothing was written"))
        return 0
    trailers = _freeze(env, _service(service, repo_dir), release_config, break_glass, reason, "rollback of")
    then: Callable[[], dict[str, Any]] | None = None
    if push_mode:
        deploy_plan, binary, command = redeploy(trailers)
        image = plan.target.image
        again = " ".join(
            ["ci deploy", f"--env {env}", f"--tag {image.tag}"]
            + ([f"--digest {image.digest}"] if image.digest else [])
            + ([f"--repository {image.repository}"] if image.repository else [])
        )

        def upgrade() -> dict[str, Any]:
            outcome = _helm_upgrade(deploy_plan, binary, command)
            if not outcome["ok"]:
                outcome["message"] += f"; the rollback commit stands (pinned): `{again}` deploys it"
            return outcome

        then = upgrade

    result = run_rollback(
        target,
        env,
        plan,
        now,
        push=push,
        policy=RetryPolicy(attempts=attempts),
        on_retry=_on_retry,
        trailers=trailers,
    )
    return _finish(result, target, output, then)


@app.command("pin", epilog=EXIT_HELP)
def pin(
    env: str = typer.Option(..., "--env", help="Environment to pin."),
    reason: str = typer.Option(..., "--reason", help="Why (shown to every pipeline that stands down)."),
    until: str | None = typer.Option(
        None, "--until", help="Expiry: a date (end of that day, UTC) or ISO 8601 time."
    ),
    push: bool = PushOption,
    remote: str | None = RemoteOption,
    branch: str | None = BranchOption,
    attempts: int = AttemptsOption,
    environments: str | None = EnvironmentsOption,
    repo_dir: Path = RepoDirOption,
    output: OutputFormat = OutputOption,
) -> int:
    """Pin ENV: `ci bump` and `ci promote` leave its values file alone (exit 5) until unpinned or expired.

    The pin is a comment line at the top of .cicd/ENV.yaml (`# gitops-poc:pin {...}`): Helm and ArgoCD never
    see it, so pinning changes no manifest; it names the reason, who pinned and when.
    """
    from gitops_poc.delivery.pins import Pin, now_utc, parse_until, timestamp
    from gitops_poc.delivery.writeback import RetryPolicy
    from gitops_poc.delivery.writes import set_pin

    _check_env(env, _environments(environments))
    if not reason.strip():
        raise UsageError("--reason must say why the environment is pinned")
    now = now_utc()
    if until is not None and parse_until(until) <= now:
        raise UsageError(f"--until {until!r} is already past")
    target = _target(repo_dir, remote, branch, None, push)
    marker = Pin(" ".join(reason.split()), _pinner(target), timestamp(now), until)
    result = set_pin(
        target, env, marker, push=push, policy=RetryPolicy(attempts=attempts), on_retry=_on_retry
    )
    return _finish(result, target, output)


@app.command("unpin", epilog=EXIT_HELP)
def unpin(
    env: str = typer.Option(..., "--env", help="Environment to release."),
    push: bool = PushOption,
    remote: str | None = RemoteOption,
    branch: str | None = BranchOption,
    attempts: int = AttemptsOption,
    environments: str | None = EnvironmentsOption,
    repo_dir: Path = RepoDirOption,
    output: OutputFormat = OutputOption,
) -> int:
    """Remove ENV's pin, so pipelines write to it again."""
    from gitops_poc.delivery.writeback import RetryPolicy
    from gitops_poc.delivery.writes import set_pin

    _check_env(env, _environments(environments))
    target = _target(repo_dir, remote, branch, None, push)
    result = set_pin(target, env, None, push=push, policy=RetryPolicy(attempts=attempts), on_retry=_on_retry)
    return _finish(result, target, output)


@app.command("deploy")
def deploy(
    env: str = typer.Option(..., "--env", help="Environment to deploy to (one of ENVIRONMENTS)."),
    tag: str | None = typer.Option(
        None, "--tag", help="Image tag to deploy (default: the one in the values files)."
    ),
    digest: str | None = typer.Option(None, "--digest", help="sha256:<64 hex>: deploy <tag>@<digest>."),
    repository: str | None = typer.Option(None, "--repository", help="Image repository to deploy."),
    service: str | None = typer.Option(
        None,
        "--service",
        envvar="SERVICE_NAME",
        help="Service (default: SERVICE_NAME, set by its .gitlab-ci.yml).",
    ),
    kube_context: str | None = typer.Option(
        None,
        "--kube-context",
        help="Kube context (default: KUBE_CONTEXT; in CI the agent's <group>/gitops-config:<agent>).",
    ),
    timeout: str = typer.Option("5m", "--timeout", help="How long helm waits for the rollout."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the helm command and render it with helm template."
    ),
    chart: Path | None = typer.Option(
        None, "--chart", help="With --dry-run: render this chart folder or .tgz."
    ),
    kube_version: str = typer.Option(
        "1.34", "--kube-version", help="With --dry-run: validate for this version."
    ),
    env_file: Path | None = typer.Option(
        None,
        "--env-file",
        help="Platform configuration (default: the process environment, as the pipeline sets it).",
        dir_okay=False,
    ),
    repo_dir: Path = RepoDirOption,
    output: OutputFormat = OutputOption,
    break_glass: bool = BreakGlassOption,
    reason: str | None = ReasonOption,
    release_config: Path | None = ReleaseConfigOption,
) -> int:
    """Push mode: helm upgrade --install SERVICE into ENV through the GitLab agent's kube context.

    The release name is the one ArgoCD uses, so push and pull deploys own the same objects; the chart is
    CHART_NAME at CHART_VERSION from CHART_REPO; the value files are .cicd/default.yaml then .cicd/ENV.yaml;
    the rollout is waited for and rolled back on failure. A failure says what it left: nothing changed (helm
    failed before recording a revision), rolled back, or a revision left failed (from `helm history` read
    before and after). --dry-run prints the command and renders it. With --output json, a failure is a JSON
    object too (ok false, the message, the release's latest revision before and after), with the same exit
    code. Inside a freeze window of the environment's Application nothing runs (exit 7, before helm);
    --break-glass --reason goes on and records both in the release (helm upgrade --description). With
    .cicd/ENV.yaml pinned (a rollback), a deploy of --tag stands down (exit 5) so the rollback sticks.
    """
    from gitops_poc.config import load_config
    from gitops_poc.delivery.deploy import check_pin, helm_major, plan_deploy, release_description
    from gitops_poc.delivery.image import Image, check_digest, check_repository, check_tag
    from gitops_poc.delivery.pins import now_utc
    from gitops_poc.errors import GitopsError
    from gitops_poc.platform import Platform
    from gitops_poc.render.helm import find_helm

    if env_file is not None and not env_file.is_file():
        raise UsageError(f"--env-file {env_file}: no such file")
    platform = Platform(load_config(env_file, os.environ))
    name = _deployed_service(platform, service, repo_dir)
    _check_context(kube_context)
    if digest is not None and tag is None:
        raise UsageError("--digest needs --tag (the reference deployed is <tag>@<digest>)")
    image = None
    if tag is not None:
        image = Image(
            check_repository(repository) if repository is not None else None,
            check_tag(tag),
            check_digest(digest) if digest is not None else None,
        )
    context = kube_context or platform.config.kube_context
    trailers = () if dry_run else _freeze(env, name, release_config, break_glass, reason, "deploy of")
    plan = plan_deploy(
        platform,
        repo_dir.resolve(),
        name,
        env,
        image,
        kube_context=context,
        timeout=timeout,
        description=release_description(trailers),
    )
    binary = find_helm()
    command = plan.command("helm", helm_major(binary))
    if not dry_run:
        check_pin(plan, now_utc())
        outcome = _helm_upgrade(plan, binary, command)
        if output is OutputFormat.json:
            # Scripts reading stdout get a failure too; the exit code stays the one of text output.
            print_json(outcome)
        if not outcome["ok"]:
            raise GitopsError(outcome["message"])
        return 0
    return _render_dry_run(plan, binary, chart, kube_version, command, output, platform)


def _deployed_service(platform: Platform, service: str | None, repo_dir: Path) -> str:
    """The service a push-mode deploy upgrades: named, valid, one of SERVICES."""
    from gitops_poc.config import service_name_error

    if service is not None and not service.strip():
        raise UsageError("--service (SERVICE_NAME) is empty: name the service to deploy, or leave it out")
    name = _service(service, repo_dir)
    if problem := service_name_error(name):
        raise UsageError(f"--service: {problem}")
    if name not in platform.services:
        raise UsageError(f"--service {name!r} is not in SERVICES ({' '.join(platform.services)})")
    return name


def _check_context(kube_context: str | None) -> None:
    from gitops_poc.config import context_error

    if kube_context is not None and (problem := context_error(kube_context)):
        raise UsageError(f"--kube-context: {problem}")


def _helm_upgrade(plan: HelmDeploy, binary: str, command: str) -> dict[str, Any]:
    """Run the upgrade `command` stands for, its output passed through; what happened, as `--output json`
    reports it (`ok` false with the message saying what a failure left)."""
    from gitops_poc.delivery.deploy import release_history, run_upgrade
    from gitops_poc.delivery.outcome import failure_message

    err.print(
        escape(
            f"Deploying {plan.service} to {plan.env} (namespace {plan.namespace}, release {plan.release}, "
            f"context {plan.kube_context}); helm waits up to {plan.timeout} for the rollout ..."
        )
    )
    err.print(escape(f"$ {command}"))
    summary = {
        "service": plan.service,
        "environment": plan.env,
        "release": plan.release,
        "namespace": plan.namespace,
        "command": command,
        "description": plan.description or None,
    }
    before = release_history(plan, binary)
    code, said = run_upgrade(plan, binary)
    if code != 0:
        after = release_history(plan, binary)
        return {
            **summary,
            "ok": False,
            "deployed": False,
            "helm_exit_code": code,
            "message": failure_message(plan.release, plan.namespace, code, said, before, after),
            "history": {"before": before.as_json(), "after": after.as_json()},
        }
    err.print(f"[green]deployed[/]: {escape(plan.service)} in {escape(plan.env)}")
    if plan.description:
        err.print(escape(f"recorded in the release's revision (helm history): {plan.description}"))
    return {**summary, "ok": True, "deployed": True}


def _render_dry_run(
    plan: HelmDeploy,
    binary: str,
    chart: Path | None,
    kube_version: str,
    command: str,
    output: OutputFormat,
    platform: Platform,
) -> int:
    from gitops_poc.errors import GitopsError
    from gitops_poc.render.chart import cache_root, resolve_chart
    from gitops_poc.render.crds import load_crd_schemas
    from gitops_poc.render.helm import Helm
    from gitops_poc.render.manifests import parse_manifests
    from gitops_poc.render.model import ChartUnavailable
    from gitops_poc.render.validate import validate_manifests

    helm = Helm(binary)
    local = resolve_chart(
        plan.chart,
        chart_path=chart,
        helm=helm,
        cache=cache_root(os.environ),
        on_pull=lambda message: err.print(message, markup=False),
    )
    if isinstance(local, ChartUnavailable):
        raise GitopsError(f"--dry-run cannot render: {local.note} (pass --chart PATH)")
    err.print(escape(f"Would run: {command}"))
    manifests = parse_manifests(
        helm.run(plan.template_args(local.path, kube_version)), f"{plan.service}/{plan.env}"
    )
    crds = load_crd_schemas(
        platform.config, helm, os.environ, on_pull=lambda message: err.print(message, markup=False)
    )
    report = validate_manifests(manifests, kube_version, crds)
    if output is OutputFormat.json:
        print_json(
            {
                "service": plan.service,
                "environment": plan.env,
                "release": plan.release,
                "namespace": plan.namespace,
                "command": command,
                "deployed": False,
                "manifests": [m.body for m in manifests],
                "valid": report.ok,
                "findings": [str(f) for f in report.findings],
            }
        )
    else:
        from gitops_poc.cli.output import out

        out.out("".join(f"---\n# Source: {m.source}\n{m.text}\n" for m in manifests), end="", highlight=False)
    err.print(
        escape(
            f"Rendered {len(manifests)} object(s) with {local.description}: "
            f"{'valid' if report.ok else 'INVALID'} for Kubernetes {kube_version}"
        )
    )
    if not report.ok:
        for finding in report.errors:
            err.print(escape(str(finding)))
        raise GitopsError(f"the rendered manifests of {plan.service} in {plan.env} would be rejected")
    return 0
