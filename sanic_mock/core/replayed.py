"""Replayed answers: the recorded answer to each request, as recorded, with a fresh id and time.

`ReplayAPI` is the `Answerer` of a recorded corpus: `corpus/index.py` finds the exchange that
answers a request (by its match key, preferring a recording of the request's own stream shape,
or a sample on a miss), `wire/replayed.py` renders it. Requests are validated exactly as in
generated mode. What goes out depends on what was recorded and what is asked:

- recorded stream, streamed request: the recorded events, byte for byte (`restream`);
- recorded JSON, streamed request: the content cut into token events (`split`);
- recorded stream, plain request: the deltas assembled into one body (`assembled`);
- recorded JSON, plain request: the recorded body, in the API's key order.

Only the response id and `created` are fresh (`--replay-ids recorded` keeps those too). Every
answer says whether it was recorded for this request: `x-mock-replay: hit` with
`x-mock-replay-exchange: N` (the exchange's number in `corpus inspect`), or `x-mock-replay: miss`.
A miss is logged once per distinct request (warning) with the closest recording and the fields
that differ; under `--on-miss sample` the sampled answer is fitted to the request (`n`,
`max_tokens`/`max_completion_tokens`, `stream_options`) and named after the request's model.

`POST /v1/responses` and `/v1/responses/input_tokens` go to `ResponseReplay`
(`core/replayed_responses.py`), by the same rules, with the state a chain of turns needs.

`GET /v1/models` and `/v1/models/{id}` answer with the recorded GET when there is one
(`RecordedCatalog`), else from the catalog of models (the recorded ones first).

`--replay-timing recorded|scaled:F` gives each frame its recorded arrival time (times F); a
JSON answer waits the recorded duration; a stream made from a JSON answer spreads its events
evenly over that duration. A recorded error answer is replayed with its status and body.
Control headers' timing and length do not apply to recorded answers (their faults do: those are
the service's, `core/faults.py`).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from sanic_mock import endpoints
from sanic_mock.core.control import Control
from sanic_mock.core.recorded import MISS, Recorded, RecordedError, Told, hit
from sanic_mock.core.replayed_responses import ResponseReplay
from sanic_mock.core.reply import SYSTEM, Clock, Kept, Reply, Unanswered
from sanic_mock.core.store import DEFAULT_SIZE, ResponseStore
from sanic_mock.corpus.answers import Answer, answer, fit
from sanic_mock.corpus.errors import CorpusError
from sanic_mock.corpus.exchanges import Exchange
from sanic_mock.corpus.format import Corpus
from sanic_mock.corpus.index import DEFAULT_IGNORE, STREAM, USAGE, Found, Index
from sanic_mock.errors import InvalidRequest, NotFound, OpenAIError
from sanic_mock.settings import DEFAULT_MODELS, MissPolicy, ReplayIds, ReplayMode, ReplaySettings
from sanic_mock.tokens import EXACT, PromptCounter
from sanic_mock.wire.ids import IdSource
from sanic_mock.wire.models import Catalog, Headers
from sanic_mock.wire.replayed import (
    CHAT,
    Template,
    assembled,
    live_order,
    restream,
    split,
    usage_of,
)
from sanic_mock.wire.replayed_responses import parsed_events
from sanic_mock.wire.requests import (
    Generation,
    parse_body,
    parse_chat,
    parse_completion,
    parse_embedding,
)

log = logging.getLogger("sanic_mock")

COMPLETIONS, EMBEDDINGS = endpoints.COMPLETIONS.path, endpoints.EMBEDDINGS.path
MODELS = endpoints.MODELS.path
_TEMPLATES = 4096  # cached stream templates per worker (cleared when full)
_MISSES_LOGGED = 10_000  # distinct missed requests remembered (then logged again)


class RecordedCatalog(Catalog):
    """The model GETs a corpus recorded, replayed as recorded; the catalog answers the rest."""

    def __init__(self, models: tuple[str, ...], index: Index) -> None:
        super().__init__(models)
        self.index = index

    def _recorded(self, path: str) -> tuple[bytes, Headers] | None:
        found = self.index.match(path, None)
        if found is None:
            return None
        ex = found.exchange
        if not ex.ok:
            raise RecordedError(ex, hit(found.number))
        body = orjson.dumps(ex.body) if ex.body is not None else (ex.text or "").encode()
        return body, hit(found.number)

    def listing(self) -> tuple[bytes, Headers]:
        return self._recorded(MODELS) or (self.list_body, MISS)

    def lookup(self, model_id: str) -> tuple[bytes, Headers]:
        recorded = self._recorded(f"{MODELS}/{model_id}")
        if recorded is not None:
            return recorded
        try:
            return self.model(model_id), MISS
        except OpenAIError as error:
            error.headers = MISS
            raise


class ReplayAPI:
    def __init__(
        self,
        corpus: Corpus,
        replay: ReplaySettings,
        models: tuple[str, ...],
        seed: int,
        clock: Clock = SYSTEM,
        ids: IdSource | None = None,
        count: PromptCounter = EXACT,
        store_size: int = DEFAULT_SIZE,
    ) -> None:
        """`models` are listed, or with the default list the recorded models first; `seed`
        makes the sampled answers to misses reproducible; `count` counts prompts (for answers
        recorded without usage); `store_size` bounds the replayed responses kept."""
        self.count = count.warm()
        recorded_models = sorted(corpus.models())
        if models == DEFAULT_MODELS and recorded_models:
            models = tuple(recorded_models) + tuple(
                m for m in DEFAULT_MODELS if m not in recorded_models
            )
        self.store = ResponseStore(store_size, clock.monotonic)  # replayed responses
        self.ids = ids or IdSource()
        self.clock = clock
        ignore = DEFAULT_IGNORE + replay.match_ignore
        self.index = Index(corpus.exchanges, ignore, seed=seed, entries=corpus.entries(ignore))
        if len(self.index) == 0:
            raise CorpusError("the recorded corpus holds no complete exchange")
        self.catalog: Catalog = RecordedCatalog(models, self.index)
        self.sample_all = replay.mode is ReplayMode.SAMPLE
        self.on_miss = replay.on_miss
        self.scale = replay.scale
        self.fresh = replay.ids is ReplayIds.FRESH
        self._answers: dict[int, Answer] = {}
        self._told_cache: dict[tuple[int, str, int, int | None], Told] = {}
        self._bodies: dict[int, Any] = {}  # recorded JSON bodies in the live key order
        self._templates: dict[tuple[int, bool, int], Template] = {}
        self._missed: set[bytes] = set()
        self._hits: dict[int, Headers] = {}
        self._responses = ResponseReplay(self, store_size)

    def input_tokens(self, raw: bytes, control: Control | None = None) -> Reply:
        return self._responses.input_tokens(raw)

    def responses(self, raw: bytes, control: Control | None = None) -> Reply:
        return self._responses.responses(raw)

    def upstream_body(self, raw: bytes) -> bytes:
        """A request body as `--on-miss proxy` forwards it (`ResponseReplay.upstream_body`)."""
        return self._responses.upstream_body(raw)

    def chat(self, raw: bytes, control: Control | None = None) -> Reply:
        return self.replay(CHAT, raw)

    def completions(self, raw: bytes, control: Control | None = None) -> Reply:
        return self.replay(COMPLETIONS, raw)

    def embeddings(self, raw: bytes, control: Control | None = None) -> Reply:
        return self.replay(EMBEDDINGS, raw)

    # -- finding the exchange -----------------------------------------------------------------
    def find(self, endpoint: str, doc: Any, shape: int) -> tuple[Found, bool]:
        """(found, hit) for a request; `Unanswered` on a miss under `--on-miss proxy`."""
        if self.sample_all:
            found = self.index.draw(endpoint)
            if found is None:
                raise self._nothing(endpoint)
            return found, False
        matched = self.index.match(endpoint, doc, shape)
        if matched is not None:
            return matched, True
        if self.on_miss is MissPolicy.PROXY:
            raise Unanswered(endpoint)
        error = self.miss(endpoint, doc)
        if self.on_miss is MissPolicy.ERROR:
            raise error
        found = self.index.sample(endpoint, doc)
        if found is None:
            raise self._nothing(endpoint)
        return found, False

    def miss(self, endpoint: str, doc: Any) -> OpenAIError:
        """The error `--on-miss error` answers a miss with: the closest recording and the
        fields that differ, logged the first time this request misses."""
        message, param = self.index.explain(endpoint, doc)
        key = self.index.key(endpoint, doc)
        if key not in self._missed:
            if len(self._missed) >= _MISSES_LOGGED:
                self._missed.clear()
            self._missed.add(key)
            log.warning("replay miss on %s: %s", endpoint, message)
        error = InvalidRequest(message, param=param, code="no_recorded_match")
        error.headers = MISS
        return error

    def hit(self, number: int) -> Headers:
        """The headers of a hit on exchange `number` (made once)."""
        headers = self._hits.get(number)
        if headers is None:
            headers = self._hits[number] = hit(number)
        return headers

    def _nothing(self, endpoint: str) -> OpenAIError:
        error = NotFound(
            f"The recorded corpus has no successful answer for {endpoint}.",
            code="no_recorded_answer",
        )
        error.headers = MISS
        return error

    def replay(self, endpoint: str, raw: bytes) -> Reply:
        """The reply to a request of `endpoint` (one of the three above)."""
        if endpoint == CHAT:
            gen: Generation | None = parse_chat(raw, self.count).gen
        elif endpoint == COMPLETIONS:
            gen = parse_completion(raw, self.count).gen
        else:
            parse_embedding(raw, self.count)
            gen = None
        shape = 0 if gen is None or not gen.stream else STREAM | (USAGE * gen.include_usage)
        found, matched = self.find(endpoint, parse_body(raw), shape)
        ex = found.exchange
        if matched:  # the cached headers, looked up inline: every replayed request
            headers = self._hits.get(found.number) or self.hit(found.number)
        else:
            headers = MISS
        if not ex.ok:
            raise RecordedError(ex, headers)
        if gen is None:
            return self._timed_body(orjson.dumps(ex.body), ex.duration_us, headers)
        if not matched:
            return self._fitted(ex, endpoint, gen)
        told = self._told(found, gen)
        if gen.stream:
            return self._stream(
                found, endpoint, gen.include_usage, gen.prompt_tokens, headers, told
            )
        return self._body(found, endpoint, gen.prompt_tokens, headers, told)

    def _told(self, found: Found, gen: Generation) -> Told:
        """What a hit tells its client, for `/metrics` and the token bucket, counted once per
        exchange and what `told_by` reads of the request: requests that differ only in fields
        off the match key (`--match-ignore max_tokens`) hit one exchange."""
        number, ex = found
        key = (number, gen.model, gen.prompt_tokens, gen.limit)
        told = self._told_cache.get(key)
        if told is None:
            told = self._told_cache[key] = told_by(self._answer(number, ex), ex, gen)
        return told

    # -- building replies ---------------------------------------------------------------------
    def _answer(self, number: int, ex: Exchange) -> Answer:
        found = self._answers.get(number)
        if found is None:
            found = self._answers[number] = answer(ex)
        return found

    def _ids(self, endpoint: str, ans: Answer | None) -> tuple[str, int]:
        if not self.fresh and ans is not None and ans.id is not None:
            return ans.id, ans.created or 0
        rid = self.ids.chat() if endpoint == CHAT else self.ids.completion()
        return rid, int(self.clock.wall())

    def _timed_body(
        self, body: bytes, duration_us: int, headers: Headers, told: Told = (None, ())
    ) -> Reply:
        delay = duration_us / 1e6 * self.scale if self.scale else 0.0
        return Reply(body, None, delay, 0.0, None, headers, False, *told)

    def _body(
        self, found: Found, endpoint: str, prompt_tokens: int, headers: Headers, told: Told
    ) -> Reply:
        number, ex = found
        if not ex.streamed:
            doc = self._bodies.get(number)
            if doc is None:
                doc = self._bodies[number] = live_order(ex.body)
            if self.fresh and isinstance(doc, dict):
                doc = doc.copy()
                doc["id"] = self.ids.chat() if endpoint == CHAT else self.ids.completion()
                doc["created"] = int(self.clock.wall())
            return self._timed_body(orjson.dumps(doc), ex.duration_us, headers, told)
        ans = self._answer(number, ex)
        rid, created = self._ids(endpoint, ans)
        body = assembled(ans, endpoint, rid, created, ans.model or ex.model, prompt_tokens)
        last = ex.times_us[-1] if ex.times_us else ex.duration_us
        return self._timed_body(body, last, headers, told)

    def _fitted(self, ex: Exchange, endpoint: str, gen: Generation) -> Reply:
        """A sampled answer to a request it was not recorded for, fitted to that request."""
        ans = fit(answer(ex), gen.limit, gen.n)
        said = told_by(ans, ex, gen)[1]
        asked = Recorded(gen.model, gen.prompt_tokens, gen.limit)  # usage as `fit` recounts it
        rid, created = self._ids(endpoint, None)
        if not gen.stream:
            body = assembled(ans, endpoint, rid, created, gen.model, gen.prompt_tokens)
            reply = self._timed_body(body, ex.duration_us, MISS)
            return reply._replace(asked=asked, said=said)
        frames = split(ans, endpoint, gen.model, gen.include_usage, gen.prompt_tokens, rid, created)
        if not self.scale:
            return Reply(b"", [b"".join(frames)], headers=MISS, asked=asked, said=said)
        step = ex.duration_us / len(frames) / 1e6 * self.scale
        offsets = tuple(step * (k + 1) for k in range(len(frames)))
        return Reply(b"", frames, offsets=offsets, headers=MISS, asked=asked, said=said)

    def _stream(
        self,
        found: Found,
        endpoint: str,
        include_usage: bool,
        prompt_tokens: int,
        headers: Headers,
        told: Told,
    ) -> Reply:
        """Frames from the template of (exchange, request shape), made on first use."""
        number, ex = found
        key = (number, include_usage, prompt_tokens)
        template = self._templates.get(key)
        if template is None:
            if len(self._templates) >= _TEMPLATES:
                self._templates.clear()
            template = self._templates[key] = self._template(
                number, ex, endpoint, include_usage, prompt_tokens
            )
        rid = self.ids.chat() if endpoint == CHAT else self.ids.completion()
        ident, created = rid.encode(), int(self.clock.wall())
        if not self.scale:  # sent in one write anyway
            return Reply(
                b"", [template.whole(ident, created)], 0.0, 0.0, None, headers, False, *told
            )
        frames = template.each(ident, created)
        return Reply(b"", frames, 0.0, 0.0, template.offsets(self.scale), headers, False, *told)

    def _template(
        self, number: int, ex: Exchange, endpoint: str, include_usage: bool, prompt_tokens: int
    ) -> Template:
        ans = self._answer(number, ex)
        if ex.streamed:
            events = ex.events or ()
            parsed = parsed_events(events)
            frames, times = restream(
                events,
                parsed,
                ex.times_us,
                ex.endpoint,
                ans,
                include_usage,
                prompt_tokens,
                self.fresh,
            )
            return Template(frames, times)
        model = ans.model or ex.model
        if self.fresh:
            frames = split(ans, endpoint, model, include_usage, prompt_tokens)
        else:
            rid, created = self._ids(endpoint, ans)
            frames = split(ans, endpoint, model, include_usage, prompt_tokens, rid, created)
        step = ex.duration_us / len(frames)
        return Template(frames, [round(step * (k + 1)) for k in range(len(frames))])


def told_by(ans: Answer, ex: Exchange, gen: Generation) -> tuple[Recorded, tuple[Kept]]:
    """The model, usage and finish reason a recorded answer tells its client."""
    usage = usage_of(ans, gen.prompt_tokens)  # recorded, or counted as the answer counts it
    prompt = usage.get("prompt_tokens")
    completion = usage.get("completion_tokens")
    details = usage.get("completion_tokens_details")
    reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
    reasoning = reasoning if type(reasoning) is int else 0
    completion = completion if type(completion) is int else reasoning
    finish = (ans.choices[0].finish_reason if ans.choices else None) or "stop"
    prompt = prompt if type(prompt) is int else gen.prompt_tokens
    asked = Recorded(ans.model or ex.model or gen.model, prompt, gen.limit)
    return asked, (Kept(max(completion - reasoning, 0), reasoning, finish),)
