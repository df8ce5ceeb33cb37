from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from app.db import current_session
from app.domain.timeline import compute_timeline
from app.http import AsOfQuery, horizon_days, today
from app.problems import problem_responses
from app.security import PrincipalDep, current_principal
from app.timeline import service
from app.timeline.schemas import TimelinePreviewRequest, TimelineRead

router = APIRouter(tags=["timeline"])


@router.get(
    "/cases/{case_id}/timeline",
    response_model=TimelineRead,
    responses=problem_responses(401, 404, 409, 422),
    summary="The statutory timeline of a case, as of a day",
    description="Every deadline of the rule catalogue (T1–T12) with its due date and status as of "
    "`as_of`, the waiting period and its extensions, informational milestones (T13 window, UWV's WIA "
    "letter) and warnings.",
)
async def case_timeline(case_id: uuid.UUID, request: Request, as_of: AsOfQuery = None) -> TimelineRead:
    # A hot path: the session and key read directly, two dependencies fewer to resolve per request.
    session, principal = await current_session(request), await current_principal(request)
    timeline = await service.stored_case_timeline(
        session, principal.tenant_id, case_id, as_of or today(), horizon_days(request)
    )
    return service.to_read(timeline)


@router.post(
    "/timeline/preview",
    response_model=TimelineRead,
    responses=problem_responses(401, 409, 422),
    summary="Compute a timeline without storing anything",
    description="The same computation as a case's timeline, from a first sick day, optional sickness "
    "periods and dated events. A gap of 28 days or more between periods is refused (409, rule T0).",
)
async def preview(body: TimelinePreviewRequest, request: Request, principal: PrincipalDep) -> TimelineRead:
    timeline_input = service.preview_input(body, body.as_of or today(), horizon_days(request))
    return service.to_read(compute_timeline(timeline_input))
