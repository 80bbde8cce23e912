"""Server-Sent-Events framing shared by the streaming endpoints.

A stream is built as a list of *frames*: frame `k` holds every event due at step `k` (step 0 at
the first-token delay, then one step per `--response-delay-ms`). Unpaced streams are a single
frame written at once; paced ones are written one frame per step.

The content events of one choice differ only in their text, so they are written as
`opening + text + closing` per event; with one token per event and no pacing the whole run is one
`bytes.replace` over the separated text (see `corpus/pool.py`), with no Python work per token.
"""

from __future__ import annotations

import secrets
import string

from sanic_mock.corpus.pool import SEP

DONE = b"data: [DONE]\n\n"

# `obfuscation` pads stream chunks so their sizes do not reveal token lengths (the real API adds
# it unless `stream_options.include_obfuscation` is false). Pre-made random strings keep it cheap.
_OBF_ALPHABET = string.ascii_letters + string.digits
OBFUSCATION: tuple[bytes, ...] = tuple(
    "".join(secrets.choice(_OBF_ALPHABET) for _ in range(4 + k)).encode() for k in range(12)
)


def obfuscation_field(k: int, table: tuple[bytes, ...] = OBFUSCATION) -> bytes:
    """The `obfuscation` member of a stream chunk: string `k` of `table`, round robin."""
    return b',"obfuscation":"' + table[k % len(table)] + b'"'


def content_events(
    separated: bytes, groups: list[int] | None, opening: bytes, closing: bytes, paced: bool
) -> list[bytes]:
    """The content events of one choice, one per step.

    `separated` is the choice's escaped text with `SEP` between tokens; `groups` gives the tokens
    per event (None: one each). Unpaced with one token per event, the whole run comes back as a
    single item made by one `bytes.replace` (`one_frame`; `interleave` joins the items once).
    """
    if not separated and groups is None:
        return []
    if groups is None and not paced:
        return [one_frame(b"", opening, separated, closing, b"")]
    texts = separated.split(SEP)
    if groups is not None:
        texts = [b"".join(run) for run in chunks(texts, groups)]
    return [opening + text + closing for text in texts]


def one_frame(
    before: bytes, opening: bytes, separated: bytes, closing: bytes, after: bytes
) -> bytes:
    """Unpaced events with one token each, as one frame: `before`, `opening + token + closing`
    per token, then `after`. A whole one-choice stream (role chunk before; finish, usage and
    `[DONE]` after) is one frame this way.

    Made by a single `bytes.replace` over the whole frame, so the ~80 KB of a 256-token stream is
    written once rather than copied by every join (7 µs against 12 µs for replace-then-joins,
    measured). `SEP` occurs only between tokens: templates, ids and JSON-escaped text never
    contain a NUL byte.
    """
    if not separated:
        return before + after
    return b"".join((before, opening, separated, closing, after)).replace(SEP, closing + opening)


def with_finish(events: list[bytes], finish: bytes, paced: bool) -> list[bytes]:
    """A choice's events with its finish chunk: in the last step when paced (it leaves with the
    last tokens), else simply after them (everything goes out at once)."""
    if not events:
        return [finish]
    if paced:
        events[-1] += finish
    else:
        events.append(finish)
    return events


def interleave(
    per_choice: list[list[bytes]], head: bytes, tail: bytes, paced: bool = True
) -> list[bytes]:
    """Frames from each choice's per-step events: step k of every choice goes in frame k.

    `head` opens frame 0 (role chunks), `tail` closes the last frame (usage chunk, `[DONE]`).
    Unpaced, the result is one frame, joined once (a 256-token stream is ~80 KB: every extra
    concatenation is a copy of it).
    """
    if not paced:
        return [b"".join([head, *(event for events in per_choice for event in events), tail])]
    if len(per_choice) == 1:
        frames = list(per_choice[0]) or [b""]
    else:
        steps = max((len(events) for events in per_choice), default=0) or 1
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
