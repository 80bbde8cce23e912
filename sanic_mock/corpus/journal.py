"""The recorder's journal: finished exchanges appended as JSON lines next to the output file,
each fsynced at once, so a crash or a kill loses at most the exchange under way.

`finish_corpus` turns the journal (plus, when appending, the existing corpus) into the corpus
file — through `io.write`, i.e. a temporary file renamed into place — and removes the journal.
A journal left behind by a killed recorder is read back by the next run with the same output
(`read_journal` skips a line torn mid-write), or by `corpus import FILE.journal`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from sanic_mock.corpus import io
from sanic_mock.corpus.errors import CorpusError
from sanic_mock.corpus.exchanges import Exchange, from_doc, to_doc
from sanic_mock.corpus.format import Corpus


def journal_path(out: Path) -> Path:
    return out.with_name(out.name + ".journal")


def read_journal(path: Path) -> list[Exchange]:
    """The exchanges of a journal; a line torn by a kill mid-write is skipped."""
    lines = path.read_bytes().split(b"\n")
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # a line torn by a kill mid-write
        try:
            out.append(from_doc(doc))
        except CorpusError as exc:
            raise CorpusError(f"{path}, line {number}: {exc}") from None
    return out


class Journal:
    """Append-only JSON lines, one finished exchange each, flushed to disk at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        size = os.fstat(self._fd).st_size
        if size:  # a journal left by an interrupted run: finish its last line
            with path.open("rb") as fh:
                fh.seek(size - 1)
                if fh.read(1) != b"\n":
                    os.write(self._fd, b"\n")

    def append(self, ex: Exchange) -> None:
        os.write(self._fd, orjson.dumps(to_doc(ex), option=orjson.OPT_SORT_KEYS) + b"\n")
        os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)


def finish_corpus(out: Path, append: bool, allow_secrets: bool, tool: str) -> int:
    """Write the journal (plus the existing corpus with `append`) to `out`; returns how many
    exchanges the file holds (0: nothing written)."""
    journal = journal_path(out)
    recorded = read_journal(journal) if journal.exists() else []
    existing: tuple[Exchange, ...] = ()
    generator: dict[str, Any] = {"tool": tool}
    if append and out.exists():
        old = io.read(out, allow_secrets=allow_secrets)
        existing, generator = tuple(old.exchanges), old.generator
    exchanges = existing + tuple(recorded)
    if exchanges:
        corpus = Corpus(kind="recorded", generator=generator, exchanges=exchanges)
        io.write(out, corpus, allow_secrets=allow_secrets)
    journal.unlink(missing_ok=True)
    return len(exchanges)
