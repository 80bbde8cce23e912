from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import Server, running


@pytest.fixture(autouse=True)
def _no_mock_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's MOCK_OPENAI_* variables."""
    import os

    for key in list(os.environ):
        if key.startswith("MOCK_OPENAI_"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """One real server for the session: default options, a small pool for a fast start."""
    with running("--pregen-count", "256", "--seed", "7") as srv:
        yield srv
