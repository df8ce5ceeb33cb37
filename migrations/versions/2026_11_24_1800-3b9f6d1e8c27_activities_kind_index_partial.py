"""activities: the kind index holds only the kinds read by kind

Revision ID: 3b9f6d1e8c27
Revises: 5d2e8b4f7a61
Create Date: 2026-11-24 18:00:00+00:00

`ix_activities_case_id_kind_occurred_on` becomes partial: only the kinds a case's activities are looked
up by (the timeline's inputs, the action plan and the labour expert assessment). The statements that use
it name those kinds as literals, which imply the condition. The bulk that scripts post (contacts,
applications, coaching) gets no entry, which spares each of those inserts a fifth of its cost. Building
it reads the table once (seconds per million rows here), under the migration's lock on `activities`.
The kinds are written out: a migration keeps the list it was written with.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b9f6d1e8c27"
down_revision: str | None = "5d2e8b4f7a61"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_activities_case_id_kind_occurred_on"
KINDS_READ_BY_KIND = (
    "occupational_health_notification",
    "problem_analysis",
    "action_plan",
    "evaluation",
    "action_plan_update",
    "uwv_sick_notification",
    "first_year_evaluation",
    "progress_report",
    "current_assessment",
    "final_evaluation",
    "wia_application",
    "riv_submission",
    "early_iva_application",
    "voluntary_extension",
    "wage_sanction",
    "deadline_waiver",
    "work_resumption",
    "labour_expert_assessment",
)


def upgrade() -> None:
    op.drop_index(INDEX, table_name="activities")
    condition = "kind IN (" + ", ".join(f"'{kind}'" for kind in KINDS_READ_BY_KIND) + ")"
    op.create_index(
        INDEX, "activities", ["case_id", "kind", "occurred_on"], postgresql_where=sa.text(condition)
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="activities")
    op.create_index(INDEX, "activities", ["case_id", "kind", "occurred_on"])
