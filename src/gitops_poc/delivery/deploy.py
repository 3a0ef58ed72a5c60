"""Push-mode deploy: `helm upgrade --install` of one service into one environment, as ArgoCD would deploy it.

Same release name as the ArgoCD Application's (`Platform.release_name`), same namespace, the same value files
in the same order, the chart pinned to CHART_VERSION from CHART_REPO: push and pull deploys own the same
objects, so a service can switch modes without an immutable-selector clash. The image (when given) goes on
top with `--set-string`; every value in the command is validated first and none is a secret.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gitops_poc import fileio
from gitops_poc.argv import Opt, Part, Value, render
from gitops_poc.config import environment_error
from gitops_poc.delivery.decide import EXIT_CODES, Outcome
from gitops_poc.delivery.image import Image
from gitops_poc.delivery.outcome import History, Revision
from gitops_poc.delivery.pins import find_pin
from gitops_poc.delivery.values import read_image
from gitops_poc.errors import GitopsError, UsageError
from gitops_poc.layout import value_files
from gitops_poc.platform import Platform
from gitops_poc.render.model import ChartRef

if TYPE_CHECKING:
    import subprocess

DEFAULT_TIMEOUT = "5m"


@dataclass(frozen=True)
class HelmDeploy:
    service: str
    env: str
    release: str
    namespace: str
    chart: ChartRef
    value_files: tuple[Path, ...]
    set_string: tuple[tuple[str, str], ...]
    kube_context: str | None
    timeout: str = DEFAULT_TIMEOUT
    # Why this revision (a break-glass reason, a rollback): helm keeps it in the release, `helm history`
    # shows it.
    description: str = ""

    def _chart(self) -> Value:
        if self.chart.is_oci:
            return Value(f"{self.chart.repo.rstrip('/')}/{self.chart.name}", "CHART_REPO")
        return Value(self.chart.name, "CHART_NAME")

    def _chart_args(self) -> list[Part]:
        repo: list[Part] = [] if self.chart.is_oci else [Opt("--repo", self.chart.repo)]
        return [*repo, Opt("--version", self.chart.version)]

    def _values_args(self) -> list[Part]:
        args: list[Part] = [Opt("--values", path) for path in self.value_files]
        return args + [Opt("--set-string", f"{key}={value}") for key, value in self.set_string]

    def upgrade_args(self, helm_major: int = 4) -> list[Part]:
        """`helm upgrade --install` with rollback on failure and waiting for the rollout (`--atomic --wait`;
        Helm 4 names the first `--rollback-on-failure`). Values as `--opt=value`, the release and the chart
        as operands after `--`."""
        safety = ["--rollback-on-failure", "--wait=watcher"] if helm_major >= 4 else ["--atomic", "--wait"]
        args: list[Part] = [
            "upgrade",
            "--install",
            *self._chart_args(),
            Opt("--namespace", self.namespace),
            "--create-namespace",
            *self._values_args(),
            *safety,
            Opt("--timeout", self.timeout),
        ]
        if self.kube_context:
            args.append(Opt("--kube-context", self.kube_context))
        if self.description:
            args.append(Opt("--description", self.description))
        return [*args, "--", Value(self.release, "release"), self._chart()]

    def template_args(self, chart_path: Path, kube_version: str | None = None) -> list[Part]:
        """The same release rendered offline from a local copy of the pinned chart (`--dry-run`)."""
        args: list[Part] = ["template", Opt("--namespace", self.namespace), *self._values_args()]
        if kube_version:
            args.append(Opt("--kube-version", kube_version))
        return [*args, "--", Value(self.release, "release"), chart_path]

    def command(self, helm: str = "helm", helm_major: int = 4) -> str:
        return shlex.join(render([helm, *self.upgrade_args(helm_major)]))


def plan_deploy(
    platform: Platform,
    repo_dir: Path,
    service: str,
    env: str,
    image: Image | None,
    *,
    kube_context: str | None,
    timeout: str = DEFAULT_TIMEOUT,
    description: str = "",
) -> HelmDeploy:
    """The deploy of `service` to `env` from the service repository at `repo_dir`."""
    if problem := environment_error(env, platform.environments):
        raise UsageError(f"--env: {problem}")
    files = tuple(repo_dir / name for name in value_files(env))
    for path in files:
        if not path.is_file():
            raise UsageError(
                f"{path} does not exist: run ci deploy in the service repository (or pass -C DIR)"
            )
    overrides: list[tuple[str, str]] = []
    if image is not None:
        if image.repository is not None:
            overrides.append(("image.repository", image.repository))
        overrides.append(("image.tag", image.tag_field))
    if not _duration(timeout):
        raise UsageError(f"--timeout {timeout!r} is not a duration such as 300s, 5m or 1h")
    return HelmDeploy(
        service,
        env,
        platform.release_name(service),
        platform.namespace(env),
        ChartRef.from_config(platform.config, env),
        files,
        tuple(overrides),
        kube_context,
        timeout,
        " ".join(description.split()),
    )


class DeployPinned(GitopsError):
    """The environment is pinned (a rollback, a hold): a deploy of another image stands down."""

    exit_code = EXIT_CODES[Outcome.PINNED]


def check_pin(plan: HelmDeploy, now: datetime) -> None:
    """Push mode's side of "a rollback sticks": with the environment's values file pinned (in the checkout
    the job runs on), a deploy of another image than the file's (`--tag`) stands down (exit 5); the file's
    own image, which the pin holds, deploys (without --tag, or given exactly)."""
    path = plan.value_files[-1]
    if not plan.set_string:
        return
    text = fileio.read_text(path, fileio.YAML_FILE)
    pin = find_pin(text, str(path))
    if pin is None or pin.expired(now):
        return
    wanted = dict(plan.set_string)
    held = read_image(text, str(path), record=False).image()
    if (
        held is not None
        and wanted["image.tag"] == held.tag_field
        and wanted.get("image.repository", held.repository) == held.repository
    ):
        return
    raise DeployPinned(
        f"{plan.env} is {pin.describe()}: not deploying {wanted['image.tag']} (nothing was changed; "
        f"`ci unpin --env {plan.env}` releases it; `ci deploy` without --tag deploys the pinned file's image)"
    )


def release_description(trailers: Sequence[tuple[str, str]]) -> str:
    """A revision's description from commit-style trailers (`Break-glass: ...; Freeze-window: ...`)."""
    return "; ".join(f"{key}: {value}" for key, value in trailers)


