from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from app.db import SessionDep
from app.http import horizon_days, location, set_etag, today
from app.idempotency import IdempotencyDep
from app.problems import problem_responses
from app.schemas import Page
from app.security import PrincipalDep
from app.tracks import service
from app.tracks.schemas import (
    PhaseTransitionCreate,
    TrackClosure,
    TrackCreate,
    TrackRead,
    WaiverPut,
    WaiverRead,
)

router = APIRouter(tags=["tracks"])


@router.post(
    "/cases/{case_id}/tracks",
    status_code=status.HTTP_201_CREATED,
    response_model=TrackRead,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Start a track (409: P1 one open track per kind, P2 dates, P7 waiver)",
)
async def start_track(
    case_id: uuid.UUID,
    body: TrackCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    idem: IdempotencyDep,
) -> TrackRead:
    track = await service.start_track(
        session, principal.tenant_id, case_id, body, today(), horizon_days(request)
    )
    response.headers["Location"] = location(request, f"/api/v1/tracks/{track.id}")
    set_etag(response, track.version)
    result = await service.read_track(session, track)
    await idem.remember(response, status.HTTP_201_CREATED, result)
    return result


@router.get(
    "/cases/{case_id}/tracks",
    response_model=Page[TrackRead],
    responses=problem_responses(401, 404, 422),
    summary="The case's tracks, oldest first",
)
async def list_tracks(case_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Page[TrackRead]:
    return Page[TrackRead](
        items=await service.list_tracks(session, principal.tenant_id, case_id), next_cursor=None
    )


@router.get(
    "/tracks/{track_id}",
    response_model=TrackRead,
    responses=problem_responses(401, 404, 422),
    summary="Read a track",
)
async def read_track(
    track_id: uuid.UUID, response: Response, session: SessionDep, principal: PrincipalDep
) -> TrackRead:
    track = await service.get_track(session, principal.tenant_id, track_id)
    set_etag(response, track.version)
    return await service.read_track(session, track)


@router.post(
    "/tracks/{track_id}/phase-transitions",
    status_code=status.HTTP_201_CREATED,
    response_model=TrackRead,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Move the track to its next phase (409 rule P3 with what is missing)",
)
async def transition(
    track_id: uuid.UUID,
    body: PhaseTransitionCreate,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    idem: IdempotencyDep,
) -> TrackRead:
    track = await service.transition(session, principal.tenant_id, track_id, body, today())
    set_etag(response, track.version)
    result = await service.read_track(session, track)
    await idem.remember(response, status.HTTP_201_CREATED, result)
    return result


@router.post(
    "/tracks/{track_id}/closure",
    response_model=TrackRead,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Close the track with an outcome (409: P4 Track 1 while Track 2 runs, P5 final report)",
)
async def close_track(
    track_id: uuid.UUID,
    body: TrackClosure,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    idem: IdempotencyDep,
) -> TrackRead:
    track = await service.close_track(
        session,
        principal.tenant_id,
        track_id,
        body,
        today(),
        horizon_days(request),
        allow_small_employer_track_1_closure=request.app.state.settings.allow_small_employer_track_1_closure,
    )
    set_etag(response, track.version)
    result = await service.read_track(session, track)
    await idem.remember(response, status.HTTP_200_OK, result)
    return result


@router.put(
    "/cases/{case_id}/track-2-waiver",
    response_model=WaiverRead,
    responses={
        201: {"description": "Recorded", "model": WaiverRead},
        **problem_responses(401, 403, 404, 409, 422),
    },
    summary="Record (or replace) the Track 2 waiver (409 rule P7)",
)
async def put_waiver(
    case_id: uuid.UUID,
    body: WaiverPut,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
) -> WaiverRead:
    waiver, replaced = await service.put_waiver(
        session, principal.tenant_id, case_id, body, today(), horizon_days(request)
    )
    response.status_code = status.HTTP_200_OK if replaced else status.HTTP_201_CREATED
    return service.waiver_to_read(waiver)


@router.get(
    "/cases/{case_id}/track-2-waiver",
    response_model=WaiverRead,
    responses=problem_responses(401, 404, 422),
    summary="The Track 2 waiver in force",
)
async def get_waiver(case_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> WaiverRead:
    return service.waiver_to_read(await service.get_waiver(session, principal.tenant_id, case_id))


@router.delete(
    "/cases/{case_id}/track-2-waiver",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422),
    summary="Withdraw the Track 2 waiver (it stays on record, withdrawn)",
)
async def withdraw_waiver(
    case_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    await service.withdraw_waiver(session, principal.tenant_id, case_id, today(), horizon_days(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
