"""The transactional outbox, and the record of which time-based deadline events were emitted."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.events.catalogue import EventType
from app.models._types import one_of, uuid_pk

TIME_BASED_STATUSES = ("due_soon", "overdue")


class OutboxEvent(Base):
    """One domain event, inserted by the change that caused it; the dispatcher fans it out to the
    subscribed webhook endpoints and stamps `dispatched_at`."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        one_of("type", [event.value for event in EventType], "type_known"),
        # The dispatcher's claim: the oldest events not yet fanned out.
        Index(
            "ix_outbox_events_occurred_at_undispatched",
            "occurred_at",
            postgresql_where=text("dispatched_at IS NULL"),
        ),
        Index("ix_outbox_events_tenant_id_occurred_at", "tenant_id", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    # The wall clock, not the transaction start: events of one transaction keep their order.
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeadlineNotification(Base):
    """A due_soon or overdue event already emitted for a deadline. Keyed by the deadline's identity
    (case, code, occurrence, track), not the stored row, which every refresh replaces: so each status is
    emitted once per deadline, whichever replica's scheduler gets there first."""

    __tablename__ = "deadline_notifications"
    __table_args__ = (
        one_of("status", TIME_BASED_STATUSES, "status_known"),
        Index(
            "ix_deadline_notifications_identity",
            "case_id",
            "code",
            "occurrence",
            "track_id",
            "status",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    case_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
    )
    code: Mapped[str] = mapped_column(String(60), nullable=False)
    occurrence: Mapped[int | None] = mapped_column(Integer)
    track_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    notified_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
