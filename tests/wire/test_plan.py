from __future__ import annotations

import pytest

from sanic_mock.corpus.pool import TextPool
from sanic_mock.corpus.pregen import generate
from sanic_mock.sampling import Sampler
from sanic_mock.wire.plan import length_for, plan
from sanic_mock.wire.requests import Generation, parse_chat


def gen(**kw: object) -> Generation:
    base = {"model": "m", "messages": [{"role": "user", "content": "hi"}], **kw}
    import orjson

    return parse_chat(orjson.dumps(base)).gen


@pytest.mark.parametrize(
    ("kw", "drawn", "expected"),
    [
        ({}, 300, (300, "stop")),
        ({"max_tokens": 100}, 300, (100, "length")),
        ({"max_tokens": 500}, 300, (300, "stop")),
        ({"max_completion_tokens": 7, "max_tokens": 9}, 300, (7, "length")),
        ({"max_tokens": 500, "ignore_eos": True}, 3, (500, "length")),
        ({"min_tokens": 50}, 3, (50, "stop")),
        ({"min_tokens": 50, "max_tokens": 20}, 3, (20, "length")),
        ({}, 0, (1, "stop")),
    ],
)
def test_length_policy(kw: dict[str, object], drawn: int, expected: tuple[int, str]) -> None:
    assert length_for(gen(**kw), drawn) == expected


def test_stop_cuts_before_the_stop_text() -> None:
    pool = TextPool(generate(8, 0))
    sampler = Sampler(200, 0, pool.piece_count, seed=1)
    (choice,) = plan(gen(stop=["."]), pool, sampler, 1)
    text = b"".join(choice.raw_pieces(pool))
    assert b"." not in text and choice.finish_reason == "stop"
    assert choice.tokens == len(choice.raw_pieces(pool))


def test_sampler_lengths_follow_the_distribution() -> None:
    sampler = Sampler(256, 64, 1000, seed=0)
    lengths = [sampler.draw()[0] for _ in range(20000)]
    mean = sum(lengths) / len(lengths)
    assert 250 < mean < 262 and min(lengths) >= 1
    assert Sampler(256, 64, 1000, seed=0).draw() == Sampler(256, 64, 1000, seed=0).draw()


def test_stream_groups_sum_to_the_token_count() -> None:
    sampler = Sampler(10, 0, 100, group_min=2, group_max=5, seed=0)
    groups = sampler.groups(97)
    assert sum(groups) == 97 and all(1 <= g <= 5 for g in groups)
    assert all(g >= 2 for g in groups[:-1])
