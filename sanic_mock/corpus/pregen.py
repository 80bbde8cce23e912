"""Pre-generated articles that read like model output, cut into real tokens, built reproducibly.

`generate(count, seed)` writes `count` articles from the grammar in `lexicon.py`: a title, an
introduction, two or three sections with headings, paragraphs of sentences that vary in length,
bullet and numbered lists, fenced code, a closing line; each article keeps to one topic. All
randomness comes from one `random.Random(seed)` (its sequence is fixed across Python versions),
so the same count and seed give the same bytes everywhere.

The text is cut into tokens of every encoding (`format.ENCODINGS`) without tokenizing it whole:
it is written as *units* (a word with its leading space and trailing punctuation, a line break,
a heading, a code block) that always meet where both encodings' pre-tokenizers split (before a
space followed by a word, after a line break followed by text), so the tokens of the text are
the tokens of its units, each unit encoded once. `tests/corpus/test_pregen.py` checks that
re-encoding the whole text gives the same tokens, and that no token splits a character.
4096 articles (~1.5M tokens each way) take about a second, most of it writing the sentences.
"""

from __future__ import annotations

import itertools
import random
import re
from collections import defaultdict
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from sanic_mock.corpus import lexicon as lx
from sanic_mock.corpus.cuts import token_lengths
from sanic_mock.corpus.format import ENCODINGS, Articles

T = TypeVar("T", bound=np.generic)

# A unit: an optional space and what follows up to the next space; line breaks stay with the text
# before them. A code block is written as a marker (its spaces and line breaks would make units
# of their own) and replaced by its text once units are interned.
_UNIT = re.compile(r" ?[^ \n]+\n*")
_CODE = "\x00"
_CODE_MARK = re.compile("\x00(\\d+)\x00")
_SLOT = re.compile(r"\{(\w+)\}")
# Each pattern as [literal, slot, literal, slot, ..., literal].
_PATTERNS = [_SLOT.split(p) for p in lx.PATTERNS]
_WORDS = {"a": lx.ADJECTIVES, "adv": lx.ADVERBS, "pp": lx.PREPOSITIONS, "C": lx.CONNECTIVES}


def _nouns(entries: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(e.split("/")[0], e.split("/")[1]) for e in entries]


class _Writer:
    """Sentences, paragraphs and articles from the lexicon, drawing from one generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.general = _nouns(lx.GENERAL_NOUNS)
        self.nouns = self.general

    def pick(self, items: tuple[str, ...] | list[str]) -> str:
        return items[int(self.rng.random() * len(items))]

    def noun(self) -> tuple[str, str]:
        # Two draws in three from the article's topic, the rest from the general nouns.
        pool = self.nouns if self.rng.random() < 0.67 else self.general
        return pool[int(self.rng.random() * len(pool))]

    def singular(self) -> str:
        r = self.rng.random()
        adjective = self.pick(lx.ADJECTIVES) + " " if r < 0.3 else ""
        word = adjective + self.noun()[0]
        if r < 0.55:
            det = "the"
        elif r < 0.8:
            det = "an" if word[0] in "aeio" else "a"
        else:
            det = self.pick(("this", "every", "each", "one"))
        return f"{det} {word}"

    def plural(self) -> str:
        det = self.pick(("the", "most", "many", "some", "these", "the same"))
        adjective = self.pick(lx.ADJECTIVES) + " " if self.rng.random() < 0.3 else ""
        return f"{det} {adjective}{self.noun()[1]}"

    def fill(self, slot: str) -> str:
        if slot in ("n", "N"):
            return self.singular()
        if slot == "o":
            return self.singular() if self.rng.random() < 0.6 else self.plural()
        if slot == "p":
            return self.plural()
        if slot in ("v", "vs"):
            verb = lx.VERBS[int(self.rng.random() * len(lx.VERBS))]
            return verb[0] if slot == "v" else verb[1]
        if slot in ("s", "P"):
            return self.noun()[0 if slot == "s" else 1]
        return self.pick(_WORDS[slot])

    def sentence(self) -> str:
        parts = _PATTERNS[int(self.rng.random() * len(_PATTERNS))]
        text = "".join([p if i % 2 == 0 else self.fill(p) for i, p in enumerate(parts)])
        return text[0].upper() + text[1:]

    def paragraph(self, low: int, high: int) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(low, high)))

    def items(self) -> str:
        numbered = self.rng.random() < 0.4
        lines = []
        for i in range(self.rng.randint(3, 5)):
            if numbered:
                verb = lx.VERBS[int(self.rng.random() * len(lx.VERBS))][0]
                step = f"{verb} {self.singular()} {self.pick(lx.PREPOSITIONS)}."
                lines.append(f"{i + 1}. {step[0].upper()}{step[1:]}")
            else:
                word = self.noun()[1]
                lines.append(f"- **{word[0].upper()}{word[1:]}**: {self.sentence()}")
        return self.pick(lx.LIST_INTROS) + "\n" + "\n".join(lines)

    def article(self, topic: tuple[str, tuple[str, ...], tuple[str, ...]]) -> list[str]:
        """The article's blocks (headings, paragraphs, lists; a code block as its marker)."""
        title, headings, nouns = topic
        self.nouns = _nouns(nouns)
        blocks = [f"## {title}", self.paragraph(2, 4)]
        for heading in self.rng.sample(headings, self.rng.randint(2, len(headings))):
            blocks += [f"### {heading}", self.paragraph(2, 5)]
            r = self.rng.random()
            if r < 0.35:
                blocks.append(self.items())
            elif r < 0.55:
                code = int(self.rng.random() * len(lx.CODE))
                blocks += ["Here is a small example:", f"{_CODE}{code}{_CODE}"]
            if self.rng.random() < 0.5:
                blocks.append(self.paragraph(1, 4))
        blocks.append(self.pick(lx.CLOSINGS))
        return blocks


