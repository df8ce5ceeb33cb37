"""Calendar feeds: issue (the token is shown once and stored as its SHA-256 hash), list, delete, and
render a feed as iCalendar with the `icalendar` library.

A feed holds the case manager's open deadlines from today on: the deadline, its rule, its due date and
the case id. No employee name or reference: calendars are often synced to third-party services."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.calendar.schemas import CalendarFeedCreate
from app.domain.errors import NotFound
from app.ids import new_id
from app.models.calendar import CalendarFeed
from app.models.cases import Case
from app.models.deadlines import StoredDeadline

TOKEN_PREFIX = "pwc_"  # noqa: S105  (a prefix, not a secret)
FEED_LIMIT = 2000  # deadlines per feed: far more than one person's caseload


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_feed(
    session: AsyncSession, tenant_id: uuid.UUID, body: CalendarFeedCreate
) -> tuple[CalendarFeed, str]:
    token = generate_token()
    feed = CalendarFeed(
        id=new_id(),
        tenant_id=tenant_id,
        case_manager=body.case_manager,
        token_prefix=token[:12],
        token_hash=hash_token(token),
    )
    session.add(feed)
    await session.flush()
    await session.refresh(feed)
    return feed, token


async def list_feeds(session: AsyncSession, tenant_id: uuid.UUID) -> list[CalendarFeed]:
    query = (
        select(CalendarFeed)
        .where(CalendarFeed.tenant_id == tenant_id)
        .order_by(CalendarFeed.created_at, CalendarFeed.id)
    )
    return list((await session.execute(query)).scalars())


async def delete_feed(session: AsyncSession, tenant_id: uuid.UUID, feed_id: uuid.UUID) -> None:
    feed = (
        await session.execute(
            select(CalendarFeed).where(CalendarFeed.id == feed_id, CalendarFeed.tenant_id == tenant_id)
        )
    ).scalar_one_or_none()
    if feed is None:
        raise NotFound(f"No calendar feed {feed_id}.")
    await session.delete(feed)
    await session.flush()


async def render_feed(session: AsyncSession, token: str, today: date, api_base_url: str) -> bytes:
    """The feed named by this token as an iCalendar document; NotFound for an unknown token."""
    feed = (
        await session.execute(
            select(CalendarFeed.tenant_id, CalendarFeed.case_manager).where(
                CalendarFeed.token_hash == hash_token(token)
            )
        )
    ).one_or_none()
    if feed is None:
        raise NotFound("No calendar feed at this address.")
    D = StoredDeadline
    rows = await session.execute(
        select(D.case_id, D.code, D.rule, D.title, D.occurrence, D.track_id, D.due_on)
        .join(Case, Case.id == D.case_id)
        .where(
            Case.tenant_id == feed.tenant_id,
            Case.case_manager == feed.case_manager,
            D.state == "open",
            D.due_on >= today,
        )
        .order_by(D.due_on, D.case_id, D.code)
        .limit(FEED_LIMIT)
    )
    calendar = Calendar()
    calendar.add("prodid", "-//Poortwachter//Deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Poortwachter deadlines: {feed.case_manager}")
    stamp = datetime.now(UTC)
    for row in rows:
        event = Event()
        # Stable across refreshes of the stored rows, so calendar apps update events instead of duplicating.
        event.add(
            "uid", f"{row.case_id}-{row.code}-{row.occurrence or 0}-{row.track_id or 'case'}@poortwachter"
        )
        event.add("dtstamp", stamp)
        event.add("dtstart", row.due_on)
        event.add("dtend", row.due_on + timedelta(days=1))
        event.add("summary", f"{row.title} ({row.rule})")
        event.add("description", f"Deadline {row.code} ({row.rule}) of case {row.case_id}, due {row.due_on}.")
        event.add("url", f"{api_base_url}/cases/{row.case_id}")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    document: bytes = calendar.to_ical()
    return document
