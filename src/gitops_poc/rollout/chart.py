"""`rollout chart VERSION`: one wave per environment, in ENVIRONMENTS order. Each wave: pre-flight (every
service rendered and validated with VERSION; a failure stops before anything is written), one change of
gitops-config's ApplicationSet (pushed without force, retried on a lost race, or as a merge request), then a
bounded wait until the environment's Applications are Synced and Healthy on VERSION.

The gitops-config repository is the state (waves.py): a re-run after any stop continues where it stopped."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_poc.delivery.decide import Decision, Outcome
from gitops_poc.delivery.gitops import GitError, Identity, Repository
from gitops_poc.delivery.target import identity
from gitops_poc.delivery.writeback import push_with_retry
from gitops_poc.errors import GitopsError, ToolError, UsageError
from gitops_poc.platform import Platform
from gitops_poc.render.cache import RenderCache
from gitops_poc.render.chart import cache_root, resolve_chart
from gitops_poc.render.helm import Helm
from gitops_poc.render.model import ChartRef, ChartUnavailable
from gitops_poc.rollout.health import wave_problems
from gitops_poc.rollout.preflight import Progress, Verdict, preflight
from gitops_poc.rollout.waves import APPSET_PATH, Wave, plan_waves, with_chart_version

ReadApps = Callable[[str], Mapping[str, Mapping[str, Any] | None]]  # env -> its Applications by name
Say = Callable[[str], None]
# Opens (or updates) the merge request of a wave's branch: (branch, title, description) -> its URL.
OpenRequest = Callable[[str, str, str], str]


class RolloutStopped(GitopsError):
    """A wave's pre-flight failed, or production waits for its explicit go: nothing of that wave written."""


@dataclass(frozen=True)
class Target:
    """The gitops-config repository the waves change."""

    url: str
    branch: str


@dataclass(frozen=True)
class Settings:
    version: str
    envs: tuple[str, ...] = ()
    production_go: bool = False
    dry_run: bool = False
    wait_seconds: float | None = 600.0  # None: --no-wait
    poll_seconds: float = 10.0


@dataclass
class WaveResult:
    wave: Wave
    verdicts: list[Verdict] = field(default_factory=list)
    action: str = "planned"  # planned, done-before, pushed, unchanged, merge-request, healthy, not-waited
    commit: str | None = None
    merge_request: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.wave.as_dict(),
            "action": self.action,
            "commit": self.commit,
            "mergeRequest": self.merge_request,
            "verdicts": [v.as_dict() for v in self.verdicts],
        }


@dataclass
class Tools:
    """The adapters a rollout runs with (tests give stand-ins for the cluster and GitLab only)."""

    helm: Helm
    cache: RenderCache | None
    read_apps: ReadApps | None = None  # None: no cluster, the run needs --no-wait
    open_request: OpenRequest | None = None  # None: --push
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    on_progress: Progress | None = None


def check_version(platform: Platform, version: str, tools: Tools) -> ChartRef:
    """The chart repository must have VERSION: pulled (or found in the cache) once, before any wave."""
    cfg = platform.config
    ref = ChartRef(cfg.chart_repo, cfg.chart_name, version)
    chart = resolve_chart(ref, chart_path=None, helm=tools.helm, cache=cache_root(tools.environ))
    if isinstance(chart, ChartUnavailable):
        raise ToolError(f"{chart.note} (nothing was written)")
    return ref


def _branch(version: str, env: str) -> str:
    return f"gitops-poc/rollout-chart-{version}-{env}"


def _message(platform: Platform, wave: Wave) -> str:
    name = platform.config.chart_name
    return (
        f"rollout: chart {name} {wave.version} in {wave.env}\n\n"
        f"Written by `gitops-poc rollout chart {wave.version}`: the {wave.env} element of the ApplicationSet "
        f"moves from {', '.join(wave.before)} to {wave.version} (never force-pushed).\n\n"
        f"Rollout-Chart: {name} {wave.version}\nRollout-Environment: {wave.env}\n"
    )


