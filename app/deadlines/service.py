"""The worklist: stored deadlines across a tenant's cases, status derived from `due_on` and `as_of` in
the query, so no nightly job is needed for correctness."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.db import SqlArguments
from app.http import decode_cursor, encode_cursor
from app.json_sql import json_items, page_limit


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


# The worklist as plain SQL on the driver connection (see `app.db.driver_connection`): building and
# compiling the equivalent Core select cost more than the query itself (GET /deadlines at 50 rows spent
# ~40% of its CPU in SQLAlchemy). $1 tenant, $2 as_of, $3 the last due_soon day; filters add parameters.
# Its columns are WorklistDeadline's fields, in order: each row is written out as the item's JSON.
WORKLIST_SELECT = """
SELECT d.id, d.case_id, c.employee_ref, c.case_manager, d.code, d.rule, d.title, d.occurrence, d.track_id,
       d.due_on, d.window_starts_on,
       CASE WHEN d.state <> 'open' THEN d.state WHEN d.due_on < $2 THEN 'overdue'
            WHEN d.due_on <= $3 THEN 'due_soon' ELSE 'upcoming' END AS status,
       d.satisfied_by, d.satisfied_on, d.source
FROM deadlines AS d JOIN cases AS c ON c.id = d.case_id
WHERE d.tenant_id = $1 AND d.due_on IS NOT NULL"""
# Each status as a condition on the indexed columns (not on the CASE expression), so the index is used.
WORKLIST_STATUS_CONDITIONS = {
    "overdue": "(d.state = 'open' AND d.due_on < $2)",
    "due_soon": "(d.state = 'open' AND d.due_on >= $2 AND d.due_on <= $3)",
    "upcoming": "(d.state = 'open' AND d.due_on > $3)",
}


def worklist_statement(
    tenant_id: uuid.UUID,
    filters: WorklistFilters,
    as_of: date,
    horizon_days: int,
    limit: int,
    cursor: str | None,
) -> tuple[str, list[Any]]:
    """The worklist page's statement and its arguments (the query-plan test EXPLAINs exactly these): per
    item its JSON text (`app.json_sql`), then its due date and id for the cursor."""
    arguments = SqlArguments([tenant_id, as_of, as_of + timedelta(days=horizon_days)])
    conditions = []
    if filters.statuses:
        conditions.append(
            "("
            + " OR ".join(
                WORKLIST_STATUS_CONDITIONS.get(status) or f"d.state = {arguments.bind(status)}"
                for status in filters.statuses
            )
            + ")"
        )
    if filters.codes:
        conditions.append(f"d.code = ANY({arguments.bind(list(filters.codes))}::text[])")
    if filters.due_from is not None:
        conditions.append(f"d.due_on >= {arguments.bind(filters.due_from)}")
    if filters.due_to is not None:
        conditions.append(f"d.due_on <= {arguments.bind(filters.due_to)}")
    if filters.case_manager is not None:
        conditions.append(f"c.case_manager = {arguments.bind(filters.case_manager)}")
    if filters.case_id is not None:
        conditions.append(f"d.case_id = {arguments.bind(filters.case_id)}")
    if filters.provider is not None:
        provider = arguments.bind(filters.provider)
        conditions.append(
            f"EXISTS (SELECT 1 FROM tracks AS t WHERE t.case_id = d.case_id AND t.provider = {provider})"  # noqa: S608
        )
    if cursor is not None:
        position = decode_cursor(cursor, {"due_on": date.fromisoformat, "id": uuid.UUID})
        after_due, after_id = position["due_on"], position["id"]
        due = arguments.bind(after_due)
        conditions.append(f"(d.due_on > {due} OR (d.due_on = {due} AND d.id > {arguments.bind(after_id)}))")
    statement = WORKLIST_SELECT + "".join(f"\n  AND {condition}" for condition in conditions)
    page = statement + f"\nORDER BY d.due_on, d.id LIMIT {page_limit(limit)}"
    return json_items(page, "row_to_json(page)", ("due_on", "id")), arguments


async def worklist(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    filters: WorklistFilters,
    as_of: date,
    horizon_days: int,
    limit: int,
    cursor: str | None,
) -> tuple[list[str], str | None]:
    """A page of the worklist: each item as WorklistDeadline's JSON text, and the next page's cursor."""
    statement, arguments = worklist_statement(tenant_id, filters, as_of, horizon_days, limit, cursor)
    rows = await audit.fetch_with_success_entry(session, statement, *arguments)
    next_cursor = None
    if len(rows) > limit:
        _, due_on, last_id = rows[limit - 1]
        next_cursor = encode_cursor({"due_on": due_on.isoformat(), "id": str(last_id)})
    return [row[0] for row in rows[:limit]], next_cursor
