"""Per-request control headers: one request's timing, length or failure, chosen by the client.

A transport hands `Service.answer` the request's `x-mock-*` headers as raw (name, value) pairs
(names lower-cased) and nothing else; `parse` reads them here, once. A bad value is the real
API's 400, naming the header:

- `x-mock-first-token-delay-ms: MS`: the wait before the first token (no jitter);
- `x-mock-response-delay-ms: MS`: the gap between two events (no jitter);
- `x-mock-tokens: N`: the completion is N tokens long (`max_tokens` still caps it);
- `x-mock-fault: 429|500|503|stall:K:MS|reset:K|truncate:K`: this request fails so, K content
  events into its stream (K >= 1; `core/faults.py`).

Unknown `x-mock-*` names are ignored, as other mocks' headers may be sent to us too.
`--no-control-headers` makes the service skip this module altogether.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sanic_mock.errors import InvalidRequest

Pairs = Sequence[tuple[bytes, bytes]]


class Fault(NamedTuple):
    """A failure: `kind` is one of `settings.FAULT_TYPES`; `after` content events are sent
    before a stall, reset or truncation; a stall lasts `ms`."""

    kind: str
    after: int = 0
    ms: float = 0.0


class Control(NamedTuple):
    first_ms: float | None = None
    gap_ms: float | None = None
    tokens: int | None = None
    fault: Fault | None = None


NONE = Control()
STATUS_FAULTS = ("429", "500", "503")


def _number(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number < 3_600_000:  # also refuses nan
        raise InvalidRequest(f"Invalid header {name}: expected milliseconds >= 0, got {value!r}.")
    return number


def _count(name: str, value: str, low: int = 0) -> int:
    if not value.isdigit() or int(value) < low:
        raise InvalidRequest(f"Invalid header {name}: expected an integer >= {low}, got {value!r}.")
    return int(value)


def parse_fault(value: str) -> Fault:
    """`429|500|503|stall:K:MS|reset:K|truncate:K` as a `Fault`."""
    kind, _, rest = value.partition(":")
    if kind in STATUS_FAULTS and not rest:
        return Fault(kind)
    parts = rest.split(":")
    if kind == "stall" and len(parts) == 2:
        after = _count("x-mock-fault", parts[0], 1)
        return Fault(kind, after, _number("x-mock-fault", parts[1]))
    if kind in ("reset", "truncate") and len(parts) == 1:
        return Fault(kind, _count("x-mock-fault", parts[0], 1))
    raise InvalidRequest(
        "Invalid header x-mock-fault: expected 429, 500, 503, stall:K:MS, reset:K or "
        f"truncate:K, got {value!r}."
    )


def parse(pairs: Pairs) -> Control:
    """The control a request's `x-mock-*` headers ask for (the first of each name counts)."""
    first = gap = tokens = fault = None
    for raw_name, raw_value in pairs:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1").strip()
        if name == "x-mock-first-token-delay-ms" and first is None:
            first = _number(name, value)
        elif name == "x-mock-response-delay-ms" and gap is None:
            gap = _number(name, value)
        elif name == "x-mock-tokens" and tokens is None:
            tokens = _count(name, value, 1)
        elif name == "x-mock-fault" and fault is None:
            fault = parse_fault(value)
    return Control(first, gap, tokens, fault)
