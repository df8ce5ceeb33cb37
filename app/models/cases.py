"""Cases (one employee's absence) and their sickness periods."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models._types import created_at, one_of, updated_at, uuid_pk


class CaseStatus(StrEnum):
    open = "open"
    recovered = "recovered"
    closed = "closed"


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        one_of("status", [status.value for status in CaseStatus], "status_known"),
        Index("ix_cases_tenant_id_created_at", "tenant_id", "created_at", "id"),
        Index("ix_cases_tenant_id_employee_ref", "tenant_id", "employee_ref"),
        Index("ix_cases_tenant_id_case_manager", "tenant_id", "case_manager"),
        # What the activities' composite foreign key refers to: a case's id with its tenant.
        UniqueConstraint("id", "tenant_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    employee_ref: Mapped[str] = mapped_column(String(200), nullable=False)
    employee_display_name: Mapped[str | None] = mapped_column(Text)
    first_sick_day: Mapped[date] = mapped_column(Date, nullable=False)
    case_manager: Mapped[str | None] = mapped_column(String(200))
    long_term_expected_on: Mapped[date | None] = mapped_column(Date)
    employment_ends_on: Mapped[date | None] = mapped_column(Date)
    # A3: only yes/no flags, never a reason or diagnosis.
    safety_net: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    work_accident: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    third_party_liability: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default=CaseStatus.open.value)
    closed_on: Mapped[date | None] = mapped_column(Date)
    # recovered / employment_ended / waiting_period_ended / other (catalogue.CLOSURE_REASONS)
    closure_reason: Mapped[str | None] = mapped_column(String(32))
    # T4's interval for this case; null means the catalogue's default.
    evaluation_interval_days: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __mapper_args__ = {"version_id_col": version}


class SicknessPeriod(Base):
    __tablename__ = "sickness_periods"
    __table_args__ = (
        CheckConstraint(text("ended_on IS NULL OR ended_on >= started_on"), name="ends_after_start"),
        CheckConstraint(text("pregnancy_leave_days >= 0"), name="leave_days_not_negative"),
        Index("ix_sickness_periods_case_id_started_on", "case_id", "started_on", unique=True),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    case_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
    )
    started_on: Mapped[date] = mapped_column(Date, nullable=False)
    ended_on: Mapped[date | None] = mapped_column(Date)
    # Pregnancy or maternity leave inside the gap before this period does not count towards the 28 days,
    # and the periods join only when flagged "same cause, not the pregnancy" (T0).
    pregnancy_leave_days: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    same_cause_not_pregnancy: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __mapper_args__ = {"version_id_col": version}
