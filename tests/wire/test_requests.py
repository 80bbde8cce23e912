"""`_generation` checks the fields named in `_GENERATION_FIELDS` in one elif chain, skipping
every other key first. The two lists must agree, or a field would be silently ignored."""

from __future__ import annotations

import ast
import inspect

import orjson
import pytest

from sanic_mock.errors import InvalidRequest
from sanic_mock.wire import requests
from sanic_mock.wire.requests import _GENERATION_FIELDS, _RANGED, parse_chat

BASE = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def test_the_field_set_names_exactly_the_fields_the_chain_handles() -> None:
    tree = ast.parse(inspect.getsource(requests._generation))
    compared = {
        node.comparators[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        and isinstance(node.left, ast.Name)
        and node.left.id == "name"
        and isinstance(node.comparators[0], ast.Constant)
    }
    limits = {"max_tokens", "max_completion_tokens"}  # `name in limit_names`
    assert compared | set(_RANGED) | limits == _GENERATION_FIELDS


@pytest.mark.parametrize("field", sorted(_GENERATION_FIELDS))
def test_every_listed_field_is_checked(field: str) -> None:
    bad = 5 if field == "stop" else "not valid"
    with pytest.raises(InvalidRequest) as caught:
        parse_chat(orjson.dumps({**BASE, field: bad}))
    assert caught.value.param == field
