"""Server-Sent-Events framing shared by the streaming endpoints.

A stream is built as a list of *frames*: frame `k` holds every event due at step `k` (step 0 at
the first-token delay, then one step per `--response-delay-ms`). With no delay the frames are
written at once; with a delay the transport writes one frame per step.
"""

from __future__ import annotations

import secrets
import string

DONE = b"data: [DONE]\n\n"

# `obfuscation` pads stream chunks so their sizes do not reveal token lengths (the real API adds
# it unless `stream_options.include_obfuscation` is false). Pre-made strings keep it cheap.
_OBF_ALPHABET = string.ascii_letters + string.digits
OBFUSCATION: tuple[bytes, ...] = tuple(
    "".join(secrets.choice(_OBF_ALPHABET) for _ in range(max(1, 16 - k))).encode()
    for k in range(16)
)


def obfuscation_field(size: int) -> bytes:
    return b',"obfuscation":"' + OBFUSCATION[size & 15] + b'"'


def interleave(per_choice: list[list[bytes]], head: bytes, tail: bytes) -> list[bytes]:
    """Frames from each choice's per-step events: step k of every choice goes in frame k.

    `head` opens frame 0 (role chunks), `tail` closes the last frame (usage chunk, `[DONE]`).
    """
    steps = max((len(events) for events in per_choice), default=0) or 1
    if len(per_choice) == 1:
        frames = list(per_choice[0]) or [b""]
    else:
        frames = [
            b"".join(events[k] for events in per_choice if k < len(events)) for k in range(steps)
        ]
    frames[0] = head + frames[0]
    frames[-1] += tail
    return frames


def chunks(pieces: list[bytes], sizes: list[int]) -> list[list[bytes]]:
    """`pieces` cut into consecutive runs of `sizes[k]` pieces (one run per event)."""
    out, at = [], 0
    for size in sizes:
        out.append(pieces[at : at + size])
        at += size
    return out


def group(pieces: list[bytes], sizes: list[int]) -> list[bytes]:
    """The text of each event: the pieces of each run joined."""
    if len(sizes) == len(pieces):
        return pieces
    return [b"".join(run) for run in chunks(pieces, sizes)]
