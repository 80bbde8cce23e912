"""`app.Answer` builds Sanic's response attributes itself, and `app.arrival` reads Sanic's
per-connection read stamp: guard both against Sanic changes."""

import time
from types import SimpleNamespace

from sanic.response import HTTPResponse

from sanic_mock.core.service import Ready, answer_head
from sanic_mock.serve.sanic_app import Answer, arrival


def _slots(cls: type) -> set[str]:
    return {s for c in cls.__mro__ for s in getattr(c, "__slots__", ())}


def test_answer_sets_every_attribute_a_sanic_response_has() -> None:
    plain = HTTPResponse(b"{}", content_type="application/json")
    answer = Answer(Ready(200, answer_head("application/json", "req_1", 0.0, 0.0), b"{}"))
    for name in _slots(HTTPResponse):
        if hasattr(plain, name):
            assert hasattr(answer, name), name
            assert type(getattr(answer, name)) is type(getattr(plain, name)), name


def test_processed_headers_are_ours_then_sanics() -> None:
    head = answer_head("text/event-stream; charset=utf-8", "req_abc", 0.0, 0.001)
    answer = Answer(Ready(201, head, b""))
    answer.headers["content-length"] = 0
    headers = list(answer.processed_headers)
    assert headers[:3] == [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"x-request-id", b"req_abc"),
        (b"openai-version", b"2020-10-01"),
    ]
    assert headers[3] == (b"openai-processing-ms", b"1")
    assert headers[4:] == [(b"content-length", b"0")]
    assert answer.body == b"" and answer.status == 201


def test_arrival_is_sanics_read_stamp_or_now() -> None:
    stamped = SimpleNamespace(stream=SimpleNamespace(protocol=SimpleNamespace(_time=12.5)))
    assert arrival(stamped) == 12.5  # type: ignore[arg-type]
    before = time.monotonic()
    assert before <= arrival(SimpleNamespace(stream=None)) <= time.monotonic()  # type: ignore[arg-type]


def test_sanic_still_stamps_reads_on_its_http1_protocol() -> None:
    """`arrival` relies on `HttpProtocol._time`, set on every `data_received`."""
    import inspect

    from sanic.http.http1 import Http
    from sanic.server.protocols.http_protocol import HttpProtocol

    assert "protocol" in Http.__slots__  # request.stream.protocol
    assert "self._time = current_time()" in inspect.getsource(HttpProtocol.data_received)
