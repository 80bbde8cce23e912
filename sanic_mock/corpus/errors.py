"""`CorpusError`: the one error every corpus reader, writer and importer raises."""

from __future__ import annotations


class CorpusError(Exception):
    """A corpus that cannot be used: unreadable, broken, of another format or a newer version."""
