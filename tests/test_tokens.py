"""Prompt token counts against real `usage` recorded from the OpenAI API, and the estimates.

`tests/data/prompt_tokens.json` holds requests whose real `usage.prompt_tokens` is public, each
row with its source as `owner/repo:path@commit`: OpenAI's own token-counting cookbook (its
printed API counts, names and tools included) and VCR cassettes recorded by pydantic-ai's test
suite. Rows without tools must match exactly; rows with tools (an approximation, see
`sanic_mock/tokens.py`) within their `tolerance`. Of every plain-message chat request in
pydantic-ai's cassettes at the commit fetched, 41 of 44 matched exactly; the three that did not
are gpt-4o-search-preview (which adds search context) and o1-mini with a system message (which
it rewrites), left out of the table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sanic_mock.tokens import (
    ESTIMATE,
    EXACT,
    count_chat_prompt,
    count_text,
    estimate_tokens,
    primer,
    split_pieces,
)
from sanic_mock.wire.requests import parse_chat, parse_completion, parse_embedding

ROWS: list[dict[str, Any]] = orjson.loads(
    (Path(__file__).parent / "data" / "prompt_tokens.json").read_bytes()
)


def _id(row: dict[str, Any]) -> str:
    req = row["request"]
    return f"{req['model']}-{'tools' if 'tools' in req else len(req.get('messages', ()))}"


@pytest.mark.parametrize("row", ROWS, ids=[_id(r) for r in ROWS])
def test_prompt_tokens_as_the_api_counted_them(row: dict[str, Any]) -> None:
    assert row["source"].count(":") == 1 and "@" in row["source"]
    body = orjson.dumps(row["request"])
    if row["endpoint"] == "/embeddings":
        got = parse_embedding(body).prompt_tokens
    else:
        got = parse_chat(body).gen.prompt_tokens
    assert abs(got - row["prompt_tokens"]) <= row["tolerance"], row["source"]


def test_the_table_covers_both_encodings_names_tools_and_embeddings() -> None:
    models = {r["request"]["model"] for r in ROWS}
    assert {"gpt-3.5-turbo", "gpt-4", "gpt-4o", "gpt-4o-mini", "o3-mini", "gpt-5"} <= models
    assert any("name" in m for r in ROWS for m in r["request"].get("messages", ()))
    assert sum(r["endpoint"] == "/embeddings" for r in ROWS) >= 2
    assert sum("tools" in r["request"] and r["tolerance"] == 0 for r in ROWS) >= 4


def test_the_reply_primer_is_two_for_o3_mini_and_gpt_5() -> None:
    assert [primer(m) for m in ("gpt-4o", "o3-mini", "gpt-5-nano", "gpt-4.1", "bench")] == [
        3,
        2,
        2,
        3,
        3,
    ]


def test_each_model_counts_in_its_encoding() -> None:
    text = "Zürich, São Paulo and Москва"
    messages = [{"role": "user", "content": text}]
    o200k, cl100k = count_text(text, "o200k_base"), count_text(text, "cl100k_base")
    assert o200k != cl100k
    assert count_chat_prompt(messages, "gpt-4o") == o200k + 7
    assert count_chat_prompt(messages, "custom-model") == o200k + 7  # unknown: o200k_base
    assert count_chat_prompt(messages, "gpt-3.5-turbo") == cl100k + 7


def test_special_token_text_in_a_prompt_is_plain_text() -> None:
    assert count_text("<|endoftext|>", "o200k_base") > 1


def test_images_and_other_parts_keep_an_estimate() -> None:
    def parts(*items: dict[str, Any]) -> int:
        return count_chat_prompt([{"role": "user", "content": list(items)}], "gpt-4o")

    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    low = {"type": "image_url", "image_url": {"url": "x", "detail": "low"}}
    audio = {"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}
    base = parts()
    assert parts(image) - base == 765 and parts(low) - base == 85 and parts(audio) - base == 340
    assert parts({"type": "text", "text": "Hello"}) - base == 1


def test_completion_prompts_and_token_arrays() -> None:
    req = parse_completion(b'{"model":"gpt-3.5-turbo-instruct","prompt":"Say this is a test"}')
    assert req.gen.prompt_tokens == 5
    req = parse_completion(b'{"model":"gpt-3.5-turbo-instruct","prompt":[[1,2,3],[4]]}')
    assert req.gen.prompt_tokens == 4
    assert parse_embedding(b'{"model":"m","input":[[5,6],[7]]}').prompt_tokens == 3


def test_estimate_mode_is_the_original_rule() -> None:
    body = orjson.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "x" * 40}]})
    assert parse_chat(body, ESTIMATE).gen.prompt_tokens == 10 + 3 + 3
    assert parse_chat(body, EXACT).gen.prompt_tokens == count_text("x" * 40, "o200k_base") + 7
    embed = b'{"model":"text-embedding-3-small","input":"abcdefgh"}'
    assert parse_embedding(embed, ESTIMATE).prompt_tokens == 2


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
