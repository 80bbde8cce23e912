"""Find the recorded answer for a request: match keys, stream shapes, cursors, samples, misses.

A request's key is a hash of its endpoint and its body, normalised: credential fields and the
fields on the ignore list (`DEFAULT_IGNORE` plus `--match-ignore`) removed, integral floats
written as integers, keys sorted. Everything else counts — model, every message, the system
prompt, tools, tool_choice, response_format and the sampling parameters — so two requests that
could get different answers never share a key. The key is computed the same way for recorded
and incoming requests (`KEY_SCHEME` names this recipe; a corpus file stores the keys it was
written with, `corpus/format.py`, and they are recomputed when the scheme or the ignore list
differs).

`stream` and `stream_options` are left out of the key but not out of the choice: each key's
recordings are grouped by their **shape** (streamed or not, and for a stream whether the usage
chunk was asked for). `match` prefers, in this order: the same shape; the same `stream` with
the other `include_usage`; the other `stream` (converted by replay). Within the group chosen,
repeated identical requests walk through the recordings in recorded order, then start over.

`Index` is built once per worker and holds exchange numbers, not exchanges: the corpus decodes
an exchange when it is first answered (`corpus/format.py`'s `Exchanges`). `sample` picks a
recorded answer of the same endpoint by a hash of the request (the same request always gets the
same answer); `draw` picks one at random from a seeded generator. `explain` (used only on a
miss, it scans linearly) names the closest recorded request and the fields that differ.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import orjson

from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.corpus.scrub import clean_request

# Fields that do not change what the model says (`stream` and `stream_options` only change the
# framing: they choose among a key's recordings by shape, see the module docstring).
DEFAULT_IGNORE: tuple[str, ...] = (
    "stream",
    "stream_options",
    "user",
    "metadata",
    "store",
    "service_tier",
    "prompt_cache_key",
    "safety_identifier",
)
# Bumped when `request_key` changes: keys stored in a corpus file under another scheme are
# recomputed on load.
KEY_SCHEME = "blake2b-16/v1"

STREAM, USAGE, COMPLETE, OK = 1, 2, 4, 8  # `Entry.flags` bits; a shape is STREAM | USAGE


def _canon(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canon(v) for v in value]
    return value


def normalize(body: Any, ignore: frozenset[str]) -> Any:
    body = clean_request(body)
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in ignore}
    return _canon(body)


def request_key(endpoint: str, body: Any, ignore: frozenset[str]) -> bytes:
    data = orjson.dumps(normalize(body, ignore), option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(endpoint.encode() + b"\0" + data, digest_size=16).digest()


def shape_of(body: Any) -> int:
    """A request body's shape: `STREAM` if it asks for a stream, `USAGE` too if for the usage
    chunk (a plain request has no usage chunk, so its `stream_options` do not count)."""
    if not isinstance(body, dict) or body.get("stream") is not True:
        return 0
    options = body.get("stream_options")
    usage = isinstance(options, dict) and options.get("include_usage") is True
    return STREAM | (USAGE if usage else 0)


# The recorded shapes a request of each shape takes, best first.
_PREFERENCE = {0: (0, STREAM, STREAM | USAGE), STREAM: (STREAM, STREAM | USAGE, 0)}
_PREFERENCE[STREAM | USAGE] = (STREAM | USAGE, STREAM, 0)


class Entry(NamedTuple):
    """What the index needs of one exchange, without decoding it."""

    endpoint: str
    key: bytes
    flags: int  # STREAM, USAGE: the recorded request's shape; COMPLETE; OK (a 2xx answer)


def entry(ex: Exchange, ignore: frozenset[str]) -> Entry:
    flags = shape_of(ex.request) | (COMPLETE if ex.complete else 0) | (OK if ex.ok else 0)
    return Entry(ex.endpoint, request_key(ex.endpoint, ex.request, ignore), flags)


class Found(NamedTuple):
    number: int  # the exchange's place in the corpus (`corpus inspect` numbers)
    exchange: Exchange


MISS_WORDS = ("recorded", "got", "not recorded", "missing")
CHANGE_WORDS = ("was", "now", "added", "removed")


def _short(value: Any, limit: int = 40) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def differences(
    recorded: Any, given: Any, path: str = "", words: tuple[str, ...] = MISS_WORDS
) -> list[str]:
    """The paths where two normalised bodies differ, e.g. `messages[1].content`; `words` name
    the two sides, a field only the second has, and one only the first has."""
    old, new, only_new, only_old = words
    if isinstance(recorded, dict) and isinstance(given, dict):
        out: list[str] = []
        for k in sorted(set(recorded) | set(given)):
            sub = f"{path}.{k}" if path else k
            if k not in recorded:
                out.append(f"{sub} ({only_new})")
            elif k not in given:
                out.append(f"{sub} ({only_old})")
            else:
                out.extend(differences(recorded[k], given[k], sub, words))
        return out
    if isinstance(recorded, list) and isinstance(given, list):
        if len(recorded) != len(given):
            return [f"{path} ({old} {len(recorded)} items, {new} {len(given)})"]
        out = []
        for i, (a, b) in enumerate(zip(recorded, given, strict=True)):
            out.extend(differences(a, b, f"{path}[{i}]", words))
        return out
    if recorded != given:
        return [f"{path} ({old} {_short(recorded)}, {new} {_short(given)})"]
    return []


class _Kind:
    """The recordings of one key and shape, and the cursor that walks through them."""

    __slots__ = ("numbers", "at")

    def __init__(self) -> None:
        self.numbers: list[int] = []
        self.at = 0


class Index:
    """`exchanges` in corpus order; `entries`, when given, are theirs as `entry` computes them
    with `ignore` (a corpus file's stored index), so no exchange is decoded to build it."""

    def __init__(
        self,
        exchanges: Sequence[Exchange],
        ignore: Iterable[str] = DEFAULT_IGNORE,
        seed: int = 0,
        entries: Iterable[tuple[str, bytes, int]] | None = None,
    ) -> None:
        self.ignore = frozenset(ignore)
        self._exchanges = exchanges
        self._added: list[Exchange] = []  # `add`ed after the corpus (--on-miss proxy)
        # key -> the one recording (its number << 2 | its shape), or shape -> recordings
        self._by_key: dict[bytes, int | dict[int, _Kind]] = {}
        self._found: dict[int, Found] = {}  # the exchanges answered so far, by number
        self._pool: dict[str, list[int]] = {}  # answers to sample from, per endpoint
        self._recorded: dict[str, list[int]] = {}
        self._rng = random.Random(seed)
        self._count = 0
        self._len = 0
        if entries is None:
            entries = [entry(ex, self.ignore) for ex in exchanges]
        self._index(entries)

    def exchange(self, number: int) -> Exchange:
        base = len(self._exchanges)
        return self._exchanges[number] if number < base else self._added[number - base]

    def _index(self, entries: Iterable[tuple[str, bytes, int]]) -> None:
        """Index exchanges numbered from `self._count` on; an incomplete one is skipped, never
        served as if it were a whole answer. (One loop with local names: 100,000 entries.)"""
        by_key, recorded, pool = self._by_key, self._recorded, self._pool
        number = self._count
        for endpoint, key, flags in entries:
            if flags & COMPLETE:
                shape = flags & (STREAM | USAGE)
                found = by_key.get(key)
                if found is None:  # most keys have one recording: an int, no dict or list
                    by_key[key] = number << 2 | shape
                else:
                    if isinstance(found, int):
                        first = _Kind()
                        first.numbers.append(found >> 2)
                        found = by_key[key] = {found & (STREAM | USAGE): first}
                    kind = found.get(shape)
                    if kind is None:
                        kind = found[shape] = _Kind()
                    kind.numbers.append(number)
                numbers = recorded.get(endpoint)
                if numbers is None:
                    numbers = recorded[endpoint] = []
                numbers.append(number)
                if flags & OK:
                    pool.setdefault(endpoint, []).append(number)
                self._len += 1
            number += 1
        self._count = number

    def add(self, ex: Exchange) -> None:
        """Index one more exchange (numbered after the others); an incomplete one is skipped."""
        self._added.append(ex)
        self._index([entry(ex, self.ignore)])

    def key(self, endpoint: str, body: Any) -> bytes:
        return request_key(endpoint, body, self.ignore)

    def __len__(self) -> int:
        return self._len

    def match(self, endpoint: str, body: Any, shape: int | None = None) -> Found | None:
        """The next recorded answer to this request, of its shape if one was recorded (the
        request's own by default), or None."""
        key = self.key(endpoint, body)
        shapes = self._by_key.get(key)
        if shapes is None:
            return None
        if isinstance(shapes, int):  # the key's only recording, whatever its shape
            number = shapes >> 2
        else:
            want = shape_of(body) if shape is None else shape
            kind = shapes.get(want)
            if kind is None:
                for other in _PREFERENCE[want]:
                    kind = shapes.get(other)
                    if kind is not None:
                        break
                else:
                    return None  # a key has at least one of the shapes
            # inline, not a method of `_Kind`: this runs on every replayed request
            numbers, at = kind.numbers, kind.at
            kind.at = (at + 1) % len(numbers)
            number = numbers[at]
        got = self._found.get(number)
        return self.found(number) if got is None else got

    def found(self, number: int) -> Found:
        """Exchange `number` (decoded once)."""
        got = self._found.get(number)
        if got is None:
            got = self._found[number] = Found(number, self.exchange(number))
        return got

    def sample(self, endpoint: str, body: Any) -> Found | None:
        """A successful recorded answer of the endpoint, chosen by the request's hash."""
        pool = self._pool.get(endpoint)
        if not pool:
            return None
        pick = int.from_bytes(self.key(endpoint, body)[:8], "little") % len(pool)
        return self.found(pool[pick])

    def draw(self, endpoint: str) -> Found | None:
        """A successful recorded answer of the endpoint, drawn from the seeded generator."""
        pool = self._pool.get(endpoint)
        return self.found(self._rng.choice(pool)) if pool else None

    def numbers(self, endpoint: str) -> list[int]:
        """The complete exchanges recorded for `endpoint`, in corpus order."""
        return self._recorded.get(endpoint, [])

    def explain(self, endpoint: str, body: Any) -> tuple[str, str | None]:
        """(message, first differing field) for a request that matched nothing."""
        candidates = self._recorded.get(endpoint, [])
        if not candidates:
            known = ", ".join(sorted(self._recorded)) or "none"
            return f"No recorded exchange for {endpoint} (recorded endpoints: {known}).", None
        given = normalize(body, self.ignore)
        best: tuple[int, Exchange, list[str]] | None = None
        for number in candidates:
            ex = self.exchange(number)
            diff = differences(normalize(ex.request, self.ignore), given)
            if best is None or len(diff) < len(best[2]):
                best = (number, ex, diff)
        assert best is not None
        number, ex, diff = best
        shown = "; ".join(diff[:6]) + ("; …" if len(diff) > 6 else "")
        message = (
            f"No recorded exchange matches this request. The closest recorded request "
            f"(exchange {number}, {ex.describe()}) differs in: {shown}."
        )
        first = diff[0].split(" ", 1)[0] if diff else None
        return message, first
