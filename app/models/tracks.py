"""Tracks, their phase history (a new row per transition, never an overwrite) and Track 2 waivers."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain.activity_kinds import Track2WaiverReason, TrackKind, TrackOutcome, TrackStatus
from app.models._types import created_at, one_of, updated_at, uuid_pk


class Track(Base):
    __tablename__ = "tracks"
    __table_args__ = (
        one_of("kind", [kind.value for kind in TrackKind], "kind_known"),
        one_of("status", [status.value for status in TrackStatus], "status_known"),
        one_of("outcome", [outcome.value for outcome in TrackOutcome], "outcome_known"),
        CheckConstraint(text("ended_on IS NULL OR ended_on >= started_on"), name="ends_after_start"),
        CheckConstraint(
            text("(status = 'closed') = (ended_on IS NOT NULL AND outcome IS NOT NULL)"),
            name="closed_has_end_and_outcome",
        ),
        # P1 in the database too: at most one open track of each kind per case, whatever races.
        Index(
            "uq_tracks_one_open_per_kind",
            "case_id",
            "kind",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_tracks_case_id", "case_id"),
        Index("ix_tracks_tenant_id_provider", "tenant_id", "provider"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    case_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default=TrackStatus.OPEN.value)
    started_on: Mapped[date] = mapped_column(Date, nullable=False)
    ended_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(40))
    closing_note: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str | None] = mapped_column(Text)
    coach: Mapped[str | None] = mapped_column(Text)
    progress_interval_days: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __mapper_args__ = {"version_id_col": version}


class TrackPhase(Base):
    __tablename__ = "track_phases"
    __table_args__ = (
        # A phase is entered once per track: two racing identical transitions cannot both write.
        Index("uq_track_phases_track_id_phase", "track_id", "phase", unique=True),
        CheckConstraint(text("left_on IS NULL OR left_on >= entered_on"), name="leaves_after_entry"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    track_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tracks.id", ondelete="CASCADE"), nullable=False
    )
    phase: Mapped[str] = mapped_column(String(40), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    entered_on: Mapped[date] = mapped_column(Date, nullable=False)
    left_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()


class Track2Waiver(Base):
    """P7. Withdrawal sets withdrawn_on; the row stays, so the record of what was decided survives."""

    __tablename__ = "track_2_waivers"
    __table_args__ = (
        one_of("reason", [reason.value for reason in Track2WaiverReason], "reason_known"),
        Index(
            "uq_track_2_waivers_one_live_per_case",
            "case_id",
            unique=True,
            postgresql_where=text("withdrawn_on IS NULL"),
        ),
        # The timeline reads a case's waivers, withdrawn ones included, on every read and refresh.
        Index("ix_track_2_waivers_case_id", "case_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    case_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
    )
    reason: Mapped[str] = mapped_column(String(40), nullable=False)
    recorded_on: Mapped[date] = mapped_column(Date, nullable=False)
    expected_return_on: Mapped[date | None] = mapped_column(Date)
    employer_consent: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    employee_consent: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    note: Mapped[str | None] = mapped_column(Text)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at()
