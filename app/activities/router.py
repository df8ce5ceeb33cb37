from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.activities import service
from app.activities.schemas import (
    ActivityBatch,
    ActivityBatchResult,
    ActivityCreate,
    ActivityKindRead,
    ActivityRead,
)
from app.db import SessionDep, current_session
from app.domain.activity_kinds import ACTIVITY_KINDS, ActivityKind
from app.http import (
    DEFAULT_PAGE_SIZE,
    CursorQuery,
    LimitQuery,
    horizon_days,
    location,
    model_response,
    set_etag,
    set_next_link,
    today,
)
from app.idempotency import IdempotencyDep, IdempotencyKeyHeader, begin_idempotency
from app.models.tenants import Role
from app.problems import ApiProblem, problem_responses
from app.schemas import IsoDate, Page
from app.security import PrincipalDep, current_principal

router = APIRouter(tags=["activities"])


@router.post(
    "/cases/{case_id}/activities",
    status_code=status.HTTP_201_CREATED,
    response_model=ActivityRead,
    responses={
        200: {
            "description": "Already stored under this external_id with the same content",
            "model": ActivityRead,
        },
        **problem_responses(401, 403, 404, 409, 422),
    },
    summary="Record one activity (201; 200 for an external_id already stored with the same content)",
)
async def record_activity(
    case_id: uuid.UUID,
    body: ActivityCreate,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    # A hot path: the session, the key and the idempotency header read directly, no dependency to
    # resolve; the answer, valid as built, serialised straight from its model rather than validated again.
    session, principal = await current_session(request), await current_principal(request)
    idem = await begin_idempotency(request, idempotency_key)
    recorded = await service.record_activity(
        session, principal, case_id, body, today(), horizon_days(request), request.app.state.case_snapshots
    )
    medical = await service.medical_parts_for(session, principal, [recorded.activity.id])
    result = service.to_read(recorded.activity, medical.get(recorded.activity.id))
    status_code = status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK
    response = model_response(result, status_code, version=recorded.activity.version)
    response.headers["Location"] = location(request, f"/api/v1/activities/{recorded.activity.id}")
    await idem.remember(response, status_code, result)
    return response


@router.post(
    "/activities/batch",
    response_model=ActivityBatchResult,
    responses=problem_responses(401, 403, 413, 422),
    summary="Record many activities across cases (per-item results in input order)",
    description="Each item gets every check of a single POST and its own result: `created`, `duplicate` "
    "(its `external_id` is stored with the same content) or `error` with the problem a single POST would "
    "have answered. One bad item never loses the good ones. Each affected case's deadlines are "
    "recomputed once per batch.",
)
async def record_batch(
    body: ActivityBatch,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    idem: IdempotencyDep,
) -> Response:
    request.state.audit_fields = ["items"]
    limit = request.app.state.settings.batch_max_items
    if len(body.items) > limit:
        raise ApiProblem(
            413,
            "payload-too-large",
            "Payload too large",
            f"A batch holds at most {limit} items, not {len(body.items)}.",
        )
    result = await service.record_batch(session, principal, body.items, today(), horizon_days(request))
    await idem.remember(response, status.HTTP_200_OK, result)
    # Serialised straight from the model: re-validating thousands of results would cost more than the work.
    return model_response(result)


@router.get(
    "/cases/{case_id}/activities",
    response_model=Page[ActivityRead],
    responses=problem_responses(401, 404, 422),
    summary="The case's activities by date",
)
async def list_activities(
    case_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    kind: Annotated[list[ActivityKind] | None, Query()] = None,
    track_id: Annotated[uuid.UUID | None, Query()] = None,
    occurred_from: Annotated[IsoDate | None, Query()] = None,
    occurred_to: Annotated[IsoDate | None, Query()] = None,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[ActivityRead]:
    filters = service.ActivityFilters(
        kinds=tuple(k.value for k in kind or ()),
        track_id=track_id,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
        provider=principal.provider if principal.role is Role.coach else None,
    )
    rows, next_cursor = await service.list_activities(
        session, principal.tenant_id, case_id, filters, limit, cursor
    )
    set_next_link(request, response, next_cursor)
    medical = await service.medical_parts_for(session, principal, [a.id for a in rows])
    return Page[ActivityRead](
        items=[service.to_read(a, medical.get(a.id)) for a in rows], next_cursor=next_cursor
    )


@router.get(
    "/activities/{activity_id}",
    response_model=ActivityRead,
    responses=problem_responses(401, 404, 422),
    summary="Read an activity",
)
async def read_activity(
    activity_id: uuid.UUID, response: Response, session: SessionDep, principal: PrincipalDep
) -> ActivityRead:
    activity = await service.get_activity(session, principal.tenant_id, activity_id)
    set_etag(response, activity.version)
    medical = await service.medical_parts_for(session, principal, [activity.id])
    return service.to_read(activity, medical.get(activity.id))


@router.get(
    "/activity-kinds",
    response_model=list[ActivityKindRead],
    responses=problem_responses(401, 422),
    summary="The closed list of activity kinds and where each may be recorded",
)
async def activity_kinds(principal: PrincipalDep) -> list[ActivityKindRead]:
    return [
        ActivityKindRead(
            kind=facts.kind,
            title=facts.title,
            statutory_document=facts.statutory_document,
            physician_only=facts.physician_only,
            scope=facts.scope.value,
            satisfies=sorted(facts.satisfies),
        )
        for facts in ACTIVITY_KINDS.values()
    ]
