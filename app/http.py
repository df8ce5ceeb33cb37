"""HTTP helpers shared by the routers: today and as_of, ETags and If-Match, cursors and Link headers."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from fastapi import Header, Query, Request, Response
from pydantic import BaseModel

from app.config import get_settings
from app.problems import ApiProblem, precondition_failed, precondition_required
from app.schemas import IsoDate, within_range_in_utc

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


def today() -> date:
    """Today in the service's zone (Europe/Amsterdam): the default of every as_of."""
    return datetime.now(ZoneInfo(get_settings().timezone)).date()


def horizon_days(request: Request) -> int:
    """The due_soon horizon (DUE_SOON_DAYS)."""
    return int(request.app.state.settings.due_soon_days)


AsOfQuery = Annotated[
    IsoDate | None,
    Query(description="Compute date-dependent statuses as of this day (default: today in Europe/Amsterdam)."),
]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size (at most 500).")]
CursorQuery = Annotated[str | None, Query(description="The next_cursor of the previous page.")]
IfMatchHeader = Annotated[
    str | None, Header(alias="If-Match", description="The ETag of the version you read (required).")
]


def etag_for(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_for(version)


def model_response(model: BaseModel, status_code: int = 200, version: int | None = None) -> Response:
    """The model serialised straight into the response, with its ETag when `version` is given: for an
    answer built valid, which FastAPI would otherwise validate once more against the response model."""
    response = Response(model.model_dump_json(), status_code=status_code, media_type="application/json")
    if version is not None:
        set_etag(response, version)
    return response


def required_version(if_match: str | None) -> int:
    """The version an If-Match names: 428 without it, 412 when it cannot name a version of ours."""
    if if_match is None or not if_match.strip():
        raise precondition_required()
    value = if_match.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not value.isdigit():
        raise precondition_failed('If-Match must be an ETag this API sent, such as "3".')
    return int(value)


def encode_cursor(values: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def utc_time(text: str) -> datetime:
    """A cursor's timestamp, within range once in UTC as a request's must be."""
    return within_range_in_utc(datetime.fromisoformat(text))


def decode_cursor(cursor: str, parsers: Mapping[str, Callable[[str], Any]]) -> dict[str, Any]:
    """The position a cursor holds, each value parsed by its key's parser. Anything this API did not
    send (other keys, values that do not parse) answers 422, never reaches a query."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, dict) or set(values) != set(parsers):
            raise ValueError("wrong keys")
        if not all(isinstance(value, str) for value in values.values()):
            raise ValueError("not text")
        return {key: parse(values[key]) for key, parse in parsers.items()}
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiProblem(
            422,
            "validation-failed",
            "The request is not valid",
            "The cursor is not one this API sent.",
            extra={"errors": [{"pointer": "#/query/cursor", "reason": "Invalid cursor", "type": "cursor"}]},
        ) from exc


def location(request: Request, path: str, root_path: str | None = None) -> str:
    """An absolute URL for a path under this service (cheaper than url_for, which matches routes): the
    path is put after the app's root path, or after `root_path` when given."""
    scope = request.scope
    host = next((value for name, value in scope["headers"] if name == b"host"), None)
    if root_path is None:
        root_path = scope.get("app_root_path", scope.get("root_path", ""))
    return _base_url(scope["scheme"], host, root_path, scope.get("server")) + path


@lru_cache(maxsize=64)
def _base_url(scheme: str, host: bytes | None, root_path: str, server: tuple[str, int] | None) -> str:
    """`request.base_url` without its trailing slash, as Starlette builds it, for the few hosts a
    deployment is called by: building it per response cost a fortieth of an activity POST."""
    scope = {
        "type": "http",
        "scheme": scheme,
        "server": server,
        "path": root_path,
        "root_path": root_path,
        "query_string": b"",
        "headers": [(b"host", host)] if host is not None else [],
    }
    return str(Request(scope).base_url).rstrip("/")


def set_next_link(request: Request, response: Response, next_cursor: str | None) -> None:
    """`Link: <this URL with ?cursor=next_cursor>; rel="next"`, the URL as Starlette's
    `request.url.include_query_params(cursor=...)` writes it, without parsing the URL back into parts
    (a twelfth of a worklist page's CPU)."""
    if next_cursor is not None:
        scope = request.scope
        query = [
            (name, value)
            for name, value in parse_qsl(scope["query_string"].decode(), keep_blank_values=True)
            if name != "cursor"
        ]
        query.append(("cursor", next_cursor))
        path = scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
        url = location(request, path, root_path="") + "?" + urlencode(query)
        response.headers["Link"] = f'<{url}>; rel="next"'
