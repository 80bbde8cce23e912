"""`app.Answer` builds Sanic's response attributes itself: guard that against Sanic changes."""

from sanic.response import HTTPResponse

from sanic_mock.app import Answer


def _slots(cls: type) -> set[str]:
    return {s for c in cls.__mro__ for s in getattr(c, "__slots__", ())}


def test_answer_sets_every_attribute_a_sanic_response_has() -> None:
    plain = HTTPResponse(b"{}", content_type="application/json")
    answer = Answer(b"{}", "application/json", "req_1", 0.0)
    for name in _slots(HTTPResponse):
        if hasattr(plain, name):
            assert hasattr(answer, name), name
            assert type(getattr(answer, name)) is type(getattr(plain, name)), name


def test_processed_headers_are_ours_then_sanics() -> None:
    answer = Answer(None, "text/event-stream; charset=utf-8", "req_abc", 0.0, status=201)
    answer.headers["content-length"] = 0
    headers = list(answer.processed_headers)
    assert headers[:3] == [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"x-request-id", b"req_abc"),
        (b"openai-version", b"2020-10-01"),
    ]
    assert headers[3][0] == b"openai-processing-ms" and int(headers[3][1]) >= 0
    assert headers[4:] == [(b"content-length", b"0")]
    assert answer.body == b"" and answer.status == 201
