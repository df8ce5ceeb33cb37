from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.audit import service
from app.audit.schemas import AuditEventRead
from app.db import SessionDep
from app.http import DEFAULT_PAGE_SIZE, CursorQuery, LimitQuery, set_next_link
from app.problems import problem_responses
from app.schemas import IsoDateTime, Page
from app.security import PrincipalDep

router = APIRouter(tags=["audit"])


@router.get(
    "/audit-events",
    response_model=Page[AuditEventRead],
    responses=problem_responses(401, 403, 422),
    summary="Who did what, when, to which resource (admin; newest first)",
)
async def list_audit_events(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    action: Annotated[str | None, Query(max_length=80)] = None,
    resource_id: Annotated[str | None, Query(max_length=80)] = None,
    key_id: Annotated[uuid.UUID | None, Query()] = None,
    outcome: Annotated[str | None, Query(max_length=40)] = None,
    since: Annotated[IsoDateTime | None, Query()] = None,
    until: Annotated[IsoDateTime | None, Query()] = None,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[AuditEventRead]:
    filters = service.AuditFilters(
        action=action, resource_id=resource_id, key_id=key_id, outcome=outcome, since=since, until=until
    )
    rows, next_cursor = await service.list_events(session, principal.tenant_id, filters, limit, cursor)
    set_next_link(request, response, next_cursor)
    return Page[AuditEventRead](
        items=[AuditEventRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )
