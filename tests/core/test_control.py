"""`core/control.py`: the `x-mock-*` request headers as a `Control`, and their 400s."""

from __future__ import annotations

import pytest

from sanic_mock.core.control import Control, Fault, parse, parse_fault
from sanic_mock.errors import InvalidRequest


def test_every_header_is_read() -> None:
    pairs = [
        (b"x-mock-first-token-delay-ms", b" 250"),
        (b"X-Mock-Response-Delay-Ms", b"12.5"),
        (b"x-mock-tokens", b"40"),
        (b"x-mock-fault", b"stall:3:500"),
        (b"x-mock-other", b"ignored"),
    ]
    assert parse(pairs) == Control(250.0, 12.5, 40, Fault("stall", 3, 500.0))


def test_the_first_of_a_name_counts() -> None:
    assert parse([(b"x-mock-tokens", b"3"), (b"x-mock-tokens", b"9")]) == Control(tokens=3)


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("429", Fault("429")),
        ("500", Fault("500")),
        ("503", Fault("503")),
        ("reset:4", Fault("reset", 4)),
        ("truncate:1", Fault("truncate", 1)),
        ("stall:2:0", Fault("stall", 2, 0.0)),
    ],
)
def test_faults(text: str, fault: Fault) -> None:
    assert parse_fault(text) == fault


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (b"x-mock-fault", b"404"),
        (b"x-mock-fault", b"reset"),
        (b"x-mock-fault", b"reset:0"),
        (b"x-mock-fault", b"stall:2"),
        (b"x-mock-fault", b"stall:x:5"),
        (b"x-mock-fault", b"truncate:-1"),
        (b"x-mock-tokens", b"0"),
        (b"x-mock-tokens", b"1.5"),
        (b"x-mock-first-token-delay-ms", b"-1"),
        (b"x-mock-response-delay-ms", b"nan"),
        (b"x-mock-response-delay-ms", b"soon"),
    ],
)
def test_bad_values_are_a_400_naming_the_header(name: bytes, value: bytes) -> None:
    with pytest.raises(InvalidRequest, match=name.decode()):
        parse([(name, value)])
