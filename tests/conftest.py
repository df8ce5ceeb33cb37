"""Test harness: a real PostgreSQL (DATABASE_URL's server, or the embedded one), a fresh database per
run migrated once to head (this exercises the migrations), and each test inside an outer transaction
that is rolled back at the end. Fixtures give two tenants with a key of every role."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from app.config import Settings, to_asyncpg_url
from app.models.tenants import Role
from app.runtime import migrate_to_head


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


@dataclass(frozen=True)
class PgServer:
    admin_url: str  # a database to connect to for CREATE/DROP DATABASE

    def url_for(self, database: str) -> str:
        return _with_database(self.admin_url, database)

    async def create_database(self, name: str) -> str:
        connection = await asyncpg.connect(self.admin_url)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        return self.url_for(name)

    async def drop_database(self, name: str) -> None:
        connection = await asyncpg.connect(self.admin_url)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


@pytest.fixture(scope="session")
def test_server() -> PgServer:
    url = os.environ.get("DATABASE_URL")
    if url:
        return PgServer(admin_url=url.replace("postgresql+asyncpg://", "postgresql://", 1))
    from app.embedded_db import start_embedded_postgres

    return PgServer(admin_url=start_embedded_postgres(Settings().embedded_pg_data, database="postgres"))


@pytest.fixture(scope="session")
def database_url(test_server: PgServer) -> Iterator[str]:
    name = f"poortwachter_test_{os.getpid()}"
    url = asyncio.run(test_server.create_database(name))
    migrate_to_head(url)
    yield url
    asyncio.run(test_server.drop_database(name))


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    # Tests change keys behind the service's back (revoking in the database): no key cache here.
    return Settings(database_url=database_url, log_format="json", auth_cache_seconds=0)


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(to_asyncpg_url(settings.database_url or ""), poolclass=NullPool)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings) -> FastAPI:
    from app.main import create_app

    return create_app(settings, migrate_on_start=False)


@pytest.fixture
async def db(engine: AsyncEngine, app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session inside an outer transaction that is rolled back after the test. The app's requests use
    the same connection; their commits only release savepoints."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        factory = async_sessionmaker(
            bind=connection,
            expire_on_commit=False,
            autoflush=False,
            join_transaction_mode="create_savepoint",
        )
        app.state.engine = engine
        app.state.sessionmaker = factory
        async with factory() as session:
            yield session
        await transaction.rollback()


@pytest.fixture
async def client(app: FastAPI, db: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@dataclass(frozen=True)
class TenantKeys:
    tenant_id: uuid.UUID
    slug: str
    keys: dict[Role, str]

    def headers(self, role: Role = Role.case_manager) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


async def make_tenant(session: AsyncSession, slug: str) -> TenantKeys:
    from app.tenants.service import create_tenant, issue_key

    tenant = await create_tenant(session, slug, slug.title())
    keys = {}
    for role in Role:
        provider = f"{slug} provider" if role is Role.coach else None
        _, keys[role] = await issue_key(session, tenant.id, role, f"test {role.value}", provider=provider)
    await session.flush()
    return TenantKeys(tenant_id=tenant.id, slug=slug, keys=keys)


@pytest.fixture
async def tenant_a(db: AsyncSession) -> TenantKeys:
    return await make_tenant(db, "tenant-a")


@pytest.fixture
async def tenant_b(db: AsyncSession) -> TenantKeys:
    return await make_tenant(db, "tenant-b")


@dataclass
class CommittedWorld:
    """An app whose requests commit for real, each on its own pooled connection: for race tests."""

    client: httpx.AsyncClient
    tenant: TenantKeys
    app: FastAPI


@pytest.fixture
async def committed(settings: Settings) -> AsyncIterator[CommittedWorld]:
    from app.db import create_engine, create_sessionmaker
    from app.main import create_app
    from app.models.tenants import Tenant

    app = create_app(
        settings.model_copy(update={"db_pool_size": 25, "db_max_overflow": 5}), migrate_on_start=False
    )
    engine = create_engine(app.state.settings)
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    slug = f"race-{uuid.uuid4().hex[:8]}"
    async with app.state.sessionmaker() as session, session.begin():
        tenant = await make_tenant(session, slug)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield CommittedWorld(client=client, tenant=tenant, app=app)
    finally:
        from sqlalchemy import delete

        async with app.state.sessionmaker() as session, session.begin():
            await session.execute(delete(Tenant).where(Tenant.id == tenant.tenant_id))
        await engine.dispose()
