"""Who may call what, and see which resources: applied to every /api/v1 route before it runs.

Order matters: first the resource must be visible to the key (its tenant's, and for coach keys a case
with a track of the coach's provider), answering 404 otherwise, so a key never learns that another
tenant's resource exists; then the role must be allowed by the permission table (403)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException

from app.db import driver_connection, request_session
from app.domain.errors import DomainError, NotFound
from app.models.tenants import Role
from app.permissions import allowed
from app.problems import ApiProblem, forbidden
from app.query_params import check_query_parameters
from app.security import Principal, authenticate_request, bearer


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value is not None else None
    except ValueError:
        return None  # the route's own validation answers 422


# Visibility checks, one per path parameter: plain SQL on the driver connection, since every request runs
# at least one. $1 the id, $2 the key's tenant, $3 (coach keys) the coach's provider.
VISIBILITY_CHECKS: tuple[tuple[str, str, str, str], ...] = (
    # (path parameter, name in the 404, query for most roles, query for coach keys)
    (
        "case_id",
        "case",
        "SELECT 1 FROM cases AS c WHERE c.id = $1 AND c.tenant_id = $2",
        "SELECT 1 FROM cases AS c WHERE c.id = $1 AND c.tenant_id = $2"
        " AND EXISTS (SELECT 1 FROM tracks AS t WHERE t.case_id = c.id AND t.provider = $3)",
    ),
    (
        "track_id",
        "track",
        "SELECT 1 FROM tracks WHERE id = $1 AND tenant_id = $2",
        "SELECT 1 FROM tracks WHERE id = $1 AND tenant_id = $2 AND provider = $3",
    ),
    (
        "activity_id",
        "activity",
        "SELECT 1 FROM activities WHERE id = $1 AND tenant_id = $2",
        # a coach sees the activities of the provider's own tracks only
        "SELECT 1 FROM activities AS a JOIN tracks AS t ON t.id = a.track_id"
        " WHERE a.id = $1 AND a.tenant_id = $2 AND t.provider = $3",
    ),
    (
        "employee_ref",
        "employee",
        "SELECT 1 FROM cases AS c WHERE c.employee_ref = $1 AND c.tenant_id = $2 LIMIT 1",
        "SELECT 1 FROM cases AS c WHERE c.employee_ref = $1 AND c.tenant_id = $2"
        " AND EXISTS (SELECT 1 FROM tracks AS t WHERE t.case_id = c.id AND t.provider = $3) LIMIT 1",
    ),
    ("key_id", "API key", "SELECT 1 FROM api_keys WHERE id = $1 AND tenant_id = $2", ""),
    (
        "endpoint_id",
        "webhook endpoint",
        "SELECT 1 FROM webhook_endpoints WHERE id = $1 AND tenant_id = $2",
        "",
    ),
    ("feed_id", "calendar feed", "SELECT 1 FROM calendar_feeds WHERE id = $1 AND tenant_id = $2", ""),
)


# Operations whose own first statement filters by the key's tenant and answers 404 when nothing matches:
# for roles the permission table allows, the separate check would only repeat that statement's WHERE (a
# round trip, about 8% of GET /cases/{id}'s CPU). It is deferred to the refusals instead: one for a
# resource the key may not see answers 404 whatever else was wrong (`_refused_unless_visible`). Coach keys
# are still checked first: their provider scope is not in those statements.
SELF_SCOPED = frozenset({"read_case", "case_timeline", "record_activity"})


async def ensure_visible(session: AsyncSession, principal: Principal, params: dict[str, str]) -> None:
    coach = principal.role is Role.coach
    for param, name, query, coach_query in VISIBILITY_CHECKS:
        raw = params.get(param)
        if raw is None:
            continue
        value: object = raw if param == "employee_ref" else _uuid(raw)
        if value is None:
            continue  # a malformed id: the route's own validation answers 422
        connection = await driver_connection(session, begin=False)
        if coach and coach_query:
            found = await connection.fetchval(coach_query, value, principal.tenant_id, principal.provider)
        else:
            found = await connection.fetchval(query, value, principal.tenant_id)
        if found is None:
            raise NotFound(f"No {name} with that id.")


async def authorize(request: Request, session: AsyncSession) -> bool:
    """Admits the request: key, rate limit, visibility and permission. True when the visibility check
    is left to the operation's own statement (`SELF_SCOPED`)."""
    principal = await authenticate_request(request, session, await bearer(request))
    await request.app.state.rate_limiter.check(principal)
    operation = getattr(request.scope.get("route"), "name", "")
    permitted = allowed(operation, principal.role)
    deferred = permitted and operation in SELF_SCOPED and principal.role is not Role.coach
    if not deferred:
        # Before the body is validated, so another tenant's id answers 404 whatever was sent.
        await ensure_visible(session, principal, request.path_params)
    if not permitted:
        raise forbidden(f"The role {principal.role.value} may not call {operation}.")
    return deferred


# Refusals (not failures: a database error stays what it is): with a deferred visibility check, each is
# answered 404 instead when the resource is not the key's to see.
_CHECKED_REFUSALS = (RequestValidationError, DomainError, ApiProblem, HTTPException)


async def _refused_unless_visible(request: Request, session: AsyncSession, refusal: Exception) -> None:
    status = getattr(refusal, "status_code", None) or getattr(refusal, "status", None)
    if isinstance(refusal, NotFound) or status == 404:
        return
    await session.rollback()  # the request is refused either way; check on a clean transaction
    await ensure_visible(session, request.state.principal, request.path_params)


class AuthorizedRoute(APIRoute):
    """Every /api/v1 route. Its handler opens the request's session (`request_session`) and admits the
    request (`authorize`) before FastAPI resolves the route's parameters and body, and commits once the
    response is built, before it is sent. The routes read the session and principal it keeps
    (`SessionDep`, `PrincipalDep`). Wrapping the handler, rather than a dependency with yield, spares
    every request FastAPI's exit stack and shielded cancel scope (6% of a case read's instructions)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def admitted(request: Request) -> Response:
            async with request_session(request) as session:
                request.state.session = session
                deferred = await authorize(request, session)
                try:
                    check_query_parameters(request)
                    return await handle(request)
                except _CHECKED_REFUSALS as refusal:
                    if deferred:
                        await _refused_unless_visible(request, session, refusal)
                    raise

        return admitted
