"""The release tests reuse the delivery tests' service repository with a real bare remote."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.delivery.conftest import ServiceRemote, make_service_remote


@pytest.fixture
def service_remote(tmp_path: Path) -> ServiceRemote:
    return make_service_remote(tmp_path)
