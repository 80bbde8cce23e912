"""SSE framing of the streaming endpoints: content events, frames, finish chunks, pacing."""

from __future__ import annotations

import pytest

from sanic_mock.corpus.pool import SEP
from sanic_mock.wire.sse import (
    DONE,
    OBFUSCATION,
    chunks,
    content_events,
    interleave,
    obfuscation_field,
    one_frame,
    with_finish,
)

OPEN, CLOSE = b"<", b">"
TEXT = SEP.join([b"Hel", b"lo", b" wor", b"ld"])


def test_done() -> None:
    assert DONE == b"data: [DONE]\n\n"


def test_content_events_paced_one_token_each() -> None:
    assert content_events(TEXT, None, OPEN, CLOSE, paced=True) == [
        b"<Hel>",
        b"<lo>",
        b"< wor>",
        b"<ld>",
    ]


def test_content_events_unpaced_is_one_item() -> None:
    assert content_events(TEXT, None, OPEN, CLOSE, paced=False) == [b"<Hel><lo>< wor><ld>"]


def test_content_events_grouped() -> None:
    expected = [b"<Hello>", b"< world>"]
    assert content_events(TEXT, [2, 2], OPEN, CLOSE, paced=True) == expected
    assert content_events(TEXT, [2, 2], OPEN, CLOSE, paced=False) == expected
    assert content_events(TEXT, [3, 1], OPEN, CLOSE, paced=True) == [b"<Hello wor>", b"<ld>"]


def test_content_events_of_no_text() -> None:
    assert content_events(b"", None, OPEN, CLOSE, paced=True) == []
    assert content_events(b"", None, OPEN, CLOSE, paced=False) == []
    # with groups, an empty text is still one (empty) event
    assert content_events(b"", [1], OPEN, CLOSE, paced=True) == [b"<>"]


def test_content_events_of_one_token() -> None:
    assert content_events(b"Hi", None, OPEN, CLOSE, paced=True) == [b"<Hi>"]
    assert content_events(b"Hi", None, OPEN, CLOSE, paced=False) == [b"<Hi>"]


def test_one_frame() -> None:
    assert one_frame(b"B|", OPEN, TEXT, CLOSE, b"|A") == b"B|<Hel><lo>< wor><ld>|A"


def test_one_frame_without_text() -> None:
    assert one_frame(b"B|", OPEN, b"", CLOSE, b"|A") == b"B||A"


def test_one_frame_one_token() -> None:
    assert one_frame(b"", OPEN, b"x", CLOSE, b"") == b"<x>"


def test_with_finish_paced_joins_the_last_step() -> None:
    assert with_finish([b"a", b"b"], b"F", paced=True) == [b"a", b"bF"]


def test_with_finish_unpaced_appends() -> None:
    assert with_finish([b"a", b"b"], b"F", paced=False) == [b"a", b"b", b"F"]


@pytest.mark.parametrize("paced", [True, False])
def test_with_finish_without_events(paced: bool) -> None:
    assert with_finish([], b"F", paced) == [b"F"]


def test_interleave_unpaced_is_one_frame() -> None:
    per_choice = [[b"a0", b"a1"], [b"b0"]]
    assert interleave(per_choice, b"H", b"T", paced=False) == [b"Ha0a1b0T"]


def test_interleave_one_choice() -> None:
    assert interleave([[b"a0", b"a1", b"a2"]], b"H", b"T") == [b"Ha0", b"a1", b"a2T"]


def test_interleave_one_choice_without_events() -> None:
    assert interleave([[]], b"H", b"T") == [b"HT"]


def test_interleave_steps_across_choices() -> None:
    per_choice = [[b"a0", b"a1", b"a2"], [b"b0"], [b"c0", b"c1"]]
    assert interleave(per_choice, b"H", b"T") == [b"Ha0b0c0", b"a1c1", b"a2T"]


def test_interleave_choices_without_events() -> None:
    assert interleave([[], []], b"H", b"T") == [b"HT"]


def test_interleave_leaves_the_choice_lists_alone() -> None:
    events = [b"a0", b"a1"]
    interleave([events], b"H", b"T")
    assert events == [b"a0", b"a1"]


def test_chunks() -> None:
    pieces = [b"a", b"b", b"c", b"d", b"e"]
    assert chunks(pieces, [2, 1, 2]) == [[b"a", b"b"], [b"c"], [b"d", b"e"]]
    assert chunks(pieces, [5]) == [pieces]
    assert chunks(pieces, []) == []
    assert chunks([], [1]) == [[]]


def test_obfuscation_field_round_robin() -> None:
    table = (b"ab", b"cde")
    assert obfuscation_field(0, table) == b',"obfuscation":"ab"'
    assert obfuscation_field(1, table) == b',"obfuscation":"cde"'
    assert obfuscation_field(2, table) == b',"obfuscation":"ab"'
    assert obfuscation_field(5, table) == b',"obfuscation":"cde"'


def test_obfuscation_default_table() -> None:
    assert len(OBFUSCATION) == 12
    assert [len(s) for s in OBFUSCATION] == list(range(4, 16))
    assert all(s.isalnum() and s.isascii() for s in OBFUSCATION)
    assert obfuscation_field(13) == b',"obfuscation":"' + OBFUSCATION[1] + b'"'
