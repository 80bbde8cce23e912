"""`core/load.py`: N slots with a FIFO wait added before the first token, and the gap's stretch
under load."""

from __future__ import annotations

import pytest

from sanic_mock.core.load import Engine
from sanic_mock.core.reply import Reply

STREAM = Reply(b"", [b"a", b"b", b"c"], 0.1, 0.05)  # due 0.1, 0.15, 0.2


def test_requests_beyond_n_wait_for_the_earliest_slot_in_order() -> None:
    engine = Engine(2)
    firsts = [engine.admit(STREAM, 10.0).due()[0] for _ in range(5)]
    assert firsts == pytest.approx([0.1, 0.1, 0.3, 0.3, 0.5])
    # the slots free at 10.4 and 10.6: at 10.5 one is free, the next waits until 10.6
    assert engine.admit(STREAM, 10.5).due() == pytest.approx([0.1, 0.15, 0.2])
    assert engine.admit(STREAM, 10.5).due() == pytest.approx([0.2, 0.25, 0.3])


def test_a_json_answer_waits_too_and_a_free_engine_changes_nothing() -> None:
    engine = Engine(1)
    body = Reply(b"{}", None, 0.2)
    assert engine.admit(body, 0.0) is body
    assert engine.admit(body, 0.0).first_delay == pytest.approx(0.4)
    assert Engine(1).admit(STREAM, 0.0) is STREAM


def test_the_load_factor_stretches_gaps_by_the_others_running() -> None:
    engine = Engine(4, factor=3.0)
    alone = engine.admit(STREAM, 0.0).due()
    assert alone == pytest.approx([0.1, 0.15, 0.2])
    second = engine.admit(STREAM, 0.0).due()  # 1 other running: gaps x (1 + 2 x 1/4)
    assert second == pytest.approx([0.1, 0.175, 0.25])
    engine.admit(STREAM, 0.0)
    fourth = engine.admit(STREAM, 0.0).due()  # 3 others: x 2.5
    assert fourth == pytest.approx([0.1, 0.225, 0.35])
    assert engine.admit(STREAM, 5.0).due() == pytest.approx([0.1, 0.15, 0.2])  # all done


def test_the_load_factor_stretches_a_json_answers_gaps_alike() -> None:
    engine = Engine(2, factor=3.0)
    body = Reply(b"{}", None, 0.5, decode=0.4)  # 0.1 to the first token, 0.4 of gaps
    assert engine.admit(body, 0.0).first_delay == pytest.approx(0.5)  # alone
    stretched = engine.admit(body, 0.0)  # 1 other running of 2: gaps x (1 + 2 x 1/2)
    assert stretched.first_delay == pytest.approx(0.1 + 0.8)
    assert stretched.decode == pytest.approx(0.8)
    assert engine.queued_until == 0.0
    engine.admit(body, 0.0)  # both slots held: it waits for the first to free, at 0.5
    assert engine.queued_until == pytest.approx(0.5)
