"""RFC 9457 problem details: one table from error class to status, and the handlers that render them.

Every error the service sends is `application/problem+json` with `type`, `title`, `status`, `detail`
and a stable `code`; rule refusals add `rule` and `missing`; validation failures list every invalid
field with a JSON pointer."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.domain.errors import Conflict, DomainError, InvalidInput, NotFound, RuleViolation

log = logging.getLogger("app.problems")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://poortwachter.dev/problems/"


class ApiProblem(Exception):
    """An error raised outside the domain (auth, preconditions, limits) with its HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra or {}


def unauthenticated(detail: str) -> ApiProblem:
    return ApiProblem(
        401,
        "unauthenticated",
        "Authentication required",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="poortwachter"'},
    )


def forbidden(detail: str) -> ApiProblem:
    return ApiProblem(403, "forbidden", "Forbidden", detail)


def precondition_required(detail: str = "This request needs an If-Match header with the ETag.") -> ApiProblem:
    return ApiProblem(428, "precondition-required", "Precondition required", detail)


def precondition_failed(detail: str = "The resource changed since you read it; read it again.") -> ApiProblem:
    return ApiProblem(412, "precondition-failed", "Precondition failed", detail)


# The one table: domain error class -> HTTP status.
DOMAIN_STATUS: dict[type[DomainError], int] = {
    RuleViolation: 409,
    Conflict: 409,
    NotFound: 404,
    InvalidInput: 422,
}

# Framework errors (routing, method) by status -> (code, title).
HTTP_STATUS_CODES: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "Precondition failed"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-failed", "The request is not valid"),
    428: ("precondition-required", "Precondition required"),
    429: ("rate-limited", "Too many requests"),
    503: ("unavailable", "Service unavailable"),
}


class InvalidParam(BaseModel):
    pointer: str = Field(
        description="JSON pointer (RFC 6901) into the request; query/header/path ones "
        "are #/query/<name>, #/headers/<name>, #/path/<name>."
    )
    reason: str
    type: str = Field(description="Machine-readable error type, e.g. missing, date_from_datetime_parsing.")


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of this API is sent."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=[PROBLEM_TYPE_BASE + "rule-violated"])
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable code, see the README's list.")
    instance: str | None = None
    rule: str | None = Field(default=None, description="Rule id of domain.md, for rule refusals.")
    missing: list[str] | None = Field(default=None, description="What would have to exist first.")
    errors: list[InvalidParam] | None = Field(default=None, description="Every invalid field.")
    request_id: str | None = None


