"""Every response kind byte for byte against `data/NAME.json` (see `cases.py`).

`GOLDEN_UPDATE=1 python -m pytest tests/golden` rewrites the files; a change to them is a change
of behaviour and shows in review.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from tests.golden.cases import CASES, DATA, MODES, WALL, Case, write_corpus

OBFUSCATION = tuple(b"obf%d" % k for k in range(12))
MONOTONIC = 1000.0


class _Secrets:
    """Ids from a fixed stem: `secrets` as `wire/ids.py` uses it."""

    @staticmethod
    def choice(seq: str) -> str:
        return seq[0]

    @staticmethod
    def token_hex(n: int) -> str:
        return "0" * (2 * n)


def render(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    from sanic_mock.core import generated as api_module
    from sanic_mock.core import replayed as replay
    from sanic_mock.core import service as direct
    from sanic_mock.core.generated import EVENT_STREAM, JSON
    from sanic_mock.core.replayed import api_for
    from sanic_mock.errors import OpenAIError
    from sanic_mock.serve import sanic_app as app_module
    from sanic_mock.serve.h1_fast import response_bytes
    from sanic_mock.serve.sanic_app import answer_head, authorize
    from sanic_mock.settings import Settings
    from sanic_mock.wire import ids, sse

    clock = SimpleNamespace(time=lambda: WALL, monotonic=lambda: MONOTONIC)
    for module in (api_module, app_module, direct, replay):
        monkeypatch.setattr(module, "time", clock)
    monkeypatch.setattr(ids, "secrets", _Secrets)
    monkeypatch.setattr(sse, "OBFUSCATION", OBFUSCATION)
    monkeypatch.setattr(app_module, "_ERROR_IDS", ids.IdSource())
    options = dict(MODES[case.mode])
    if case.mode.startswith("replay"):
        options["corpus"] = write_corpus(tmp_path / "recorded.msgpack")
    settings = Settings(**options)
    api = api_for(settings)
    expected = settings.authorization
    answer: direct.Ready | direct.Later
    if case.method == "GET" and case.path in direct.GETS:
        answer = direct.get(api, expected, case.path, case.authorization, MONOTONIC)
    elif case.method == "GET":  # a model lookup: Sanic's route
        try:
            authorize(expected, case.authorization)
            body = api.model(case.path.removeprefix("/v1/models/"))
            answer = direct.Ready(200, answer_head(JSON, api.ids.request(), MONOTONIC), body)
        except OpenAIError as error:
            answer = direct.failed(error, f"GET {case.path}")
    else:
        answer = direct.post(api, expected, case.path, case.authorization, case.raw(), MONOTONIC)
    if isinstance(answer, direct.Ready):
        return {
            "status": answer.status,
            "headers": [[k.decode(), v.decode()] for k, v in answer.head],
            "body": answer.body.decode(),
            "h1": response_bytes(answer).decode(),
        }
    reply, request_id = answer
    kind = JSON if reply.frames is None else EVENT_STREAM
    head = answer_head(kind, request_id, MONOTONIC)
    if reply.frames is None:
        due = [reply.first_delay]
        frames = None
    else:
        frames = [f.decode() for f in reply.frames]
        due = (
            list(reply.offsets)
            if reply.offsets is not None
            else [reply.first_delay + k * reply.event_delay for k in range(len(frames))]
        )
    return {
        "status": 200,
        "headers": [[k.decode(), v.decode()] for k, v in head],
        "body": reply.body.decode(),
        "frames": frames,
        "due": [round(t, 9) for t in due],
    }


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    got = orjson.dumps(render(case, tmp_path, monkeypatch), option=orjson.OPT_INDENT_2) + b"\n"
    path = DATA / f"{case.name}.json"
    if os.environ.get("GOLDEN_UPDATE") == "1":
        path.write_bytes(got)
    assert path.read_bytes() == got


def test_every_file_has_a_case() -> None:
    assert sorted(p.stem for p in DATA.glob("*.json")) == sorted(c.name for c in CASES)
