"""Find the recorded answer for a request: match keys, repeat cursors, sampling, miss reports.

A request's key is a hash of its endpoint and its body, normalised: credential fields and the
fields on the ignore list (`DEFAULT_IGNORE` plus `--match-ignore`) removed, integral floats
written as integers, keys sorted. Everything else counts — model, every message, the system
prompt, tools, tool_choice, response_format and the sampling parameters — so two requests that
could get different answers never share a key. The key is computed the same way for recorded
and incoming requests.

`Index` is built once per worker: `dict[key, list[Exchange]]` plus a cursor per key, so
repeated identical requests walk through the recorded answers in order, then start over.
`sample` picks a recorded answer of the same endpoint by a hash of the request (the same
request always gets the same answer); `draw` picks one at random from a seeded generator.
`explain` (used only on a miss, it scans linearly) names the closest recorded request and the
fields that differ.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from typing import Any

import orjson

from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.corpus.scrub import clean_request

# Fields that do not change what the model says (or, for `stream`, only the framing, which
# replay converts).
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


def _short(value: Any, limit: int = 40) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def differences(recorded: Any, given: Any, path: str = "") -> list[str]:
    """The paths where two normalised bodies differ, e.g. `messages[1].content`."""
    if isinstance(recorded, dict) and isinstance(given, dict):
        out: list[str] = []
        for k in sorted(set(recorded) | set(given)):
            sub = f"{path}.{k}" if path else k
            if k not in recorded:
                out.append(f"{sub} (not recorded)")
            elif k not in given:
                out.append(f"{sub} (missing)")
            else:
                out.extend(differences(recorded[k], given[k], sub))
        return out
    if isinstance(recorded, list) and isinstance(given, list):
        if len(recorded) != len(given):
            return [f"{path} (recorded {len(recorded)} items, got {len(given)})"]
        out = []
        for i, (a, b) in enumerate(zip(recorded, given, strict=True)):
            out.extend(differences(a, b, f"{path}[{i}]"))
        return out
    if recorded != given:
        return [f"{path} (recorded {_short(recorded)}, got {_short(given)})"]
    return []


class Index:
    def __init__(
        self,
        exchanges: Iterable[Exchange],
        ignore: Iterable[str] = DEFAULT_IGNORE,
        seed: int = 0,
    ) -> None:
        self.ignore = frozenset(ignore)
        self._by_key: dict[bytes, list[Exchange]] = {}
        self._cursor: dict[bytes, int] = {}
        self._pool: dict[str, list[Exchange]] = {}  # answers to sample from, per endpoint
        self._recorded: dict[str, list[tuple[int, Exchange]]] = {}
        self._rng = random.Random(seed)
        self._count = 0
        for ex in exchanges:
            self.add(ex)

    def add(self, ex: Exchange) -> None:
        """Index one more exchange (numbered after the others); an incomplete one is skipped,
        never served as if it were a whole answer."""
        number, self._count = self._count, self._count + 1
        if not ex.complete:
            return
        self._by_key.setdefault(self.key(ex.endpoint, ex.request), []).append(ex)
        self._recorded.setdefault(ex.endpoint, []).append((number, ex))
        if ex.ok:
            self._pool.setdefault(ex.endpoint, []).append(ex)

    def key(self, endpoint: str, body: Any) -> bytes:
        return request_key(endpoint, body, self.ignore)

    def __len__(self) -> int:
        return sum(map(len, self._by_key.values()))

    def match(self, endpoint: str, body: Any) -> Exchange | None:
        """The next recorded answer to this request (in recorded order, then again), or None."""
        key = self.key(endpoint, body)
        found = self._by_key.get(key)
        if not found:
            return None
        at = self._cursor.get(key, 0)
        self._cursor[key] = (at + 1) % len(found)
        return found[at]

    def sample(self, endpoint: str, body: Any) -> Exchange | None:
        """A successful recorded answer of the endpoint, chosen by the request's hash."""
        pool = self._pool.get(endpoint)
        if not pool:
            return None
        return pool[int.from_bytes(self.key(endpoint, body)[:8], "little") % len(pool)]

    def draw(self, endpoint: str) -> Exchange | None:
        """A successful recorded answer of the endpoint, drawn from the seeded generator."""
        pool = self._pool.get(endpoint)
        return self._rng.choice(pool) if pool else None

    def explain(self, endpoint: str, body: Any) -> tuple[str, str | None]:
        """(message, first differing field) for a request that matched nothing."""
        candidates = self._recorded.get(endpoint, [])
        if not candidates:
            known = ", ".join(sorted(self._recorded)) or "none"
            return f"No recorded exchange for {endpoint} (recorded endpoints: {known}).", None
        given = normalize(body, self.ignore)
        best: tuple[int, Exchange, list[str]] | None = None
        for number, ex in candidates:
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
