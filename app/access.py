"""Who may call what, and see which resources: applied to every /api/v1 route before it runs.

Order matters: first the resource must be visible to the key (its tenant's, and for coach keys a case
with a track of the coach's provider), answering 404 otherwise, so a key never learns that another
tenant's resource exists; then the role must be allowed by the permission table (403)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import SessionDep
from app.domain.errors import NotFound
from app.models.activities import Activity
from app.models.calendar import CalendarFeed
from app.models.cases import Case
from app.models.tenants import ApiKey, Role
from app.models.tracks import Track
from app.models.webhooks import WebhookEndpoint
from app.permissions import allowed
from app.problems import forbidden
from app.query_params import check_query_parameters
from app.security import Principal, PrincipalDep


def coach_sees_case(principal: Principal, case_id: Any) -> ColumnElement[bool]:
    """A coach's cases: those with a track of the coach's provider."""
    return exists().where(Track.case_id == case_id, Track.provider == principal.provider)


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value is not None else None
    except ValueError:
        return None  # the route's own validation answers 422


async def ensure_visible(session: AsyncSession, principal: Principal, params: dict[str, str]) -> None:
    coach = principal.role is Role.coach
    checks: list[tuple[str, Any]] = []
    if (case_id := _uuid(params.get("case_id"))) is not None:
        query = select(Case.id).where(Case.id == case_id, Case.tenant_id == principal.tenant_id)
        checks.append(("case", query.where(coach_sees_case(principal, Case.id)) if coach else query))
    if (track_id := _uuid(params.get("track_id"))) is not None:
        query = select(Track.id).where(Track.id == track_id, Track.tenant_id == principal.tenant_id)
        checks.append(("track", query.where(Track.provider == principal.provider) if coach else query))
    if (activity_id := _uuid(params.get("activity_id"))) is not None:
        query = select(Activity.id).where(
            Activity.id == activity_id, Activity.tenant_id == principal.tenant_id
        )
        if coach:  # a coach sees the activities of the provider's own tracks only
            query = query.join(Track, Track.id == Activity.track_id).where(
                Track.provider == principal.provider
            )
        checks.append(("activity", query))
    if (employee_ref := params.get("employee_ref")) is not None:
        query = select(Case.id).where(
            Case.employee_ref == employee_ref, Case.tenant_id == principal.tenant_id
        )
        checks.append(("employee", query.where(coach_sees_case(principal, Case.id)) if coach else query))
    if (key_id := _uuid(params.get("key_id"))) is not None:
        checks.append(
            ("API key", select(ApiKey.id).where(ApiKey.id == key_id, ApiKey.tenant_id == principal.tenant_id))
        )
    if (endpoint_id := _uuid(params.get("endpoint_id"))) is not None:
        checks.append(
            (
                "webhook endpoint",
                select(WebhookEndpoint.id).where(
                    WebhookEndpoint.id == endpoint_id, WebhookEndpoint.tenant_id == principal.tenant_id
                ),
            )
        )
    if (feed_id := _uuid(params.get("feed_id"))) is not None:
        checks.append(
            (
                "calendar feed",
                select(CalendarFeed.id).where(
                    CalendarFeed.id == feed_id, CalendarFeed.tenant_id == principal.tenant_id
                ),
            )
        )
    for name, query in checks:
        if (await session.execute(query)).first() is None:
            raise NotFound(f"No {name} with that id.")


async def authorize(request: Request, session: SessionDep, principal: PrincipalDep) -> None:
    await request.app.state.rate_limiter.check(principal)
    # The lookup runs before the body is validated, so another tenant's id answers 404 whatever was sent.
    await ensure_visible(session, principal, request.path_params)
    operation = getattr(request.scope.get("route"), "name", "")
    if not allowed(operation, principal.role):
        raise forbidden(f"The role {principal.role.value} may not call {operation}.")
    check_query_parameters(request)
