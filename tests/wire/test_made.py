"""Which tools a choice calls: the rules of tool_choice, parallel calls and the call rate."""

from __future__ import annotations

from sanic_mock import encodings
from sanic_mock.encodings import CL100K, O200K
from sanic_mock.sampling import Sampler
from sanic_mock.settings import ToolSettings
from sanic_mock.wire.made import pieces_of, to_call
from sanic_mock.wire.shapes import Tool, ToolUse

A = Tool("a", {"type": "object"}, False)
B = Tool("b", {"type": "object"}, False)


def use(
    mode: str, after: bool = False, parallel: bool = True, named: Tool | None = None
) -> ToolUse:
    return ToolUse((A, B), mode, named, parallel, False, after)


def sampler(seed: int = 0) -> Sampler:
    return Sampler(10, 0, 100, seed=seed)


def test_modes() -> None:
    s, settings = sampler(), ToolSettings()
    assert to_call(use("none"), settings, s) == []
    assert to_call(use("named", named=B), settings, s) == [B]
    assert len(to_call(use("auto"), settings, s)) == 1
    assert to_call(use("auto", after=True), settings, s) == []  # after a tool result: text
    assert len(to_call(use("required", after=True), settings, s)) == 1  # required: always


def test_parallel_calls_up_to_the_maximum() -> None:
    s, three = sampler(), ToolSettings(max_parallel=3)
    counts = {len(to_call(use("required"), three, s)) for _ in range(200)}
    assert counts == {1, 2, 3}
    assert {len(to_call(use("required", parallel=False), three, s)) for _ in range(50)} == {1}
    assert {t.name for _ in range(50) for t in to_call(use("required"), three, s)} == {"a", "b"}


def test_call_rate_and_its_seed() -> None:
    half = ToolSettings(call_rate=0.25)
    draws = [bool(to_call(use("auto"), half, s)) for s in [sampler(5)] for _ in range(400)]
    assert 60 < sum(draws) < 140
    again = [bool(to_call(use("auto"), half, s)) for s in [sampler(5)] for _ in range(400)]
    assert draws == again
    assert all(to_call(use("auto"), ToolSettings(call_rate=0.0), sampler()) == [] for _ in range(9))


def test_pieces_are_the_tokens_of_the_encoding() -> None:
    text = '{"city":"São Paulo 東京","n":[1,2]}'
    for name in (O200K, CL100K):
        pieces = pieces_of(text.encode(), name)
        assert b"".join(pieces).decode() == text
        assert all(p.decode("utf-8") for p in pieces)  # whole characters only
        assert len(pieces) <= len(encodings.get(name).encode(text))
