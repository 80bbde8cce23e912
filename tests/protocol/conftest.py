from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sanic_mock.run import certs
from tests.protocol.support import Servers


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed localhost certificate and key, as `mock-openai cert` writes them."""
    return certs.write(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def servers(tls_files: tuple[Path, Path]) -> Iterator[Servers]:
    pool = Servers(*tls_files)
    try:
        yield pool
    finally:
        pool.close()
