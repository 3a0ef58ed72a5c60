"""`gitops-poc rollout template`: what changed in templates/service-repo, into every service repository."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from gitops_poc.cli.common import (
    EnvFileOption,
    RemoteBaseOption,
    RootOption,
    TokenFileOption,
    load_platform,
    remote_token,
    writer_lock,
)
from gitops_poc.cli.output import OutputFormat, err, out, print_json
from gitops_poc.errors import UsageError
from gitops_poc.gitauth import askpass_env
from gitops_poc.publish.remote import RemoteBase, parse_remote_base
from gitops_poc.rollout.template.model import FINDINGS, ROLLOUT_BRANCH, Outcome, RepoRollout
from gitops_poc.rollout.template.run import OpenMergeRequest, Options, RolloutStopped, rollout_template
from gitops_poc.tokenhome import Token

SHOWN_FILES = 6
_STYLE = {
    Outcome.PROPOSED: "green",
    Outcome.PUSHED: "green",
    Outcome.UNCHANGED: "dim",
    Outcome.DECLINED: "yellow",
    Outcome.UP_TO_DATE: "dim",
    Outcome.CONFLICT: "bold red",
    Outcome.BRANCH_TAKEN: "red",
    Outcome.NO_BASE: "red",
    Outcome.NOT_PUBLISHED: "yellow",
    Outcome.PENDING: "yellow",
}
_WOULD = {Outcome.PROPOSED: "would propose", Outcome.PUSHED: "would push"}


def _merge_requests(base: RemoteBase, token: Token | None) -> OpenMergeRequest:
    if not base.is_http or base.url is None:
        raise UsageError(
            f"--remote-base {base.shown()}: merge requests need GitLab (an https URL); for a folder of bare "
            "repositories pass --push (or --dry-run to look)"
        )
    if not token:
        raise UsageError("merge requests need GitLab's API: set GITLAB_TOKEN (or pass --token-file)")
    from gitops_poc.gitlab.client import connect, open_merge_request

    gl = connect(base.url, token)
    return lambda project, source, target, title, text, unless_closed: open_merge_request(
        gl, project, source, target, title, text, unless_closed=unless_closed
    )


def _show(results: list[RepoRollout], dry_run: bool) -> None:
    table = Table(title="Template rollout" + (" (dry run: nothing pushed)" if dry_run else ""))
    for column in ("repository", "outcome", "files", "detail"):
        table.add_column(column)
    for result in results:
        shown = ", ".join(result.files[:SHOWN_FILES])
        if len(result.files) > SHOWN_FILES:
            shown += f", ... ({len(result.files)} files)"
        verb = _WOULD.get(result.outcome, result.outcome.value) if dry_run else result.outcome.value
        detail = result.detail + (f" (merge request {result.merge_request})" if result.merge_request else "")
        table.add_row(
            escape(result.repository),
            f"[{_STYLE[result.outcome]}]{verb}[/]",
            escape(shown),
            escape(detail),
        )
    out.print(table)


def _report(results: list[RepoRollout], dry_run: bool, output: OutputFormat) -> int:
    findings = [r for r in results if r.outcome in FINDINGS]
    if output is OutputFormat.json:
        print_json(
            {
                "dry_run": dry_run,
                "branch": ROLLOUT_BRANCH,
                "findings": len(findings),
                "repositories": [r.as_json() for r in results],
            }
        )
    else:
        _show(results, dry_run)
        counts: dict[str, int] = {}
        for result in results:
            counts[result.outcome.value] = counts.get(result.outcome.value, 0) + 1
        err.print(", ".join(f"{n} {outcome}" for outcome, n in counts.items()) or "no service repositories")
        if any(r.outcome is Outcome.CONFLICT for r in results):
            err.print(
                "Conflicts: nothing was pushed to those repositories. Bring the template's change into "
                "them by hand (the files named), or adapt the template, then run again."
            )
        if any(r.outcome is Outcome.PENDING for r in results):
            err.print("More repositories wait beyond --batch: run the same command again for the next batch.")
    return 1 if findings else 0


def template(
    root: Path = RootOption,
    env_file: Path | None = EnvFileOption,
    remote_base: str | None = RemoteBaseOption,
    token_file: Path | None = TokenFileOption,
    push: bool = typer.Option(
        False, "--push", help="Push the merge onto each default branch instead of opening merge requests."
    ),
    batch: int | None = typer.Option(
        None,
        "--batch",
        min=1,
        help="Change at most N repositories in this run; the next run takes the next N.",
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        help="For repositories with no recorded template version: the platform root's git revision whose "
        "templates/service-repo they took (default: the commit that added services/<name>).",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Fetch and merge, show what each repository would get, push nothing."
    ),
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o", help="text or json."),
) -> int:
    """Bring what changed in templates/service-repo into every service repository.

    For each repository: the template at the version it took (recorded in .gitops-poc-template.json) is
    the base of a three-way merge with the repository's default branch and the template as committed now,
    so the team's own edits stay. The merge goes to the branch gitops-poc/template-rollout with one merge
    request per repository (or onto the default branch with --push). Files init generates
    (.gitlab-ci.yml, vendor/) are left to init. A repository whose team changed the same lines is reported
    with the files named and nothing is pushed there (exit 1). A second run opens nothing new: it updates
    the open merge requests. GitLab failing mid-rollout stops it (exit 2); run it again to resume.
    """
    platform = load_platform(root, env_file)
    base = parse_remote_base(remote_base, root)
    token = remote_token(platform, base, token_file)
    open_mr = None if push or dry_run else _merge_requests(base, token)
    options = Options(push=push, dry_run=dry_run, batch=batch, since=since)

    def progress(service: str, index: int, total: int) -> None:
        if output is OutputFormat.text:
            err.print(f"  [dim]{index + 1}/{total} {escape(service)} ...[/]")

    verb = "Checking" if dry_run else "Rolling out"
    err.print(
        f"{verb} templates/service-repo: {len(platform.services)} repositories -> {escape(base.shown())}"
    )
    lock = writer_lock(root, "gitops-poc rollout template", writes=not dry_run)
    with lock, askpass_env(token if base.is_http else None) as git_env:
        try:
            results = rollout_template(
                platform, root, base, options, open_mr=open_mr, git_env=git_env, progress=progress
            )
        except RolloutStopped as exc:
            _report(exc.results, dry_run, output)
            raise
    return _report(results, dry_run, output)
