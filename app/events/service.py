"""The transactional outbox: services call `emit` inside their transaction, so an event exists exactly
when its change was committed. Delivery happens later, from the outbox (see `app/webhooks/worker.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.catalogue import EventType
from app.models.events import OutboxEvent

# One statement object, executed with parameters: compiled once, not per call.
INSERT_EVENT = insert(OutboxEvent)


def event_row(tenant_id: uuid.UUID, event_type: EventType, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Payloads are thin by contract: ids, codes and dates only (see the catalogue)."""
    return {
        "id": uuid.uuid4(),
        "tenant_id": tenant_id,
        "type": event_type.value,
        "payload": to_jsonable_python(dict(payload)),
    }


async def emit(
    session: AsyncSession, tenant_id: uuid.UUID, event_type: EventType, payload: Mapping[str, Any]
) -> uuid.UUID:
    row = event_row(tenant_id, event_type, payload)
    await session.execute(INSERT_EVENT, row)
    event_id: uuid.UUID = row["id"]
    return event_id


async def emit_many(session: AsyncSession, rows: Iterable[dict[str, Any]]) -> None:
    """Rows built with `event_row`, in one multi-row INSERT (batches, the deadline scan)."""
    rows = list(rows)
    if rows:
        await session.execute(INSERT_EVENT, rows)
