"""Activities: the logged reintegration efforts and statutory documents (A1, A2)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain import catalogue
from app.domain.activity_kinds import ActivityKind
from app.models._types import created_at, one_of, sql_in, updated_at, uuid_pk
from app.models.tenants import Role

# The kinds a case's activities are looked up by (GET /cases/{id}, its timeline, every deadline refresh):
# the timeline's inputs, and the action plan and labour expert assessment that the soft rules date (P10).
KINDS_READ_BY_KIND = (*catalogue.TIMELINE_INPUT_KINDS, ActivityKind.LABOUR_EXPERT_ASSESSMENT.value)


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (
        one_of("kind", [kind.value for kind in ActivityKind], "kind_known"),
        one_of("recorded_by_role", [role.value for role in Role], "role_known"),
        # A5: an automation script's id is stored once per tenant.
        Index(
            "uq_activities_tenant_id_external_id",
            "tenant_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        Index("ix_activities_case_id_occurred_on", "case_id", "occurred_on"),
        # The timeline's inputs and the soft rules read a case's activities of a few kinds. Only those
        # kinds: the bulk that scripts post (contacts, applications, coaching) is never read by kind,
        # and leaving it out spares each of its inserts an index entry (a fifth of the activity insert).
        Index(
            "ix_activities_case_id_kind_occurred_on",
            "case_id",
            "kind",
            "occurred_on",
            postgresql_where=text(sql_in("kind", KINDS_READ_BY_KIND)),
        ),
        # Only the activities of a track: most are the case's own (track_id NULL), and no query looks
        # those up by track, so leaving them out spares each such insert an index entry.
        Index(
            "ix_activities_track_id_occurred_on",
            "track_id",
            "occurred_on",
            postgresql_where=text("track_id IS NOT NULL"),
        ),
        # One foreign key for the case and its tenant: an activity is always its case's tenant's, and a
        # row's insert runs one check instead of two (a 5,000-row batch about 15 ms less).
        ForeignKeyConstraint(["case_id", "tenant_id"], ["cases.id", "cases.tenant_id"], ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    case_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    track_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tracks.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    occurred_on: Mapped[date] = mapped_column(Date, nullable=False)
    summary: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    # Whether this record meets the requirements to satisfy its deadline (e.g. a signed action plan, T3).
    counts_for_deadline: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    external_id: Mapped[str | None] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_by_key_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    recorded_by_role: Mapped[str] = mapped_column(String(32), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    # The INSERT returns the server defaults (timestamps, version): no second round trip to read them.
    __mapper_args__ = {"eager_defaults": True}
