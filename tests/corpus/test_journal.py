"""The recorder's journal: torn lines are skipped."""

from __future__ import annotations

from pathlib import Path

import orjson

from sanic_mock.corpus.exchanges import to_doc
from sanic_mock.corpus.journal import read_journal
from tests.factories import (
    json_exchange,
)


def test_journal_skips_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "j.journal"
    good = orjson.dumps(to_doc(json_exchange("a", "b")))
    path.write_bytes(good + b"\n" + good[:20])
    assert len(read_journal(path)) == 1
