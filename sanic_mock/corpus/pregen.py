"""Pre-generated articles that read like model output, built fast and reproducibly.

`generate(count, seed)` returns `Articles` (text already cut into token pieces). The same count
and seed give the same bytes on every machine: all randomness comes from one numpy PCG64
generator, drawn in per-article batches. Articles mix headings, paragraphs, bullet and numbered
lists, inline markdown, fenced code (with quotes and backslashes, so JSON escaping is exercised)
and some non-ASCII words.

Speed: pieces are interned into a table once and articles are assembled as lists of piece ids, so
4096 articles (~2M pieces) take a few hundred milliseconds.
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


_BATCH = 512  # words drawn per article; sentences read a sliding window of the batch
_DECISIONS = 64  # uniform draws per article for layout decisions (read cyclically)


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
        np.arange(nw), np.maximum(1, np.round(weights / weights.sum() * 8192)).astype(np.int64)
    )
    caps = [w[:1].upper() + w[1:] for w in words]
    # Word variants, laid out so that unit = base + word: " w", " w,", " **w**", " `w`".
    spaced = units.variants(words, " {}")
    units.variants(words, " {},")
    units.variants(words, " **{}**")
    units.variants(words, " `{}`")
    lead = units.variants(caps, "{}")  # first word of a line
    spaced_lead = units.variants(caps, " {}")  # first word of a sentence inside a paragraph
    code = [units.add(c) for c in _CODE]
    titles = [units.add("## " + t + "\n\n") for t in _TOPICS]
    ends = [units.add(p) for p in (".", ".", ".", ".", "?", "!")]
    colon, para, line = units.add(":"), units.add("\n\n"), units.add("\n")
    bullet, numbered = units.add("- "), [units.add(f"{i}. ") for i in range(1, 10)]
    # P(variant): 92% plain, 5% followed by a comma, 2% bold, 1% inline code.
    variant_table = np.repeat(np.arange(4), [92, 5, 2, 1])

    out: list[int] = []
    article_ends: list[int] = []
    pieces_so_far = 0
    counts_of = [len(p) for p in units.piece_lengths]
    unit_pieces = np.array(counts_of, dtype=np.int64)
    all_words = word_table[rng.integers(0, len(word_table), size=(count, _BATCH))]
    all_variants = variant_table[rng.integers(0, 100, size=(count, _BATCH))]
    all_bodies = (spaced + all_variants * nw + all_words).tolist()
    all_u = rng.random((count, _DECISIONS)).tolist()
    targets = rng.integers(250, 550, size=count).tolist()
    for body, u, target in zip(all_bodies, all_u, targets, strict=True):
        start = len(out)
        pos = 0

        def sentence(at_line_start: bool, body: list[int] = body, u: list[float] = u) -> None:
            nonlocal pos
            n = 5 + int(u[pos % _DECISIONS] * 14)
            if pos + n > _BATCH:
                pos = 0
            # The sentence's first and last words drop their variant: capitalised first word,
            # no comma or markup before the full stop.
            out.append((lead if at_line_start else spaced_lead) + (body[pos] - spaced) % nw)
            out.extend(body[pos + 1 : pos + n - 1])
            out.append(spaced + (body[pos + n - 1] - spaced) % nw)
            out.append(ends[int(u[(pos + n) % _DECISIONS] * 6)])
            pos += n

        out.append(titles[int(u[-1] * len(titles))])
        mark = start
        pieces = 0
        while pieces < target:
            pieces += sum(map(counts_of.__getitem__, out[mark:]))
            mark = len(out)
            if pieces >= target:
                break
            r = u[(pos + 7) % _DECISIONS]
            if r < 0.12:  # a list, introduced by a sentence ending in ':'
                sentence(True)
                out[-1] = colon
                out.append(line)
                for i in range(2 + int(u[(pos + 3) % _DECISIONS] * 4)):
                    out.append(bullet if r < 0.07 else numbered[i])
                    sentence(True)
                    out.append(line)
                out[-1] = para
            elif r < 0.2:
                out.append(code[int(u[(pos + 5) % _DECISIONS] * len(code))])
                out.append(para)
                pos += 1
            else:
                sentence(True)
                for _ in range(int(u[(pos + 2) % _DECISIONS] * 4)):
                    sentence(False)
                out.append(para)
        pieces_so_far += pieces
        article_ends.append(pieces_so_far)

    unit_ids = np.asarray(out, dtype=np.int64)
    piece_lengths = _expand(
        np.array([n for lengths in units.piece_lengths for n in lengths], dtype=np.int64),
        unit_pieces,
        unit_ids,
    )
    byte_lengths = np.array([len(b) for b in units.data], dtype=np.int64)
    text = _expand(np.frombuffer(b"".join(units.data), dtype=np.uint8), byte_lengths, unit_ids)
    return Articles(
        text=text.tobytes(),
        piece_ends=np.cumsum(piece_lengths).astype(np.uint32),
        article_ends=np.asarray(article_ends, dtype=np.uint32),
    )


def _expand(flat: NDArray[T], sizes: NDArray[np.int64], ids: NDArray[np.int64]) -> NDArray[T]:
    """Concatenate `flat`'s segments (segment i has `sizes[i]` items) in the order of `ids`."""
    first = np.cumsum(sizes) - sizes
    counts = sizes[ids]
    offsets = np.repeat(first[ids] - (np.cumsum(counts) - counts), counts)
    return flat[offsets + np.arange(int(counts.sum()))]
