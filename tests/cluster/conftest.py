from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .fakeapi import FakeApi, serve_fake_api


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    with serve_fake_api() as api:
        yield api


@pytest.fixture
def kubeconfig(fake_api: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """KUBECONFIG with context `minikube` pointing at the fake API server."""
    path = fake_api.kubeconfig(tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path
