"""tracks phases waivers activities deadlines

Revision ID: d74e09440488
Revises: 70cc505a8b39
Create Date: 2026-11-23 11:05:39.567171+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d74e09440488"
down_revision: str | None = "70cc505a8b39"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deadlines",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("rule", sa.String(length=8), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=True),
        sa.Column("track_id", sa.UUID(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("window_starts_on", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("satisfied_by", sa.String(length=64), nullable=True),
        sa.Column("satisfied_on", sa.Date(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "state IN ('open', 'met', 'met_late', 'waived', 'suspended', 'not_applicable')",
            name=op.f("ck_deadlines_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_deadlines_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_deadlines_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadlines")),
    )
    op.create_index("ix_deadlines_case_id", "deadlines", ["case_id"], unique=False)
    op.create_index(
        "ix_deadlines_tenant_id_code_due_on", "deadlines", ["tenant_id", "code", "due_on"], unique=False
    )
    op.create_index("ix_deadlines_tenant_id_due_on", "deadlines", ["tenant_id", "due_on", "id"], unique=False)
    op.create_index(
        "ix_deadlines_tenant_id_due_on_open",
        "deadlines",
        ["tenant_id", "due_on"],
        unique=False,
        postgresql_where=sa.text("state = 'open'"),
    )
    op.create_table(
        "track_2_waivers",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("expected_return_on", sa.Date(), nullable=True),
        sa.Column("employer_consent", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("employee_consent", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "reason IN ('return_within_3_months', 'marginal_capacity', 'retirement_within_1_year')",
            name=op.f("ck_track_2_waivers_reason_known"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_track_2_waivers_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_track_2_waivers_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track_2_waivers")),
    )
    op.create_index(
        "uq_track_2_waivers_one_live_per_case",
        "track_2_waivers",
        ["case_id"],
        unique=True,
        postgresql_where=sa.text("withdrawn_on IS NULL"),
    )
    op.create_table(
        "tracks",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("closing_note", sa.Text(), nullable=True),
        sa.Column("provider", sa.Text(), nullable=True),
        sa.Column("coach", sa.Text(), nullable=True),
        sa.Column("progress_interval_days", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(status = 'closed') = (ended_on IS NOT NULL AND outcome IS NOT NULL)",
            name=op.f("ck_tracks_closed_has_end_and_outcome"),
        ),
        sa.CheckConstraint("kind IN ('track_1', 'track_2')", name=op.f("ck_tracks_kind_known")),
        sa.CheckConstraint(
            "outcome IN ('sustainable_return', 'case_closed', 'no_internal_prospect', 'placed_external', 'work_experience_or_secondment', 'wia_preparation', 'returned_internal')",
            name=op.f("ck_tracks_outcome_known"),
        ),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_tracks_status_known")),
        sa.CheckConstraint(
            "ended_on IS NULL OR ended_on >= started_on", name=op.f("ck_tracks_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_tracks_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_tracks_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracks")),
    )
    op.create_index("ix_tracks_case_id", "tracks", ["case_id"], unique=False)
    op.create_index("ix_tracks_tenant_id_provider", "tracks", ["tenant_id", "provider"], unique=False)
    op.create_index(
        "uq_tracks_one_open_per_kind",
        "tracks",
        ["case_id", "kind"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "activities",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("track_id", sa.UUID(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("counts_for_deadline", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_by_key_id", sa.UUID(), nullable=True),
        sa.Column("recorded_by_role", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('occupational_health_notification', 'problem_analysis', 'problem_analysis_update', 'action_plan', 'action_plan_update', 'evaluation', 'first_year_evaluation', 'current_assessment', 'final_evaluation', 'employee_view', 'uwv_sick_notification', 'wia_application', 'riv_submission', 'early_iva_application', 'labour_expert_assessment', 'expert_opinion_request', 'physician_consultation', 'employee_contact', 'voluntary_extension', 'wage_sanction', 'deadline_waiver', 'job_inventory', 'workplace_adjustment', 'work_resumption', 'conclusion', 'intake_meeting', 'personal_profile', 'trajectory_plan', 'labour_market_analysis', 'job_search_profile', 'vacancy_search', 'employer_contact', 'network_meeting', 'secondment', 'work_experience_placement', 'job_placement', 'progress_report', 'final_report', 'job_application', 'job_interview', 'training', 'coaching_session')",
            name=op.f("ck_activities_kind_known"),
        ),
        sa.CheckConstraint(
            "recorded_by_role IN ('admin', 'case_manager', 'occupational_physician', 'coach', 'viewer', 'integration')",
            name=op.f("ck_activities_role_known"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_activities_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_key_id"],
            ["api_keys.id"],
            name=op.f("fk_activities_recorded_by_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_activities_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["track_id"], ["tracks.id"], name=op.f("fk_activities_track_id_tracks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    op.create_index(
        "ix_activities_case_id_occurred_on", "activities", ["case_id", "occurred_on"], unique=False
    )
    op.create_index(
        "ix_activities_track_id_occurred_on", "activities", ["track_id", "occurred_on"], unique=False
    )
    op.create_index(
        "uq_activities_tenant_id_external_id",
        "activities",
        ["tenant_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "track_phases",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("track_id", sa.UUID(), nullable=False),
        sa.Column("phase", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "left_on IS NULL OR left_on >= entered_on", name=op.f("ck_track_phases_leaves_after_entry")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_track_phases_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["track_id"], ["tracks.id"], name=op.f("fk_track_phases_track_id_tracks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track_phases")),
    )
    op.create_index("uq_track_phases_track_id_phase", "track_phases", ["track_id", "phase"], unique=True)
    op.add_column("cases", sa.Column("closure_reason", sa.String(length=32), nullable=True))
    op.add_column("cases", sa.Column("evaluation_interval_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("cases", "evaluation_interval_days")
    op.drop_column("cases", "closure_reason")
    op.drop_index("uq_track_phases_track_id_phase", table_name="track_phases")
    op.drop_table("track_phases")
    op.drop_index(
        "uq_activities_tenant_id_external_id",
        table_name="activities",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index("ix_activities_track_id_occurred_on", table_name="activities")
    op.drop_index("ix_activities_case_id_occurred_on", table_name="activities")
    op.drop_table("activities")
    op.drop_index(
        "uq_tracks_one_open_per_kind", table_name="tracks", postgresql_where=sa.text("status = 'open'")
    )
    op.drop_index("ix_tracks_tenant_id_provider", table_name="tracks")
    op.drop_index("ix_tracks_case_id", table_name="tracks")
    op.drop_table("tracks")
    op.drop_index(
        "uq_track_2_waivers_one_live_per_case",
        table_name="track_2_waivers",
        postgresql_where=sa.text("withdrawn_on IS NULL"),
    )
    op.drop_table("track_2_waivers")
    op.drop_index(
        "ix_deadlines_tenant_id_due_on_open",
        table_name="deadlines",
        postgresql_where=sa.text("state = 'open'"),
    )
    op.drop_index("ix_deadlines_tenant_id_due_on", table_name="deadlines")
    op.drop_index("ix_deadlines_tenant_id_code_due_on", table_name="deadlines")
    op.drop_index("ix_deadlines_case_id", table_name="deadlines")
    op.drop_table("deadlines")