def problem_body(
    *, status: int, code: str, title: str, detail: str, instance: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance is not None:
        body["instance"] = instance
    body.update({key: value for key, value in extra.items() if value is not None})
    return body


def problem_response(
    request: Request | None,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    if request is not None:
        extra.setdefault("request_id", getattr(request.state, "request_id", None))
    body = problem_body(
        status=status,
        code=code,
        title=title,
        detail=detail,
        instance=request.url.path if request is not None else None,
        **extra,
    )
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_for(exc: DomainError | ApiProblem) -> dict[str, Any]:
    """The problem body an error would be answered with, for embedding (batch item results)."""
    if isinstance(exc, ApiProblem):
        return problem_body(status=exc.status, code=exc.code, title=exc.title, detail=exc.detail, **exc.extra)
    return problem_body(
        status=domain_status(exc),
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        rule=exc.rule,
        missing=exc.missing if exc.missing or exc.rule else None,
        **exc.extra,
    )


def domain_status(exc: DomainError) -> int:
    return next((status for cls, status in DOMAIN_STATUS.items() if isinstance(exc, cls)), 409)


def json_pointer(location: tuple[int | str, ...]) -> str:
    """('body', 'employee', 'ref') -> '#/employee/ref'; ('query', 'limit') -> '#/query/limit'."""
    parts = list(location)
    if parts and parts[0] == "body":
        parts = parts[1:]
    elif parts and parts[0] == "header":
        parts[0] = "headers"
    escaped = [str(part).replace("~", "~0").replace("/", "~1") for part in parts]
    return "#/" + "/".join(escaped) if escaped else "#"


def _validation_reason(error: dict[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        return "Unknown field: this API refuses fields it does not define."
    return str(error.get("msg", "Invalid value"))


def invalid_input(errors: Any, prefix: tuple[int | str, ...] = (), rule: str | None = None) -> InvalidInput:
    """pydantic errors -> a 422 domain error listing every invalid field with a JSON pointer; `prefix`
    locates the validated part in the request (("details",), ("items", 3))."""
    fields = [
        {
            "pointer": json_pointer((*prefix, *tuple(err.get("loc", ())))),
            "reason": _validation_reason(err),
            "type": str(err.get("type", "invalid")),
        }
        for err in errors
    ]
    count = len(fields)
    detail = f"{count} invalid field{'s' if count != 1 else ''}: " + ", ".join(f["pointer"] for f in fields)
    return InvalidInput(detail, rule=rule, extra={"errors": fields})


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return await handle_domain_error(request, invalid_input(exc.errors()))


async def handle_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return problem_response(
        request,
        status=domain_status(exc),
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        rule=exc.rule,
        missing=exc.missing if exc.missing or exc.rule else None,
        **exc.extra,
    )


async def handle_api_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        headers=exc.headers,
        **exc.extra,
    )


def http_exception_code(status: int) -> str:
    """The problem code an HTTPException of this status answers with (`handle_http_exception`)."""
    if status == 400:  # a body that cannot be read or parsed: invalid input like any other (422)
        return "validation-failed"
    return HTTP_STATUS_CODES.get(status, ("error", "Error"))[0]


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # a body that cannot be parsed at all: invalid input like any other (422)
        error = InvalidInput(
            "The request body could not be parsed as JSON.",
            extra={"errors": [{"pointer": "#", "reason": "Not parseable JSON", "type": "json_invalid"}]},
        )
        return await handle_domain_error(request, error)
    code, title = HTTP_STATUS_CODES.get(exc.status_code, ("error", "Error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No resource at {request.url.path}."
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
    return problem_response(
        request,
        status=exc.status_code,
        code=code,
        title=title,
        detail=detail,
        headers=dict(exc.headers or {}),
    )


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the log (which never holds bodies or keys); the client learns nothing inside.
    log.exception("unhandled error", extra={"path": request.url.path})
    request_id = getattr(request.state, "request_id", None)
    # This response is sent outside the middleware stack, so the request id header is set here.
    return problem_response(
        request,
        status=500,
        code="internal-error",
        title="Internal server error",
        detail="The service failed to handle this request. It has been logged; quote the request_id.",
        headers={"X-Request-ID": request_id} if request_id else None,
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(DomainError, handle_domain_error)
    app.add_exception_handler(ApiProblem, handle_api_problem)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(Exception, handle_unexpected)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route: each listed status documented as a problem+json body."""
    descriptions = {
        400: "Bad request",
        401: "Missing, malformed, unknown, expired or revoked API key",
        403: "The key's role may not do this",
        404: "Not found (also another tenant's resource)",
        409: "Refused by a rule (code rule-violated, with rule and missing) or a conflict",
        412: "If-Match does not match the current version",
        413: "Body too large",
        422: "Invalid input; every invalid field listed with a JSON pointer",
        428: "If-Match header required",
        429: "Rate limited; see Retry-After",
        503: "Database unavailable",
    }
    return {
        status: {
            "description": descriptions.get(status, HTTP_STATUS_CODES.get(status, ("", "Error"))[1]),
            "model": Problem,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def _database_unavailable(request: Request) -> JSONResponse:
    return problem_response(
        request,
        status=503,
        code="unavailable",
        title="Service unavailable",
        detail="The database cannot serve this right now (unreachable, restarting or too slow); nothing was "
        "changed. Retry shortly.",
        headers={"Retry-After": "2"},
    )


async def handle_database_error(request: Request, exc: Exception) -> JSONResponse:
    from app.db import database_unavailable

    if database_unavailable(exc):
        log.warning("database unavailable: %s", type(exc).__name__)
        return _database_unavailable(request)
    return await handle_unexpected(request, exc)


def install_database_handlers(app: FastAPI) -> None:
    import asyncpg
    from sqlalchemy import exc as sa_exc

    # asyncpg's own classes too, should one ever escape SQLAlchemy's wrapping.
    for exc_class in (
        sa_exc.DBAPIError,
        sa_exc.TimeoutError,
        OSError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,
    ):
        app.add_exception_handler(exc_class, handle_database_error)
