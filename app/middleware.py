"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware): request id, access log and metrics, body size
limit."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.metrics import observe
from app.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE

access_log = structlog.get_logger("app.access")


def route_template(scope: Scope) -> str:
    """The matched route's template (/api/v1/cases/{case_id}): never the raw path or the query string.
    Looked up by the route's name in a table built once (`route_templates`), not by matching again."""
    route = scope.get("route")
    if route is None:
        return "unmatched"
    templates: dict[str, str] = scope["app"].state.route_templates
    # Routes outside the OpenAPI document (/metrics, /docs) sit at the top level: their path is complete.
    return templates.get(getattr(route, "name", ""), getattr(route, "path", "unknown"))


def route_templates(spec: dict[str, Any]) -> dict[str, str]:
    """operationId -> path template, from the app's OpenAPI document."""
    return {
        operation["operationId"]: path
        for path, operations in spec.get("paths", {}).items()
        for operation in operations.values()
        if isinstance(operation, dict) and "operationId" in operation
    }


REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestContextMiddleware:
    """Takes X-Request-ID from the client when it is sane (else makes one), returns it on every response,
    binds it to every log line of the request, writes one access-log line and records the metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = incoming if REQUEST_ID_PATTERN.fullmatch(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status_holder: dict[str, int] = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            observe(route, scope["method"], status_holder["status"], seconds)
            access_log.info(
                "request",
                method=scope["method"],
                route=route,
                status=status_holder["status"],
                duration_ms=round(seconds * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()


class BodySizeLimitMiddleware:
    """Answers 413 problem when Content-Length, or the bytes actually streamed, exceed the limit."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._reject(scope, send)
            return
        received = 0
        tracked = _TrackedSend(send)

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, tracked)
        except _BodyTooLarge:
            if not tracked.response_started:
                await self._reject(scope, send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        detail = f"The request body is larger than {self.max_body_bytes} bytes."
        await send_problem(scope, send, 413, "payload-too-large", "Payload too large", detail, close=True)


async def send_problem(
    scope: Scope,
    send: Send,
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    close: bool = False,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> None:
    """A problem+json response sent from middleware, before any route runs."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": scope.get("path"),
        **extra,
    }
    request_id = scope.get("state", {}).get("request_id")
    if request_id:
        body["request_id"] = request_id
    payload = json.dumps(body).encode()
    raw_headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(payload)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in (headers or {}).items()),
    ]
    if close:
        raw_headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


class NulCharacterGuardMiddleware:
    """A NUL character in the path or the query string answers 422: PostgreSQL stores no NUL in text,
    so it would otherwise fail in the database (found by the fuzzer)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"").lower()
            if "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query:
                where = "#/path" if "\x00" in scope.get("path", "") else "#/query"
                await send_problem(
                    scope,
                    send,
                    422,
                    "validation-failed",
                    "The request is not valid",
                    "The path or query string contains a NUL character (%00).",
                    errors=[{"pointer": where, "reason": "NUL character", "type": "value_error"}],
                )
                return
        await self.app(scope, receive, send)


class ShutdownCancellationMiddleware:
    """uvicorn cancels the requests still running when the graceful-shutdown bound is reached, and would
    answer them 500. Their transaction is rolled back (unless the cut came while COMMIT was already on its
    way), so the answer is 503 with Retry-After: send it again, with the same Idempotency-Key or external
    ids, which makes the retry safe either way (found by the shutdown fault test)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked = _TrackedSend(send)
        try:
            await self.app(scope, receive, tracked)
        except asyncio.CancelledError:
            if tracked.response_started:
                raise
            # uvicorn cancels a request task only at shutdown (a client that goes away is not cancelled),
            # and the task ends right after this answer: the cancellation is not swallowed for anyone.
            await send_problem(
                scope,
                send,
                503,
                "unavailable",
                "Service unavailable",
                "The service is shutting down and stopped this request; it was not applied unless it "
                "was already committing. Retry with the same Idempotency-Key (or external ids).",
                close=True,
                headers={"Retry-After": "2"},
            )


class _TrackedSend:
    """`send`, remembering whether the response has started (after which no other answer can be sent)."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.response_started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.response_started = True
        await self.send(message)


class _BodyTooLarge(Exception):
    pass
