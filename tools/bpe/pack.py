"""Pack an OpenAI `.tiktoken` BPE file into the compact form shipped in `sanic_mock/bpe/`.

    python tools/bpe/pack.py o200k_base.tiktoken cl100k_base.tiktoken

A `.tiktoken` file (MIT, published by OpenAI with tiktoken) has one line per token: the token's
bytes in base64 and its rank, ranks 0, 1, 2... in order. The packed form keeps the same
information without the base64 and the rank numbers: a little-endian uint32 token count, one
uint8 byte length per token in rank order, then the tokens' bytes concatenated; the whole
compressed with zlib (level 9). The input is checked against the SHA-256 that tiktoken itself
pins for the file (tiktoken_ext/openai_public.py), and the packed payload's SHA-256 is printed for
`sanic_mock/encodings.py`. `tests/test_encodings.py` unpacks the shipped files, rebuilds the
`.tiktoken` text and checks it against the same pinned hashes.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import sys
import zlib
from pathlib import Path

# tiktoken 0.14.0, tiktoken_ext/openai_public.py: expected_hash of each file.
OPENAI_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
OUT = Path(__file__).resolve().parents[2] / "sanic_mock" / "bpe"


def pack(source: Path) -> tuple[str, bytes]:
    name = source.name.removesuffix(".tiktoken")
    data = source.read_bytes()
    if hashlib.sha256(data).hexdigest() != OPENAI_SHA256[name]:
        sys.exit(f"{source}: SHA-256 differs from the one tiktoken pins for {name}")
    tokens = []
    for rank, line in enumerate(data.splitlines()):
        token, number = line.split()
        if int(number) != rank:
            sys.exit(f"{source}: ranks are not 0, 1, 2... (line {rank + 1})")
        tokens.append(base64.b64decode(token))
    payload = struct.pack("<I", len(tokens)) + bytes(map(len, tokens)) + b"".join(tokens)
    return name, payload


def main(paths: list[str]) -> None:
    for path in paths:
        name, payload = pack(Path(path))
        (OUT / f"{name}.bpe.z").write_bytes(zlib.compress(payload, 9))
        print(f"{name}: {hashlib.sha256(payload).hexdigest()}")


if __name__ == "__main__":
    main(sys.argv[1:])
