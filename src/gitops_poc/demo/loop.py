"""The demo's steps: the whole GitOps loop in a scratch workspace, each step a command a user would type."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_poc.config import DEFAULTS
from gitops_poc.demo.commands import TOOL, DemoFailed, Reporter, Shell, base_env, write_gitconfig
from gitops_poc.demo.release_steps import ReleaseSteps
from gitops_poc.demo.servers import ChartSource, chart_repository, openbao
from gitops_poc.demo.workspace import workspace
from gitops_poc.gitrepo import read_at
from gitops_poc.gitserver import serve_git
from gitops_poc.helmrepo import shared_charts_dir
from gitops_poc.yamlio import load_k8s

SERVICE = "health-demo"  # the service whose code changes in the demo
STAND_IN_CA = Path(__file__).parent / "data" / "stand-in-cluster-ca.pem"  # no cluster here: any PEM will do


@dataclass
class Summary:
    workspace: Path
    chart: ChartSource | None = None
    repositories: list[tuple[str, int]] = field(default_factory=list)  # (repository, commits)
    applications: int = 0
    images: list[tuple[str, str, str]] = field(default_factory=list)  # (env, before, after)
    vault: dict[str, int] = field(default_factory=dict)
    report: Path | None = None  # the page `report --html` wrote
    servers_stopped: bool = False
    seconds: float = 0.0
    commands: int = 0


@dataclass(frozen=True)
class Layout:
    """Where everything goes in the workspace (named in the output)."""

    workspace: Path

    @property
    def root(self) -> Path:  # the platform root: .env, gitops-config/, services/, templates/
        return self.workspace / "platform"

    @property
    def vault_check(self) -> Path:  # `vault check -o json`: the least-privilege matrix of the report
        return self.workspace / "vault-check.json"

    @property
    def report(self) -> Path:  # `report --html`: the page to open
        return self.workspace / "report"

    @property
    def remotes(self) -> Path:  # bare repositories, as GitLab would hold them
        return self.workspace / "remotes"

    @property
    def clone(self) -> Path:  # a developer's clone of the service repository
        return self.workspace / "clones" / SERVICE

    @property
    def logs(self) -> Path:
        return self.workspace / "logs"

    @property
    def gitconfig(self) -> Path:  # the demo's own git configuration, not the user's
        return self.workspace / "gitconfig"

    def bare(self, repo: str) -> Path:
        return self.remotes / DEFAULTS["GITLAB_GROUP"] / f"{repo}.git"


def _image(clone: Path, env: str, rev: str) -> str:
    text = read_at(clone / ".cicd" / f"{env}.yaml", rev)
    values = load_k8s(text or "", f"{env}.yaml") or {}
    image = values.get("image") or {}
    return str(image.get("tag", "?"))


class Demo:
    def __init__(self, workspace: Path, reporter: Reporter, checkout: Path | None = None) -> None:
        self.layout = Layout(workspace.absolute())
        self.reporter = reporter
        # helm and kubectl in .tools/bin, gitlab-ci-local (with its own Node) in .tools/node: `make tools`.
        tools = (
            [checkout / ".tools" / "bin", checkout / ".tools" / "node" / "node_modules" / ".bin"]
            if checkout
            else []
        )
        self.shell = Shell(reporter, self.layout.logs, base_env(tools, self.layout.gitconfig))
        self.checkout = checkout
        self.summary = Summary(self.layout.workspace)
        self.steps: list[tuple[str, Callable[[], None]]] = [
            ("the k8app chart repository", self.chart),
            ("gitops-poc init: every repository's files from the built-in defaults", self.init),
            ("gitops-poc publish: each repository to a local bare repository, twice", self.publish),
            ("Vault: a real OpenBao dev server, vault provision, vault check", self.vault),
            (f"a code change committed to {SERVICE} and pushed", self.code_change),
            (
                "its pipeline's update:dev job, run as GitLab CI runs it (gitlab-ci-local, shell executor)",
                self.pipeline,
            ),
            ("what ArgoCD would change in dev: plan --base and diff", self.argocd_view),
            ("gitops-poc review: the note a merge request raising prod's memory gets", self.review),
            ("a freeze window: the update:staging job stops inside it", self.freeze),
            ("gitops-poc ci promote: dev's exact image to staging", self.promote),
            ("promotion on evidence (refused without it) and a rollback that sticks", self.release),
            ("a pin on prod, and a promotion that respects it", self.pin),
            ("publish again: the pipeline's commits on the remotes survive", self.publish_again),
            ("gitops-poc status and report --html: what runs where, as a page", self.report),
        ]
        self._stack = ExitStack()
        self.sha = self.before = self.git_url = ""

    # --- the run --------------------------------------------------------------------------------------
    def run(self) -> Summary:
        started = time.monotonic()
        try:
            with workspace(self.layout.workspace), self._stack:
                write_gitconfig(self.layout.gitconfig)
                for number, (title, step) in enumerate(self.steps, 1):
                    self.reporter.step(number, len(self.steps), title)
                    step()
            self.summary.servers_stopped = True
        finally:
            self.summary.seconds = time.monotonic() - started
            self.summary.commands = self.shell.count
        return self.summary

    def tool(self, *args: str, **kwargs: object) -> object:
        return self.shell.run([TOOL, *args], **kwargs)  # type: ignore[arg-type]

    # --- steps ----------------------------------------------------------------------------------------
    def chart(self) -> None:
        offline = shared_charts_dir(self.checkout or Path.cwd()) / "k8app"
        source = self._stack.enter_context(chart_repository(DEFAULTS["CHART_REPO"], offline))
        self.summary.chart = source
        if source.offline is None:
            self.reporter.note(f"{source.url} answers: the chart is pulled from it")
        else:
            self.reporter.note(
                f"{DEFAULTS['CHART_REPO']} cannot be reached: serving the offline copy "
                f"{source.offline} at {source.url} (same `helm pull --repo URL --version V` path)"
            )
        self.shell.env["CHART_REPO"] = (
            source.url
        )  # for render/diff only; the generated files keep the public URL

    def init(self) -> None:
        root = self.layout.root
        self.shell.run([TOOL, "init", "--root", str(root), "--yes"], grep=r"Wrote", show=3)
        self.shell.run([TOOL, "init", "--root", str(root), "--check"], grep="up to date", show=2)
        self.shell.run([TOOL, "lint", "--root", str(root)], grep=r"error\(s\)", show=3)
        plan = self.shell.run([TOOL, "plan", "--root", str(root), "-o", "json"], quiet=True)
        self.summary.applications = len(json.loads(plan.stdout))
        self.reporter.note(f"plan: the ApplicationSet expands to {self.summary.applications} Applications")
        # The platform root in git, as a platform team keeps it: `plan --base` compares with its history.
        self.shell.run(["git", "init", "--quiet", "-b", "main", str(root)], quiet=True)
        self.shell.run(["git", "-C", str(root), "add", "-A"], quiet=True)
        self.shell.run(
            ["git", "-C", str(root), "commit", "--quiet", "-m", "platform from gitops-poc init"], quiet=True
        )

    def publish(self) -> None:
        root, remotes = self.layout.root, self.layout.remotes
        first = self.shell.run(
            [TOOL, "publish", "--root", str(root), "--remote-base", str(remotes)],
            show=8,
            grep=r"created|pushed",
        )
        if "6 of 6 repositories pushed" not in first.text:
            raise DemoFailed(f"publish did not create the six repositories: {first.text[-500:]}")
        again = self.shell.run(
            [TOOL, "publish", "--root", str(root), "--remote-base", str(remotes)], grep="up to date"
        )
        if "nothing pushed" not in again.text:
            raise DemoFailed("a second publish pushed something")

    def vault(self) -> None:
        bao = self._stack.enter_context(openbao(self.layout.workspace / "vault"))
        self.reporter.note(
            f"OpenBao dev server on {bao.addr} (pid {bao.pid}); its root token goes to the commands "
            "through VAULT_TOKEN only"
        )
        env = {"VAULT_ADDR": bao.addr, "VAULT_TOKEN": bao.token}
        root = str(self.layout.root)
        self.shell.run(
            [TOOL, "vault", "provision", "--root", root, "--kubernetes-ca-file", str(STAND_IN_CA)],
            env=env,
            show=4,
        )
        self.shell.run(
            [TOOL, "vault", "provision", "--root", root, "--kubernetes-ca-file", str(STAND_IN_CA)],
            env=env,
            grep="write",
            show=2,
        )
        check = self.shell.run(
            [TOOL, "vault", "check", "--root", root, "-o", "json"], env=env, quiet=False, show=0
        )
        self.summary.vault = _vault_counts(json.loads(check.stdout))
        self.layout.vault_check.write_text(check.stdout, encoding="utf-8")  # for the report's matrix
        counts = self.summary.vault
        self.reporter.note(
            f"{counts['identities']} identities x {counts['secrets']} secrets: each reads its own "
            f"({counts['own secret read']}), {counts['denied']} reads of others denied, write/list denied "
            f"{counts['write/list denied']}, leaks: {counts['leaks']}"
        )

    def code_change(self) -> None:
        clone = self.layout.clone
        # The remotes over git's smart HTTP, as GitLab serves them: the developer clones over HTTP, and
        # gitlab-ci-local fetches the pipeline's `include: project:` from the origin's host.
        self.git_url = self._stack.enter_context(serve_git(self.layout.remotes))
        self.reporter.note(
            f"{self.layout.remotes} served over smart HTTP at {self.git_url} (git http-backend)"
        )
        self.shell.run(
            [
                "git",
                "clone",
                "--quiet",
                f"{self.git_url}/{DEFAULTS['GITLAB_GROUP']}/{SERVICE}.git",
                str(clone),
            ]
        )
        # gitlab-ci-local keeps its state in the checkout; not part of the repository.
        with open(clone / ".git" / "info" / "exclude", "a", encoding="utf-8") as exclude:
            exclude.write(".gitlab-ci-local/\n")
        (clone / "CHANGELOG.md").write_text(
            "# health-demo\n\n- Answer health checks for every registered name.\n", encoding="utf-8"
        )
        self.shell.run(["git", "-C", str(clone), "add", "CHANGELOG.md"])
        self.shell.run(
            ["git", "-C", str(clone), "commit", "--quiet", "-m", "feat: answer every registered name"]
        )
        self.shell.run(["git", "-C", str(clone), "push", "--quiet", "origin", "HEAD"])
        sha = self.shell.run(
            ["git", "-C", str(clone), "rev-parse", "--short=8", "HEAD"], quiet=True
        ).stdout.strip()
        self.before = self.shell.run(
            ["git", "-C", str(clone), "rev-parse", "HEAD"], quiet=True
        ).stdout.strip()
        self.sha = sha
        self.reporter.note(
            f"commit {sha}: CI builds the image {SERVICE}:{sha} (no Docker here: the build job is "
            "not run, the update job deploys that tag)"
        )

    def pipeline(self) -> None:
        clone = self.layout.clone
        self.shell.run(["gitlab-ci-local", "--list", "--variable", "GITOPS_MODE=pull"], cwd=clone, show=8)
        job = self.shell.run(
            ["gitlab-ci-local", "--force-shell-executor", "--variable", "GITOPS_MODE=pull", "update:dev"],
            cwd=clone,
            show=10,
            grep=r"update:dev [$>]|PASS|FAIL",
        )
        if "PASS  update:dev" not in job.text:  # gitlab-ci-local exits 0 for some failed jobs
            raise DemoFailed(f"the update:dev job failed; its output is in {self.layout.logs}")
        self.shell.run(["git", "-C", str(clone), "pull", "--quiet", "--ff-only"])
        self.shell.run(["git", "-C", str(clone), "log", "--oneline", "-3"], show=3)
        tag = _image(clone, "dev", "HEAD")
        if tag != self.sha:
            raise DemoFailed(
                f"the update:dev job did not deploy {self.sha} to dev (its values file says {tag})"
            )
        self.reporter.note(
            f"dev now runs {SERVICE}:{tag}, written by the pipeline into .cicd/dev.yaml and pushed"
        )

    def argocd_view(self) -> None:
        clone, root = self.layout.clone, str(self.layout.root)
        self.shell.run([TOOL, "plan", "--root", root, "--base", "HEAD"], grep="Compared with", show=2)
        self.reporter.note(
            "no Application is added, changed or deleted: ArgoCD's change is inside health-demo-dev"
        )
        self.shell.run(
            [
                TOOL,
                "diff",
                SERVICE,
                "--root",
                root,
                "--service-dir",
                str(clone),
                "--env",
                "dev",
                "--base",
                self.before,
                "--head",
                "HEAD",
            ],
            expect=(1,),  # 1: something differs
            show=14,
            # The summary lines and the image lines of the manifests' diff (the full diff is in the log).
            grep=r"^===|Values:|image|Manifests:|^ +~ [A-Z]",
        )

    def review(self) -> None:
        clone = self.layout.clone
        values = clone / ".cicd" / "prod.yaml"
        text = values.read_text(encoding="utf-8")
        values.write_text(text.replace("memory:", "memory: 1Gi #", 1), encoding="utf-8")  # a change to review
        note = self.layout.logs / "review.md"
        try:
            self.shell.run(
                [
                    TOOL,
                    "review",
                    "--root",
                    str(clone),
                    "--service",
                    SERVICE,
                    "--base",
                    "HEAD",
                    "--report",
                    str(note),
                ],
                expect=(0, 1),
                show=3,
                grep=r"gitops-poc review\*\*|What merging does|^- prod",
            )
        finally:
            values.write_text(text, encoding="utf-8")  # the demo goes on from the pushed state
        self.reporter.note(f"the whole note (as posted on the merge request with --post): {note}")

    def promote(self) -> None:

        clone = self.layout.clone
        self.shell.run(
            [TOOL, "ci", "promote", "--from", "dev", "--to", "staging", "--push", "-C", str(clone)], show=4
        )
        self.shell.run(["git", "-C", str(clone), "pull", "--quiet", "--ff-only"], quiet=True)
        if _image(clone, "staging", "HEAD") != self.sha:
            raise DemoFailed("the promotion did not bring dev's image to staging")

    def _release_steps(self) -> ReleaseSteps:
        clone = self.layout.clone
        return ReleaseSteps(self.shell, self.reporter, clone, lambda env: _image(clone, env, "HEAD"))

    def freeze(self) -> None:
        self._release_steps().freeze()

    def release(self) -> None:
        self._release_steps().evidence_and_rollback(self.sha)

    def pin(self) -> None:
        clone = self.layout.clone
        self.shell.run(
            [
                TOOL,
                "ci",
                "pin",
                "--env",
                "prod",
                "--reason",
                "release freeze: audit",
                "--push",
                "-C",
                str(clone),
            ],
            show=3,
        )
        refused = self.shell.run(
            [TOOL, "ci", "promote", "--from", "staging", "--to", "prod", "--push", "-C", str(clone)],
            expect=(5,),
            show=4,
        )
        self.shell.run(["git", "-C", str(clone), "pull", "--quiet", "--ff-only"], quiet=True)
        if _image(clone, "prod", "HEAD") == self.sha or "pinned" not in refused.text:
            raise DemoFailed("the promotion changed the pinned prod")
        self.reporter.note("prod is pinned: the promotion changed nothing (exit 5) and said why")

    def publish_again(self) -> None:
        root, remotes = self.layout.root, self.layout.remotes
        self.shell.run(
            [TOOL, "publish", "--root", str(root), "--remote-base", str(remotes)],
            grep=r"(unchanged|merged|updated) +gitops-poc/health-demo",
            show=2,
        )
        clone = self.layout.clone
        self.summary.images = [
            (env, _image(clone, env, self.before), _image(clone, env, "HEAD"))
            for env in ("dev", "staging", "prod")
        ]
        for repo in ("gitops-config", *DEFAULTS["SERVICES"].split()):
            count = self.shell.run(
                ["git", f"--git-dir={self.layout.bare(repo)}", "rev-list", "--count", "HEAD"], quiet=True
            ).stdout.strip()
            self.summary.repositories.append((repo, int(count)))

    def report(self) -> None:
        root, remotes = str(self.layout.root), str(self.layout.remotes)
        where = ["--root", root, "--remote-base", remotes, "--no-cluster"]
        self.shell.run([TOOL, "status", *where, "--service", SERVICE], show=12)
        self.shell.run(
            [
                TOOL,
                "report",
                "--html",
                str(self.layout.report),
                *where,
                "--vault-json",
                str(self.layout.vault_check),
            ],
            show=2,
        )
        page = self.layout.report / "index.html"
        if not page.is_file():
            raise DemoFailed(f"report --html wrote no {page}")
        self.summary.report = page
        self.reporter.note(f"open {page.as_uri()} in a browser (one file, nothing fetched)")


def _vault_counts(report: dict[str, Any]) -> dict[str, int]:
    """The matrix of `vault check -o json`, counted."""
    matrix, secrets = report["matrix"], len(report["secrets"])
    own = sum(1 for row in matrix if row["reads"].get(f"{row['service']}/{row['environment']}") == "read")
    # `reads` lists what was not denied: every other secret of a checked identity was refused.
    denied = sum(
        secrets - 1 - sum(1 for key in row["reads"] if key != f"{row['service']}/{row['environment']}")
        for row in matrix
        if row["checked"]
    )
    sealed = sum(1 for row in matrix if row["write_own"] == "denied" and row["list_all"] == "denied")
    return {
        "identities": len(matrix),
        "secrets": secrets,
        "own secret read": own,
        "denied": denied,
        "write/list denied": sealed,
        "leaks": len(report["leaks"]),
    }
