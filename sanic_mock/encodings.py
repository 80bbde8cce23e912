"""OpenAI's tokenizers, offline: the `o200k_base` and `cl100k_base` encodings, and which model uses
which.

`tiktoken` downloads its BPE files at first use, which fails without network (and on CI). The
package ships them instead, in `sanic_mock/bpe/` (`tools/bpe/pack.py`: the `.tiktoken` files
OpenAI publishes under the MIT licence, with the base64 and rank numbers taken out and zlib on
top: 1.4 MB for both). Loading checks the payload's SHA-256 and builds the `tiktoken.Encoding`
directly from the ranks (`mergeable_ranks=`), with the pattern and special tokens tiktoken
itself uses (`tiktoken_ext/openai_public.py`, tiktoken 0.14.0); `tests/test_encodings.py`
rebuilds the original files from the shipped ones and checks them against the hashes tiktoken
pins. An encoding is loaded once per process, when first asked for: o200k_base takes ~0.35 s
and ~40 MB (most of both tiktoken's own tables), cl100k_base ~0.2 s and ~20 MB.

Models map to encodings as the real API does (tiktoken's `model.py`): o200k_base for gpt-4o,
gpt-4.1, gpt-4.5, gpt-5 and the o-series; cl100k_base for gpt-4, gpt-3.5 and the embedding models;
anything else (a custom or future model name) o200k_base.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

import tiktoken

O200K = "o200k_base"
CL100K = "cl100k_base"
NAMES = (O200K, CL100K)

_DATA = Path(__file__).resolve().parent / "bpe"
# SHA-256 of each unpacked payload, as `tools/bpe/pack.py` printed it.
_PAYLOAD_SHA256 = {
    O200K: "ba55b38e477b631966c2496061ecd7d10108501c7c47358222d9dc27c22f9422",
    CL100K: "79045c4dbf49c4e3b90893afbcbfd80cf94cf2b99256bd84b19ffcace49d9bd2",
}
_PATTERNS = {
    O200K: "|".join(
        [
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"""
            r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*"""
            r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""\p{N}{1,3}""",
            r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
            r"""\s*[\r\n]+""",
            r"""\s+(?!\S)""",
            r"""\s+""",
        ]
    ),
    CL100K: r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+|"""
    r""" ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
}
_SPECIAL = {
    O200K: {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    CL100K: {
        "<|endoftext|>": 100257,
        "<|fim_prefix|>": 100258,
        "<|fim_middle|>": 100259,
        "<|fim_suffix|>": 100260,
        "<|endofprompt|>": 100276,
    },
}

# tiktoken's model.py, for the families the API serves today; longest prefix first.
_PREFIXES = (
    ("gpt-3.5", CL100K),
    ("gpt-35", CL100K),
    ("gpt-4o", O200K),
    ("gpt-4.1", O200K),
    ("gpt-4.5", O200K),
    ("gpt-4", CL100K),  # gpt-4, gpt-4-turbo, gpt-4-32k (after the gpt-4o/4.1/4.5 rows)
    ("chatgpt-4o", O200K),
    ("ft:gpt-4o", O200K),
    ("ft:gpt-4.1", O200K),
    ("ft:gpt-4", CL100K),
    ("ft:gpt-3.5", CL100K),
    ("text-embedding-", CL100K),
    ("davinci-002", CL100K),
    ("babbage-002", CL100K),
)


@lru_cache(maxsize=1024)
def encoding_name(model: str) -> str:
    """The encoding `model` counts with: o200k_base unless the model is of a cl100k family."""
    for prefix, name in _PREFIXES:
        if model.startswith(prefix):
            return name
    return O200K


def read_ranks(name: str) -> dict[bytes, int]:
    """The BPE ranks of encoding `name` from the shipped file, checked against its hash."""
    payload = zlib.decompress((_DATA / f"{name}.bpe.z").read_bytes())
    if hashlib.sha256(payload).hexdigest() != _PAYLOAD_SHA256[name]:
        raise RuntimeError(f"{_DATA / name}.bpe.z is damaged (SHA-256 differs)")
    count = int.from_bytes(payload[:4], "little")
    blob = memoryview(payload)[4 + count :]
    ends = list(accumulate(payload[4 : 4 + count]))
    starts = [0, *ends[:-1]]
    return {blob[a:b].tobytes(): rank for rank, (a, b) in enumerate(zip(starts, ends, strict=True))}


_lock = threading.Lock()
_loaded: dict[str, tiktoken.Encoding] = {}


def get(name: str) -> tiktoken.Encoding:
    """The `tiktoken.Encoding` `name` (o200k_base or cl100k_base), built on first use."""
    found = _loaded.get(name)
    if found is not None:
        return found
    with _lock:
        if name not in _loaded:
            if name not in _PATTERNS:
                raise ValueError(f"unknown encoding {name!r} (expected one of {NAMES})")
            enc = tiktoken.Encoding(
                name,
                pat_str=_PATTERNS[name],
                mergeable_ranks=read_ranks(name),
                special_tokens=_SPECIAL[name],
            )
            # tiktoken keeps the ranks dict only to pickle the encoding, which nothing here does;
            # dropping it frees ~26 MB of the ~70 MB o200k_base takes to build.
            enc._mergeable_ranks = {}
            _loaded[name] = enc
        return _loaded[name]
