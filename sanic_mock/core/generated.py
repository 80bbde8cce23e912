"""Generated answers: request bytes in, a `Reply` of text drawn from the article pool out.

`MockAPI` holds one worker's state (text pool, sampler, id source, clock, schema values) and turns
each POST endpoint's request body into the exact response bytes (`wire/`) and the simulated timing
(`core/latency.py`: the delays, their jitter and the prefill time; an embedding waits its prefill).
A request's `Control` (its `x-mock-*` headers) can set its delays and its exact length
(`x-mock-tokens`), and a fault it will suffer makes its stream come in separate events. A chat
request with tools, a `response_format` or a reasoning model takes `_shaped_chat`: the planned
choices become tool calls or JSON values (`wire/made.py`), and a reasoning model spends hidden
reasoning tokens, in `usage` and in the wait before the first visible token. It is one of the two
`Answerer`s of `core/service.py`; the other replays a recorded corpus (`core/replayed.py`).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from typing import TypeVar

import orjson

from sanic_mock.core.control import Control
from sanic_mock.core.latency import Latency
from sanic_mock.core.reply import SYSTEM, Clock, Reply
from sanic_mock.core.store import DEFAULT_SIZE, ResponseStore, Stored, with_ids
from sanic_mock.corpus.pool import Pools, TextPool
from sanic_mock.encodings import O200K, encoding_name
from sanic_mock.errors import InvalidRequest
from sanic_mock.sampling import Sampler, fresh_seed, seeded
from sanic_mock.settings import (
    GenerationSettings,
    ReasoningSettings,
    TimingSettings,
    TokenCount,
    ToolSettings,
)
from sanic_mock.tokens import PromptCounter
from sanic_mock.wire import chat, completions, embeddings, responses, sse
from sanic_mock.wire.chat import Meta
from sanic_mock.wire.ids import IdSource
from sanic_mock.wire.instances import Instances
from sanic_mock.wire.made import Env, Said, shaped
from sanic_mock.wire.models import Catalog
from sanic_mock.wire.plan import Choice, plan
from sanic_mock.wire.requests import (
    ChatRequest,
    Generation,
    parse_chat,
    parse_completion,
    parse_embedding,
)
from sanic_mock.wire.responses_in import input_tokens_body, parse_response
from sanic_mock.wire.shapes import Shape

R = TypeVar("R")  # a parsed request: ChatRequest or CompletionRequest
_NOT_IN_STRINGS = str.maketrans("", "", "#*`>|_")  # markdown marks, left out of JSON strings


class MockAPI:
    def __init__(
        self,
        pools: Pools,
        gen: GenerationSettings,
        timing: TimingSettings,
        models: tuple[str, ...],
        clock: Clock = SYSTEM,
        ids: IdSource | None = None,
        obfuscation: tuple[bytes, ...] = sse.OBFUSCATION,
        tools: ToolSettings | None = None,
        reasoning: ReasoningSettings | None = None,
        store_size: int = DEFAULT_SIZE,
    ) -> None:
        self.pools = pools
        self.sampler = Sampler(
            gen.token_mean,
            gen.token_stddev,
            pools.start_count,
            gen.stream_tokens_min,
            gen.stream_tokens_max,
            seed=fresh_seed(gen.seed),
        )
        self.count = PromptCounter(gen.token_count is TokenCount.EXACT).warm()
        self.ids = ids or IdSource()
        self.catalog = Catalog(models)
        self.clock = clock
        self.obfuscation = obfuscation
        digest = hashlib.sha256(b"%d" % gen.article_seed).hexdigest()
        self.fingerprint = b"fp_" + digest[:10].encode()
        self._model_json_cache: dict[str, bytes] = {}
        self.latency = Latency(timing, fresh_seed(gen.seed))
        self._gap = timing.event_delay_s
        self._paced = self.latency.paced
        latency = self.latency
        self._plain = not (latency.jitter or latency.prefill)
        self._means = (latency.first, latency.gap)
        self.reasoning = reasoning = reasoning or ReasoningSettings()
        per_token = reasoning.delay_ms_per_token
        self._thinking_gap = self._gap if per_token is None else per_token / 1000.0
        self._reasons: dict[str, bool] = {}
        self.store = ResponseStore(store_size, clock.monotonic)
        self.env = Env(
            pools.default,
            Instances(self._schema_text, gen.article_seed),
            self.ids,
            tools or ToolSettings(),
            O200K,
        )
        self._envs: dict[str, Env] = {}  # the Env of each encoding's pool, made once

    def _schema_text(self, rng: random.Random, low: int, high: int) -> str:
        """Whole words of the pool for a string of a generated JSON value, `low`..`high`
        characters (markdown marks left out)."""
        pool, words = self.pools.pool(O200K), ""
        while len(words) < max(low, 1):
            raw = pool.raw_text(rng.randrange(pool.piece_count), rng.randint(4, 24))
            text = raw.decode("utf-8", "replace").translate(_NOT_IN_STRINGS).split()
            if not raw.startswith(b" "):
                text = text[1:]  # the first word may start mid-word
            words = " ".join([words, *text]).strip()
        if len(words) > high:
            cut = words.rfind(" ", low, high + 1)
            words = words[: cut if cut > 0 else high]
        return words

    def _plan(
        self, gen: Generation, pool: TextPool, count: int, control: Control | None = None
    ) -> tuple[list[Choice], Sampler]:
        sampler = self.sampler if gen.seed is None else seeded(gen.seed, gen.seed_key, self.sampler)
        choices = plan(gen, pool, sampler, count)
        if control is not None and control.tokens is not None:
            # `x-mock-tokens`: exactly that long, stop sequences aside; max_tokens still caps it
            tokens, limit = control.tokens, gen.limit
            length, finish = (
                (tokens, "stop") if limit is None or tokens < limit else (limit, "length")
            )
            choices = [Choice(c.start, length, finish) for c in choices]
        return choices, sampler

    def _model_json(self, model: str) -> bytes:
        found = self._model_json_cache.get(model)
        if found is None:
            found = orjson.dumps(model)
            if len(self._model_json_cache) < 1024:
                self._model_json_cache[model] = found
        return found

    def _timed(
        self,
        body: bytes,
        sampler: Sampler,
        choices: Sequence[Said],
        gen: Generation,
        control: Control | None,
        asked: Generation,
        thinking: float = 0.0,
    ) -> Reply:
        """A JSON reply that waits as long as the same answer streamed would have taken;
        `thinking`: the seconds of hidden reasoning before the first token; `asked`: the
        request as it asked (`Reply.asked`)."""
        if not (thinking or self._paced or control is not None and self.latency.paced_for(control)):
            return Reply(body, None, 0.0, 0.0, None, (), False, asked, choices)  # the hot path
        steps = 0
        for c in choices:
            groups = sampler.groups(c.tokens)
            steps = max(steps, c.tokens if groups is None else len(groups))
        wait, decode = self.latency.wait(steps, gen.prompt_tokens, control, thinking)
        return Reply(body, None, wait, asked=asked, said=choices, decode=decode)

    def chat(self, raw: bytes, control: Control | None = None) -> Reply:
        req = parse_chat(raw, self.count)
        if req.shape is None and not self._reasons_about(req.gen.model):
            return self._generate(
                req, req.gen, req.gen.n, self.ids.chat(), chat.body, chat.stream, control
            )
        return self._shaped_chat(req, control)

    def _reasons_about(self, model: str) -> bool:
        reasons = self._reasons.get(model)
        if reasons is None:
            reasons = self.reasoning.reasons(model)
            if len(self._reasons) < 1024:
                self._reasons[model] = reasons
        return reasons

    def _said(
        self, gen: Generation, shape: Shape, effort_param: str, control: Control | None
    ) -> tuple[Generation, list[Said], int, Sampler, TextPool]:
        """What each choice says (`wire/made.py`), after the hidden reasoning of a reasoning
        model, which counts against the request's limit: (the generation with the limit left
        for visible tokens, the choices, the reasoning tokens of each, the sampler used, the
        pool of the model's encoding)."""
        reasons = self._reasons_about(gen.model)
        if shape.effort is not None and not reasons:
            raise InvalidRequest(
                f"Unsupported parameter: '{effort_param}' is not supported with this model.",
                param=effort_param,
                code="unsupported_parameter",
            )
        if reasons:
            _check_reasoning_sampling(gen)
        thinking = self.reasoning.tokens_for(shape.effort or "medium") if reasons else 0
        limit = gen.limit
        if limit is not None:  # the limit caps reasoning and visible tokens together
            thinking = min(thinking, limit)
            limit -= thinking
            gen = gen._replace(limit=limit)
        encoding = encoding_name(gen.model)
        pool = self.pools.pool(encoding)
        planned, sampler = self._plan(gen, pool, gen.n, control)
        env = self._envs.get(encoding)
        if env is None:
            env = self._envs[encoding] = self.env._replace(pool=pool, encoding=encoding)
        said = shaped(shape, planned, limit, env, sampler)
        if thinking:
            said = [
                c._replace(reasoning=thinking, reasoning_start=sampler.below(pool.piece_count))
                for c in said
            ]
        return gen, said, thinking, sampler, pool

    def _shaped_chat(self, req: ChatRequest, control: Control | None) -> Reply:
        """Tool calls, JSON values and reasoning (see the module docstring)."""
        shape = req.shape or Shape(None, None, None)
        asked = req.gen  # its limit before the reasoning took its share
        gen, said, thinking, sampler, pool = self._said(req.gen, shape, "reasoning_effort", control)
        if gen is not req.gen or shape is not req.shape:
            req = req._replace(gen=gen, shape=shape)
        created = int(self.clock.wall())
        model_json = self._model_json(gen.model)
        wait = thinking * self._thinking_gap
        shown = self.reasoning.content and thinking > 0
        rid = self.ids.chat().encode()
        meta = Meta(rid, created, model_json, self.fingerprint, reasoning_content=shown)
        if not gen.stream:
            body = chat.shaped_body(meta, req, said, pool)
            return self._timed(body, sampler, said, gen, control, asked, wait)
        meta = meta._replace(obfuscation=sse.obfuscation_field(created, self.obfuscation))
        groups = [sampler.groups(c.tokens) for c in said]
        paced = self.latency.paced_for(control) or wait > 0
        frames = chat.stream(meta, req, said, pool, groups, paced)
        if not shown or self._thinking_gap == self._gap:
            # shown reasoning is paced like content; hidden, it delays the first frame
            hidden = 0 if shown else wait
            return self.latency.stream(frames, gen.prompt_tokens, control, hidden, asked, said)
        start, gap = self.latency.means(gen.prompt_tokens, control)
        step = self._thinking_gap
        offsets = [start + k * step for k in range(min(thinking, len(frames)))]
        offsets += [start + wait + j * gap for j in range(len(frames) - len(offsets))]
        return Reply(b"", frames, offsets=tuple(offsets), asked=asked, said=said)

    def completions(self, raw: bytes, control: Control | None = None) -> Reply:
        req = parse_completion(raw, self.count)
        count = req.gen.n * req.prompts
        return self._generate(
            req,
            req.gen,
            count,
            self.ids.completion(),
            completions.body,
            completions.stream,
            control,
        )

    def _generate(
        self,
        req: R,
        gen: Generation,
        count: int,
        response_id: str,
        body: Callable[[Meta, R, list[Choice], TextPool], bytes],
        stream: Callable[
            [Meta, R, list[Choice], TextPool, list[list[int] | None], bool], list[bytes]
        ],
        control: Control | None = None,
    ) -> Reply:
        # The text is cut into the tokens of the model's encoding (usage counts them).
        pool = self.pools.pool(encoding_name(gen.model))
        choices, sampler = self._plan(gen, pool, count, control)
        created = int(self.clock.wall())
        model_json = self._model_json(gen.model)
        if not gen.stream:
            meta = Meta(response_id.encode(), created, model_json, self.fingerprint)
            return self._timed(body(meta, req, choices, pool), sampler, choices, gen, control, gen)
        obfuscation = sse.obfuscation_field(created, self.obfuscation)
        meta = Meta(response_id.encode(), created, model_json, self.fingerprint, obfuscation)
        groups = [sampler.groups(c.tokens) for c in choices]
        if control is None and self._plain:  # the hot path: no jitter, prefill or control
            frames = stream(meta, req, choices, pool, groups, self._paced)
            return Reply(b"", frames, *self._means, None, (), False, gen, choices)
        paced = self.latency.paced_for(control)
        frames = stream(meta, req, choices, pool, groups, paced)
        return self.latency.stream(frames, gen.prompt_tokens, control, 0.0, gen, choices)

    def embeddings(self, raw: bytes, control: Control | None = None) -> Reply:
        """An embedding waits the prefill time of its input (`--prefill-ms-per-token`)."""
        req = parse_embedding(raw, self.count)
        wait = self.latency.prefill * req.prompt_tokens
        return Reply(embeddings.body(req), None, wait, asked=req)

    # -- the Responses API -----------------------------------------------------------------

    def input_tokens(self, raw: bytes, control: Control | None = None) -> Reply:
        return Reply(input_tokens_body(raw, self.count, self.store.conversation))

    def responses(self, raw: bytes, control: Control | None = None) -> Reply:
        """`POST /v1/responses`: one choice made as for chat (tools, `text.format`, reasoning),
        as output items; stored unless `store: false`; streamed as typed events, timed as a
        chat stream (jitter, prefill and control headers included)."""
        req = parse_response(raw, self.count, self.store.conversation)
        history = req.history  # the earlier turns, counted into the prompt with the input
        effort = "reasoning.effort"
        gen, said, thinking, sampler, pool = self._said(req.gen, req.shape, effort, control)
        choice = said[0]
        complete = choice.finish_reason != "length"
        summary = req.summary is not None
        items = responses.output_items(choice, pool, self.ids, summary, complete, gen.stream)
        created = int(self.clock.wall())
        response_id = self.ids.item("resp")
        usage = responses.usage(gen.prompt_tokens, choice.tokens + thinking, thinking)
        output = [item.body for item in items]
        status = "completed" if complete else "incomplete"
        final = responses.response(
            response_id, created, req.echo, status, output, usage, created if complete else None
        )
        wait = thinking * self._thinking_gap
        asked = gen._replace(limit=req.gen.limit)  # the prompt with the earlier turns
        as_json = self._timed(orjson.dumps(final), sampler, [choice], gen, control, asked, wait)
        if req.store or req.background:
            inputs = with_ids(req.items, self.ids)
            due = self.clock.monotonic() + as_json.first_delay if req.background else 0.0
            self.store.put(Stored(final, inputs, history + inputs + tuple(output), due))
        if req.background and not gen.stream:  # answered at once, finished later
            return Reply(orjson.dumps(responses.unfinished(final, "queued")))
        if not gen.stream:
            return as_json
        started = responses.unfinished(final, "in_progress")
        steps = responses.events(started, final, items)
        if not (self.latency.paced_for(control) or wait):
            return Reply(b"", [b"".join(steps)], asked=asked, said=[choice])
        # `response.created` and `response.in_progress` at once, then the steps as a stream's
        paced = self.latency.stream(steps[1:], gen.prompt_tokens, control, wait)
        return Reply(b"", steps, offsets=(0.0, *paced.due()), asked=asked, said=[choice])


def _check_reasoning_sampling(gen: Generation) -> None:
    """The real API's 400s for what reasoning models refuse: the legacy `max_tokens`, and a
    `temperature` other than 1."""
    if gen.max_tokens:
        raise InvalidRequest(
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
            "'max_completion_tokens' instead.",
            param="max_tokens",
            code="unsupported_parameter",
        )
    t = gen.temperature
    if t is not None and t != 1:
        shown = int(t) if t == int(t) else t  # 0, not 0.0, as the real API writes it
        raise InvalidRequest(
            f"Unsupported value: 'temperature' does not support {shown} with this "
            "model. Only the default (1) value is supported.",
            param="temperature",
            code="unsupported_value",
        )
