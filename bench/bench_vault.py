"""Benchmark `vault provision`: 200 services x 3 environments through the API, against the original way.

The original (setup-vault-secrets.sh) ran one `vault` CLI process per write. Here the same work (a policy,
a kubernetes role and a KV secret per service x environment, plus the auth method and its config) is done
with one `bao` process per write. Both run in one run against the same real OpenBao dev server started by
this script (emptied in between), and the result is their ratio.

By default the CLI way runs in full (1802 processes, about 4 minutes on 2 cores). `--sample N` is a quick
run: the CLI way does only N of the 600 pairs and its full time is extrapolated from the measured time per
call; the output says so.
Target: the API way at least 20x faster; the idempotent re-run writes nothing.

Run: .venv/bin/python bench/bench_vault.py [--sample N]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import hvac
from _platform import write_platform
from vault.bao import bao_binary, reset_dev_vault, start_dev_server

from gitops_poc.platform import Platform
from gitops_poc.vault.provision_plan import policy_hcl

SERVICES = 200
ENVIRONMENTS = "dev staging prod"
GITOPS_POC = Path(sys.executable).with_name("gitops-poc")
CA = REPO / "tests" / "vault" / "data" / "test-ca.pem"


def platform_root(tmp: Path) -> tuple[Path, Platform]:
    return tmp, write_platform(tmp, SERVICES, ENVIRONMENTS, generate=False)


def provision(root: Path, env: dict[str, str]) -> tuple[float, dict]:
    """Whole command, process start included."""
    start = time.perf_counter()
    done = subprocess.run(
        [
            str(GITOPS_POC),
            "vault",
            "provision",
            "-C",
            str(root),
            "--kubernetes-ca-file",
            str(CA),
            "-o",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"provision failed: {done.stderr}")
    return elapsed, json.loads(done.stdout)


def cli_way(platform: Platform, pairs: list[tuple[str, str]], env: dict[str, str]) -> tuple[float, int]:
    """One `bao` process per write, as setup-vault-secrets.sh did (secret values on argv, as it did)."""
    bao = bao_binary()
    calls = [
        [bao, "auth", "enable", "kubernetes"],
        [
            bao,
            "write",
            "auth/kubernetes/config",
            "kubernetes_host=https://kubernetes.default.svc",
            f"kubernetes_ca_cert=@{CA}",
        ],
    ]
    stdin: list[str | None] = [None, None]
    for service, env_name in pairs:
        calls.append([bao, "policy", "write", platform.vault_policy(service, env_name), "-"])
        stdin.append(policy_hcl(platform, service, env_name))
        calls.append(
            [
                bao,
                "write",
                f"auth/kubernetes/role/{platform.vault_role(service, env_name)}",
                f"bound_service_account_names={platform.service_account(service)}",
                f"bound_service_account_namespaces={platform.namespace(env_name)}",
                f"policies={platform.vault_policy(service, env_name)}",
                "audience=vault",
                "ttl=1h",
            ]
        )
        stdin.append(None)
        calls.append(
            [
                bao,
                "kv",
                "put",
                "-mount=secret",
                platform.vault_secret_path(service, env_name),
                f"SERVICE_NAME={service}",
                f"ENVIRONMENT={env_name}",
            ]
        )
        stdin.append(None)
    every = max(1, len(calls) // 10)
    start = time.perf_counter()
    for index, (command, text) in enumerate(zip(calls, stdin, strict=True), start=1):
        subprocess.run(command, input=text, env=env, capture_output=True, text=True, check=True)
        if index % every == 0 or index == len(calls):
            print(
                f"  CLI way: {index}/{len(calls)} calls, {time.perf_counter() - start:.0f} s", file=sys.stderr
            )
    return time.perf_counter() - start, len(calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help=(
            "quick run: the CLI way on N service x environment pairs only, extrapolated to all (default: all)"
        ),
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        root, platform = platform_root(tmp)
        pairs = [(s, e) for s in platform.services for e in platform.environments]
        if args.sample is not None and not 0 < args.sample <= len(pairs):
            parser.error(f"--sample must be between 1 and {len(pairs)}")
        sample = pairs if args.sample is None else pairs[: args.sample]
        token = secrets.token_hex(16)
        server = start_dev_server(tmp, token)
        env = {**os.environ, "VAULT_ADDR": server.addr, "VAULT_TOKEN": token, "HOME": str(tmp)}
        env.pop("SERVICES", None)
        env.pop("ENVIRONMENTS", None)
        try:
            print("API way: gitops-poc vault provision, then a re-run", file=sys.stderr)
            first, report = provision(root, env)
            rerun, again = provision(root, env)
            assert again["writes"] == 0, "the re-run must write nothing"

            reset_dev_vault(hvac.Client(url=server.addr, token=token))
            print(f"CLI way: one bao process per write, {len(sample)} of {len(pairs)} pairs", file=sys.stderr)
            cli_seconds, cli_calls = cli_way(platform, sample, env)
        finally:
            server.stop()

    full_calls = 2 + 3 * len(pairs)
    per_call = cli_seconds / cli_calls
    measured_in_full = len(sample) == len(pairs)
    cli_full = cli_seconds if measured_in_full else per_call * full_calls
    print(
        f"Vault provision, {SERVICES} services x {len(platform.environments)} environments = {len(pairs)}"
        " pairs"
    )
    print(f"  API (gitops-poc vault provision): {first:6.2f} s for {report['writes']} writes, whole command")
    print(f"  idempotent re-run:                {rerun:6.2f} s, {again['writes']} writes")
    if measured_in_full:
        print(
            f"  CLI way (one bao process/write):  {cli_seconds:6.2f} s for {cli_calls} calls, measured in"
            f" full, {per_call * 1000:.0f} ms a call"
        )
    else:
        print(
            f"  CLI way (one bao process/write):  {cli_seconds:6.2f} s for {cli_calls} calls "
            f"({len(sample)} of {len(pairs)} pairs), {per_call * 1000:.0f} ms a call"
        )
        print(
            f"                                    {cli_full:6.2f} s EXTRAPOLATED to all {full_calls} calls "
            "(--sample; run without it to measure in full)"
        )
    ratio = cli_full / first
    basis = "measured" if measured_in_full else "extrapolated"
    print(
        f"  ratio ({basis}): API is {ratio:.0f}x faster (target: at least 20x) ->"
        f" {'OK' if ratio >= 20 else 'BELOW TARGET'}"
    )


if __name__ == "__main__":
    main()
