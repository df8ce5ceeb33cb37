from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.db import current_session
from app.deadlines import service
from app.deadlines.schemas import WorklistDeadline
from app.http import (
    DEFAULT_PAGE_SIZE,
    AsOfQuery,
    CursorQuery,
    LimitQuery,
    horizon_days,
    today,
)
from app.json_sql import json_page_response
from app.models.tenants import Role
from app.problems import problem_responses
from app.schemas import IsoDate, Page
from app.security import current_principal
from app.timeline.schemas import DeadlineStatus

router = APIRouter(tags=["deadlines"])


@router.get(
    "/deadlines",
    response_model=Page[WorklistDeadline],
    responses=problem_responses(401, 422),
    summary="The worklist: deadlines across the tenant's cases",
    description="Ordered by due date. `status` and `code` may be repeated "
    "(`?status=overdue&status=due_soon`). Statuses are computed as of `as_of` (default today).",
)
async def list_deadlines(
    request: Request,
    status: Annotated[list[DeadlineStatus] | None, Query()] = None,
    code: Annotated[list[str] | None, Query(max_length=60)] = None,
    due_from: Annotated[IsoDate | None, Query()] = None,
    due_to: Annotated[IsoDate | None, Query()] = None,
    case_manager: Annotated[str | None, Query(max_length=200)] = None,
    as_of: AsOfQuery = None,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Response:
    # A hot path: the session and key read directly, two dependencies fewer to resolve per request.
    session, principal = await current_session(request), await current_principal(request)
    filters = service.WorklistFilters(
        statuses=tuple(status or ()),
        codes=tuple(code or ()),
        due_from=due_from,
        due_to=due_to,
        case_manager=case_manager,
        provider=principal.provider if principal.role is Role.coach else None,
    )
    items, next_cursor = await service.worklist(
        session,
        principal.tenant_id,
        filters,
        as_of or today(),
        horizon_days(request),
        limit,
        cursor,
    )
    return json_page_response(request, items, next_cursor)
