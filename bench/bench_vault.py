"""Benchmark `vault provision`: 200 services x 3 environments through the API, against the original way.

The original (setup-vault-secrets.sh) ran one `vault` CLI process per write. Here the same work (a policy,
a kubernetes role and a KV secret per service x environment, plus the auth method and its config) is done
with one `bao` process per write. Both run against a real OpenBao dev server started by this script.

The CLI way costs ~0.1 s a call, so by default it runs on a sample of service x environment pairs and the
full time is extrapolated from the measured time per call (said so in the output); `--full` runs it all.
Target: the API way at least 20x faster; the idempotent re-run writes nothing.

Run: .venv/bin/python bench/bench_vault.py [--sample N | --full]
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
from vault.bao import BaoProcess, bao_binary, free_ports, reset_dev_vault

from gitops_poc.platform import Platform
from gitops_poc.vault.plan import policy_hcl

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
        [str(GITOPS_POC), "vault", "provision", "-C", str(root), "--kubernetes-ca-file", str(CA), "-o", "json"],
        env=env, capture_output=True, text=True, check=False,
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
        [bao, "write", "auth/kubernetes/config", "kubernetes_host=https://kubernetes.default.svc", f"kubernetes_ca_cert=@{CA}"],
    ]
    stdin: list[str | None] = [None, None]
    for service, env_name in pairs:
        calls.append([bao, "policy", "write", platform.vault_policy(service, env_name), "-"])
        stdin.append(policy_hcl(platform, service, env_name))
        calls.append([
            bao, "write", f"auth/kubernetes/role/{platform.vault_role(service, env_name)}",
            f"bound_service_account_names={platform.service_account(service)}",
            f"bound_service_account_namespaces={platform.namespace(env_name)}",
            f"policies={platform.vault_policy(service, env_name)}", "audience=vault", "ttl=1h",
        ])
        stdin.append(None)
        calls.append([bao, "kv", "put", "-mount=secret", platform.vault_secret_path(service, env_name),
                      f"SERVICE_NAME={service}", f"ENVIRONMENT={env_name}"])
        stdin.append(None)
    start = time.perf_counter()
    for command, text in zip(calls, stdin):
        subprocess.run(command, input=text, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, len(calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=60, help="service x environment pairs for the CLI way")
    parser.add_argument("--full", action="store_true", help="run the CLI way on every pair (minutes)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        root, platform = platform_root(tmp)
        pairs = [(s, e) for s in platform.services for e in platform.environments]
        port = free_ports(2)
        token = secrets.token_hex(16)
        server = BaoProcess(
            ["server", "-dev", "-dev-no-store-token"], f"http://127.0.0.1:{port}", tmp / "bao.log",
            env={"BAO_DEV_ROOT_TOKEN_ID": token, "BAO_DEV_LISTEN_ADDRESS": f"127.0.0.1:{port}", "HOME": str(tmp)},
        ).start()
        env = {**os.environ, "VAULT_ADDR": server.addr, "VAULT_TOKEN": token, "HOME": str(tmp)}
        env.pop("SERVICES", None)
        env.pop("ENVIRONMENTS", None)
        try:
            first, report = provision(root, env)
            rerun, again = provision(root, env)
            assert again["writes"] == 0, "the re-run must write nothing"

            reset_dev_vault(hvac.Client(url=server.addr, token=token))
            sample = pairs if args.full else pairs[: args.sample]
            cli_seconds, cli_calls = cli_way(platform, sample, env)
        finally:
            server.stop()

    full_calls = 2 + 3 * len(pairs)
    per_call = cli_seconds / cli_calls
    cli_full = cli_seconds if args.full else per_call * full_calls
    print(f"Vault provision, {SERVICES} services x {len(platform.environments)} environments = {len(pairs)} pairs")
    print(f"  API (gitops-poc vault provision): {first:6.2f} s for {report['writes']} writes, whole command")
    print(f"  idempotent re-run:                {rerun:6.2f} s, {again['writes']} writes")
    if args.full:
        print(f"  CLI way (one bao process/write):  {cli_seconds:6.2f} s for {cli_calls} calls (measured in full)")
    else:
        print(f"  CLI way (one bao process/write):  {cli_seconds:6.2f} s for {cli_calls} calls "
              f"({len(sample)} of {len(pairs)} pairs), {per_call * 1000:.0f} ms a call")
        print(f"                                    {cli_full:6.2f} s extrapolated to all {full_calls} calls")
    ratio = cli_full / first
    print(f"  ratio: API is {ratio:.0f}x faster (target: at least 20x) -> {'OK' if ratio >= 20 else 'BELOW TARGET'}")


if __name__ == "__main__":
    main()
