"""Benchmark growth with the platform's size, every figure through the real CLI (process start included).

Part 1, scale: `init`, `lint`, `plan` (the table, which reads every service's values for its image) and
`vault check` (against a real OpenBao dev server, provisioned first) at 250, 500, 1,000 and 2,000
services x 3 environments, with the growth factor per doubling (target <= 2.3x: near-linear); `init`
runs once per size (a second run is a no-op), the read-only commands twice, and the best run counts.
Part 2, references measured in the same run:
- `gitops-poc --help` and `--version` against `helm version`, as interleaved pairs (target: within 4x);
- `init` of 200 services x 5 environments (target: under 2.5 s);
- one `render` against the same `helm template` run alone (target: under 0.5 s beyond helm's own time);
- `vault check` of 200 x 3 (target: under 30 s).

Run: .venv/bin/python bench/bench_scale.py [--sizes 250,500,1000,2000] [--vault-sizes 100,200,400]
     [--no-vault] [--pairs 15] [--only references|scale|vault]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from _platform import FIVE_ENVIRONMENTS, env_text
from vault.bao import reset_dev_vault, start_dev_server

from gitops_poc.helmrepo import serve_chart_repository

THREE_ENVIRONMENTS = "dev staging prod"
GITOPS_POC = Path(sys.executable).with_name("gitops-poc")
HELM = shutil.which("helm", path=str(REPO / ".tools" / "bin")) or shutil.which("helm") or "helm"
GROWTH_TARGET = 2.3
K8APP = REPO.parent / "shared" / "charts" / "k8app"


def timed(argv: Sequence[str], *, env: dict[str, str] | None = None, ok: Sequence[int] = (0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run(list(argv), capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return elapsed


def cli(*args: str, env: dict[str, str] | None = None, ok: Sequence[int] = (0,)) -> float:
    return timed([str(GITOPS_POC), *args], env=env, ok=ok)


def growth_table(name: str, sizes: list[int], seconds: list[float]) -> None:
    cells = []
    for i, (size, s) in enumerate(zip(sizes, seconds, strict=True)):
        factor = ""
        if i and sizes[i] == 2 * sizes[i - 1]:
            ratio = s / seconds[i - 1]
            factor = f" (x{ratio:.2f}{'' if ratio <= GROWTH_TARGET else ' OVER'})"
        cells.append(f"{size}: {s:6.2f} s{factor}")
    print(f"  {name:<12} " + "   ".join(cells))


def write_root(root: Path, services: int, environments: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / ".env").write_text(env_text(services, environments))


def scale(sizes: list[int]) -> None:
    envs = len(THREE_ENVIRONMENTS.split())
    print(f"Scale, {envs} environments, through the CLI (growth target per doubling <= {GROWTH_TARGET}x)")
    figures: dict[str, list[float]] = {"init": [], "lint": [], "plan table": []}
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "platform"
            write_root(root, size, THREE_ENVIRONMENTS)
            figures["init"].append(cli("init", "-C", str(root), "--yes"))
            # Best of 2 for the read-only commands: one noisy run on a shared machine moves a growth factor.
            figures["lint"].append(min(cli("lint", "-C", str(root)) for _ in range(2)))
            figures["plan table"].append(min(cli("plan", "-C", str(root)) for _ in range(2)))
        print(f"  ... {size} services done", file=sys.stderr)
    for name, seconds in figures.items():
        growth_table(name, sizes, seconds)


def vault_scale(sizes: list[int], vault_env: dict[str, str] | None) -> None:
    """`vault check` (provisioned first, not timed) against the real OpenBao, emptied between sizes."""
    if vault_env is None:
        return
    import hvac

    ca = str(REPO / "tests" / "vault" / "data" / "test-ca.pem")
    seconds = []
    for size in sizes:
        reset_dev_vault(hvac.Client(url=vault_env["VAULT_ADDR"], token=vault_env["VAULT_TOKEN"]))
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            write_root(root, size, THREE_ENVIRONMENTS)
            cli(
                "vault", "provision", "-C", str(root), "-o", "json", "--kubernetes-ca-file", ca, env=vault_env
            )
            check = ("vault", "check", "-C", str(root), "-o", "json")
            seconds.append(min(cli(*check, env=vault_env) for _ in range(2)))  # best of 2, as lint
        print(f"  ... vault check at {size} services done", file=sys.stderr)
    growth_table("vault check", sizes, seconds)
    if 200 in sizes:
        at_200 = seconds[sizes.index(200)]
        print(f"  vault check 200 x 3: {at_200:.1f} s (target < 30 s) {'OK' if at_200 < 30 else 'OVER'}")


def pairs(count: int) -> None:
    """--help/--version against `helm version`, interleaved so both see the same machine load."""
    help_s, version_s, helm_s = [], [], []
    for _ in range(count):
        helm_s.append(timed([HELM, "version"]))
        help_s.append(cli("--help"))
        helm_s.append(timed([HELM, "version"]))
        version_s.append(cli("--version"))
    helm = statistics.median(helm_s)
    for name, values in (("--help", help_s), ("--version", version_s)):
        ours = statistics.median(values)
        ratio = ours / helm
        print(
            f"  gitops-poc {name:<9} median {ours * 1000:5.0f} ms vs helm version {helm * 1000:4.0f} ms: "
            f"{ratio:.1f}x (target <= 4x) {'OK' if ratio <= 4 else 'OVER'}"
        )


def init_200x5() -> None:
    runs = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            write_root(root, 200, FIVE_ENVIRONMENTS)
            runs.append(cli("init", "-C", str(root), "--yes"))
    best = min(runs)
    print(
        f"  init 200 x 5 through the CLI: best of 3 {best:.2f} s (target < 2.5 s)",
        "OK" if best < 2.5 else "OVER",
    )


def render_vs_helm() -> None:
    """One `render` (K8app from a loopback chart repository) against `helm template` of the same chart."""
    if not K8APP.is_dir():
        print(f"  render: skipped, {K8APP} not found")
        return
    with tempfile.TemporaryDirectory() as tmp, serve_chart_repository(K8APP) as url:
        root = Path(tmp)
        write_root(root, 3, THREE_ENVIRONMENTS)
        with (root / ".env").open("a") as env_file:
            env_file.write(f"CHART_REPO={url}\n")
        cli("init", "-C", str(root), "--yes")
        env = {
            **os.environ,
            "XDG_CACHE_HOME": str(root / "cache"),
            "PATH": f"{Path(HELM).parent}:{os.environ['PATH']}",
        }
        cli("render", "svc-000", "dev", "-C", str(root), env=env)  # pulls the chart into the cache once
        chart = next((root / "cache").rglob("Chart.yaml"))
        service = root / "services" / "svc-000" / ".cicd"
        helm_argv = [
            HELM,
            "template",
            "svc-000",
            str(chart.parent),
            "-f",
            str(service / "default.yaml"),
            "-f",
            str(service / "dev.yaml"),
            "--namespace",
            "poc-dev",
        ]
        ours, theirs = [], []
        for _ in range(5):
            theirs.append(timed(helm_argv))
            ours.append(cli("render", "svc-000", "dev", "-C", str(root), env=env))
        beyond = statistics.median(ours) - statistics.median(theirs)
        print(
            f"  render svc-000 dev: median {statistics.median(ours):.2f} s vs helm template alone "
            f"{statistics.median(theirs):.2f} s: {beyond:.2f} s beyond helm (target < 0.5 s) "
            f"{'OK' if beyond < 0.5 else 'OVER'}"
        )


def with_vault(action: Callable[[dict[str, str] | None], None], use: bool) -> None:
    if not use:
        action(None)
        return
    import secrets

    import hvac

    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as home:
        server = start_dev_server(Path(home), token)
        try:
            reset_dev_vault(hvac.Client(url=server.addr, token=token))
            action({**os.environ, "VAULT_ADDR": server.addr, "VAULT_TOKEN": token, "HOME": home})
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,500,1000,2000", help="services per platform, comma-separated")
    parser.add_argument(
        "--vault-sizes", default="200,250,500,1000,2000", help="services for vault check (200: the target)"
    )
    parser.add_argument("--only", choices=("references", "scale", "vault"), help="run one part only")
    parser.add_argument("--no-vault", action="store_true", help="leave out vault check (no OpenBao)")
    parser.add_argument("--pairs", type=int, default=15, help="--help/--version vs helm version pairs")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.only in (None, "references"):
        print("References")
        pairs(args.pairs)
        init_200x5()
        render_vs_helm()
    if args.only in (None, "scale"):
        scale(sizes)
    if args.only in (None, "vault"):
        vault_sizes = [int(s) for s in args.vault_sizes.split(",")]
        with_vault(lambda env: vault_scale(vault_sizes, env), not args.no_vault)


if __name__ == "__main__":
    main()
