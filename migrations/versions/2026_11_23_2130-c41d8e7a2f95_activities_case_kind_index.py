"""activities case and kind index

Revision ID: c41d8e7a2f95
Revises: 7f3c2a9e1b6d
Create Date: 2026-11-23 21:30:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c41d8e7a2f95"
down_revision: str | None = "7f3c2a9e1b6d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The timeline's inputs and the soft rules read a case's activities of a few kinds: by case alone,
    # every read fetched all of the case's activity rows (40-odd heap pages at 50 per case) to keep a few.
    op.create_index(
        "ix_activities_case_id_kind_occurred_on",
        "activities",
        ["case_id", "kind", "occurred_on"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_activities_case_id_kind_occurred_on", table_name="activities")
