"""open deadline indexes

Revision ID: b5991521d4fa
Revises: 2c4b6d1e5a04
Create Date: 2026-11-23 12:46:39.060876+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b5991521d4fa"
down_revision: str | None = "2c4b6d1e5a04"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index(
        op.f("ix_deadlines_tenant_id_due_on_open"),
        table_name="deadlines",
        postgresql_where="((state)::text = 'open'::text)",
    )
    op.create_index(
        "ix_deadlines_open_case_id_due_on",
        "deadlines",
        ["case_id", "due_on"],
        unique=False,
        postgresql_where=sa.text("state = 'open'"),
    )
    op.create_index(
        "ix_deadlines_open_tenant_id_due_on_id",
        "deadlines",
        ["tenant_id", "due_on", "id"],
        unique=False,
        postgresql_where=sa.text("state = 'open'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_deadlines_open_tenant_id_due_on_id",
        table_name="deadlines",
        postgresql_where=sa.text("state = 'open'"),
    )
    op.drop_index(
        "ix_deadlines_open_case_id_due_on", table_name="deadlines", postgresql_where=sa.text("state = 'open'")
    )
    op.create_index(
        op.f("ix_deadlines_tenant_id_due_on_open"),
        "deadlines",
        ["tenant_id", "due_on"],
        unique=False,
        postgresql_where="((state)::text = 'open'::text)",
    )
