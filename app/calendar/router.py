"""Feed management under /api/v1 (keys and roles apply), and the feed itself outside it: a calendar app
sends no API key, so the feed's own secret token in the URL is what authorises the read."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from app.audit.service import set_created_resource
from app.calendar import service
from app.calendar.schemas import CalendarFeedCreate, CalendarFeedCreated, CalendarFeedRead
from app.db import SessionDep, UnauthenticatedSessionDep
from app.http import location, today
from app.problems import problem_responses
from app.schemas import Page
from app.security import PrincipalDep

router = APIRouter(prefix="/calendar-feeds", tags=["calendar"])
feed_router = APIRouter(tags=["calendar"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CalendarFeedCreated,
    responses=problem_responses(401, 403, 422),
    summary="Issue a calendar feed of a case manager's upcoming deadlines (its URL is in this response only)",
)
async def create_calendar_feed(
    body: CalendarFeedCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
) -> CalendarFeedCreated:
    feed, token = await service.create_feed(session, principal.tenant_id, body)
    set_created_resource(request, "calendar_feed", feed.id)
    response.headers["Location"] = location(request, f"/api/v1/calendar-feeds/{feed.id}")
    return CalendarFeedCreated(
        **CalendarFeedRead.model_validate(feed).model_dump(), url=location(request, f"/calendar/{token}.ics")
    )


@router.get(
    "",
    response_model=Page[CalendarFeedRead],
    responses=problem_responses(401, 403, 422),
    summary="List calendar feeds",
)
async def list_calendar_feeds(session: SessionDep, principal: PrincipalDep) -> Page[CalendarFeedRead]:
    feeds = await service.list_feeds(session, principal.tenant_id)
    return Page[CalendarFeedRead](items=[CalendarFeedRead.model_validate(f) for f in feeds], next_cursor=None)


@router.delete(
    "/{feed_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422),
    summary="Delete a calendar feed (its URL stops working at once)",
)
async def delete_calendar_feed(feed_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    await service.delete_feed(session, principal.tenant_id, feed_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@feed_router.get(
    "/calendar/{token}.ics",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "The feed (iCalendar, RFC 5545)"},
        **problem_responses(404),
    },
    summary="A case manager's open deadlines from today on, as iCalendar (the token is the secret)",
)
async def calendar_feed(token: str, request: Request, session: UnauthenticatedSessionDep) -> Response:
    body = await service.render_feed(session, token, today(), location(request, "/api/v1"))
    return Response(
        content=body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )
