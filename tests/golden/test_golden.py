"""Every response kind byte for byte against `data/NAME.json` (see `cases.py`).

`GOLDEN_UPDATE=1 python -m pytest tests/golden` rewrites the files; a change to them is a change
of behaviour and shows in review.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from sanic_mock.core.generated import MockAPI
from sanic_mock.core.replayed import ReplayAPI
from sanic_mock.core.reply import Clock
from sanic_mock.core.service import Answerer, Ready, Service
from sanic_mock.corpus.loading import load_corpus, load_pools
from sanic_mock.endpoints import EXACT, MODEL
from sanic_mock.serve.h1 import response_bytes
from sanic_mock.wire.ids import IdSource
from tests import factories
from tests.golden.cases import CASES, DATA, MODES, WALL, Case, write_corpus

OBFUSCATION = tuple(b"obf%d" % k for k in range(12))
MONOTONIC = 1000.0
CLOCK = Clock(wall=lambda: WALL, monotonic=lambda: MONOTONIC)


def fixed_ids() -> IdSource:
    return IdSource(stem="a" * 21, request_stem="0" * 16)


def render(case: Case, tmp_path: Path) -> dict[str, Any]:
    """`case` answered by a `Service` with the pinned clock, fixed ids and obfuscation."""
    options = dict(MODES[case.mode])
    if case.mode.startswith("replay"):
        options["corpus"] = write_corpus(tmp_path / "recorded.msgpack")
    settings = factories.settings(**options)
    corpus = load_corpus(settings)
    answerer: Answerer
    if corpus.articles is None:
        models, seed = settings.server.models, settings.generation.article_seed
        answerer = ReplayAPI(corpus, settings.replay, models, seed, CLOCK, fixed_ids())
    else:
        pools = load_pools(settings, corpus)
        parts = settings.generation, settings.timing, settings.server.models
        answerer = MockAPI(pools, *parts, CLOCK, fixed_ids(), OBFUSCATION)
    service = Service(answerer, settings.server.authorization, CLOCK, fixed_ids())
    endpoint = EXACT.get((case.method, case.path))
    param = ""
    if endpoint is None:
        endpoint, param = MODEL, case.path.removeprefix(MODEL.path)
    answer = service.answer(endpoint, case.authorization, case.raw(), MONOTONIC, param)
    if isinstance(answer, Ready):
        return {
            "status": answer.status,
            "headers": [[k.decode(), v.decode()] for k, v in answer.head],
            "body": answer.body.decode(),
            "h1": response_bytes(answer).decode(),
        }
    reply = answer.reply
    return {
        "status": 200,
        "headers": [[k.decode(), v.decode()] for k, v in answer.head()],
        "body": reply.body.decode(),
        "frames": None if reply.frames is None else [f.decode() for f in reply.frames],
        "due": [round(t, 9) for t in reply.due()],
    }


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case: Case, tmp_path: Path) -> None:
    got = orjson.dumps(render(case, tmp_path), option=orjson.OPT_INDENT_2) + b"\n"
    path = DATA / f"{case.name}.json"
    if os.environ.get("GOLDEN_UPDATE") == "1":
        path.write_bytes(got)
    assert path.read_bytes() == got


def test_every_file_has_a_case() -> None:
    assert sorted(p.stem for p in DATA.glob("*.json")) == sorted(c.name for c in CASES)
