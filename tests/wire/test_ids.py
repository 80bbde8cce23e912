import re

from sanic_mock.wire.ids import IdSource


def test_ids_have_the_real_shapes_and_never_repeat() -> None:
    ids = IdSource()
    chat = [ids.chat() for _ in range(1000)]
    assert all(re.fullmatch(r"chatcmpl-[A-Za-z0-9]{29}", i) for i in chat)
    assert all(re.fullmatch(r"cmpl-[A-Za-z0-9]{29}", ids.completion()) for _ in range(10))
    requests = [ids.request() for _ in range(1000)]
    assert all(re.fullmatch(r"req_[0-9a-f]{32}", i) for i in requests)
    assert len(set(chat)) == len(chat) and len(set(requests)) == len(requests)


def test_counter_wraps_without_changing_the_length() -> None:
    ids = IdSource()
    ids._count = iter([2**28 - 1, 2**28, 2**60 + 5])  # type: ignore[assignment]
    assert len(ids.chat()) == len(ids.chat()) == len("chatcmpl-") + 29
    assert len(ids.request()) == len("req_") + 32
    assert IdSource().chat()[:-8] != IdSource().chat()[:-8]  # per-process random stems
