from __future__ import annotations

import numpy as np

from sanic_mock.corpus.pregen import generate
from sanic_mock.tokens import CHARS_PER_TOKEN


def test_articles_look_like_model_output() -> None:
    articles = generate(64, 0)
    text = articles.text.decode("utf-8")
    assert articles.article_count == 64
    assert text.count("## ") >= 64  # a heading per article
    assert "\n- " in text and "```" in text and "**" in text
    assert any(ord(c) > 127 for c in text)
    sizes = np.diff(np.concatenate(([0], articles.piece_ends.astype(np.int64))))
    chars = len(text) / articles.piece_count
    assert 2.5 < chars <= CHARS_PER_TOKEN + 0.5 and sizes.min() >= 1


def test_same_seed_same_text_other_seed_other_text() -> None:
    assert generate(8, 1).text == generate(8, 1).text
    assert generate(8, 1).text != generate(8, 2).text
