"""Fixtures for the cluster commands: the API stand-in, stand-in binaries, and a record of every process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.fakeapi import FakeApi, serve_fake_api
from tests.cluster.standins import recorder
from tests.conftest import require_binary

MINIKUBE = r"""#!{python}
import json, sys
args = sys.argv[1:]
open({log!r}, "a").write(json.dumps(args) + "\n")
if args[:1] == ["status"]:
    print(json.dumps({{"Name": "minikube", "Host": "Running"}}))
elif args[:2] == ["addons", "list"]:
    print(json.dumps({{"ingress": {{"Status": "enabled"}}, "metrics-server": {{"Status": "enabled"}}}}))
elif args[:2] == ["profile", "list"]:
    print(json.dumps({{"valid": [{{"Name": "minikube"}}]}}))
"""


@pytest.fixture
def processes(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The argument list of every process started (subprocess.run goes through Popen)."""
    started: list[list[str]] = []
    real = subprocess.Popen

    class Recording(real):  # type: ignore[valid-type,misc]
        def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
            started.append([str(a) for a in args] if isinstance(args, (list, tuple)) else [str(args)])
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", Recording)
    return started


@pytest.fixture
def standins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bin folder first on PATH, and no checkout .tools/bin in the way."""
    folder = tmp_path / "bin"
    folder.mkdir()
    minikube = folder / "minikube"
    minikube.write_text(MINIKUBE.format(python=sys.executable, log=str(folder / "minikube.log")))
    minikube.chmod(0o755)
    # helm upgrade needs a cluster: recorded; helm history/get values read the API stand-in for real.
    recorder(folder, "helm", real=str(Path(require_binary("helm")).resolve()), reads=("history", "get"))
    monkeypatch.setattr("gitops_poc.cluster.tools.CHECKOUT", tmp_path / "no-checkout")
    monkeypatch.setenv("PATH", f"{folder}:{Path(sys.executable).parent}:/usr/bin:/bin")
    return folder


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    with serve_fake_api() as api:
        api.anonymous = True  # helm (client-go) sends no bearer token over plain HTTP
        monkeypatch.setenv("KUBECONFIG", str(api.kubeconfig(tmp_path)))
        yield api
