"""The transactional outbox: services call `emit` inside their transaction, so an event exists exactly
when its change was committed. Delivery happens later, from the outbox (see `app/webhooks/worker.py`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import driver_connection
from app.events.catalogue import EventType
from app.ids import new_id


def event_row(tenant_id: uuid.UUID, event_type: EventType, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Payloads are thin by contract: ids, codes and dates only (see the catalogue)."""
    return {
        "id": new_id(),
        "tenant_id": tenant_id,
        "type": event_type.value,
        "payload": to_jsonable_python(dict(payload)),
    }


async def emit(
    session: AsyncSession, tenant_id: uuid.UUID, event_type: EventType, payload: Mapping[str, Any]
) -> uuid.UUID:
    row = event_row(tenant_id, event_type, payload)
    await emit_many(session, [row])
    event_id: uuid.UUID = row["id"]
    return event_id


# Many events in one statement on the driver connection, the arrays bound as four parameters: a batch's
# 5,000 events cost a tenth of the ORM's multi-row INSERT, which compiles and binds every value. The
# rows are inserted in the given order, so each one's clock_timestamp() keeps it.
INSERT_EVENTS = """
INSERT INTO outbox_events (id, tenant_id, type, payload)
SELECT e.id, e.tenant_id, e.type, e.payload
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[])
     WITH ORDINALITY AS e(id, tenant_id, type, payload, n)
ORDER BY e.n
"""


async def emit_many(session: AsyncSession, rows: Iterable[dict[str, Any]]) -> None:
    """Rows built with `event_row`, in one INSERT (batches, deadline refreshes, the deadline scan)."""
    rows = list(rows)
    if not rows:
        return
    connection = await driver_connection(session)
    await connection.execute(
        INSERT_EVENTS,
        [row["id"] for row in rows],
        [row["tenant_id"] for row in rows],
        [row["type"] for row in rows],
        [json.dumps(row["payload"]) for row in rows],
    )
