"""Replayed answers: the recorded answer to each request, with fresh ids and timestamps.

`ReplayAPI` is the `Answerer` of a recorded corpus: `corpus/index.py` finds the exchange that
answers a request (by its match key, or a sample on a miss), `wire/replayed.py` renders it.
Requests are validated exactly as in generated mode. What goes out depends on what was recorded
and what is asked:

- recorded stream, streamed request: the recorded events (`restream`);
- recorded JSON, streamed request: the content cut into token events (`split`);
- recorded stream, plain request: the deltas assembled into one body (`assembled`);
- recorded JSON, plain request: the recorded body with a fresh id and `created`.

`--replay-timing recorded|scaled:F` gives each frame its recorded arrival time (times F); a
JSON answer waits the recorded duration; a stream made from a JSON answer spreads its events
evenly over that duration. A recorded error answer is replayed with its status and body.
Control headers' timing and length do not apply to recorded answers (their faults do: those are
the service's, `core/faults.py`).
"""

from __future__ import annotations

from typing import Any

import orjson

from sanic_mock import endpoints
from sanic_mock.core.control import Control
from sanic_mock.core.reply import SYSTEM, Clock, Reply, Unanswered
from sanic_mock.corpus.answers import Answer, answer
from sanic_mock.corpus.errors import CorpusError
from sanic_mock.corpus.exchanges import DONE, Exchange
from sanic_mock.corpus.format import Corpus
from sanic_mock.corpus.index import DEFAULT_IGNORE, Index
from sanic_mock.errors import InvalidRequest, NotFound, OpenAIError
from sanic_mock.settings import DEFAULT_MODELS, MissPolicy, ReplayMode, ReplaySettings
from sanic_mock.wire.ids import IdSource
from sanic_mock.wire.models import Catalog
from sanic_mock.wire.replayed import CHAT, Template, assembled, restream, split
from sanic_mock.wire.requests import parse_body, parse_chat, parse_completion, parse_embedding

COMPLETIONS, EMBEDDINGS = endpoints.COMPLETIONS.path, endpoints.EMBEDDINGS.path
_TEMPLATES = 4096  # cached stream templates per worker (cleared when full)


class RecordedError(OpenAIError):
    """A recorded error answer, replayed with its own status and body."""

    def __init__(self, ex: Exchange) -> None:
        body = orjson.dumps(ex.body) if ex.body is not None else (ex.text or "").encode()
        super().__init__(body.decode(errors="replace"))
        self.status = ex.status
        self._body = body

    def render(self) -> bytes:
        return self._body


