"""The migrations build the schema from nothing, come down to nothing, and match the models."""

from __future__ import annotations

import asyncio
import re

import asyncpg
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.models import Base
from app.runtime import alembic_config
from tests.conftest import PgServer


def _tables(url: str) -> set[str]:
    async def fetch() -> set[str]:
        connection = await asyncpg.connect(url)
        try:
            rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            return {row["tablename"] for row in rows}
        finally:
            await connection.close()

    return asyncio.run(fetch())


def test_upgrade_from_empty_to_head_and_back_to_base(test_server: PgServer) -> None:
    name = "poortwachter_migration_roundtrip"
    url = asyncio.run(test_server.create_database(name))
    try:
        config = alembic_config(url)
        command.upgrade(config, "head")
        assert {
            "tenants",
            "api_keys",
            "cases",
            "sickness_periods",
            "tracks",
            "track_phases",
            "track_2_waivers",
            "activities",
            "deadlines",
        } <= _tables(url)
        command.downgrade(config, "base")
        assert _tables(url) == {"alembic_version"}
        command.upgrade(config, "head")  # and up again: downgrades leave nothing behind that blocks it
    finally:
        asyncio.run(test_server.drop_database(name))


def test_models_and_migrations_agree(database_url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.config import to_asyncpg_url

    async def diff() -> list:
        engine = create_async_engine(to_asyncpg_url(database_url))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: compare_metadata(
                        MigrationContext.configure(
                            sync, opts={"compare_type": True, "compare_server_default": True}
                        ),
                        Base.metadata,
                    )
                )
        finally:
            await engine.dispose()

    differences = asyncio.run(diff())
    assert differences == [], (
        "The models and the migrations disagree; write a migration "
        "(`alembic revision --autogenerate -m '...'`) and review it:\n" + "\n".join(map(str, differences))
    )


def test_the_partial_indexes_hold_what_the_models_say(database_url: str) -> None:
    """Autogenerate does not compare an index's condition. The activities' kind index must hold every kind
    that a case read looks up by kind: a kind the catalogue gains needs a migration too, or its
    activities are missing from the lookups that go through the index."""
    from app.models.activities import KINDS_READ_BY_KIND

    async def conditions() -> dict[str, str]:
        connection = await asyncpg.connect(database_url)
        try:
            rows = await connection.fetch(
                """
                SELECT c.relname, pg_get_expr(i.indpred, i.indrelid) AS condition
                FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
                WHERE i.indrelid = 'activities'::regclass AND i.indpred IS NOT NULL
                """
            )
            return {row["relname"]: row["condition"] for row in rows}
        finally:
            await connection.close()

    found = asyncio.run(conditions())
    kind_condition = found["ix_activities_case_id_kind_occurred_on"]
    assert set(re.findall(r"'([a-z_0-9]+)'", kind_condition)) == set(KINDS_READ_BY_KIND), kind_condition
    assert found["ix_activities_track_id_occurred_on"] == "(track_id IS NOT NULL)"
    assert found["uq_activities_tenant_id_external_id"] == "(external_id IS NOT NULL)"