def _duration(text: str) -> bool:
    import re

    return re.fullmatch(r"([0-9]+(\.[0-9]+)?(ms|s|m|h))+", text) is not None


def helm_major(binary: str) -> int:
    """The major version of a helm binary (4 when it cannot tell: the version `make tools` installs)."""
    import re
    import subprocess

    from gitops_poc import proc

    try:
        result = proc.run([binary, "version", "--short"], text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return 4
    match = re.match(r"v([0-9]+)\.", result.stdout.strip())
    return int(match.group(1)) if match else 4


@contextmanager
def _ends_with_us(process: subprocess.Popen[str]) -> Iterator[None]:
    """Ctrl-C, SIGTERM (a cancelled job) or a broken stderr in the block: `process` is ended too."""
    from gitops_poc import proc

    try:
        yield
    except BaseException:
        proc.end_group(process, grace=10)
        raise


def run_upgrade(plan: HelmDeploy, binary: str) -> tuple[int, str]:
    """Run `helm upgrade --install`, its output passed through (to stderr) as it waits for the rollout;
    (exit code, the last of what it printed) so a failure can be explained."""
    import os
    import subprocess
    import sys
    from collections import deque

    from gitops_poc import helmauth, proc

    tail: deque[str] = deque(maxlen=200)
    # A repository's password reaches helm through a private repository configuration, never its argv.
    with helmauth.private_repository(binary, [binary, *plan.upgrade_args(helm_major(binary))]) as (
        argv,
        extra,
    ):
        try:
            process = proc.start(
                argv,
                env={**os.environ, **extra} if extra else None,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        except FileNotFoundError:
            raise UsageError(f"helm binary {binary} does not exist") from None
        assert process.stdout is not None
        with _ends_with_us(process), process.stdout:
            for line in process.stdout:
                sys.stderr.write(line)
                sys.stderr.flush()
                tail.append(line)
        return process.wait(), "".join(tail)


def release_history(plan: HelmDeploy, binary: str) -> History:
    """`helm history` of the release in its namespace and kube context (empty when not installed)."""
    import json

    from gitops_poc.render.helm import Helm, HelmError, HelmNotFound

    args: list[Part] = ["history", Opt("--namespace", plan.namespace), "--output=json", "--max=20"]
    if plan.kube_context:
        args.append(Opt("--kube-context", plan.kube_context))
    args += ["--", Value(plan.release, "release")]
    try:
        printed = Helm(binary, 60).run(args)
    except HelmNotFound as exc:
        return History(unreadable=str(exc))
    except HelmError as exc:
        if "release: not found" in str(exc):
            return History()
        return History(unreadable=str(exc).splitlines()[-1])
    try:
        items = json.loads(printed or "[]")
        return History(tuple(Revision.from_json(item) for item in items))
    except (ValueError, TypeError, AttributeError) as exc:
        return History(unreadable=f"helm history printed no JSON list ({exc})")
