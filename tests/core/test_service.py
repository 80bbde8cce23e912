"""`Service.answer` with a fake answerer: the key check, the error boundary, the headers, and
when an answer is `Ready` or `Later`."""

from __future__ import annotations

import logging

import orjson
import pytest

from sanic_mock.core.control import Control, Fault
from sanic_mock.core.reply import Clock, Reply, Unanswered
from sanic_mock.core.service import HEALTHY, SORRY, Later, Ready, Service
from sanic_mock.core.store import ResponseStore
from sanic_mock.endpoints import CHAT, COMPLETIONS, EMBEDDINGS, HEALTH, MODEL, MODELS
from sanic_mock.errors import NotFound
from sanic_mock.settings import FaultSettings
from sanic_mock.wire.ids import IdSource
from sanic_mock.wire.models import Catalog, list_body, model_body

CLOCK = Clock(wall=lambda: 1_700_000_000.0, monotonic=lambda: 10.5)


class Fake:
    """An answerer whose chat reply (or exception) the test sets."""

    def __init__(self) -> None:
        self.ids = IdSource(stem="a" * 21, request_stem="0" * 16)
        self.catalog = Catalog(("m1",))
        self.store = ResponseStore(2, now=lambda: 0.0)
        self.outcome: Reply | Exception = Reply(b"{}")
        self.bodies: list[bytes] = []
        self.controls: list[Control | None] = []

    def chat(self, raw: bytes, control: Control | None = None) -> Reply:
        self.bodies.append(raw)
        self.controls.append(control)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome

    def completions(self, raw: bytes, control: Control | None = None) -> Reply:
        return Reply(b'"completions"')

    def embeddings(self, raw: bytes, control: Control | None = None) -> Reply:
        return Reply(b'"embeddings"')

    def responses(self, raw: bytes) -> Reply:
        return Reply(b'"responses"')

    def input_tokens(self, raw: bytes) -> Reply:
        return Reply(b'"input_tokens"')


def service(
    key: str | None = None, forward: bool = False, faults: FaultSettings | None = None
) -> tuple[Service, Fake]:
    fake = Fake()
    errors = IdSource(stem="e" * 21, request_stem="f" * 16)
    return Service(fake, key, CLOCK, errors, forward=forward, faults=faults), fake


def error_of(answer: Ready | Later) -> tuple[int, dict[str, object]]:
    assert isinstance(answer, Ready)
    return answer.status, orjson.loads(answer.body)["error"]


def test_health_needs_no_key() -> None:
    svc, _ = service("Bearer k")
    assert svc.answer(HEALTH, None, b"", 10.0) is HEALTHY
    assert HEALTHY.body == b'{"status":"ok"}'


@pytest.mark.parametrize("endpoint", [MODELS, CHAT, COMPLETIONS, EMBEDDINGS])
def test_every_other_endpoint_needs_the_key(endpoint: object) -> None:
    svc, fake = service("Bearer sk-right-key-1234")
    status, error = error_of(svc.answer(endpoint, None, b"{}", 10.0))  # type: ignore[arg-type]
    assert status == 401 and error["code"] is None
    assert str(error["message"]).startswith("You didn't provide an API key.")
    status, error = error_of(svc.answer(endpoint, "Bearer sk-wrong-key-9876", b"{}", 10.0))  # type: ignore[arg-type]
    assert status == 401 and error["code"] == "invalid_api_key"
    assert error["message"] == (
        "Incorrect API key provided: sk-**********9876. You can find your API key at "
        "https://platform.openai.com/account/api-keys."
    )
    assert fake.bodies == []  # the answerer never saw them


def test_a_ready_reply_gets_the_four_headers() -> None:
    svc, fake = service("Bearer k")
    fake.outcome = Reply(b'{"x":1}')
    answer = svc.answer(CHAT, "Bearer k", b"req", 10.0)
    assert answer == Ready(
        200,
        (
            (b"content-type", b"application/json"),
            (b"x-request-id", b"req_00000000000000001000000000000001"),
            (b"openai-version", b"2020-10-01"),
            (b"openai-processing-ms", b"500"),  # monotonic 10.5, arrival 10.0
        ),
        b'{"x":1}',
    )
    assert fake.bodies == [b"req"]


def test_an_unpaced_stream_is_ready_in_one_piece() -> None:
    svc, fake = service()
    fake.outcome = Reply(b"", [b"data: 1\n\n", b"data: [DONE]\n\n"])
    answer = svc.answer(CHAT, None, b"", 10.5)
    assert isinstance(answer, Ready)
    assert answer.body == b"data: 1\n\ndata: [DONE]\n\n"
    assert answer.head[0] == (b"content-type", b"text/event-stream; charset=utf-8")


def test_a_delayed_body_is_later_and_its_head_counts_the_delay() -> None:
    svc, fake = service()
    fake.outcome = Reply(b"{}", None, 0.25)
    later = svc.answer(CHAT, None, b"", 10.0)
    assert isinstance(later, Later)
    assert later.reply.due() == [0.25] and later.started == 10.0
    assert dict(later.head())[b"openai-processing-ms"] == b"250"


def test_a_paced_stream_is_later_with_a_due_time_per_frame() -> None:
    svc, fake = service()
    fake.outcome = Reply(b"", [b"a", b"b", b"c"], 0.1, 0.02)
    later = svc.answer(CHAT, None, b"", 10.0)
    assert isinstance(later, Later)
    assert later.reply.due() == pytest.approx([0.1, 0.12, 0.14])
    head = dict(later.head())  # a stream's head as of now (monotonic 10.5)
    assert head[b"content-type"] == b"text/event-stream; charset=utf-8"
    assert head[b"openai-processing-ms"] == b"500"


