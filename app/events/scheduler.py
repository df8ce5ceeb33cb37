"""Time-based events: deadline.due_soon and deadline.overdue, once per deadline and status.

No change to a case makes a deadline due soon; the passing of days does. The scan compares the stored
open deadlines with today and records each emitted (deadline, status) in `deadline_notifications`, whose
unique index on the deadline's identity makes "once" hold across replicas, restarts and the refreshes
that replace stored deadline rows. A transaction-scoped advisory lock lets one replica scan at a time
(the others skip that round). A scan emits what is due *now*, so after downtime it catches up: a
deadline that became overdue meanwhile gets its overdue event (not a stale due_soon one)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.catalogue import EventType
from app.events.service import emit_many, event_row
from app.models.deadlines import StoredDeadline
from app.models.events import DeadlineNotification

D = StoredDeadline
N = DeadlineNotification

# pg_try_advisory_xact_lock key of the scan (any constant unique within this database's locks).
SCAN_LOCK_KEY = 0x506F6F72_7477  # "Poortw"

# Rows per INSERT (PostgreSQL allows 32,767 bind parameters per statement).
CHUNK = 2000

STATUS_EVENTS = {"overdue": EventType.deadline_overdue, "due_soon": EventType.deadline_due_soon}


def _condition(status: str, today: date, horizon_days: int) -> ColumnElement[bool]:
    """The same boundaries as the worklist's status (app/deadlines/service.py)."""
    if status == "overdue":
        return and_(D.state == "open", D.due_on < today)
    return and_(D.state == "open", D.due_on >= today, D.due_on <= today + timedelta(days=horizon_days))


async def emit_deadline_events(session: AsyncSession, today: date, horizon_days: int) -> int:
    """Emit the due_soon and overdue events not emitted yet; returns how many. Call inside a transaction;
    the events commit with their notification records or not at all."""
    if not await session.scalar(select(func.pg_try_advisory_xact_lock(SCAN_LOCK_KEY))):
        return 0  # another replica is scanning; whatever it misses, the next round emits
    emitted = 0
    for status, event_type in STATUS_EVENTS.items():
        already = (
            select(N.id)
            .where(
                N.case_id == D.case_id,
                N.code == D.code,
                N.occurrence.is_not_distinct_from(D.occurrence),
                N.track_id.is_not_distinct_from(D.track_id),
                N.status == status,
            )
            .exists()
        )
        candidates = (
            await session.execute(
                select(D.tenant_id, D.case_id, D.code, D.rule, D.occurrence, D.track_id, D.due_on).where(
                    _condition(status, today, horizon_days), ~already
                )
            )
        ).all()
        for start in range(0, len(candidates), CHUNK):
            emitted += await _notify(session, status, event_type, candidates[start : start + CHUNK])
    return emitted


async def _notify(
    session: AsyncSession, status: str, event_type: EventType, candidates: Sequence[Any]
) -> int:
    # ON CONFLICT DO NOTHING: should a scan without the lock race this one, the unique index decides.
    inserted = await session.execute(
        insert(N)
        .values(
            [
                {
                    "tenant_id": c.tenant_id,
                    "case_id": c.case_id,
                    "code": c.code,
                    "occurrence": c.occurrence,
                    "track_id": c.track_id,
                    "status": status,
                    "due_on": c.due_on,
                }
                for c in candidates
            ]
        )
        .on_conflict_do_nothing()
        .returning(N.case_id, N.code, N.occurrence, N.track_id)
    )
    fresh = {tuple(row) for row in inserted}
    events = [
        event_row(c.tenant_id, event_type, deadline_payload(c))
        for c in candidates
        if (c.case_id, c.code, c.occurrence, c.track_id) in fresh
    ]
    await emit_many(session, events)
    return len(events)


def deadline_payload(deadline: Any) -> dict[str, Any]:
    return {
        "case_id": deadline.case_id,
        "code": deadline.code,
        "rule": deadline.rule,
        "occurrence": deadline.occurrence,
        "track_id": deadline.track_id,
        "due_on": deadline.due_on,
    }
