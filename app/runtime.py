"""Start-up plumbing shared by the CLI, the app and the tests: which database, and migrating it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from app.config import PROJECT_ROOT, Settings


def resolve_database_url(settings: Settings) -> str:
    """DATABASE_URL when set; otherwise start the embedded server and remember its URL in the settings."""
    if settings.database_url is None:
        from app.embedded_db import start_embedded_postgres

        settings.database_url = start_embedded_postgres(settings.embedded_pg_data)
    return settings.database_url


def alembic_config(database_url: str | None = None) -> Config:
    ini = PROJECT_ROOT / "alembic.ini"
    if not ini.exists():  # installed as a package: run from a folder that holds alembic.ini
        ini = Path.cwd() / "alembic.ini"
    config = Config(str(ini))
    config.attributes["configure_logging"] = False
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


def migrate_to_head(database_url: str) -> None:
    """Upgrade the schema to head (serialised across replicas by the advisory lock in env.py)."""
    command.upgrade(alembic_config(database_url), "head")


async def migrate_to_head_async(database_url: str) -> None:
    await asyncio.to_thread(migrate_to_head, database_url)
