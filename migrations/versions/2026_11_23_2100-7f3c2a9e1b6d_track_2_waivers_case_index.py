"""track_2_waivers case index

Revision ID: 7f3c2a9e1b6d
Revises: b5991521d4fa
Create Date: 2026-11-23 21:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7f3c2a9e1b6d"
down_revision: str | None = "b5991521d4fa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The only index on case_id was partial (live waivers): the timeline's read of all of a case's
    # waivers scanned the whole table.
    op.create_index("ix_track_2_waivers_case_id", "track_2_waivers", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_track_2_waivers_case_id", table_name="track_2_waivers")
