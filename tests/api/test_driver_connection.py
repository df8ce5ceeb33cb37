"""`driver_connection`: hand-written SQL on a session's asyncpg connection runs inside the session's
transaction, on a pooled engine as the service uses it (not the tests' savepoint sessions)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.audit.service import fetch_with_success_entry
from app.config import Settings
from app.db import create_engine, create_sessionmaker, driver_connection

MARKER_TABLE = "driver_connection_probe"


@pytest.fixture
async def pooled_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    async with engine.begin() as connection:
        await connection.execute(text(f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (id uuid PRIMARY KEY)"))
    yield engine
    async with engine.begin() as connection:
        await connection.execute(text(f"DROP TABLE IF EXISTS {MARKER_TABLE}"))
    await engine.dispose()


async def stored(engine: AsyncEngine, marker: uuid.UUID) -> bool:
    async with engine.connect() as connection:
        found = await connection.execute(text(f"SELECT 1 FROM {MARKER_TABLE} WHERE id = :id"), {"id": marker})
        return found.first() is not None


async def test_a_raw_statement_as_the_first_statement_is_rolled_back_with_the_session(
    pooled_engine: AsyncEngine,
) -> None:
    marker = uuid.uuid4()
    async with create_sessionmaker(pooled_engine)() as session:
        raw = await driver_connection(session)
        assert raw.is_in_transaction()
        await raw.execute(f"INSERT INTO {MARKER_TABLE} (id) VALUES ($1)", marker)
        await session.rollback()
    assert not await stored(pooled_engine, marker)


async def test_raw_and_orm_statements_commit_together(pooled_engine: AsyncEngine) -> None:
    raw_marker, orm_marker = uuid.uuid4(), uuid.uuid4()
    async with create_sessionmaker(pooled_engine)() as session:
        await session.execute(text(f"INSERT INTO {MARKER_TABLE} (id) VALUES (:id)"), {"id": orm_marker})
        raw = await driver_connection(session)
        await raw.execute(f"INSERT INTO {MARKER_TABLE} (id) VALUES ($1)", raw_marker)
        # The same connection and transaction: the ORM side sees the raw row before the commit.
        seen = await session.execute(
            text(f"SELECT count(*) FROM {MARKER_TABLE} WHERE id = :id"), {"id": raw_marker}
        )
        assert seen.scalar_one() == 1
        await session.commit()
    assert await stored(pooled_engine, raw_marker)
    assert await stored(pooled_engine, orm_marker)


async def test_after_a_commit_the_next_raw_statement_opens_a_new_transaction(
    pooled_engine: AsyncEngine,
) -> None:
    marker = uuid.uuid4()
    async with create_sessionmaker(pooled_engine)() as session:
        await (await driver_connection(session)).execute("SELECT 1")
        await session.commit()
        raw = await driver_connection(session)
        assert raw.is_in_transaction()
        await raw.execute(f"INSERT INTO {MARKER_TABLE} (id) VALUES ($1)", marker)
        await session.rollback()
    assert not await stored(pooled_engine, marker)


async def test_a_read_without_begin_opens_no_transaction_but_joins_an_open_one(
    pooled_engine: AsyncEngine,
) -> None:
    marker = uuid.uuid4()
    async with create_sessionmaker(pooled_engine)() as session:
        reader = await driver_connection(session, begin=False)
        assert not reader.is_in_transaction()
        await session.execute(text(f"INSERT INTO {MARKER_TABLE} (id) VALUES (:id)"), {"id": marker})
        reader = await driver_connection(session, begin=False)
        assert reader.is_in_transaction()
        assert await reader.fetchval(f"SELECT count(*) FROM {MARKER_TABLE} WHERE id = $1", marker) == 1
        await session.rollback()
    assert not await stored(pooled_engine, marker)


async def test_after_a_rollback_the_next_raw_statement_commits_with_the_session(
    pooled_engine: AsyncEngine,
) -> None:
    discarded, kept = uuid.uuid4(), uuid.uuid4()
    async with create_sessionmaker(pooled_engine)() as session:
        await (await driver_connection(session)).execute(
            f"INSERT INTO {MARKER_TABLE} (id) VALUES ($1)", discarded
        )
        await session.rollback()
        await (await driver_connection(session)).execute(f"INSERT INTO {MARKER_TABLE} (id) VALUES ($1)", kept)
        await session.commit()
    assert not await stored(pooled_engine, discarded)
    assert await stored(pooled_engine, kept)


async def test_a_write_after_reads_in_one_transaction_commits_with_the_session(
    pooled_engine: AsyncEngine,
) -> None:
    marker = uuid.uuid4()
    async with create_sessionmaker(pooled_engine)() as session:
        reader = await driver_connection(session, begin=False)
        await reader.fetchval("SELECT 1")
        writer = await driver_connection(session)
        assert writer.is_in_transaction()
        await writer.execute(f"INSERT INTO {MARKER_TABLE} (id) VALUES ($1)", marker)
        await session.rollback()
    assert not await stored(pooled_engine, marker)


async def test_a_reads_last_statement_gives_its_connection_back_while_the_request_goes_on(
    settings: Settings,
) -> None:
    # One connection: a second session gets it only if the first handed it back.
    one = {"db_pool_size": 1, "db_max_overflow": 0, "db_pool_timeout_s": 1.0}
    engine = create_engine(settings.model_copy(update=one))
    try:
        sessions = create_sessionmaker(engine)
        async with sessions() as reading:
            assert await fetch_with_success_entry(reading, "SELECT 1") == [(1,)]
            async with sessions() as other:
                assert await (await driver_connection(other, begin=False)).fetchval("SELECT 2") == 2
            # The first session still works: it takes a connection again.
            assert await (await driver_connection(reading, begin=False)).fetchval("SELECT 3") == 3
    finally:
        await engine.dispose()


async def test_a_read_inside_a_transaction_keeps_the_transaction(pooled_engine: AsyncEngine) -> None:
    marker = uuid.uuid4()
    async with create_sessionmaker(pooled_engine)() as session:
        await (await driver_connection(session)).execute(
            f"INSERT INTO {MARKER_TABLE} (id) VALUES ($1)", marker
        )
        found = await fetch_with_success_entry(
            session, f"SELECT id FROM {MARKER_TABLE} WHERE id = $1", marker
        )
        assert [row[0] for row in found] == [marker]
        await session.commit()
    assert await stored(pooled_engine, marker)
