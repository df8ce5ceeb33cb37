"""Alembic environment, async. Every run holds a transaction-level advisory lock, so replicas that start
at once migrate one after the other; the later ones find the schema at head and do nothing."""

from __future__ import annotations

import asyncio
import logging.config

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app import models
from app.config import get_settings, to_asyncpg_url
from app.runtime import resolve_database_url

MIGRATION_LOCK_KEY = 7_266_081_215  # arbitrary, fixed: "the poortwachter schema is being migrated"

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = models.Base.metadata


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


async def run_async_migrations(url: str) -> None:
    engine = create_async_engine(to_asyncpg_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # called by the app or the tests with a live connection
        do_run_migrations(connection)
        return
    url = config.attributes.get("database_url") or resolve_database_url(get_settings())
    asyncio.run(run_async_migrations(url))


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `poortwachter migrate`.")
run_migrations_online()
