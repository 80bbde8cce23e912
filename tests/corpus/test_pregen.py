"""Pre-generated articles: real tokens of both encodings, reproducible, and readable prose."""

from __future__ import annotations

import random
import re
from functools import lru_cache

import numpy as np
import pytest

from sanic_mock import encodings
from sanic_mock.corpus.format import ENCODINGS, Articles
from sanic_mock.corpus.pregen import generate
from sanic_mock.tokens import split_pieces


@pytest.fixture(scope="module")
def articles() -> Articles:
    return generate(96, 7)


def test_articles_look_like_model_output(articles: Articles) -> None:
    text = articles.text.decode("utf-8")
    assert articles.article_count == 96
    assert text.count("## ") >= 96 and "\n### " in text  # a title per article, sections
    assert "\n- **" in text and "\n1. " in text and "```" in text
    assert any(ord(c) > 127 for c in text)
    per_article = np.diff(articles.article_ends.astype(np.int64), prepend=0)
    assert 150 < np.median(per_article) < 600


@pytest.mark.parametrize("name", ENCODINGS)
def test_the_text_re_encodes_to_exactly_its_pieces(articles: Articles, name: str) -> None:
    """The pieces are tiktoken's tokens of the whole text, and so of any window of them."""
    cut = articles.cut(name)
    enc = encodings.get(name)
    tokens = enc.encode_ordinary(articles.text.decode("utf-8"))
    lengths = [len(b) for b in enc.decode_tokens_bytes(tokens)]
    assert np.array_equal(np.cumsum(lengths), cut.piece_ends)
    bounds = [0, *cut.piece_ends.tolist()]
    rng = random.Random(0)
    for _ in range(300):  # windows that start and end anywhere
        start = rng.randrange(cut.piece_count - 300)
        count = rng.randint(1, 300)
        window = articles.text[bounds[start] : bounds[start + count]].decode("utf-8")
        assert len(enc.encode_ordinary(window)) == count, window


def test_every_cut_ends_each_article_at_the_same_byte(articles: Articles) -> None:
    ends = [a.piece_ends[a.article_ends - 1] for a in (articles, *articles.others)]
    assert articles.encodings == ENCODINGS and np.array_equal(*ends)


def test_same_seed_same_bytes_other_seed_other_text() -> None:
    one, two = generate(8, 1), generate(8, 1)
    assert one.text == two.text
    for name in ENCODINGS:
        assert np.array_equal(one.cut(name).piece_ends, two.cut(name).piece_ends)
    assert generate(8, 1).text != generate(8, 2).text


# -- readability ------------------------------------------------------------------------------
# Function words that never follow each other in grammatical English ("the of", "a and").
_DETERMINERS = {"the", "a", "an", "each", "every"}
_CANNOT_FOLLOW = _DETERMINERS | {"of", "and", "or", "to", "in", "on", "with", "by", "for", "is"}


@lru_cache(maxsize=1)
def _dictionary() -> frozenset[str]:
    from english_words import get_english_words_set

    return frozenset(get_english_words_set(["web2", "gcide"], lower=True, alpha=True))


def readability(text: str) -> dict[str, float]:
    """Share of words in an English dictionary, of words repeating the word before them, and of
    determiners followed by a word that cannot follow one."""
    prose = re.sub(r"```.*?```", " ", text, flags=re.S)
    words = [w.lower() for w in re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", prose)]
    pairs = list(zip(words, words[1:], strict=False))
    known = sum(w in _dictionary() or w.rstrip("s") in _dictionary() for w in words)
    return {
        "dictionary": known / len(words),
        "repeated": sum(a == b for a, b in pairs) / len(pairs),
        "ungrammatical": sum(a in _DETERMINERS and b in _CANNOT_FOLLOW for a, b in pairs)
        / len(pairs),
    }


def _old_generator_text() -> str:
    """What the corpus said before real tokens: words drawn by frequency, one after another
    (sanic_mock/corpus/pregen.py before this change, its word list and weights)."""
    words = (
        "the of and to in is that for it as with was on be by this are or from at an which "
        "have not but they has can more one all their will also there been would its other "
        "when we these into some than time only may new most first such use two over should "
        "could system data model network value process results example different between each "
        "important however because while through often both where those many under several "
        "during since without within performance approach language research request response "
        "server client latency throughput memory cache token stream benchmark design function"
    ).split()
    rng = np.random.Generator(np.random.PCG64(0))
    weights = 1.0 / np.arange(1, len(words) + 1) ** 0.9
    drawn = rng.choice(len(words), size=6000, p=weights / weights.sum())
    sentences = [" ".join(words[i] for i in drawn[j : j + 12]) for j in range(0, 6000, 12)]
    return ". ".join(s.capitalize() for s in sentences) + "."


def test_the_old_word_salad_fails_the_readability_measures() -> None:
    old = readability(_old_generator_text())
    assert old["dictionary"] > 0.95  # its words were real words...
    assert old["repeated"] > 0.02 and old["ungrammatical"] > 0.02  # ...in no grammatical order
    assert "".join(split_pieces(" tokenization")) == " tokenization"


def test_generated_articles_read_like_prose(articles: Articles) -> None:
    text = articles.text.decode("utf-8")
    new = readability(text)
    assert new["dictionary"] > 0.95
    assert new["repeated"] < 0.002 and new["ungrammatical"] < 0.002
    sentences = [len(s.split()) for s in re.split(r"(?<=[.?!])\s", text) if s.strip()]
    assert np.std(sentences) > 3  # sentence lengths vary
