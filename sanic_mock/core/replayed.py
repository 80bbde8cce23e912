"""Serve a recorded corpus: the recorded answer to each request, with fresh ids and timestamps.

`ReplayAPI` is a `MockAPI` whose chat, completions and embeddings endpoints answer from recorded
exchanges (`corpus/index.py` finds them); everything else (models, ids, the transport in
`app.py`) is shared. Requests are validated exactly as in generated mode.

How an answer is sent depends on what was recorded and what is asked:

- recorded stream, streamed request: the recorded events, one SSE frame each, with the id,
  `created` and (on a sampled miss) `model` replaced; a usage chunk is dropped or added to
  follow the request's `stream_options.include_usage`.
- recorded JSON, streamed request: the content (and tool-call arguments) cut into token pieces
  (`tokens.split_pieces`), one event per piece, as the real API streams them.
- recorded stream, plain request: the deltas assembled into one `chat.completion` /
  `text_completion` body. Recorded JSON, plain request: the recorded body.

`--replay-timing recorded|scaled:F` gives each frame its recorded arrival time (times F); a
JSON answer waits the recorded duration; a stream made from a JSON answer spreads its events
evenly over that duration. A recorded error answer is replayed with its status and body.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import orjson

from sanic_mock.core.generated import MockAPI, Reply
from sanic_mock.corpus.answers import Answer, answer
from sanic_mock.corpus.exchanges import DONE, Exchange
from sanic_mock.corpus.format import Articles, Corpus, CorpusError
from sanic_mock.corpus.index import DEFAULT_IGNORE, Index
from sanic_mock.corpus.pool import TextPool
from sanic_mock.errors import InvalidRequest, NotFound, OpenAIError
from sanic_mock.settings import DEFAULT_MODELS, Settings
from sanic_mock.tokens import estimate_tokens, split_pieces
from sanic_mock.wire import models
from sanic_mock.wire.requests import parse_body, parse_chat, parse_completion, parse_embedding
from sanic_mock.wire.sse import DONE as DONE_FRAME

CHAT, COMPLETIONS, EMBEDDINGS = "/v1/chat/completions", "/v1/completions", "/v1/embeddings"

# Stream templates hold these where the id and `created` go (orjson writes NUL as \u0000, which
# recorded text cannot produce unescaped); replies replace them.
_RID_TEXT, _CREATED_TEXT = "\x00rid\x00", "\x00created\x00"
_RID, _CREATED = orjson.dumps(_RID_TEXT)[1:-1], orjson.dumps(_CREATED_TEXT)
_TEMPLATES = 4096  # cached stream templates per worker (cleared when full)

# MockAPI keeps a sampler over an article pool; replay never draws from it.
_NO_ARTICLES = Articles(b" ", np.array([1], dtype=np.uint32), np.array([1], dtype=np.uint32))


class RecordedError(OpenAIError):
    """A recorded error answer, replayed with its own status and body."""

    def __init__(self, ex: Exchange) -> None:
        body = orjson.dumps(ex.body) if ex.body is not None else (ex.text or "").encode()
        super().__init__(body.decode(errors="replace"))
        self.status = ex.status
        self._body = body

    def render(self) -> bytes:
        return self._body


class _Template:
    """A stream's frames with the id and `created` placeholders. `created` is filled once per
    second and the frames cut at the id placeholder, so a reply is one `bytes.join` (all
    frames in one piece when unpaced, per frame when paced)."""

    __slots__ = ("frames", "times", "_second", "_parts", "_frame_parts", "_offsets")

    def __init__(self, frames: list[bytes], times: list[int]) -> None:
        self.frames, self.times = frames, times
        self._offsets: tuple[float, ...] | None = None
        self._second = -1
        self._parts: list[bytes] = []
        self._frame_parts: list[list[bytes]] | None = None

    def _at(self, created: int) -> None:
        if created != self._second:
            self._second, self._frame_parts = created, None
            stamp = b"%d" % created
            self._parts = b"".join(self.frames).replace(_CREATED, stamp).split(_RID)

    def offsets(self, scale: float) -> tuple[float, ...]:
        """Each frame's due time in seconds after the request (the scale is fixed per API)."""
        if self._offsets is None:
            self._offsets = tuple(t / 1e6 * scale for t in self.times)
        return self._offsets

    def parts(self, created: int) -> list[bytes]:
        self._at(created)
        return self._parts

    def frame_parts(self, created: int) -> list[list[bytes]]:
        self._at(created)
        if self._frame_parts is None:
            stamp = b"%d" % created
            self._frame_parts = [f.replace(_CREATED, stamp).split(_RID) for f in self.frames]
        return self._frame_parts


def _frame(doc: Any) -> bytes:
    return b"data: " + orjson.dumps(doc) + b"\n\n"


