"""A recorded corpus as its file holds it (format version 4): exchanges decoded when first used,
and the match index written at build time, so a server starts without decoding any exchange.

The file keeps every exchange's map packed on its own, one after the other (`exchange_data`,
with `exchange_ends`, their end offsets), and an `index` section: per exchange its match key
(`corpus/index.py`'s `request_key` with `DEFAULT_IGNORE`), its flags (stream shape, complete, a
2xx answer) and its endpoint, plus the models the corpus names. `Exchanges` is the lazy sequence
over the packed maps (decoded and checked by `from_doc` on first access, then kept);
`StoredIndex.entries` gives the index's entries back when they were made the way this code
makes them (same `KEY_SCHEME`, same ignore list), else None and the index is computed.

20,000 chat exchanges (32 MB) started in 4.5 s and 181 MB resident when every exchange was
decoded at start-up (twice); see corpus/README.md for the table now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, overload

import numpy as np
import numpy.typing as npt

from sanic_mock.corpus.errors import CorpusError
from sanic_mock.corpus.exchanges import Exchange, from_doc, to_doc
from sanic_mock.corpus.index import DEFAULT_IGNORE, KEY_SCHEME, entry

KEY_BYTES = 16
U64 = npt.NDArray[np.uint64]


class Packed(NamedTuple):
    """`exchange_data` where it lies: `data[start:end]` (the file's bytes, not a copy)."""

    data: bytes
    start: int
    end: int


class Exchanges(Sequence[Exchange]):
    """The exchanges of a file, decoded one by one when first asked for (`unpack` is the
    msgpack reader of `corpus/io.py`; `ends` are offsets in `packed`)."""

    def __init__(self, packed: Packed, ends: U64, unpack: Callable[[Any], Any]) -> None:
        self.packed, self.ends, self._unpack = packed, ends, unpack
        self._view = memoryview(packed.data)
        self._decoded: dict[int, Exchange] = {}

    def __len__(self) -> int:
        return len(self.ends)

    def span(self, i: int) -> tuple[int, int]:
        return (int(self.ends[i - 1]) if i else 0), int(self.ends[i])

    def at_offset(self, offset: int) -> int:
        """The number of the exchange whose packed map holds byte `offset`."""
        return int(np.searchsorted(self.ends, offset, side="right"))

    @overload
    def __getitem__(self, i: int) -> Exchange: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[Exchange]: ...

    def __getitem__(self, i: int | slice) -> Exchange | Sequence[Exchange]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        found = self._decoded.get(i)
        if found is None:
            if not 0 <= i < len(self):
                raise IndexError(i)
            start, end = self.span(i)
            base = self.packed.start
            try:
                found = from_doc(self._unpack(self._view[base + start : base + end]))
            except CorpusError as exc:
                raise CorpusError(f"exchange {i}: {exc}") from None
            self._decoded[i] = found
        return found

    def __iter__(self) -> Iterator[Exchange]:
        return (self[i] for i in range(len(self)))


@dataclass(frozen=True, slots=True)
class StoredIndex:
    """The `index` section: per exchange a key, flags and endpoint; the corpus's models."""

    scheme: str
    ignore: tuple[str, ...]  # sorted
    keys: bytes  # KEY_BYTES per exchange
    flags: bytes  # one byte per exchange (`corpus/index.py`'s STREAM, USAGE, COMPLETE, OK)
    endpoint_of: bytes  # uint16 LE per exchange: its place in `endpoints`
    endpoints: tuple[str, ...]
    models: tuple[str, ...]  # sorted

    def __post_init__(self) -> None:
        n = len(self.flags)
        if len(self.keys) != n * KEY_BYTES or len(self.endpoint_of) != 2 * n:
            raise CorpusError("index: its tables do not have one entry per exchange")
        places = np.frombuffer(self.endpoint_of, "<u2")
        if n and int(places.max()) >= len(self.endpoints):
            raise CorpusError("index: an exchange names an endpoint not listed")

    def __len__(self) -> int:
        return len(self.flags)

    def entries(self, ignore: Iterable[str]) -> list[tuple[str, bytes, int]] | None:
        """The (endpoint, key, flags) of each exchange — `corpus/index.py`'s `Entry` — if they
        were made the way that module makes them for `ignore`, else None."""
        if self.scheme != KEY_SCHEME or tuple(sorted(set(ignore))) != self.ignore:
            return None
        keys = self.keys
        names = [self.endpoints[p] for p in np.frombuffer(self.endpoint_of, "<u2").tolist()]
        cut = [keys[k : k + KEY_BYTES] for k in range(0, len(keys), KEY_BYTES)]
        return list(zip(names, cut, self.flags, strict=True))

    def to_doc(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "ignore": list(self.ignore),
            "keys": self.keys,
            "flags": self.flags,
            "endpoint_of": self.endpoint_of,
            "endpoints": list(self.endpoints),
            "models": list(self.models),
        }


def build_index(exchanges: Sequence[Exchange]) -> StoredIndex:
    """The index section of `exchanges` (in file order), with the default ignore list."""
    ignore = frozenset(DEFAULT_IGNORE)
    made = [entry(ex, ignore) for ex in exchanges]
    endpoints = sorted({e.endpoint for e in made})
    if len(endpoints) > 65535:
        raise CorpusError("more than 65535 distinct endpoints")
    place = {name: k for k, name in enumerate(endpoints)}
    return StoredIndex(
        scheme=KEY_SCHEME,
        ignore=tuple(sorted(ignore)),
        keys=b"".join(e.key for e in made),
        flags=bytes(e.flags for e in made),
        endpoint_of=np.array([place[e.endpoint] for e in made], "<u2").tobytes(),
        endpoints=tuple(endpoints),
        models=tuple(sorted({ex.model for ex in exchanges if ex.model})),
    )


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CorpusError(f"index.{name}: expected a list of strings")
    return tuple(value)


def _bytes(value: Any, name: str) -> bytes:
    if not isinstance(value, bytes):
        raise CorpusError(f"index.{name}: expected bytes")
    return value


def index_from_doc(doc: Any, count: int) -> StoredIndex:
    if not isinstance(doc, dict) or not isinstance(doc.get("scheme"), str):
        raise CorpusError("index: expected a map with a key scheme")
    index = StoredIndex(
        scheme=doc["scheme"],
        ignore=_strings(doc.get("ignore"), "ignore"),
        keys=_bytes(doc.get("keys"), "keys"),
        flags=_bytes(doc.get("flags"), "flags"),
        endpoint_of=_bytes(doc.get("endpoint_of"), "endpoint_of"),
        endpoints=_strings(doc.get("endpoints"), "endpoints"),
        models=_strings(doc.get("models"), "models"),
    )
    if len(index) != count:
        raise CorpusError(f"index: {len(index)} entries for {count} exchanges")
    return index


def ends_from(raw: Any, size: int) -> U64:
    """`exchange_ends` checked: uint64 LE offsets, increasing, the last one `size`."""
    if not isinstance(raw, bytes) or len(raw) % 8 or not raw:
        raise CorpusError("exchange_ends: expected a non-empty uint64 array")
    ends = np.frombuffer(raw, "<u8").astype(np.uint64)
    if int(ends[-1]) != size or int(ends[0]) == 0 or np.any(ends[1:] <= ends[:-1]):
        raise CorpusError("exchange_ends: offsets do not tile exchange_data")
    return ends


def pack_exchanges(
    docs: Iterable[dict[str, Any]], pack: Callable[[Any], bytes]
) -> tuple[bytes, bytes]:
    """(exchange_data, exchange_ends) of exchange maps, each packed on its own."""
    blobs = [pack(doc) for doc in docs]
    ends = np.cumsum([len(b) for b in blobs], dtype=np.uint64)
    return b"".join(blobs), ends.astype("<u8").tobytes()


def recorded_layout(exchanges: Sequence[Exchange], pack: Callable[[Any], bytes]) -> dict[str, Any]:
    """The version-4 keys of a recorded corpus: packed exchanges, their ends, the index."""
    data, ends = pack_exchanges((to_doc(ex) for ex in exchanges), pack)
    return {
        "exchange_data": data,
        "exchange_ends": ends,
        "index": build_index(exchanges).to_doc(),
    }
