"""tenants keys cases sickness periods

Revision ID: 70cc505a8b39
Revises:
Create Date: 2026-11-23 10:54:19.833131+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "70cc505a8b39"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenants_slug")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("provider", sa.Text(), nullable=True),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('admin', 'case_manager', 'occupational_physician', 'coach', 'viewer', 'integration')",
            name=op.f("ck_api_keys_role_known"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_api_keys_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index("ix_api_keys_tenant_id", "api_keys", ["tenant_id"], unique=False)
    op.create_table(
        "cases",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("employee_ref", sa.String(length=200), nullable=False),
        sa.Column("employee_display_name", sa.Text(), nullable=True),
        sa.Column("first_sick_day", sa.Date(), nullable=False),
        sa.Column("case_manager", sa.String(length=200), nullable=True),
        sa.Column("long_term_expected_on", sa.Date(), nullable=True),
        sa.Column("employment_ends_on", sa.Date(), nullable=True),
        sa.Column("safety_net", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("work_accident", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("third_party_liability", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('open', 'recovered', 'closed')", name=op.f("ck_cases_status_known")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_cases_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    op.create_index("ix_cases_tenant_id_case_manager", "cases", ["tenant_id", "case_manager"], unique=False)
    op.create_index("ix_cases_tenant_id_created_at", "cases", ["tenant_id", "created_at", "id"], unique=False)
    op.create_index("ix_cases_tenant_id_employee_ref", "cases", ["tenant_id", "employee_ref"], unique=False)
    op.create_table(
        "sickness_periods",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("pregnancy_leave_days", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("same_cause_not_pregnancy", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "ended_on IS NULL OR ended_on >= started_on", name=op.f("ck_sickness_periods_ends_after_start")
        ),
        sa.CheckConstraint(
            "pregnancy_leave_days >= 0", name=op.f("ck_sickness_periods_leave_days_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_sickness_periods_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sickness_periods_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sickness_periods")),
    )
    op.create_index(
        "ix_sickness_periods_case_id_started_on", "sickness_periods", ["case_id", "started_on"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_sickness_periods_case_id_started_on", table_name="sickness_periods")
    op.drop_table("sickness_periods")
    op.drop_index("ix_cases_tenant_id_employee_ref", table_name="cases")
    op.drop_index("ix_cases_tenant_id_created_at", table_name="cases")
    op.drop_index("ix_cases_tenant_id_case_manager", table_name="cases")
    op.drop_table("cases")
    op.drop_index("ix_api_keys_tenant_id", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("tenants")
