"""The `poortwachter` command: serve, migrate, create-tenant, create-key, openapi."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from app.config import Settings, get_settings
from app.models.tenants import Role

cli = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


async def _in_transaction(settings: Settings, work):  # type: ignore[no-untyped-def]
    from app.db import create_engine, create_sessionmaker

    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


@cli.command()
def migrate() -> None:
    """Upgrade the database schema to the newest revision (safe with several replicas at once)."""
    from app.runtime import migrate_to_head, resolve_database_url

    settings = get_settings()
    migrate_to_head(resolve_database_url(settings))
    typer.echo("database schema is at head")


@cli.command()
def serve(
    demo: Annotated[bool, typer.Option(help="Create demo data and print how to call the API.")] = False,
    host: Annotated[str | None, typer.Option(help="Interface to bind (default: HOST setting).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: PORT setting).")] = None,
) -> None:
    """Migrate to head, then serve the API with uvicorn (one process; run replicas for more)."""
    import uvicorn

    from app.logging import configure_logging
    from app.main import create_app
    from app.runtime import migrate_to_head, resolve_database_url

    settings = get_settings()
    if host is not None:
        settings.host = host
    if port is not None:
        settings.port = port
    configure_logging(settings.log_level, settings.log_format)
    url = resolve_database_url(settings)
    migrate_to_head(url)
    if demo:
        _seed_and_print_demo(settings)
    # uvicorn re-raises SIGTERM after its graceful shutdown; with the default handler that would kill the
    # process before atexit stops the embedded PostgreSQL. Exiting through SystemExit runs atexit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    uvicorn.run(
        create_app(settings, migrate_on_start=False),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,  # ours is the middleware's; uvicorn would still format its own per response
        timeout_graceful_shutdown=settings.graceful_shutdown_s,
        proxy_headers=True,
    )


def _seed_and_print_demo(settings: Settings) -> None:
    from app.demo import seed_demo
    from app.http import today

    keys_file = settings.demo_keys_file
    try:
        known_keys = {str(role): str(key) for role, key in json.loads(keys_file.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        known_keys = {}

    async def work(session):  # type: ignore[no-untyped-def]
        return await seed_demo(session, known_keys, today())

    seed = asyncio.run(_in_transaction(settings, work))
    keys_file.parent.mkdir(parents=True, exist_ok=True)
    keys_file.write_text(json.dumps(seed.keys, indent=2) + "\n")
    keys_file.chmod(0o600)
    base = f"http://{settings.host}:{settings.port}"
    lines = [
        "",
        "Poortwachter demo is ready.",
        f"  API:       {base}/api/v1",
        f"  Docs:      {base}/docs",
        f"  OpenAPI:   {base}/openapi.json",
        "  Keys (one per role; kept in " + str(settings.demo_keys_file) + "):",
        *(f"    {role:<24}{key}" for role, key in seed.keys.items()),
        "  Try:",
        f"    curl -s -H 'Authorization: Bearer {seed.keys['case_manager']}' {base}/api/v1/cases",
        "",
    ]
    typer.echo("\n".join(lines))


@cli.command("create-tenant")
def create_tenant_command(
    slug: Annotated[str, typer.Argument(help="Short unique name, e.g. acme")],
    name: Annotated[str, typer.Option(help="Display name")] = "",
) -> None:
    """Create a tenant and print its id."""
    from app.runtime import resolve_database_url
    from app.tenants.service import create_tenant

    settings = get_settings()
    resolve_database_url(settings)
    tenant = asyncio.run(_in_transaction(settings, lambda s: create_tenant(s, slug, name or slug)))
    typer.echo(str(tenant.id))


@cli.command("create-key")
def create_key_command(
    tenant: Annotated[str, typer.Argument(help="Tenant slug")],
    role: Annotated[Role, typer.Option(help="The key's role")],
    name: Annotated[str, typer.Option(help="What the key is for")] = "cli",
    expires_in_days: Annotated[int | None, typer.Option(help="Expire after this many days")] = None,
    provider: Annotated[str | None, typer.Option(help="Reintegration provider (coach keys)")] = None,
) -> None:
    """Issue an API key and print its secret (shown once; only its hash is stored)."""
    from app.runtime import resolve_database_url
    from app.tenants.service import get_tenant_by_slug, issue_key

    settings = get_settings()
    resolve_database_url(settings)
    expires_at = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None

    async def work(session):  # type: ignore[no-untyped-def]
        found = await get_tenant_by_slug(session, tenant)
        if found is None:
            raise typer.BadParameter(f"no tenant {tenant!r}")
        _, secret = await issue_key(session, found.id, role, name, expires_at=expires_at, provider=provider)
        return secret

    typer.echo(asyncio.run(_in_transaction(settings, work)))


@cli.command("list-keys")
def list_keys_command(tenant: Annotated[str, typer.Argument(help="Tenant slug")]) -> None:
    """List a tenant's keys (never their secrets)."""
    from app.api_keys.service import list_keys
    from app.runtime import resolve_database_url

    settings = get_settings()
    resolve_database_url(settings)

    async def work(session):  # type: ignore[no-untyped-def]
        return await list_keys(session, (await _tenant(session, tenant)).id)

    for key in asyncio.run(_in_transaction(settings, work)):
        state = (
            "revoked"
            if key.revoked_at
            else f"expires {key.expires_at:%Y-%m-%d %H:%M}"
            if key.expires_at
            else "live"
        )
        typer.echo(f"{key.id}  {key.key_prefix}…  {key.role:<24}{state:<24}{key.name}")


