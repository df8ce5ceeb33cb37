from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status

from app.cases import service
from app.cases.overview import case_detail
from app.cases.schemas import CaseCreate, CaseDetail, CaseRead, CaseUpdate
from app.db import SessionDep, current_session
from app.http import (
    DEFAULT_PAGE_SIZE,
    AsOfQuery,
    CursorQuery,
    IfMatchHeader,
    LimitQuery,
    horizon_days,
    location,
    model_response,
    required_version,
    set_etag,
    today,
)
from app.idempotency import IdempotencyDep
from app.json_sql import json_page_response
from app.models.tenants import Role
from app.problems import problem_responses
from app.schemas import Page
from app.security import PrincipalDep, current_principal

router = APIRouter(prefix="/cases", tags=["cases"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseDetail,
    responses=problem_responses(401, 403, 409, 413, 422),
    summary="Open a case",
)
async def open_case(
    body: CaseCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    idem: IdempotencyDep,
) -> CaseDetail:
    case = await service.open_case(session, principal.tenant_id, body, today(), horizon_days(request))
    response.headers["Location"] = location(request, f"/api/v1/cases/{case.id}")
    set_etag(response, case.version)
    detail = await case_detail(session, principal.tenant_id, case.id, today(), horizon_days(request))
    await idem.remember(response, status.HTTP_201_CREATED, detail)
    return detail


@router.get("", response_model=Page[CaseRead], responses=problem_responses(401, 422), summary="List cases")
async def list_cases(
    request: Request,
    status: Annotated[Literal["open", "recovered", "closed"] | None, Query()] = None,
    case_manager: Annotated[str | None, Query(max_length=200)] = None,
    employee_ref: Annotated[str | None, Query(max_length=200)] = None,
    has_overdue: Annotated[
        bool | None, Query(description="Cases with an overdue deadline as of as_of.")
    ] = None,
    as_of: AsOfQuery = None,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Response:
    # A hot path: the session and key read directly, two dependencies fewer to resolve per request.
    session, principal = await current_session(request), await current_principal(request)
    filters = service.CaseFilters(
        status=status,
        case_manager=case_manager,
        employee_ref=employee_ref,
        has_overdue=has_overdue,
        as_of=as_of or today(),
        provider=principal.provider if principal.role is Role.coach else None,
    )
    items, next_cursor = await service.list_cases(session, principal.tenant_id, filters, limit, cursor)
    return json_page_response(request, items, next_cursor)


@router.get(
    "/{case_id}",
    response_model=CaseDetail,
    responses=problem_responses(401, 404, 422),
    summary="Read a case: its clock, tracks, next deadlines and warnings as of a day",
)
async def read_case(case_id: uuid.UUID, request: Request, as_of: AsOfQuery = None) -> Response:
    # A hot path: the session and key read directly, two dependencies fewer to resolve per request; the
    # answer, valid as built, serialised straight from its model rather than validated again.
    session, principal = await current_session(request), await current_principal(request)
    detail = await case_detail(session, principal.tenant_id, case_id, as_of or today(), horizon_days(request))
    return model_response(detail, version=detail.version)


@router.patch(
    "/{case_id}",
    response_model=CaseDetail,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    summary="Change a case's editable fields (If-Match required)",
)
async def update_case(
    case_id: uuid.UUID,
    body: CaseUpdate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    if_match: IfMatchHeader = None,
) -> CaseDetail:
    expected = required_version(if_match)
    case = await service.update_case(
        session, principal.tenant_id, case_id, expected, body, today(), horizon_days(request)
    )
    set_etag(response, case.version)
    return await case_detail(session, principal.tenant_id, case.id, today(), horizon_days(request))
