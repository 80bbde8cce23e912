"""Pre-generated articles that read like model output, built fast and reproducibly.

`generate(count, seed)` returns `Articles` (text already cut into token pieces). The same count
and seed give the same bytes on every machine: all randomness comes from one numpy PCG64
generator, drawn in bulk. Articles mix headings, paragraphs, bullet and numbered
lists, inline markdown, fenced code (with quotes and backslashes, so JSON escaping is exercised)
and some non-ASCII words.

Speed: text units (a word with its spacing and markup, a list marker, a code block) are cut into
pieces once; words and sentence lengths are drawn in bulk, a light Python pass decides the layout
per sentence, and numpy assembles unit ids, pieces and bytes, so 4096 articles (~1.8M pieces) take
a few hundred milliseconds.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from sanic_mock.corpus.format import Articles
from sanic_mock.tokens import split_pieces

T = TypeVar("T", bound=np.generic)

_COMMON = """the of and to in is that for it as with was on be by this are or from at an
which have not but they has can more one all their will also there been would its other when
we these into some than time only may new most first such use two over should could system
data model network value process results example different between each important however
because while through often both where those many under several during since without within
performance approach language example research request response server client latency
throughput memory cache token stream benchmark design function method algorithm structure
engineer developer practice quality budget measure signal pattern feature version release
support question answer context problem solution reason evidence effect change growth policy
history culture science energy market product service customer team project program library
simple careful clear useful reliable efficient robust flexible common modern specific general
small large early recent likely possible usually quickly directly carefully especially rather
consider provide include require improve reduce increase create define describe explain
understand compare choose follow allow return handle build test deploy monitor scale""".split()

_RARE = """café naïve résumé façade Zürich München São Paulo Ångström coöperate déjà vu
über jalapeño piñata smörgåsbord Kraków Dvořák Ελλάδα Москва 東京 データ 모델 naïveté
—""".split()

_TOPICS = """Caching Strategies|Designing Reliable Services|A Short History of Compilers|Why Latency
Matters|Notes on Numerical Stability|Understanding Backpressure|Testing Distributed Systems|The
Cost of Abstraction|Measuring Throughput Honestly|Choosing a Data Format|Error Handling in
Practice|Streaming Responses|Working with Time Zones|Memory Layout and Speed|Writing Clear
Documentation|Evaluating Language Models""".replace("\n", " ").split("|")

_CODE = (
    '```python\ndef greet(name: str) -> str:\n    return f"Hello, {name}!\\n"\n\n'
    'print(greet("world"))\n```',
    "```javascript\nconst total = items.reduce((sum, x) => sum + x.price, 0);\n"
    "console.log(`Total: ${total}`);\n```",
    '```bash\ncurl -s http://127.0.0.1:3000/v1/models | jq ".data[].id"\n```',
    '```json\n{"model": "gpt-4o-mini", "stream": true, "max_tokens": 64}\n```',
    '```python\nimport re\n\npattern = re.compile(r"\\d+\\.\\d+")\n'
    'print(pattern.findall("v1.2 and v3.4"))\n```',
    "```sql\nSELECT id, name FROM users WHERE created_at > '2024-01-01' ORDER BY id;\n```",
    "```rust\nfn main() {\n    let v: Vec<u32> = (1..=5).collect();\n"
    '    println!("{:?}", v);\n}\n```',
)


class _Units:
    """Interns text units (a word with its spacing and markup, a line break, a code block...).

    Each unit is cut into token pieces once; articles are assembled as lists of unit ids with
    C-speed list operations, then expanded to pieces with numpy.
    """

    def __init__(self) -> None:
        self.data: list[bytes] = []
        self.piece_lengths: list[list[int]] = []

    def add(self, text: str) -> int:
        self.data.append(text.encode("utf-8"))
        self.piece_lengths.append([len(p.encode("utf-8")) for p in split_pieces(text)])
        return len(self.data) - 1

    def variants(self, words: list[str], template: str) -> int:
        """Add `template.format(w)` for every word; returns the id of the first one."""
        first = len(self.data)
        for w in words:
            self.add(template.format(w))
        return first


_SENTENCES_PER_ARTICLE = 48  # drawn up front; more are drawn if the articles need them


def generate(count: int, seed: int) -> Articles:
    """`count` articles from `seed`; about 400 token pieces each."""
    rng = np.random.Generator(np.random.PCG64(seed))
    units = _Units()
    words = _COMMON + _RARE
    nw = len(words)
    # Zipf-like word frequencies (the rare, non-ASCII words at the tail), as a lookup table so
    # that one integer draw picks a word.
    weights = 1.0 / np.arange(1, nw + 1) ** 0.9
    weights[len(_COMMON) :] *= 0.5
    word_table = np.repeat(
        np.arange(nw, dtype=np.int32),
        np.maximum(1, np.round(weights / weights.sum() * 8192)).astype(np.int64),
    )
    caps = [w[:1].upper() + w[1:] for w in words]
    # Word variants, laid out so that unit = base + word: " w", " w,", " **w**", " `w`".
    spaced = units.variants(words, " {}")
    units.variants(words, " {},")
    units.variants(words, " **{}**")
    units.variants(words, " `{}`")
    lead = units.variants(caps, "{}")  # first word of a line
    spaced_lead = units.variants(caps, " {}")  # first word of a sentence inside a paragraph
    code = [units.add(c + "\n\n") for c in _CODE]
    titles = [units.add("## " + t + "\n\n") for t in _TOPICS]
    ends = [units.add(p) for p in (".", ".", ".", ".", "?", "!")]
    colon, para, line = units.add(":"), units.add("\n\n"), units.add("\n")
    bullet, numbered = units.add("- "), [units.add(f"{i}. ") for i in range(1, 10)]
    # P(variant): 92% plain, 5% followed by a comma, 2% bold, 1% inline code.
    variant_table = np.repeat(np.arange(4, dtype=np.int32), [92, 5, 2, 1])
    pieces_of = np.array([len(p) for p in units.piece_lengths], dtype=np.int64)
    counts_of = pieces_of.tolist()

    # 1. Sentences: lengths, words and per-sentence layout draws, all at once. Word and unit
    #    ids are kept in 32 bits (the tables above); each 64-bit draw is dropped once looked up.
    k_total = count * _SENTENCES_PER_ARTICLE
    lengths = 5 + rng.integers(0, 14, size=k_total)
    starts = np.cumsum(lengths) - lengths
    n_words = int(lengths.sum())
    word = word_table[rng.integers(0, len(word_table), size=n_words)]
    body = spaced + variant_table[rng.integers(0, 100, size=n_words)] * nw + word
    draws = rng.random((k_total, 3))
    targets = rng.integers(250, 550, size=count).tolist()
    # Approximate pieces per sentence (words + the full stop), for article lengths.
    sentence_pieces = (np.add.reduceat(pieces_of[body], starts) + 1).tolist()

    # 2. Layout, sentence by sentence: what goes before it (title, list marker, code block),
    #    how it starts (capital at a line start or after a space), how it ends, what follows.
    before_at: list[int] = []
    before: list[int] = []
    after: list[int] = []  # trailing units of all sentences, in order
    after_counts: list[int] = []  # how many of them each sentence has
    line_start = bytearray(k_total)
    article_last: list[int] = []
    r_block, r_size, r_pick = (d.tolist() for d in draws.T)
    del draws
    k = 0
    for target in targets:
        pieces = 0
        before_at.append(k)
        before.append(titles[int(r_pick[k] * len(titles))])
        pieces += counts_of[before[-1]]
        while pieces < target:
            if k + 8 >= k_total:
                raise RuntimeError("sentence pool exhausted")  # pragma: no cover - sized above
            r = r_block[k]
            if r < 0.12:  # a list introduced by a sentence that ends with ':'
                line_start[k] = 1
                after += (colon, line)
                after_counts.append(2)
                pieces += sentence_pieces[k] + 1
                k += 1
                items = 2 + int(r_size[k] * 4)
                for i in range(items):
                    before_at.append(k)
                    before.append(bullet if r < 0.07 else numbered[i])
                    line_start[k] = 1
                    after += (ends[int(r_pick[k] * 6)], para if i == items - 1 else line)
                    after_counts.append(2)
                    pieces += sentence_pieces[k] + 2
                    k += 1
            else:
                if r < 0.2:
                    before_at.append(k)
                    before.append(code[int(r_pick[k] * len(code))])
                    pieces += counts_of[before[-1]]
                sentences = 1 + int(r_size[k] * 5)
                for i in range(sentences):
                    line_start[k] = i == 0
                    last = i == sentences - 1
                    after.append(ends[int(r_pick[k] * 6)])
                    if last:
                        after.append(para)
                    after_counts.append(2 if last else 1)
                    pieces += sentence_pieces[k] + (2 if last else 1)
                    k += 1
        article_last.append(k)
    del r_block, r_size, r_pick, sentence_pieces, targets  # ~30 MB of Python floats and ints

    # 3. Assemble unit ids with numpy: fix first and last words, then insert the layout units.
    used = int(starts[k]) if k < k_total else n_words
    starts, lengths = starts[:k], lengths[:k]
    seq = body[:used].copy()
    firsts, lasts = starts, starts + lengths - 1
    at_line_start = np.frombuffer(bytes(line_start[:k]), dtype=np.uint8).astype(bool)
    seq[firsts] = np.where(at_line_start, lead, spaced_lead) + word[firsts]
    seq[lasts] = spaced + word[lasts]  # no comma or markup right before the full stop
    del body, word  # the large temporaries go as soon as they are used (peak memory)
    trailing = np.asarray(after_counts, dtype=np.int64)
    # A sentence's trailing units and the next sentence's leading units share an insertion
    # point; listing the trailing ones first keeps them first (the sort is stable).
    positions = np.concatenate(
        (np.repeat(starts + lengths, trailing), starts[np.asarray(before_at, dtype=np.int64)])
    )
    values = np.concatenate((np.asarray(after, dtype=np.int64), np.asarray(before, dtype=np.int64)))
    order = np.argsort(positions, kind="stable")
    unit_ids = np.insert(seq, positions[order], values[order])
    del seq, positions, values, order

    # 4. Articles end after their last sentence's trailing units.
    before_counts = np.bincount(np.asarray(before_at, dtype=np.int64), minlength=k)
    inserted = np.cumsum(before_counts[:k] + trailing)
    sentence_end_unit = starts + lengths + inserted
    unit_end = sentence_end_unit[np.asarray(article_last, dtype=np.int64) - 1]
    piece_counts = pieces_of[unit_ids]
    article_ends = np.cumsum(piece_counts)[unit_end - 1]
    del piece_counts

    piece_lengths = _expand(
        np.array([n for lengths_ in units.piece_lengths for n in lengths_], dtype=np.int64),
        pieces_of,
        unit_ids,
    )
    piece_ends = np.cumsum(piece_lengths, dtype=np.uint32)
    del piece_lengths
    byte_lengths = np.array([len(b) for b in units.data], dtype=np.int64)
    text = _expand(np.frombuffer(b"".join(units.data), dtype=np.uint8), byte_lengths, unit_ids)
    del unit_ids
    return Articles(
        text=text.tobytes(), piece_ends=piece_ends, article_ends=article_ends.astype(np.uint32)
    )


def _expand(
    flat: NDArray[T], sizes: NDArray[np.int64], ids: NDArray[np.int32], chunk: int = 1 << 16
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