@cli.command("rotate-key")
def rotate_key_command(
    tenant: Annotated[str, typer.Argument(help="Tenant slug")],
    key_id: Annotated[str, typer.Argument(help="The key's id (see list-keys)")],
    grace_hours: Annotated[int, typer.Option(help="How long the old key keeps working")] = 24,
) -> None:
    """Issue a successor key and print its secret; the old key expires after the grace period."""
    import uuid

    from app.api_keys.service import rotate
    from app.runtime import resolve_database_url

    settings = get_settings()
    resolve_database_url(settings)

    async def work(session):  # type: ignore[no-untyped-def]
        tenant_id = (await _tenant(session, tenant)).id
        _, secret = await rotate(session, tenant_id, uuid.UUID(key_id), timedelta(hours=grace_hours))
        return secret

    typer.echo(asyncio.run(_in_transaction(settings, work)))


@cli.command("revoke-key")
def revoke_key_command(
    tenant: Annotated[str, typer.Argument(help="Tenant slug")],
    key_id: Annotated[str, typer.Argument(help="The key's id (see list-keys)")],
) -> None:
    """Revoke a key: it stops working at once."""
    import uuid

    from app.api_keys.service import revoke
    from app.runtime import resolve_database_url

    settings = get_settings()
    resolve_database_url(settings)

    async def work(session):  # type: ignore[no-untyped-def]
        return await revoke(session, (await _tenant(session, tenant)).id, uuid.UUID(key_id))

    asyncio.run(_in_transaction(settings, work))
    typer.echo(f"revoked {key_id}")


async def _tenant(session, slug: str):  # type: ignore[no-untyped-def]
    from app.tenants.service import get_tenant_by_slug

    found = await get_tenant_by_slug(session, slug)
    if found is None:
        raise typer.BadParameter(f"no tenant {slug!r}")
    return found


@cli.command()
def housekeeping() -> None:
    """Delete stored Idempotency-Key responses past their expiry, and dispatched events (with their
    delivery logs) older than EVENT_RETENTION_DAYS (run it daily, e.g. from cron)."""
    from datetime import timedelta

    from sqlalchemy import delete, func

    from app.models.events import OutboxEvent
    from app.models.idempotency import IdempotencyRecord
    from app.runtime import resolve_database_url

    settings = get_settings()
    resolve_database_url(settings)

    async def work(session):  # type: ignore[no-untyped-def]
        result = await session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.expires_at < func.now())
        )
        events = await session.execute(
            delete(OutboxEvent).where(
                OutboxEvent.dispatched_at.is_not(None),
                OutboxEvent.occurred_at < func.now() - timedelta(days=settings.event_retention_days),
            )
        )
        return result.rowcount, events.rowcount

    records, events = asyncio.run(_in_transaction(settings, work))
    typer.echo(f"deleted {records} expired idempotency records and {events} events past their retention")


@cli.command()
def purge() -> None:
    """Erase (pseudonymise) cases closed longer ago than RETENTION_YEARS_AFTER_CLOSE (run it daily)."""
    from app.domain.tracks import add_months
    from app.employees.service import purge_closed_before
    from app.http import today
    from app.runtime import resolve_database_url

    settings = get_settings()
    resolve_database_url(settings)
    cutoff = add_months(today(), -12 * settings.retention_years_after_close)
    erased = asyncio.run(_in_transaction(settings, lambda session: purge_closed_before(session, cutoff)))
    typer.echo(f"erased {erased} cases closed before {cutoff}")


@cli.command()
def openapi(
    check: Annotated[bool, typer.Option(help="Only check that the committed file is current")] = False,
) -> None:
    """Write openapi/openapi.json from the app (or --check it)."""
    from app import openapi_file

    if check:
        problem = openapi_file.drift(openapi_file.OPENAPI_PATH.read_text(), openapi_file.generated_spec())
        if problem:
            typer.echo(f"openapi/openapi.json is stale ({problem}); run `{openapi_file.FIX_COMMAND}`")
            raise typer.Exit(1)
        typer.echo("openapi/openapi.json is current")
        return
    typer.echo(f"wrote {openapi_file.write()}")


def main() -> None:
    cli()