class Rollout:
    def __init__(self, platform: Platform, root: Path, target: Target, tools: Tools, say: Say) -> None:
        self.platform, self.root, self.target, self.tools, self.say = platform, root, target, tools, say
        self.results: list[WaveResult] = []  # as far as the run got (also after it stopped)

    def _head_text(self, repo: Repository, branch: str) -> tuple[str, str]:
        head = repo.fetch(self.target.url, branch)
        text = repo.read(head, APPSET_PATH)
        if text is None:
            raise UsageError(
                f"{self.target.url} ({branch}): no {APPSET_PATH}; run `gitops-poc init` and `publish` first"
            )
        return head, text

    def run(self, settings: Settings) -> list[WaveResult]:
        try:
            return self._run(settings)
        except GitError as exc:  # git or the remote failing: a tool failure (exit 2); written waves stay
            raise ToolError(f"{exc} (the waves written so far stay; a re-run continues from there)") from None

    def _run(self, settings: Settings) -> list[WaveResult]:
        for env in settings.envs:
            if env not in self.platform.environments:
                raise UsageError(
                    f"--env {env!r}: not in ENVIRONMENTS ({' '.join(self.platform.environments)})"
                )
        if settings.wait_seconds is not None and self.tools.read_apps is None and not settings.dry_run:
            raise UsageError("no cluster to wait on: pass --no-wait (the waves then do not wait for health)")
        ref = check_version(self.platform, settings.version, self.tools)
        with tempfile.TemporaryDirectory(prefix="gitops-poc-rollout-") as scratch:
            repo = Repository(Path(scratch), self.tools.environ)
            repo.run("init", "--quiet", "--bare")
            _, text = self._head_text(repo, self.target.branch)
            every = plan_waves(self.platform, text, settings.version)
            waves = [w for w in every if not settings.envs or w.env in settings.envs]
            results = [WaveResult(w, action="done-before" if w.done else "planned") for w in waves]
            self.results = results
            behind = [w.env for w in every if not w.done]  # environments not yet on VERSION, in order
            for result in results:
                env = result.wave.env
                if result.wave.done:
                    self.say(f"{env}: already on {settings.version} (wave done before)")
                    if not settings.dry_run:
                        self._wait(result, settings)
                    continue
                if (earlier := behind[: behind.index(env)]) and not settings.dry_run:
                    raise RolloutStopped(
                        f"{env} comes after {', '.join(earlier)} in ENVIRONMENTS, not yet on chart "
                        f"{settings.version}: roll {earlier[0]} out first (nothing of {env} was written)"
                    )
                self._wave(repo, ref, result, settings)
                if result.action == "merge-request":
                    break  # the next wave waits for this one's merge: a re-run continues
                if result.action in ("pushed", "unchanged", "not-waited", "healthy"):
                    behind.remove(env)
        return results

    def _wave(self, repo: Repository, ref: ChartRef, result: WaveResult, settings: Settings) -> None:
        wave = result.wave
        if wave.production and not settings.production_go and not settings.dry_run:
            raise RolloutStopped(
                f"{wave.env} is a production environment: pass --yes-production to roll chart "
                f"{settings.version} out there (the waves before it are done)"
            )
        self.say(f"{wave.env}: pre-flight, {len(self.platform.services)} service(s) with chart {ref.version}")
        result.verdicts = preflight(
            self.platform,
            self.root,
            wave.env,
            ref,
            self.tools.helm,
            self.tools.cache,
            self.platform.config.kubernetes_version,
            self.tools.environ,
            self.tools.on_progress,
        )
        failed = [v for v in result.verdicts if v.error]
        if failed:
            shown = "; ".join(f"service {v.service} in {v.env}: {v.error}" for v in failed[:3])
            more = f" (+{len(failed) - 3} more)" if len(failed) > 3 else ""
            if settings.dry_run:
                self.say(f"{wave.env}: pre-flight fails: {shown}{more}")
                result.action = "preflight-failed"
                return
            raise RolloutStopped(
                f"rollout of chart {ref.version} stopped before writing {wave.env}: {shown}{more}"
            )
        if settings.dry_run:
            self.say(f"{wave.env}: pre-flight passed; would move {', '.join(wave.before)} -> {wave.version}")
            return
        if self.tools.open_request is not None:
            self._request(repo, result)
            return
        self._push(repo, result)
        self._wait(result, settings)

    def _decide(self, wave: Wave) -> Callable[[Callable[[str], str | None]], Decision]:
        def decide(read: Callable[[str], str | None]) -> Decision:
            text = read(APPSET_PATH)
            if text is None:
                raise UsageError(f"{self.target.url}: {APPSET_PATH} disappeared; nothing was written")
            new = with_chart_version(text, wave.env, wave.version)
            if new == text:
                return Decision(Outcome.UNCHANGED, f"{wave.env} already on {wave.version}", wave.env, None)
            return Decision(
                Outcome.UPDATED, f"{wave.env} -> {wave.version}", wave.env, None, files={APPSET_PATH: new}
            )

        return decide

    def _identity(self, repo: Repository) -> Identity:
        return identity(repo, self.tools.environ)

    def _push(self, repo: Repository, result: WaveResult) -> None:
        wave = result.wave
        done = push_with_retry(
            repo,
            self.target.url,
            self.target.branch,
            self._decide(wave),
            lambda _: _message(self.platform, wave),
            self._identity(repo),
            sleep=self.tools.sleep,
            on_retry=lambda n, pause, _: self.say(f"{wave.env}: push lost a race, retry {n} in {pause:.1f}s"),
        )
        if done.outcome is Outcome.GAVE_UP:
            raise GitError(f"{wave.env}: {done.decision.message}")
        result.action = "pushed" if done.pushed else "unchanged"
        result.commit = done.commit
        self.say(
            f"{wave.env}: pushed {(done.commit or '')[:12]} to {self.target.branch}"
            if done.pushed
            else f"{wave.env}: already on {wave.version}"
        )

    def _request(self, repo: Repository, result: WaveResult) -> None:
        """The wave as a branch of its own (made from the target branch's head) and a merge request."""
        assert self.tools.open_request is not None
        wave = result.wave
        branch = _branch(wave.version, wave.env)
        head, text = self._head_text(repo, self.target.branch)
        decision = self._decide(wave)(lambda path: text if path == APPSET_PATH else None)
        message = _message(self.platform, wave)
        commit = repo.commit_files(head, decision.files, message, self._identity(repo))
        pushed = repo.push(self.target.url, commit, branch)
        if not pushed.ok and not pushed.retryable:
            raise GitError(f"push of {branch!r} refused: {pushed.message}")
        if not pushed.ok:  # the branch is there from an earlier run: it stays, its request is refreshed
            self.say(f"{wave.env}: branch {branch} is there from an earlier run; kept as it is")
        title, _, body = message.partition("\n\n")
        result.merge_request = self.tools.open_request(branch, title, body)
        result.action, result.commit = "merge-request", commit if pushed.ok else None
        self.say(
            f"{wave.env}: merge request {result.merge_request}; once merged, run the rollout again to wait "
            "for this wave and continue"
        )

    def _wait(self, result: WaveResult, settings: Settings) -> None:
        wave = result.wave
        if settings.wait_seconds is None or self.tools.read_apps is None:
            result.action = "not-waited" if result.action == "pushed" else result.action
            self.say(f"{wave.env}: not waiting for health (--no-wait)")
            return
        deadline = self.tools.clock() + settings.wait_seconds
        while True:
            problems = wave_problems(self.tools.read_apps(wave.env), wave.version)
            if not problems:
                result.action = "healthy"
                self.say(f"{wave.env}: every Application Synced and Healthy on {wave.version}")
                return
            left = deadline - self.tools.clock()
            if left <= 0:
                raise ToolError(
                    f"{wave.env} is not healthy on chart {wave.version} after {settings.wait_seconds:.0f}s: "
                    f"{'; '.join(problems[:3])} (the wave is written; a re-run waits again)"
                )
            self.say(f"{wave.env}: waiting ({len(problems)} not ready, {left:.0f}s left): {problems[0]}")
            self.tools.sleep(min(settings.poll_seconds, left))


def verdict_lines(results: Sequence[WaveResult]) -> list[str]:
    """One line per service and wave (helm's messages span lines: joined)."""
    return [
        f"{r.wave.env}: {v.service}: "
        + (f"ok, {v.objects} object(s)" if v.error is None else " ".join(v.error.split()))
        for r in results
        for v in r.verdicts
    ]
