"""Stored responses of the Responses API: retrieve, delete, list input items, cancel, chain.

A worker keeps the responses created with `store` (the default) in memory, at most
`--response-store-size`, the oldest evicted first. The store is per worker process (and per
replica): behind a load balancer or with `--workers N`, a `previous_response_id` or a retrieve
must reach the worker that made the response. A `background` response is stored at once and
reads `in_progress` until its simulated end, `completed` after; `cancel` before then makes it
`cancelled`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import parse_qs

import orjson

from sanic_mock.errors import InvalidRequest, NotFound
from sanic_mock.wire import fields
from sanic_mock.wire.responses import unfinished

DEFAULT_SIZE = 10_000


class Stored(NamedTuple):
    response: dict[str, Any]
    items: tuple[dict[str, Any], ...]  # this response's input items, with ids
    conversation: tuple[dict[str, Any], ...]  # every item so far: earlier turns, input, output
    due: float  # monotonic time it completes (a background response), else 0


_ITEM_PREFIX = {"message": "msg", "function_call": "fc", "reasoning": "rs"}


def with_ids(items: tuple[dict[str, Any], ...], ids: Any) -> tuple[dict[str, Any], ...]:
    """A request's input items as they are stored (and `input_items` lists them): each with
    its own id, or one made by `ids` (`.item(prefix)`) in the real API's shape."""
    return tuple(
        item
        if item["id"]
        else {**item, "id": ids.item(_ITEM_PREFIX.get(item.get("type", "message"), "fco"))}
        for item in items
    )


def _missing(response_id: str) -> NotFound:
    return NotFound(f"Response with id '{response_id}' not found.", param="response_id")


class ResponseStore:
    def __init__(self, size: int = DEFAULT_SIZE, now: Callable[[], float] | None = None) -> None:
        self.size = size
        self._now = now or time.monotonic
        self._stored: OrderedDict[str, Stored] = OrderedDict()

    def put(self, stored: Stored) -> None:
        self._stored[stored.response["id"]] = stored
        while len(self._stored) > self.size:
            self._stored.popitem(last=False)

    def __contains__(self, response_id: object) -> bool:
        return response_id in self._stored

    def _get(self, response_id: str) -> Stored:
        found = self._stored.get(response_id)
        if found is None:
            raise _missing(response_id)
        return found

    def _current(self, stored: Stored) -> dict[str, Any]:
        """The response as of now: a background one still running reads `in_progress`."""
        response = stored.response
        if stored.due and response["status"] in ("completed", "incomplete"):
            if self._now() < stored.due:
                return {
                    **response,
                    "status": "in_progress",
                    "output": [],
                    "usage": None,
                    "completed_at": None,
                }
        return response

    def conversation(self, response_id: str) -> tuple[dict[str, Any], ...]:
        """The items a `previous_response_id` continues (the real API's 400 if unknown)."""
        found = self._stored.get(response_id)
        if found is None:
            raise InvalidRequest(
                f"Previous response with id '{response_id}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
            )
        return found.conversation

    # The operations on a stored response: (id, query string) -> JSON body.

    def retrieve(self, response_id: str, query: str) -> bytes:
        return orjson.dumps(self._current(self._get(response_id)))

    def delete(self, response_id: str, query: str) -> bytes:
        self._get(response_id)
        del self._stored[response_id]
        return orjson.dumps({"id": response_id, "object": "response", "deleted": True})

    def cancel(self, response_id: str, query: str) -> bytes:
        stored = self._get(response_id)
        if not stored.response["background"]:
            raise InvalidRequest(
                "Only responses created with background set to true can be cancelled.",
                param="response_id",
            )
        current = self._current(stored)
        if current["status"] == "in_progress":
            current = unfinished(current, "cancelled")
            self._stored[response_id] = stored._replace(response=current, due=0.0)
        return orjson.dumps(current)

    def input_items(self, response_id: str, query: str) -> bytes:
        items = list(self._get(response_id).items)
        args = {k: v[-1] for k, v in parse_qs(query).items()}
        limit = _integer("limit", args.get("limit"), 20)
        order = args.get("order", "desc")
        if order not in ("asc", "desc"):
            raise fields.unsupported_value("order", order, ("asc", "desc"))
        if order == "desc":
            items.reverse()
        ids = [item["id"] for item in items]
        for name, step in (("after", 1), ("before", 0)):
            mark = args.get(name)
            if mark is not None:
                if mark not in ids:
                    raise NotFound(f"Item with id '{mark}' not found.", param=name)
                at = ids.index(mark)
                items, ids = (items[at + 1 :], ids[at + 1 :]) if step else (items[:at], ids[:at])
        page = items[:limit]
        return orjson.dumps(
            {
                "object": "list",
                "data": page,
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
                "has_more": len(items) > limit,
            }
        )


def _integer(name: str, text: str | None, default: int) -> int:
    if text is None:
        return default
    if not text.isdigit():
        raise fields.invalid_type(name, "an integer", text)
    value = int(text)
    fields.check_range(name, value, 1, 100, "integer")
    return value
