"""Seeded random draws: completion lengths, text positions, stream grouping, embedding vectors.

The hot path never calls numpy per request: `Sampler` draws lengths and positions in blocks of
`BLOCK` and hands them out from Python lists, refilling from the same generator, so a server
started with the same `--seed` serves the same sequence. A request that carries its own `seed`
gets a private generator keyed by that seed and the request's content (`seeded()`), which makes
its output reproducible regardless of what else the server is doing.
"""

from __future__ import annotations

import hashlib
import secrets

import numpy as np
from numpy.typing import NDArray

BLOCK = 8192


class Sampler:
    """Completion lengths ~ Normal(mean, stddev) rounded and at least 1; uniform start pieces."""

    def __init__(
        self,
        mean: float,
        stddev: float,
        positions: int,
        group_min: int = 1,
        group_max: int = 1,
        seed: int | list[int] = 0,
        block: int = BLOCK,
    ) -> None:
        self._block = block
        self._rng = np.random.Generator(np.random.PCG64(seed))
        self._mean, self._stddev, self._positions = mean, stddev, positions
        self._group = (group_min, group_max)
        self._lengths: list[int] = []
        self._starts: list[int] = []
        self._groups: list[int] = []
        self._units: list[float] = []

    def _refill(self) -> None:
        n = self._block
        self._lengths = draw_lengths(self._rng, self._mean, self._stddev, n).tolist()
        self._starts = self._rng.integers(0, self._positions, size=n).tolist()
        lo, hi = self._group
        self._groups = self._rng.integers(lo, hi + 1, size=n).tolist()

    def draw(self) -> tuple[int, int]:
        """(length, start position) for one choice."""
        if not self._lengths:
            self._refill()
        return self._lengths.pop(), self._starts.pop()

    def unit(self) -> float:
        """A uniform draw in [0, 1): tool-call decisions, which tools, which schema value."""
        if not self._units:
            self._units = self._rng.random(self._block).tolist()
        return self._units.pop()

    def below(self, n: int) -> int:
        """A uniform integer in [0, n)."""
        return min(int(self.unit() * n), n - 1)

    def groups(self, tokens: int) -> list[int] | None:
        """Sizes of the token groups sent per SSE event, summing to `tokens` (None: one each)."""
        lo, hi = self._group
        if hi == 1:
            return None
        out: list[int] = []
        while tokens > 0:
            if not self._groups:
                self._refill()
            size = min(self._groups.pop(), tokens)
            out.append(size)
            tokens -= size
        return out


def fresh_seed(seed: int | None) -> int:
    """`seed`, or a new random one when None (a server started without --seed)."""
    return secrets.randbits(63) if seed is None else seed


def draw_lengths(
    rng: np.random.Generator, mean: float, stddev: float, size: int
) -> NDArray[np.int64]:
    lengths = rng.normal(mean, stddev, size=size) if stddev > 0 else np.full(size, mean)
    return np.maximum(1, np.rint(lengths)).astype(np.int64)


def seeded(seed: int, key: bytes, sampler: Sampler) -> Sampler:
    """A private sampler for a request with `seed`: same seed and same request -> same draws."""
    digest = hashlib.blake2b(key, digest_size=8).digest()
    return Sampler(
        sampler._mean,
        sampler._stddev,
        sampler._positions,
        *sampler._group,
        seed=[seed & 0xFFFFFFFFFFFFFFFF, int.from_bytes(digest, "little")],
        block=16,
    )


def embedding(
    model: str, item: str | tuple[int, ...], size: int, dimensions: int | None
) -> NDArray[np.float32]:
    """A unit-length float32 vector, the same for the same (model, input).

    Like text-embedding-3's shortening, a `dimensions` request truncates the model's full vector
    and renormalises it, so shortened vectors agree with the full ones.
    """
    key = model.encode() + b"\0" + (item.encode() if isinstance(item, str) else repr(item).encode())
    seed = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little")
    vec = np.random.Generator(np.random.PCG64(seed)).standard_normal(size, dtype=np.float32)
    if dimensions is not None:
        vec = vec[:dimensions]
    norm = np.linalg.norm(vec)
    return (vec / norm).astype(np.float32) if norm > 0 else vec
