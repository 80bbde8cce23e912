from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sanic_mock.tokens import estimate_tokens, split_pieces


@given(st.text())
def test_pieces_join_back_to_the_text(text: str) -> None:
    pieces = split_pieces(text)
    assert "".join(pieces) == text
    assert all(pieces)


def test_pieces_look_like_tokens() -> None:
    assert split_pieces("Hello, world!\n\nNext") == [
        "Hello",
        ",",
        " wo",
        "rld",
        "!",
        "\n\n",
        "Next",
    ]
    assert split_pieces(" tokenization") == [" tok", "eni", "zat", "ion"]


def test_estimate_is_a_quarter_of_the_characters() -> None:
    assert [estimate_tokens(t) for t in ("", "a", "abcd", "abcde")] == [0, 1, 1, 2]
