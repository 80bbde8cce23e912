"""Made-up but stable log probabilities: chat entries and the legacy completions object."""

from __future__ import annotations

import orjson
import pytest

from sanic_mock.wire.logprobs import chat_entry, chat_logprobs, completion_logprobs, logprob


@pytest.mark.parametrize(
    ("token", "value"),
    [("Hello", -0.578), (" the", -1.75), (" world", -1.707), ("x", -1.923), ("Hi", -0.558)],
)
def test_logprob_depends_only_on_the_token(token: str, value: float) -> None:
    assert logprob(token) == value
    assert -2.0 < value <= 0.0


def test_chat_entry_alternatives_skip_the_token_itself() -> None:
    assert chat_entry(b" the", 3) == {
        "token": " the",
        "logprob": -1.75,
        "bytes": [32, 116, 104, 101],
        "top_logprobs": [
            {"token": " the", "logprob": -1.75, "bytes": [32, 116, 104, 101]},
            {"token": " a", "logprob": -3.25, "bytes": [32, 97]},
            {"token": ",", "logprob": -4.0, "bytes": [44]},
        ],
    }


def test_chat_entry_without_top() -> None:
    assert chat_entry(b"Hi", 0) == {
        "token": "Hi",
        "logprob": -0.558,
        "bytes": [72, 105],
        "top_logprobs": [],
    }


def test_chat_entry_bytes_are_utf8() -> None:
    entry = chat_entry("é".encode(), 1)
    assert entry["token"] == "é"
    assert entry["bytes"] == [195, 169]
    assert entry["top_logprobs"] == [{"token": "é", "logprob": -1.326, "bytes": [195, 169]}]


@pytest.mark.parametrize("top", [0, 1, 5, 20])
def test_chat_entry_gives_top_alternatives(top: int) -> None:
    assert len(chat_entry(b"zzz", top)["top_logprobs"]) == top


def test_chat_logprobs_exact() -> None:
    assert chat_logprobs([b"Hi"], 2) == (
        b'{"content":[{"token":"Hi","logprob":-0.558,"bytes":[72,105],"top_logprobs":['
        b'{"token":"Hi","logprob":-0.558,"bytes":[72,105]},'
        b'{"token":" the","logprob":-2.058,"bytes":[32,116,104,101]}]}],"refusal":null}'
    )


def test_chat_logprobs_of_no_pieces() -> None:
    assert chat_logprobs([], 3) == b'{"content":[],"refusal":null}'


def test_completion_logprobs_exact() -> None:
    assert orjson.loads(completion_logprobs([b"Hi", b" there"], 2, 5)) == {
        "tokens": ["Hi", " there"],
        "token_logprobs": [-0.558, -0.782],
        "top_logprobs": [{"Hi": -0.558, " the": -2.058}, {" there": -0.782, " the": -2.282}],
        "text_offset": [5, 7],
    }


def test_completion_logprobs_offsets_count_characters() -> None:
    doc = orjson.loads(completion_logprobs(["é".encode(), b"ab", b"c"], 0, 0))
    assert doc["text_offset"] == [0, 1, 3]
    assert doc["top_logprobs"] == [{}, {}, {}]
