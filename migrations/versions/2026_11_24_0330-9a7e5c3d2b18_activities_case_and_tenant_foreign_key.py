"""activities: one foreign key for the case and its tenant

Revision ID: 9a7e5c3d2b18
Revises: c41d8e7a2f95
Create Date: 2026-11-24 03:30:00+00:00

The foreign keys on `activities.case_id` and `activities.tenant_id` become one, on (case_id, tenant_id),
referring to a new unique constraint on cases (id, tenant_id): an activity can no longer name a case of
another tenant, and an insert runs one check instead of two. Validating the new key reads every
activity once (seconds per million rows here), under the migration's lock on `activities`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9a7e5c3d2b18"
down_revision: str | None = "c41d8e7a2f95"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_unique_constraint("uq_cases_id", "cases", ["id", "tenant_id"])
    op.drop_constraint("fk_activities_case_id_cases", "activities", type_="foreignkey")
    op.drop_constraint("fk_activities_tenant_id_tenants", "activities", type_="foreignkey")
    op.create_foreign_key(
        "fk_activities_case_id_cases",
        "activities",
        "cases",
        ["case_id", "tenant_id"],
        ["id", "tenant_id"],
        ondelete="CASCADE",
    )


def downgrade() -> None:
    op.drop_constraint("fk_activities_case_id_cases", "activities", type_="foreignkey")
    op.create_foreign_key(
        "fk_activities_tenant_id_tenants", "activities", "tenants", ["tenant_id"], ["id"], ondelete="CASCADE"
    )
    op.create_foreign_key(
        "fk_activities_case_id_cases", "activities", "cases", ["case_id"], ["id"], ondelete="CASCADE"
    )
    op.drop_constraint("uq_cases_id", "cases", type_="unique")
