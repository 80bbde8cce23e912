"""Resetting a response stream on purpose (the `reset` fault), with each protocol's own reset.

ASGI gives an application no message for "abort this stream", so each server is reached as far
as it lets us:

- Sanic's own HTTP/1.1 (fast path and routes): a TCP reset, `pacing.reset` (`SO_LINGER` 0, then
  close);
- hypercorn HTTP/2 and HTTP/3: the `send` callable hypercorn hands the app is its stream's
  bound `app_send`; through it the protocol's `RST_STREAM` (h2, `INTERNAL_ERROR`) or QUIC
  `RESET_STREAM` (h3, `H3_INTERNAL_ERROR`) is sent (`reset_stream`);
- everywhere else (hypercorn's HTTP/1.1, granian): the app raises `StreamReset` mid-stream, and
  the server aborts: granian resets the h2 stream (`RST_STREAM`) and closes an HTTP/1.1
  connection before the closing chunk; hypercorn closes HTTP/1.1 the same way. Both servers log
  the exception once ("Error in ASGI Framework" or granian's own line).
"""

from __future__ import annotations

from typing import Any

H2_INTERNAL_ERROR = 0x2
H3_INTERNAL_ERROR = 0x102


class StreamReset(Exception):
    """Raised by the app to make an ASGI server abort the response (a `reset` fault)."""

    def __init__(self) -> None:
        super().__init__(
            "reset fault: the response is aborted on purpose (x-mock-fault/--fault-type)"
        )


async def reset_stream(send: Any) -> bool:
    """Reset the stream of the ASGI `send` callable with its protocol's own reset, where the
    server is hypercorn on HTTP/2 or HTTP/3; False where it is not (see the module docstring)."""
    stream = getattr(send, "__self__", None)
    stream_id = getattr(stream, "stream_id", None)
    protocol: Any = getattr(getattr(stream, "send", None), "__self__", None)
    connection = getattr(protocol, "connection", None)
    if not isinstance(stream_id, int) or connection is None:
        return False
    try:
        flush = getattr(protocol, "_flush", None)
        if flush is not None and hasattr(connection, "reset_stream"):  # hypercorn's H2Protocol
            connection.reset_stream(stream_id, error_code=H2_INTERNAL_ERROR)
            await flush()
            return True
        quic = getattr(connection, "_quic", None)  # hypercorn's H3Protocol: aioquic underneath
        if quic is not None and hasattr(quic, "reset_stream"):
            quic.reset_stream(stream_id, H3_INTERNAL_ERROR)
            await protocol.send()
            return True
    except Exception:  # the connection is gone or the server changed: fall back to raising
        return False
    return False
