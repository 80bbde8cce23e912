"""The test upstream (`tests/upstream_app.py`), one process per test module that asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.recording import upstream_app
from tests.servers import Server


@pytest.fixture(scope="module")
def upstream() -> Iterator[Server]:
    with upstream_app() as server:
        yield server
