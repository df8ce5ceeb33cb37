"""The worklist: stored deadlines across a tenant's cases, status derived from `due_on` and `as_of` in
the query, so no nightly job is needed for correctness."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.http import decode_cursor, encode_cursor
from app.models.cases import Case
from app.models.deadlines import StoredDeadline
from app.models.tracks import Track

D = StoredDeadline


def status_expression(as_of: date, horizon_days: int) -> ColumnElement[str]:
    return case(
        (D.state != "open", D.state),
        (D.due_on < as_of, literal("overdue")),
        (D.due_on <= as_of + timedelta(days=horizon_days), literal("due_soon")),
        else_=literal("upcoming"),
    )


def status_condition(status: str, as_of: date, horizon_days: int) -> ColumnElement[bool]:
    """The status filter as a condition on the indexed columns (not on the CASE expression)."""
    soon = as_of + timedelta(days=horizon_days)
    if status == "overdue":
        return and_(D.state == "open", D.due_on < as_of)
    if status == "due_soon":
        return and_(D.state == "open", D.due_on >= as_of, D.due_on <= soon)
    if status == "upcoming":
        return and_(D.state == "open", D.due_on > soon)
    return D.state == status


def overdue_exists(as_of: date) -> ColumnElement[bool]:
    """For GET /cases?has_overdue=: the case has an open deadline past its due date."""
    return select(D.id).where(D.case_id == Case.id, D.state == "open", D.due_on < as_of).exists()


@dataclass(frozen=True, slots=True)
class WorklistFilters:
    statuses: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    due_from: date | None = None
    due_to: date | None = None
    case_manager: str | None = None
    case_id: uuid.UUID | None = None
    # Coach keys: only cases with a track of this provider.
    provider: str | None = None


async def worklist(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    filters: WorklistFilters,
    as_of: date,
    horizon_days: int,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    query = (
        select(
            D.id,
            D.case_id,
            Case.employee_ref,
            Case.case_manager,
            D.code,
            D.rule,
            D.title,
            D.occurrence,
            D.track_id,
            D.due_on,
            D.window_starts_on,
            status_expression(as_of, horizon_days).label("status"),
            D.satisfied_by,
            D.satisfied_on,
            D.source,
        )
        .join(Case, Case.id == D.case_id)
        .where(D.tenant_id == tenant_id, D.due_on.is_not(None))
    )
    if filters.statuses:
        query = query.where(or_(*(status_condition(s, as_of, horizon_days) for s in filters.statuses)))
    if filters.codes:
        query = query.where(D.code.in_(filters.codes))
    if filters.due_from is not None:
        query = query.where(D.due_on >= filters.due_from)
    if filters.due_to is not None:
        query = query.where(D.due_on <= filters.due_to)
    if filters.case_manager is not None:
        query = query.where(Case.case_manager == filters.case_manager)
    if filters.case_id is not None:
        query = query.where(D.case_id == filters.case_id)
    if filters.provider is not None:
        query = query.where(exists().where(Track.case_id == D.case_id, Track.provider == filters.provider))
    if cursor is not None:
        position = decode_cursor(cursor, ("due_on", "id"))
        after_due, after_id = date.fromisoformat(position["due_on"]), uuid.UUID(position["id"])
        query = query.where(or_(D.due_on > after_due, and_(D.due_on == after_due, D.id > after_id)))
    rows = (await session.execute(query.order_by(D.due_on, D.id).limit(limit + 1))).mappings().all()
    items = [dict(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor({"due_on": last["due_on"].isoformat(), "id": str(last["id"])})
    return items, next_cursor