def generate(count: int, seed: int) -> Articles:
    """`count` articles from `seed`, about 300 tokens each, cut by every encoding."""
    writer = _Writer(random.Random(seed))
    interned: defaultdict[str, int] = defaultdict(itertools.count().__next__)
    ids: list[int] = []
    unit_ends: list[int] = []
    for _ in range(count):
        blocks = writer.article(lx.TOPICS[int(writer.rng.random() * len(lx.TOPICS))])
        text = "\n\n".join(blocks) + "\n\n"
        units = _UNIT.findall(text)
        if sum(map(len, units)) != len(text):  # pragma: no cover - the lexicon has no "  "
            raise RuntimeError("an article does not cut into units")
        ids.extend(map(interned.__getitem__, units))
        unit_ends.append(len(ids))
    # A code block's marker unit stands for the block (its spaces and line breaks kept whole).
    texts = [_CODE_MARK.sub(lambda m: lx.CODE[int(m.group(1))], u) for u in interned]
    unit_ids = np.asarray(ids, dtype=np.int64)
    ends = np.asarray(unit_ends, dtype=np.int64) - 1
    data = [t.encode("utf-8") for t in texts]
    byte_lengths = np.array([len(b) for b in data], dtype=np.int64)
    raw = np.frombuffer(b"".join(data), dtype=np.uint8)
    text_bytes = _expand(raw, byte_lengths, unit_ids).tobytes()
    cuts = []
    for name in ENCODINGS:
        per_unit = [token_lengths(t, name, strict=True) for t in texts]
        counts = np.array([len(x) for x in per_unit], dtype=np.int64)
        flat = np.array([n for x in per_unit for n in x], dtype=np.int64)
        piece_lengths = _expand(flat, counts, unit_ids)
        article_ends = np.cumsum(counts[unit_ids])[ends]
        cuts.append(
            Articles(
                text_bytes,
                np.cumsum(piece_lengths, dtype=np.uint64).astype(np.uint32),
                article_ends.astype(np.uint32),
                name,
            )
        )
    first, *others = cuts
    return Articles(text_bytes, first.piece_ends, first.article_ends, first.encoding, tuple(others))


def _expand(
    flat: NDArray[T], sizes: NDArray[np.int64], ids: NDArray[np.int64], chunk: int = 1 << 16
) -> NDArray[T]:
    """Concatenate `flat`'s segments (segment i has `sizes[i]` items) in the order of `ids`.

    A chunk of ids at a time: the 64-bit index arrays for the default corpus's whole text were
    ~135 MB at once, most of generation's peak memory."""
    first = np.cumsum(sizes) - sizes
    parts = [flat[:0]]
    for at in range(0, len(ids), chunk):
        part = ids[at : at + chunk]
        counts = sizes[part]
        offsets = np.repeat(first[part] - (np.cumsum(counts) - counts), counts)
        parts.append(flat[offsets + np.arange(len(offsets))])
    return np.concatenate(parts)
