"""HTTP/1.1 response bytes, as Sanic's own server writes them: status line, headers, framing.

Pure functions, used by the fast path (`serve/h1_fast.py`) and the paced writer for Sanic's
routes: a whole response with `content-length`, or a stream as chunks.
"""

from __future__ import annotations

from sanic.helpers import STATUS_CODES

from sanic_mock.core.service import Head, Ready

_STATUS = {code: b"HTTP/1.1 %d %b\r\n" % (code, phrase) for code, phrase in STATUS_CODES.items()}
CHUNKED = b"transfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n"
LAST_CHUNK = b"0\r\n\r\n"


def head_bytes(status: int, head: Head, framing: bytes) -> bytes:
    """A response's status line and headers; `framing` adds the length or chunked encoding,
    `connection` and the blank line."""
    lines = [_STATUS[status]]
    for header in head:
        lines.append(b"%b: %b\r\n" % header)
    lines.append(framing)
    return b"".join(lines)


def response_bytes(answer: Ready) -> bytes:
    """A whole response, as Sanic writes it for the same answer."""
    status, head, body = answer
    framing = b"content-length: %d\r\nconnection: keep-alive\r\n\r\n" % len(body)
    return head_bytes(status, head, framing) + body


def chunked(frames: list[bytes], head: bytes = b"", end: bytes = b"") -> list[bytes]:
    """`frames` as HTTP/1.1 chunks, one write each: `head` before the first, `end` after the
    last (with no frames, one write of both)."""
    if not frames:
        return [head + end] if head or end else []
    chunks = [b"%x\r\n%b\r\n" % (len(frame), frame) for frame in frames]
    chunks[0] = head + chunks[0]
    chunks[-1] += end
    return chunks
