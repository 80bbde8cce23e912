"""sampling.py: seeded draws of lengths, positions and stream groups; request seeds; embeddings."""

from __future__ import annotations

import numpy as np

from sanic_mock.sampling import Sampler, draw_lengths, embedding, seeded


def draws(sampler: Sampler, n: int) -> list[tuple[int, int]]:
    return [sampler.draw() for _ in range(n)]


def test_the_same_seed_draws_the_same_sequence_across_refills() -> None:
    one = Sampler(50, 10, 1000, seed=3, block=4)
    two = Sampler(50, 10, 1000, seed=3, block=4)
    assert draws(one, 11) == draws(two, 11)  # three refills of four
    assert draws(Sampler(50, 10, 1000, seed=4, block=4), 11) != draws(
        Sampler(50, 10, 1000, seed=3, block=4), 11
    )


def test_lengths_are_at_least_one_and_positions_in_range() -> None:
    sampler = Sampler(2, 5, 7, seed=1, block=64)
    got = draws(sampler, 200)
    assert min(length for length, _ in got) == 1
    assert {start for _, start in got} <= set(range(7))


def test_without_stddev_every_length_is_the_rounded_mean() -> None:
    assert {length for length, _ in draws(Sampler(12.4, 0, 5, block=8), 20)} == {12}
    rng = np.random.Generator(np.random.PCG64(0))
    assert draw_lengths(rng, 0.2, 0, 3).tolist() == [1, 1, 1]
    assert draw_lengths(rng, 7.6, 0, 2).dtype == np.int64


def test_groups_are_none_for_one_token_per_event() -> None:
    assert Sampler(10, 1, 10).groups(5) is None


def test_groups_sum_to_the_tokens_within_the_bounds() -> None:
    sampler = Sampler(10, 1, 10, group_min=2, group_max=4, seed=5, block=3)
    for tokens in (0, 1, 2, 9, 50):
        sizes = sampler.groups(tokens)
        assert sizes is not None and sum(sizes) == tokens
        assert all(1 <= s <= 4 for s in sizes)
        assert all(s >= 2 for s in sizes[:-1])  # only the last is cut short
    assert sampler.groups(0) == []


def test_a_request_seed_gives_the_same_draws_whatever_the_server_drew() -> None:
    base = Sampler(30, 5, 500, group_min=1, group_max=3, seed=0)
    first = draws(seeded(42, b"request", base), 20)
    draws(base, 100)
    assert draws(seeded(42, b"request", base), 20) == first
    assert draws(seeded(42, b"other request", base), 20) != first
    assert draws(seeded(43, b"request", base), 20) != first
    again = seeded(42, b"request", base)
    assert again.groups(10) == seeded(42, b"request", base).groups(10)


def test_a_negative_or_huge_seed_is_taken_modulo_2_64() -> None:
    base = Sampler(30, 5, 500)
    assert draws(seeded(-1, b"k", base), 5) == draws(seeded(2**64 - 1, b"k", base), 5)


def test_embeddings_are_unit_length_and_stable_per_model_and_input() -> None:
    vec = embedding("m", "hello", 16, None)
    assert vec.dtype == np.float32 and vec.shape == (16,)
    assert abs(float(np.linalg.norm(vec)) - 1.0) < 1e-6
    assert np.array_equal(vec, embedding("m", "hello", 16, None))
    assert not np.array_equal(vec, embedding("m2", "hello", 16, None))
    assert not np.array_equal(vec, embedding("m", "hello!", 16, None))
    tokens = embedding("m", (1, 2, 3), 16, None)
    assert np.array_equal(tokens, embedding("m", (1, 2, 3), 16, None))
    assert not np.array_equal(tokens, embedding("m", (1, 2, 4), 16, None))


def test_shortened_embeddings_are_the_full_vector_cut_and_renormalised() -> None:
    full = embedding("m", "x", 32, None)
    short = embedding("m", "x", 32, 8)
    assert short.shape == (8,) and abs(float(np.linalg.norm(short)) - 1.0) < 1e-6
    expected = full[:8] / np.linalg.norm(full[:8])
    assert np.allclose(short, expected, atol=1e-6)
