"""List pages whose items PostgreSQL writes as JSON text, in the read model's field order and format.

The lists are the busiest reads, and for a page of 50 items decoding some 750 values into Python objects,
validating them and serialising them again cost a quarter of the request's CPU. PostgreSQL writes the
same JSON in C, and the service only joins the texts. The result is byte-identical to the read model's
`model_dump_json()`: `tests/api/test_json_pages.py` compares the two on every field, null, escape and
timestamp format. Each list's response model stays its schema (OpenAPI).
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel

from app.http import set_next_link

# As pydantic writes an aware datetime in UTC: seconds, the microseconds only when there are any, `Z`.
_TIMESTAMP = (
    "to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
    " || CASE to_char({0}, 'US') WHEN '000000' THEN '' ELSE to_char({0}, '.US') END || 'Z'"
)


def json_timestamp(expression: str) -> str:
    """A timestamptz as the read models write it (RFC 3339 in UTC: `2026-03-01T09:30:00.250000Z`)."""
    return _TIMESTAMP.format(expression)


def json_object(fields: dict[str, str]) -> str:
    """A JSON object of `name: SQL expression`, in that order, written compactly as pydantic does
    (`json_build_object` would put a space around every colon)."""
    columns = ", ".join(f"{expression} AS {name}" for name, expression in fields.items())
    return f"(SELECT row_to_json(object) FROM (SELECT {columns}) AS object)"  # noqa: S608


class ColumnsOf:
    """A row of the statement's `alias` for a function that reads a record's attributes (`read_fields`):
    each attribute is its column in SQL, so the same mapping gives the SQL of a read model's fields."""

    def __init__(self, alias: str) -> None:
        self._alias = alias

    def __getattr__(self, name: str) -> str:
        return f"{self._alias}.{name}"


def _types_in(annotation: Any) -> Iterator[Any]:
    """The types an annotation admits, through Optional, unions and Annotated."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        arguments = typing.get_args(annotation)
        for argument in arguments[:1] if origin is typing.Annotated else arguments:
            yield from _types_in(argument)
    else:
        yield annotation


def json_model(model: type[BaseModel], fields: Mapping[str, Any]) -> str:
    """The JSON object `model` writes, its fields given as SQL expressions (a mapping for a nested
    model): in the model's field order, nested models as objects, timestamps as the model writes them.
    A field of the model missing from `fields` raises KeyError."""
    written = {}
    for name, field in model.model_fields.items():
        kinds = list(_types_in(field.annotation))
        models = [kind for kind in kinds if isinstance(kind, type) and issubclass(kind, BaseModel)]
        if models:
            written[name] = json_model(models[0], fields[name])
        elif datetime in kinds:
            written[name] = json_timestamp(fields[name])
        else:
            written[name] = fields[name]
    return json_object(written)


def page_limit(limit: int) -> str:
    """A page's LIMIT (one row more than the page, to tell whether another follows) written as a literal:
    with `LIMIT $n` the planner of a generic plan assumes a tenth of the rows and keeps planning every
    execution anew (0.15-0.2 ms of the database's CPU per page); with the literal, PostgreSQL switches
    to the prepared statement's generic plan after five runs. `limit` is a validated int, never text."""
    return str(int(limit) + 1)


def json_items(page: str, item: str, cursor_columns: tuple[str, ...]) -> str:
    """The rows of `page` (a SELECT with its ORDER BY and LIMIT), each as `item`'s JSON text over the row
    `page`, followed by `cursor_columns`, in the page's order (`cursor_columns` are its sort keys)."""
    keys = ", ".join(f"page.{column}" for column in cursor_columns)
    return f"SELECT ({item})::text, {keys} FROM ({page}) AS page ORDER BY {keys}"  # noqa: S608


def json_page_response(request: Request, items: list[str], next_cursor: str | None) -> Response:
    """A page (`{"items": [...], "next_cursor": ...}`) of items written by `json_items`, with its Link."""
    body = '{"items":[' + ",".join(items) + '],"next_cursor":' + json.dumps(next_cursor) + "}"
    response = Response(body, media_type="application/json")
    set_next_link(request, response, next_cursor)
    return response