class ReplayAPI:
    def __init__(
        self,
        corpus: Corpus,
        replay: ReplaySettings,
        models: tuple[str, ...],
        seed: int,
        clock: Clock = SYSTEM,
        ids: IdSource | None = None,
    ) -> None:
        """`models` are listed, or with the default list the recorded models first; `seed`
        makes the sampled answers to misses reproducible."""
        recorded_models = sorted({e.model for e in corpus.exchanges if e.model})
        if models == DEFAULT_MODELS and recorded_models:
            models = tuple(recorded_models) + tuple(
                m for m in DEFAULT_MODELS if m not in recorded_models
            )
        self.catalog = Catalog(models)
        self.ids = ids or IdSource()
        self.clock = clock
        self.index = Index(
            corpus.exchanges,
            DEFAULT_IGNORE + replay.match_ignore,
            seed=seed,
        )
        if len(self.index) == 0:
            raise CorpusError("the recorded corpus holds no complete exchange")
        self.sample_all = replay.mode is ReplayMode.SAMPLE
        self.on_miss = replay.on_miss
        self.scale = replay.scale
        self._answers: dict[int, Answer] = {}
        self._parsed: dict[int, list[Any]] = {}
        self._templates: dict[tuple[int, str | None, bool, int], Template] = {}

    def chat(self, raw: bytes, control: Control | None = None) -> Reply:
        return self.replay(CHAT, raw)

    def completions(self, raw: bytes, control: Control | None = None) -> Reply:
        return self.replay(COMPLETIONS, raw)

    def embeddings(self, raw: bytes, control: Control | None = None) -> Reply:
        return self.replay(EMBEDDINGS, raw)

    # -- finding the exchange -----------------------------------------------------------------
    def find(self, endpoint: str, doc: Any) -> tuple[Exchange, bool]:
        """(exchange, matched) for a request; `Unanswered` on a miss under `--on-miss proxy`."""
        if self.sample_all:
            found = self.index.draw(endpoint)
            if found is None:
                raise self._nothing(endpoint)
            return found, False
        hit = self.index.match(endpoint, doc)
        if hit is not None:
            return hit, True
        if self.on_miss is MissPolicy.PROXY:
            raise Unanswered(endpoint)
        if self.on_miss is MissPolicy.ERROR:
            message, param = self.index.explain(endpoint, doc)
            raise InvalidRequest(message, param=param, code="no_recorded_match")
        found = self.index.sample(endpoint, doc)
        if found is None:
            raise self._nothing(endpoint)
        return found, False

    def _nothing(self, endpoint: str) -> OpenAIError:
        return NotFound(
            f"The recorded corpus has no successful answer for {endpoint}.",
            code="no_recorded_answer",
        )

    def replay(self, endpoint: str, raw: bytes) -> Reply:
        """The reply to a request of `endpoint` (one of the three above)."""
        if endpoint == CHAT:
            gen = parse_chat(raw).gen
        elif endpoint == COMPLETIONS:
            gen = parse_completion(raw).gen
        else:
            parse_embedding(raw)
            gen = None
        ex, matched = self.find(endpoint, parse_body(raw))
        if not ex.ok:
            raise RecordedError(ex)
        if gen is None:
            return self._timed_body(orjson.dumps(ex.body), ex.duration_us)
        model = None if matched else gen.model
        if gen.stream:
            return self._stream(ex, endpoint, model, gen.include_usage, gen.prompt_tokens)
        return self._body(ex, endpoint, model, gen.prompt_tokens)

    # -- building replies ---------------------------------------------------------------------
    def _answer(self, ex: Exchange) -> Answer:
        found = self._answers.get(id(ex))
        if found is None:
            found = self._answers[id(ex)] = answer(ex)
        return found

    def _events(self, ex: Exchange) -> list[Any]:
        """The recorded events parsed once: a JSON value, or None for `[DONE]`/unparsable."""
        found = self._parsed.get(id(ex))
        if found is None:
            found = []
            for data in ex.events or ():
                try:
                    found.append(None if data == DONE else orjson.loads(data))
                except orjson.JSONDecodeError:
                    found.append(None)
            self._parsed[id(ex)] = found
        return found

    def _fresh(self, endpoint: str) -> tuple[str, int]:
        rid = self.ids.chat() if endpoint == CHAT else self.ids.completion()
        return rid, int(self.clock.wall())

    def _timed_body(self, body: bytes, duration_us: int) -> Reply:
        return Reply(body, None, duration_us / 1e6 * self.scale if self.scale else 0.0)

    def _body(self, ex: Exchange, endpoint: str, model: str | None, prompt_tokens: int) -> Reply:
        rid, created = self._fresh(endpoint)
        if not ex.streamed:
            doc = dict(ex.body) if isinstance(ex.body, dict) else {}
            doc.update(id=rid, created=created)
            if model is not None:
                doc["model"] = model
            return self._timed_body(orjson.dumps(doc), ex.duration_us)
        ans = self._answer(ex)
        named = model or ans.model or ex.model
        body = assembled(ans, endpoint, rid, created, named, prompt_tokens)
        last = ex.times_us[-1] if ex.times_us else ex.duration_us
        return self._timed_body(body, last)

    def _stream(
        self,
        ex: Exchange,
        endpoint: str,
        model: str | None,
        include_usage: bool,
        prompt_tokens: int,
    ) -> Reply:
        """Frames from the template of (exchange, request shape), made on first use."""
        key = (id(ex), model, include_usage, prompt_tokens)
        found = self._templates.get(key)
        if found is None:
            if len(self._templates) >= _TEMPLATES:
                self._templates.clear()
            found = self._templates[key] = self._template(
                ex, endpoint, model, include_usage, prompt_tokens
            )
        rid, created = self._fresh(endpoint)
        ident = rid.encode()
        if not self.scale:  # sent in one write anyway
            return Reply(b"", [found.whole(ident, created)])
        return Reply(b"", found.each(ident, created), offsets=found.offsets(self.scale))

    def _template(
        self,
        ex: Exchange,
        endpoint: str,
        model: str | None,
        include_usage: bool,
        prompt_tokens: int,
    ) -> Template:
        ans = self._answer(ex)
        if ex.streamed:
            fallback = ans.model or ex.model
            events = self._events(ex)
            frames, times = restream(
                events, ex.times_us, ex.endpoint, ans, model, fallback, include_usage, prompt_tokens
            )
            return Template(frames, times)
        named = model or ans.model or ex.model
        frames = split(ans, endpoint, named, include_usage, prompt_tokens)
        step = ex.duration_us / len(frames)
        return Template(frames, [round(step * (k + 1)) for k in range(len(frames))])
