"""Replayed Responses API answers: the recorded `response` of each request, its state kept.

`ReplayAPI` (`core/replayed.py`) hands `POST /v1/responses` and `/v1/responses/input_tokens`
here. A request is validated as in generated mode, then matched like a chat request (its key,
exact shape first — a stream takes a recorded stream, a plain request a recorded JSON answer —
then the other kind, converted; repeats in recorded order), and the recording is sent as
recorded (`wire/replayed_responses.py`): item ids, `call_id`s, reasoning items and usage
verbatim, the response id and `created_at` fresh unless `--replay-ids recorded`.

State, so that a recorded agent loop replays turn by turn:

- A replayed response (hit or sampled miss) that the request did not ask not to store
  (`store: false`) goes into the worker's `ResponseStore`: `retrieve`, `delete` and
  `input_items.list` work offline, and its conversation is the history of the next turn.
- A recorded turn 2 names the recorded turn 1's id in `previous_response_id`, while the client
  sends the fresh id the replay gave it. Each fresh id is remembered with the recorded id it
  stands for (as many as the store holds), and a request's `previous_response_id` is mapped
  back before its key is made, as tool call ids are kept verbatim in chat replay. The answer
  echoes the id the client sent.
- `input_tokens` replays a recorded count; a miss is counted (`--on-miss sample`), an error
  or forwarded, as for any other request.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from sanic_mock import endpoints
from sanic_mock.core.recorded import MISS, Recorded, RecordedError, Told
from sanic_mock.core.reply import Clock, Kept, Reply, Unanswered
from sanic_mock.core.store import ResponseStore, Stored, with_ids
from sanic_mock.corpus.index import STREAM, Found, Index
from sanic_mock.errors import OpenAIError
from sanic_mock.settings import MissPolicy
from sanic_mock.tokens import PromptCounter
from sanic_mock.wire.fields import parse_body
from sanic_mock.wire.ids import IdSource
from sanic_mock.wire.models import Headers
from sanic_mock.wire.replayed_responses import Recording, fitted, live_response, recording
from sanic_mock.wire.response_stream import events, pieces
from sanic_mock.wire.responses_in import ResponseRequest, input_tokens_body, parse_response

RESPONSES, INPUT_TOKENS = endpoints.RESPONSES.path, endpoints.INPUT_TOKENS.path


class Replay(Protocol):
    """What this module uses of `ReplayAPI`."""

    index: Index
    ids: IdSource
    clock: Clock
    store: ResponseStore
    count: PromptCounter
    fresh: bool
    scale: float | None
    sample_all: bool
    on_miss: MissPolicy

    def find(self, endpoint: str, doc: Any, shape: int) -> tuple[Found, bool]: ...

    def hit(self, number: int) -> Headers: ...

    def miss(self, endpoint: str, doc: Any) -> OpenAIError: ...


class ResponseReplay:
    """The Responses API of one worker's `ReplayAPI` (see the module docstring)."""

    def __init__(self, api: Replay, size: int) -> None:
        self.api = api
        self.size = size
        self._recorded_ids: dict[str, str] = {}  # fresh response id -> the recorded one
        self._recordings: dict[int, Recording] = {}

    def _conversation(self, response_id: str) -> tuple[dict[str, Any], ...]:
        """The stored conversation a `previous_response_id` continues; none for an id this
        worker did not give (a recorded id the recording itself answers)."""
        store = self.api.store
        return store.conversation(response_id) if response_id in store else ()

    def _matched(self, raw: bytes, previous: Any) -> Any:
        """The request body as it was recorded: its `previous_response_id` the recorded one."""
        doc = parse_body(raw)
        recorded = self._recorded_ids.get(previous) if isinstance(previous, str) else None
        return doc if recorded is None else {**doc, "previous_response_id": recorded}

    def upstream_body(self, raw: bytes) -> bytes:
        """A request as `--on-miss proxy` sends it upstream: a `previous_response_id` this
        replay gave mapped back to the recorded one (the id the upstream made)."""
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw
        previous = doc.get("previous_response_id") if isinstance(doc, dict) else None
        if not isinstance(previous, str) or previous not in self._recorded_ids:
            return raw
        return orjson.dumps(self._matched(raw, previous))

    def _remember(self, fresh_id: str, recorded_id: Any) -> None:
        if isinstance(recorded_id, str) and fresh_id != recorded_id:
            if len(self._recorded_ids) >= max(self.size, 1):
                self._recorded_ids.pop(next(iter(self._recorded_ids)))  # the oldest
            self._recorded_ids[fresh_id] = recorded_id

    def _keep(self, req: ResponseRequest, final: dict[str, Any]) -> None:
        if req.store:
            inputs = with_ids(req.items, self.api.ids)
            output = final.get("output")
            said = tuple(output) if isinstance(output, list) else ()
            self.api.store.put(Stored(final, inputs, req.history + inputs + said, 0.0))

    def responses(self, raw: bytes) -> Reply:
        api = self.api
        req = parse_response(raw, api.count, self._conversation)
        stream = req.gen.stream
        found, matched = api.find(RESPONSES, self._matched(raw, req.previous), STREAM * stream)
        ex = found.exchange
        headers = api.hit(found.number) if matched else ()
        if not ex.ok:
            raise RecordedError(ex, headers or MISS)
        made = self._recordings.get(found.number)
        if made is None:
            made = self._recordings[found.number] = recording(ex, api.fresh)
        if not matched:
            return self._fitted(req, made, ex.duration_us)
        if api.fresh:
            rid, created = api.ids.item("resp"), int(api.clock.wall())
            final = made.marks.fresh(made.final, rid, created, req.previous)
            self._remember(rid, made.final.get("id"))
        else:
            final = made.final
            rid, created = str(final.get("id")), 0
        self._keep(req, final)
        asked, said = told = told_by(final, req)
        if not stream:
            return self._timed(orjson.dumps(final), made.delay_us, headers, told)
        fill = made.marks.fill
        if not api.scale:
            whole = fill(b"".join(made.frames), rid, created, req.previous)
            return Reply(b"", [whole], headers=headers, asked=asked, said=said)
        frames = [fill(f, rid, created, req.previous) for f in made.frames]
        offsets = tuple(t / 1e6 * api.scale for t in made.times)
        return Reply(b"", frames, offsets=offsets, headers=headers, asked=asked, said=said)

    def _timed(self, body: bytes, delay_us: int, headers: Headers, told: Told) -> Reply:
        delay = delay_us / 1e6 * self.api.scale if self.api.scale else 0.0
        return Reply(body, None, delay, 0.0, None, headers, False, *told)

    def _fitted(self, req: ResponseRequest, made: Recording, duration_us: int) -> Reply:
        """A sampled answer to a request it was not recorded for, fitted to that request."""
        api = self.api
        if req.previous and req.previous not in api.store:
            api.store.conversation(req.previous)  # the real API's 400 for an unknown id
        rid, created = api.ids.item("resp"), int(api.clock.wall())
        limit, tokens = req.gen.limit, req.gen.prompt_tokens
        final = fitted(made.final, req.echo, api.ids, rid, created, limit, tokens)
        self._keep(req, final)
        asked, said = told = told_by(final, req)
        if not req.gen.stream:
            return self._timed(orjson.dumps(final), duration_us, MISS, told)
        frames = events(final, lambda text: pieces(text, req.echo["model"]))
        if not api.scale:
            return Reply(b"", [b"".join(frames)], headers=MISS, asked=asked, said=said)
        step = duration_us / len(frames) / 1e6 * api.scale
        offsets = tuple(step * (k + 1) for k in range(len(frames)))
        return Reply(b"", frames, offsets=offsets, headers=MISS, asked=asked, said=said)

    def input_tokens(self, raw: bytes) -> Reply:
        """A recorded count, or on a miss (by `--on-miss`) the request's own count."""
        api = self.api
        counted = input_tokens_body(raw, api.count, self._conversation)  # and validated
        doc = self._matched(raw, parse_body(raw).get("previous_response_id"))
        found = None if api.sample_all else api.index.match(INPUT_TOKENS, doc)
        if found is not None:
            ex, headers = found.exchange, api.hit(found.number)
            if not ex.ok:
                raise RecordedError(ex, headers)
            body = orjson.dumps(live_response(ex.body)) if ex.text is None else ex.text.encode()
            return Reply(body, headers=headers)
        if api.on_miss is MissPolicy.PROXY and not api.sample_all:
            raise Unanswered(INPUT_TOKENS)
        if not api.sample_all:
            error = api.miss(INPUT_TOKENS, doc)  # logged once
            if api.on_miss is MissPolicy.ERROR:
                raise error
        return Reply(counted, headers=MISS)


def told_by(final: dict[str, Any], req: ResponseRequest) -> Told:
    """The model, usage and finish reason a replayed (or fitted) response tells its client, as
    `/metrics` counts them: `length` when it stopped at `max_output_tokens`, else `stop` (vLLM's
    reasons; a function call is `stop`, as a generated response's is)."""
    usage = final.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    details = usage.get("output_tokens_details")
    reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
    reasoning = reasoning if type(reasoning) is int else 0
    output_tokens = usage.get("output_tokens")
    output_tokens = output_tokens if type(output_tokens) is int else reasoning
    prompt = usage.get("input_tokens")
    prompt = prompt if type(prompt) is int else req.gen.prompt_tokens
    model = final.get("model")
    model = model if isinstance(model, str) and model else req.gen.model
    incomplete = final.get("incomplete_details")
    cut = isinstance(incomplete, dict) and incomplete.get("reason") == "max_output_tokens"
    finish = "length" if cut else "stop"
    asked = Recorded(model, prompt, req.gen.limit)
    return asked, (Kept(max(output_tokens - reasoning, 0), reasoning, finish),)
