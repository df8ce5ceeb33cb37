from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from app.db import SessionDep
from app.http import IfMatchHeader, horizon_days, required_version, set_etag, today
from app.idempotency import IdempotencyDep
from app.problems import problem_responses
from app.schemas import Page
from app.security import PrincipalDep
from app.sickness_periods import service
from app.sickness_periods.schemas import SicknessPeriodCreate, SicknessPeriodRead, SicknessPeriodUpdate

router = APIRouter(prefix="/cases/{case_id}/sickness-periods", tags=["sickness periods"])


@router.get(
    "",
    response_model=Page[SicknessPeriodRead],
    responses=problem_responses(401, 404, 422),
    summary="The case's sickness periods, oldest first",
)
async def list_periods(
    case_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Page[SicknessPeriodRead]:
    periods = await service.list_periods(session, principal.tenant_id, case_id)
    return Page[SicknessPeriodRead](
        items=[SicknessPeriodRead.model_validate(p) for p in periods], next_cursor=None
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SicknessPeriodRead,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Add a period: a relapse (409 rule T0 while the last is open or after a 28-day gap)",
)
async def add_period(
    case_id: uuid.UUID,
    body: SicknessPeriodCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    idem: IdempotencyDep,
) -> SicknessPeriodRead:
    period = await service.add_period(
        session, principal.tenant_id, case_id, body, today(), horizon_days(request)
    )
    set_etag(response, period.version)
    result = SicknessPeriodRead.model_validate(period)
    await idem.remember(response, status.HTTP_201_CREATED, result)
    return result


@router.patch(
    "/{period_id}",
    response_model=SicknessPeriodRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    summary="Record recovery: the period's last sick day (If-Match required)",
)
async def update_period(
    case_id: uuid.UUID,
    period_id: uuid.UUID,
    body: SicknessPeriodUpdate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    if_match: IfMatchHeader = None,
) -> SicknessPeriodRead:
    expected = required_version(if_match)
    period = await service.update_period(
        session, principal.tenant_id, case_id, period_id, expected, body, today(), horizon_days(request)
    )
    set_etag(response, period.version)
    return SicknessPeriodRead.model_validate(period)
