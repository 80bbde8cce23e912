"""Server-sent events read back: the one splitter of raw SSE bytes into events and their data.

The recorder cuts an upstream stream into events as bytes arrive (`event_end`, `event_data`);
the importers read a cassette's whole SSE text (`events`). Both keep each event's `data:` lines
joined by newlines, and drop comment-only events (`: keep-alive`).
"""

from __future__ import annotations


def event_end(buf: bytes | bytearray) -> int:
    """Where the first complete event in `buf` ends (after its blank line), or -1."""
    ends = [(i, n) for i, n in ((buf.find(b"\n\n"), 2), (buf.find(b"\r\n\r\n"), 4)) if i >= 0]
    if not ends:
        return -1
    i, n = min(ends)
    return i + n


def event_data(raw: bytes) -> str | None:
    """The `data:` payload of one SSE event (lines joined), or None for comments only."""
    lines = [
        line[5:].removeprefix(b" ")
        for line in raw.replace(b"\r\n", b"\n").split(b"\n")
        if line.startswith(b"data:")
    ]
    return b"\n".join(lines).decode("utf-8", errors="replace") if lines else None


def events(text: str) -> list[str]:
    """The `data:` payloads of raw SSE text, in order."""
    out = []
    for block in text.encode("utf-8").replace(b"\r\n", b"\n").split(b"\n\n"):
        data = event_data(block)
        if data is not None:
            out.append(data)
    return out