def test_an_openai_error_keeps_its_status_and_body() -> None:
    svc, fake = service()
    fake.outcome = NotFound("gone", code="x")
    answer = svc.answer(CHAT, None, b"", 10.0)
    assert isinstance(answer, Ready) and answer.status == 404
    assert (
        answer.body
        == b'{"error":{"message":"gone","type":"invalid_request_error","param":null,"code":"x"}}'
    )
    assert dict(answer.head)[b"x-request-id"] == b"req_ffffffffffffffff1000000000000001"


def test_any_other_exception_is_a_logged_500(caplog: pytest.LogCaptureFixture) -> None:
    svc, fake = service()
    fake.outcome = ValueError("a bug")
    with caplog.at_level(logging.ERROR, logger="sanic_mock"):
        status, error = error_of(svc.answer(CHAT, None, b"", 10.0))
    assert status == 500 and error == {
        "message": SORRY,
        "type": "server_error",
        "param": None,
        "code": None,
    }
    assert "POST /v1/chat/completions" in caplog.text and "ValueError: a bug" in caplog.text


def test_unanswered_is_a_400_unless_forwarded() -> None:
    svc, fake = service()
    fake.outcome = Unanswered(CHAT.path)
    status, error = error_of(svc.answer(CHAT, None, b"", 10.0))
    assert status == 400 and error["message"] == "No recorded exchange matches this request."
    forwarding, fake = service(forward=True)
    fake.outcome = Unanswered(CHAT.path)
    with pytest.raises(Unanswered):
        forwarding.answer(CHAT, None, b"", 10.0)


def test_models_and_a_model_from_the_catalog() -> None:
    svc, _ = service()
    listed = svc.answer(MODELS, None, b"", 10.0)
    assert isinstance(listed, Ready) and listed.body == list_body(("m1",))
    found = svc.answer(MODEL, None, b"", 10.0, "m1")
    assert isinstance(found, Ready) and found.body == model_body("m1")
    status, error = error_of(svc.answer(MODEL, None, b"", 10.0, "nope"))
    assert status == 404 and error["code"] == "model_not_found"


STREAM = Reply(b"", [b"data: 1\n\n", b"data: 2\n\n", b"data: 3\n\n", b"data: [DONE]\n\n"])


def test_control_headers_reach_the_answerer_parsed() -> None:
    svc, fake = service()
    svc.answer(CHAT, None, b"{}", 10.0, control=[(b"x-mock-tokens", b"7")])
    svc.answer(CHAT, None, b"{}", 10.0)
    assert fake.controls == [Control(tokens=7), None]


def test_no_control_headers_ignores_them() -> None:
    svc, fake = service(faults=FaultSettings(control_headers=False))
    answer = svc.answer(CHAT, None, b"{}", 10.0, control=[(b"x-mock-fault", b"500")])
    assert isinstance(answer, Ready) and answer.status == 200
    assert fake.controls == [None]


def test_a_bad_control_header_is_a_400_naming_it() -> None:
    svc, _ = service()
    status, error = error_of(
        svc.answer(CHAT, None, b"{}", 10.0, control=[(b"x-mock-tokens", b"x")])
    )
    assert status == 400 and "x-mock-tokens" in str(error["message"])


@pytest.mark.parametrize("status", ["429", "500", "503"])
def test_a_status_fault_is_answered_instead_of_the_request(status: str) -> None:
    svc, fake = service()
    answer = svc.answer(CHAT, None, b"{}", 10.0, control=[(b"x-mock-fault", status.encode())])
    code, error = error_of(answer)
    assert code == int(status) and fake.bodies == []
    assert isinstance(answer, Ready)
    head = dict(answer.head)
    if status == "429":
        assert error["code"] == "rate_limit_exceeded" and error["type"] == "requests"
        assert head[b"retry-after"] == b"1"
        assert head[b"x-ratelimit-remaining-requests"] == b"0"
    else:
        assert error["type"] == "server_error" and b"retry-after" not in head


def test_a_stream_fault_reaches_the_answerer_and_cuts_its_reply() -> None:
    svc, fake = service()
    fake.outcome = STREAM
    answer = svc.answer(CHAT, None, b"{}", 10.0, control=[(b"x-mock-fault", b"truncate:2")])
    assert isinstance(answer, Later)
    assert fake.controls == [Control(fault=Fault("truncate", 2))]
    assert answer.reply.frames == [b"data: 1\n\n", b"data: 2\n\n"]
    assert not answer.reply.reset


def test_fault_rate_fails_that_share_reproducibly() -> None:
    def statuses() -> list[int]:
        svc, fake = service(faults=FaultSettings(rate=0.25, types=("503",)))
        fake.outcome = Reply(b"{}")
        out = []
        for _ in range(2000):
            answer = svc.answer(CHAT, None, b"{}", 10.0)
            assert isinstance(answer, Ready)
            out.append(answer.status)
        return out

    first = statuses()
    assert 0.21 < first.count(503) / len(first) < 0.29
    assert set(first) == {200, 503}
    assert statuses() == first


def test_gets_never_fault() -> None:
    svc, _ = service(faults=FaultSettings(rate=1.0))
    answer = svc.answer(MODELS, None, b"", 10.0, control=[(b"x-mock-fault", b"500")])
    assert isinstance(answer, Ready) and answer.status == 200


def test_a_reset_is_sent_later_even_when_nothing_waits() -> None:
    svc, fake = service()
    fake.outcome = Reply(b"{}")
    answer = svc.answer(CHAT, None, b"{}", 10.0, control=[(b"x-mock-fault", b"reset:1")])
    assert isinstance(answer, Later) and answer.reply.reset and answer.reply.body == b""
