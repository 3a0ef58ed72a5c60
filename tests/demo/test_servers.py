"""The demo's servers: a real OpenBao dev server and the k8app chart repository, always stopped."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import hvac
import pytest

from gitops_poc.demo.servers import chart_repository, openbao
from gitops_poc.errors import UsageError
from tests.conftest import require_shared_charts
from tests.vault.bao import bao_binary


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_openbao_serves_then_is_stopped_by_its_pid(tmp_path: Path) -> None:
    bao_binary()  # fails under CI, skips elsewhere when missing
    with openbao(tmp_path / "vault") as bao:
        client = hvac.Client(url=bao.addr, token=bao.token)
        assert client.is_authenticated()
        assert alive(bao.pid)
    assert not alive(bao.pid)
    kept = [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    assert not any(bao.token in text for text in kept)  # dev mode prints it: that output is not kept


def test_openbao_is_stopped_when_the_block_fails(tmp_path: Path) -> None:
    bao_binary()
    with pytest.raises(RuntimeError), openbao(tmp_path / "vault") as bao:
        pid = bao.pid
        raise RuntimeError("a step failed")
    assert not alive(pid)


def test_an_unreachable_chart_repository_falls_back_to_the_offline_copy() -> None:
    offline = require_shared_charts("k8app")
    with chart_repository("http://127.0.0.1:9/k8app", offline) as source:
        assert source.offline == offline and source.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{source.url}/index.yaml", timeout=5) as answer:
            assert b"name: app" in answer.read()
        url = source.url
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/index.yaml", timeout=2)


def test_a_reachable_repository_is_used_as_it_is() -> None:
    offline = require_shared_charts("k8app")
    with (
        chart_repository("http://127.0.0.1:9/k8app", offline) as served,
        chart_repository(served.url, Path("/nonexistent")) as source,
    ):
        assert (source.url, source.offline) == (served.url, None)


def test_no_repository_and_no_copy_is_a_clear_error(tmp_path: Path) -> None:
    with (
        pytest.raises(UsageError, match="no offline copy"),
        chart_repository("http://127.0.0.1:9/x", tmp_path),
    ):
        pass
