"""activities: the track index holds only activities of a track

Revision ID: 5d2e8b4f7a61
Revises: 9a7e5c3d2b18
Create Date: 2026-11-24 12:00:00+00:00

`ix_activities_track_id_occurred_on` becomes partial (`WHERE track_id IS NOT NULL`). Every query that uses
it names a track, and most activities are the case's own (no track): those no longer get an entry, so
their inserts skip the index and it shrinks to the track activities. Building it reads the table once
(seconds per million rows here), under the migration's lock on `activities`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d2e8b4f7a61"
down_revision: str | None = "9a7e5c3d2b18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_activities_track_id_occurred_on"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="activities")
    op.create_index(
        INDEX, "activities", ["track_id", "occurred_on"], postgresql_where=sa.text("track_id IS NOT NULL")
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="activities")
    op.create_index(INDEX, "activities", ["track_id", "occurred_on"])
