"""`core/faults.py`: which requests fail under `--fault-rate`, and what a fault does to a reply."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from sanic_mock.core.control import Fault
from sanic_mock.core.faults import MOST_AFTER, Faults, InjectedError, applied
from sanic_mock.core.reply import Kept, Reply, Tally
from sanic_mock.settings import FAULT_TYPES, FaultSettings

FRAMES = [b"a", b"b", b"c", b"finish+done"]


class Asked(NamedTuple):
    model: str
    prompt_tokens: int
    limit: int | None


STREAM = Reply(b"", FRAMES, 0.1, 0.01)


def test_stall_moves_the_events_from_k_on() -> None:
    reply = applied(Fault("stall", 2, 300.0), STREAM)
    assert reply.frames == FRAMES
    assert reply.due() == pytest.approx([0.1, 0.11, 0.42, 0.43])


def test_truncate_keeps_k_events_and_drops_the_finish() -> None:
    reply = applied(Fault("truncate", 2), STREAM)
    assert reply.frames == [b"a", b"b"] and not reply.reset
    assert reply.due() == pytest.approx([0.1, 0.11])
    assert applied(Fault("truncate", 99), STREAM).frames == [b"a", b"b", b"c"]


def test_reset_keeps_k_events_then_resets() -> None:
    reply = applied(Fault("reset", 1), STREAM)
    assert reply.frames == [b"a"] and reply.reset


def test_a_cut_stream_tallies_an_abort_with_the_tokens_kept() -> None:
    asked = Asked("m", 7, None)
    told = STREAM._replace(asked=asked, said=[Kept(4, 0, "stop")])  # a token a frame
    assert applied(Fault("truncate", 3), told).tally() == Tally("m", 7, 3, "abort")
    assert applied(Fault("reset", 1), told).tally() == Tally("m", 7, 1, "abort")
    assert applied(Fault("stall", 1, 50.0), told).tally() == Tally("m", 7, 4, "stop")
    json = Reply(b"{}", asked=asked, said=[Kept(4, 0, "length")])
    assert applied(Fault("reset", 1), json).tally() == Tally("m", 7, 0, "abort")


def test_on_a_json_answer() -> None:
    body = Reply(b"{}", None, 0.2)
    assert applied(Fault("stall", 1, 500.0), body).first_delay == pytest.approx(0.7)
    reset = applied(Fault("reset", 1), body)
    assert reset.reset and reset.body == b""
    assert applied(Fault("truncate", 1), body) == body


def test_draws_at_the_rate_with_every_type_and_k_in_range() -> None:
    faults = Faults(FaultSettings(rate=0.1, types=FAULT_TYPES, stall_ms=250), seed=5)
    drawn = [faults.draw() for _ in range(20_000)]
    hits = [f for f in drawn if f is not None]
    assert 0.09 < len(hits) / len(drawn) < 0.11
    assert {f.kind for f in hits} == set(FAULT_TYPES)
    for f in hits:
        streamed = f.kind in ("stall", "reset", "truncate")
        assert (1 <= f.after <= MOST_AFTER) if streamed else f.after == 0
        assert f.ms == (250 if f.kind == "stall" else 0)
    again = Faults(FaultSettings(rate=0.1, types=FAULT_TYPES, stall_ms=250), seed=5)
    assert [again.draw() for _ in range(20_000)] == drawn


@pytest.mark.parametrize(("status", "kind"), [("429", "requests"), ("500", "server_error")])
def test_injected_errors(status: str, kind: str) -> None:
    error = InjectedError(status)
    assert error.status == int(status) and error.type == kind