class ReplayAPI(MockAPI):
    def __init__(self, settings: Settings, corpus: Corpus) -> None:
        recorded_models = sorted({e.model for e in corpus.exchanges if e.model})
        if settings.models == DEFAULT_MODELS and recorded_models:
            extra = tuple(m for m in DEFAULT_MODELS if m not in recorded_models)
            from dataclasses import replace

            settings = replace(settings, models=tuple(recorded_models) + extra)
        super().__init__(settings, TextPool(_NO_ARTICLES))
        self.index = Index(
            corpus.exchanges, DEFAULT_IGNORE + settings.match_ignore, seed=settings.seed
        )
        if len(self.index) == 0:
            raise CorpusError("the recorded corpus holds no complete exchange")
        self.scale = settings.replay_scale
        self.models_body = models.list_body(settings.models)
        self._model_bodies = {m: models.model_body(m) for m in settings.models}
        self._answers: dict[int, Answer] = {}
        self._parsed: dict[int, list[Any]] = {}
        self._templates: dict[tuple[int, str | None, bool, int], _Template] = {}

    # -- finding the exchange -----------------------------------------------------------------
    def find(self, endpoint: str, doc: Any) -> tuple[Exchange, bool] | None:
        """(exchange, matched) for a request; None on a miss under `--on-miss proxy`."""
        settings = self.settings
        if settings.replay == "sample":
            found = self.index.draw(endpoint)
            if found is None:
                raise self._nothing(endpoint)
            return found, False
        hit = self.index.match(endpoint, doc)
        if hit is not None:
            return hit, True
        if settings.on_miss == "proxy":
            return None
        if settings.on_miss == "error":
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

    def replay(self, endpoint: str, raw: bytes) -> Reply | None:
        """The reply to a request, or None on a miss that should go upstream."""
        if endpoint == CHAT:
            gen = parse_chat(raw).gen
        elif endpoint == COMPLETIONS:
            gen = parse_completion(raw).gen
        else:
            parse_embedding(raw)
            gen = None
        found = self.find(endpoint, parse_body(raw))
        if found is None:
            return None
        ex, matched = found
        if not ex.ok:
            raise RecordedError(ex)
        if gen is None:
            return self._timed_body(orjson.dumps(ex.body), ex.duration_us)
        model = None if matched else gen.model
        if gen.stream:
            return self._stream(ex, endpoint, model, gen.include_usage, gen.prompt_tokens)
        return self._body(ex, endpoint, model, gen.prompt_tokens)

    def chat(self, raw: bytes) -> Reply:
        return self._must(self.replay(CHAT, raw))

    def completions(self, raw: bytes) -> Reply:
        return self._must(self.replay(COMPLETIONS, raw))

    def embeddings(self, raw: bytes) -> Reply:
        return self._must(self.replay(EMBEDDINGS, raw))

    @staticmethod
    def _must(reply: Reply | None) -> Reply:
        if reply is None:  # only the recording proxy serves --on-miss proxy
            raise InvalidRequest("No recorded exchange matches this request.")
        return reply

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
        return rid, int(time.time())

    def _usage(self, ans: Answer, prompt_tokens: int) -> dict[str, Any]:
        if ans.usage:
            return ans.usage
        completion = sum(
            len(split_pieces(c.text))
            + sum(estimate_tokens(str(t.get("function"))) for t in c.tool_calls)
            for c in ans.choices
        )
        total = prompt_tokens + completion
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": total,
        }

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
        choices: list[dict[str, Any]] = []
        for c in ans.choices:
            if endpoint == CHAT:
                message: dict[str, Any] = {
                    "role": "assistant",
                    "content": c.text if c.has_text or not c.tool_calls else None,
                    "refusal": c.refusal,
                    "annotations": [],
                }
                if c.tool_calls:
                    message["tool_calls"] = c.tool_calls
                choices.append(
                    {
                        "index": c.index,
                        "message": message,
                        "logprobs": None,
                        "finish_reason": c.finish_reason,
                    }
                )
            else:
                choices.append(
                    {
                        "text": c.text,
                        "index": c.index,
                        "logprobs": None,
                        "finish_reason": c.finish_reason,
                    }
                )
        doc = {
            "id": rid,
            "object": "chat.completion" if endpoint == CHAT else "text_completion",
            "created": created,
            "model": model or ans.model or ex.model,
            "choices": choices,
            "usage": self._usage(ans, prompt_tokens),
        }
        if ans.fingerprint is not None:
            doc["system_fingerprint"] = ans.fingerprint
        last = ex.times_us[-1] if ex.times_us else ex.duration_us
        return self._timed_body(orjson.dumps(doc), last)

    def _stream(
        self,
        ex: Exchange,
        endpoint: str,
        model: str | None,
        include_usage: bool,
        prompt_tokens: int,
    ) -> Reply:
        """Frames built once per (exchange, request shape) with placeholders for the id and
        `created`, then filled in per request (see `_Template`) instead of one JSON encoding
        per event."""
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
            return Reply(b"", [ident.join(found.parts(created))])
        frames = [ident.join(parts) for parts in found.frame_parts(created)]
        return Reply(b"", frames, offsets=found.offsets(self.scale))

    def _template(
        self,
        ex: Exchange,
        endpoint: str,
        model: str | None,
        include_usage: bool,
        prompt_tokens: int,
    ) -> _Template:
        rid, created = _RID_TEXT, _CREATED_TEXT
        if ex.streamed:
            frames, times = self._restream(ex, rid, created, model, include_usage, prompt_tokens)
        else:
            frames = self._split(ex, endpoint, rid, created, model, include_usage, prompt_tokens)
            step = ex.duration_us / len(frames)
            times = [round(step * (k + 1)) for k in range(len(frames))]
        return _Template(frames, times)

    def _restream(
        self,
        ex: Exchange,
        rid: str,
        created: Any,
        model: str | None,
        include_usage: bool,
        prompt_tokens: int,
    ) -> tuple[list[bytes], list[int]]:
        frames: list[bytes] = []
        times: list[int] = []
        usage_sent = False
        for doc, t in zip(self._events(ex), ex.times_us, strict=True):
            if not isinstance(doc, dict):
                continue  # [DONE] is written once, at the end
            doc = dict(doc)
            is_usage = doc.get("choices") == [] and doc.get("usage") is not None
            if is_usage and not include_usage:
                continue
            if not include_usage:
                doc.pop("usage", None)
            usage_sent = usage_sent or is_usage
            for name, value in (("id", rid), ("created", created), ("model", model)):
                if name in doc and value is not None:
                    doc[name] = value
            frames.append(_frame(doc))
            times.append(t)
        end = ex.times_us[-1] if ex.times_us else 0
        if include_usage and not usage_sent:
            ans = self._answer(ex)
            usage = self._usage(ans, prompt_tokens)
            frames.append(
                _frame(
                    {
                        "id": rid,
                        "object": "chat.completion.chunk"
                        if ex.endpoint == CHAT
                        else "text_completion",
                        "created": created,
                        "model": model or ans.model or ex.model,
                        "choices": [],
                        "usage": usage,
                    }
                )
            )
            times.append(end)
        frames.append(DONE_FRAME)
        times.append(end)
        return frames, times

    def _split(
        self,
        ex: Exchange,
        endpoint: str,
        rid: str,
        created: Any,
        model: str | None,
        include_usage: bool,
        prompt_tokens: int,
    ) -> list[bytes]:
        ans = self._answer(ex)
        chat = endpoint == CHAT
        base: dict[str, Any] = {
            "id": rid,
            "object": "chat.completion.chunk" if chat else "text_completion",
            "created": created,
            "model": model or ans.model or ex.model,
        }
        if ans.fingerprint is not None:
            base["system_fingerprint"] = ans.fingerprint
        if include_usage:
            base["usage"] = None

        def chunk(index: int, part: dict[str, Any], finish: str | None = None) -> bytes:
            if chat:
                choice = {"index": index, "delta": part, "logprobs": None, "finish_reason": finish}
            else:
                choice = {"text": "", **part, "index": index, "logprobs": None}
                choice["finish_reason"] = finish
            return _frame({**base, "choices": [choice]})

        frames: list[bytes] = []
        for c in ans.choices:
            if chat:
                frames.append(chunk(c.index, {"role": "assistant", "content": "", "refusal": None}))
                frames.extend(chunk(c.index, {"content": p}) for p in split_pieces(c.text))
                for k, call in enumerate(c.tool_calls):
                    named = call.get("function")
                    fn: dict[str, Any] = named if isinstance(named, dict) else {}
                    head = {
                        "index": k,
                        "id": call.get("id"),
                        "type": call.get("type", "function"),
                        "function": {"name": fn.get("name", ""), "arguments": ""},
                    }
                    frames.append(chunk(c.index, {"tool_calls": [head]}))
                    for piece in split_pieces(str(fn.get("arguments", ""))):
                        part = {"index": k, "function": {"arguments": piece}}
                        frames.append(chunk(c.index, {"tool_calls": [part]}))
                frames.append(chunk(c.index, {}, c.finish_reason))
            else:
                frames.extend(chunk(c.index, {"text": p}) for p in split_pieces(c.text))
                frames.append(chunk(c.index, {"text": ""}, c.finish_reason))
        if include_usage:
            frames.append(_frame({**base, "choices": [], "usage": self._usage(ans, prompt_tokens)}))
        frames.append(DONE_FRAME)
        return frames


def api_for(settings: Settings) -> MockAPI:
    """The worker's API: generated answers from articles, or replay of a recorded corpus."""
    from sanic_mock.corpus.loading import load_corpus, load_pool

    corpus = load_corpus(settings)
    if corpus.articles is None:
        return ReplayAPI(settings, corpus)
    return MockAPI(settings, load_pool(settings, corpus))
