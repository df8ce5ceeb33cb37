"""Column helpers shared by the tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.ids import new_id


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)


def created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def updated_at() -> Mapped[datetime]:
    return mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


def sql_in(column: str, values: Iterable[str]) -> str:
    """`column IN ('a', 'b', …)` for constants of ours (kinds, roles), never for a client's input."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({allowed})"


def one_of(column: str, values: Iterable[str], name: str) -> CheckConstraint:
    """Enums are stored as text with a check constraint (easy to extend, readable in SQL)."""
    return CheckConstraint(text(sql_in(column, values)), name=name)
