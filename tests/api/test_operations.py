"""Health, readiness, metrics, request ids and what the logs hold."""

from __future__ import annotations

import logging
import struct
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.db import create_engine, create_sessionmaker
from tests.conftest import TenantKeys


async def test_live_and_ready(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    assert (await client.get("/health/ready")).json() == {"status": "ok"}


async def test_not_ready_when_the_database_is_unreachable() -> None:
    from app.main import create_app

    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/none", db_connect_timeout_s=1)
    app = create_app(settings, migrate_on_start=False)
    app.state.engine = create_engine(settings)
    app.state.sessionmaker = create_sessionmaker(app.state.engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/health/live")).status_code == 200
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["code"] == "unavailable"
        cases = await client.get("/api/v1/cases", headers={"Authorization": "Bearer pwk_" + "a" * 43})
        assert cases.status_code == 503 and cases.json()["code"] == "unavailable"
    await app.state.engine.dispose()


async def test_a_statement_over_the_timeout_answers_503_and_changes_nothing(settings: Settings) -> None:
    """Found by the fault test: PostgreSQL's own refusals (statement timeout, shutting down, starting
    up) reached clients as 500. Here a lock held elsewhere keeps the insert waiting past the timeout."""
    from sqlalchemy import delete, func, select, text

    from app.main import create_app
    from app.models.activities import Activity
    from app.models.tenants import Tenant
    from tests.conftest import make_tenant

    app = create_app(settings.model_copy(update={"db_statement_timeout_ms": 300}), migrate_on_start=False)
    app.state.engine = create_engine(app.state.settings)
    app.state.sessionmaker = create_sessionmaker(app.state.engine)
    async with app.state.sessionmaker() as session, session.begin():
        tenant = await make_tenant(session, "timeout-tenant")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = tenant.headers()
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            body = {"employee": {"external_ref": "E-T"}, "first_sick_day": "2026-01-05"}
            case_id = (await client.post("/api/v1/cases", json=body)).json()["id"]
            activity = {"kind": "employee_contact", "occurred_on": "2026-02-02", "summary": "Call"}
            locker = create_engine(settings)
            async with locker.connect() as connection, connection.begin():
                await connection.execute(text("LOCK TABLE activities IN ACCESS EXCLUSIVE MODE"))
                refused = await client.post(f"/api/v1/cases/{case_id}/activities", json=activity)
            await locker.dispose()
            assert refused.status_code == 503, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.json()["code"] == "unavailable" and refused.headers["retry-after"]
            async with app.state.sessionmaker() as session:
                count = (
                    select(func.count()).select_from(Activity).where(Activity.tenant_id == tenant.tenant_id)
                )
                assert await session.scalar(count) == 0
            assert (
                await client.post(f"/api/v1/cases/{case_id}/activities", json=activity)
            ).status_code == 201
    finally:
        async with app.state.sessionmaker() as session, session.begin():
            await session.execute(delete(Tenant).where(Tenant.id == tenant.tenant_id))
        await app.state.engine.dispose()


def termination_notice() -> bytes:
    """The ErrorResponse PostgreSQL sends every session when it shuts down ("fast" mode), just before it
    closes the socket."""
    fields = {
        b"S": "FATAL",
        b"V": "FATAL",
        b"C": "57P01",
        b"M": "terminating connection due to administrator command",
    }
    body = b"".join(key + value.encode() + b"\0" for key, value in fields.items()) + b"\0"
    return b"E" + struct.pack("!i", len(body) + 4) + body


@pytest.mark.parametrize("moment", ["before its first statement", "after its read, before its audit entry"])
async def test_a_connection_that_read_a_shutdown_notice_answers_503_once_and_is_discarded(
    settings: Settings, moment: str
) -> None:
    """Found by the fault test: a pooled connection that has read the server's termination notice but not
    yet its close is out of step with the server, and the driver refuses every statement on it. That
    reached a client as a 500 (and the connection went back to the pool). Here the notice reaches the
    request's connection at the given moment and the close never follows."""
    from sqlalchemy import delete, event

    from app.main import create_app
    from app.models.tenants import Tenant
    from tests.conftest import make_tenant

    app = create_app(
        settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0, "auth_cache_seconds": 60}),
        migrate_on_start=False,
    )
    app.state.engine = create_engine(app.state.settings)
    app.state.sessionmaker = create_sessionmaker(app.state.engine)
    async with app.state.sessionmaker() as session, session.begin():
        tenant = await make_tenant(session, "shutdown-notice-tenant")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    armed = False

    def deliver_notice(dbapi_connection: Any) -> None:
        nonlocal armed
        if armed:
            armed = False
            dbapi_connection.driver_connection._protocol.data_received(termination_notice())

    if moment == "before its first statement":
        target, name = app.state.engine.sync_engine.pool, "checkout"
        listener: Any = lambda dbapi_connection, record, proxy: deliver_notice(dbapi_connection)  # noqa: E731
    else:  # the activity list reads through SQLAlchemy; the audit entry follows on the same connection
        target, name = app.state.engine.sync_engine, "after_cursor_execute"
        listener = lambda connection, *_: deliver_notice(connection.connection.dbapi_connection)  # noqa: E731
    event.listen(target, name, listener)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=tenant.headers()
        ) as client:
            body = {"employee": {"external_ref": "E-N"}, "first_sick_day": "2026-01-05"}
            case_id = (await client.post("/api/v1/cases", json=body)).json()["id"]
            path = f"/api/v1/cases/{case_id}"
            if moment != "before its first statement":
                path += "/activities"
            armed = True
            refused = await client.get(path)
            assert refused.status_code == 503, refused.text
            assert refused.json()["code"] == "unavailable" and refused.headers["retry-after"]
            assert not armed
            # The one pooled connection was discarded, not handed out again.
            assert (await client.get(path)).status_code == 200
            assert (await client.get(path)).status_code == 200
    finally:
        event.remove(target, name, listener)
        async with app.state.sessionmaker() as session, session.begin():
            await session.execute(delete(Tenant).where(Tenant.id == tenant.tenant_id))
        await app.state.engine.dispose()


def requests_counted(metrics: str, labels: str) -> float:
    prefix = f"http_requests_total{{{labels}}}"
    line = next((ln for ln in metrics.splitlines() if ln.startswith(prefix)), None)
    return float(line.rsplit(" ", 1)[1]) if line else 0.0


async def test_metrics_count_requests_by_route_template(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    listed = 'handler="/api/v1/cases",method="GET",status="2xx"'
    missing = 'handler="/api/v1/cases/{case_id}",method="GET",status="4xx"'
    before = (await client.get("/metrics")).text
    await client.get("/api/v1/cases", headers=tenant_a.headers())
    await client.get("/api/v1/cases", headers=tenant_a.headers())
    await client.get(f"/api/v1/cases/{uuid.uuid4()}", headers=tenant_a.headers())
    await client.get("/health/live")
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert requests_counted(metrics.text, listed) - requests_counted(before, listed) == 2
    assert requests_counted(metrics.text, missing) - requests_counted(before, missing) == 1
    assert 'handler="/health/live"' not in metrics.text  # probes are not counted
    assert "http_request_duration_seconds_bucket" in metrics.text


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    made = await client.get("/health/live", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["x-request-id"] != "bad id with spaces" and len(made.headers["x-request-id"]) == 32


async def test_logs_hold_neither_bodies_nor_keys(
    client: httpx.AsyncClient, tenant_a: TenantKeys, caplog: pytest.LogCaptureFixture, app: FastAPI
) -> None:
    marker = "Very-Private-Name-7731"
    with caplog.at_level(logging.DEBUG):
        response = await client.post(
            "/api/v1/cases",
            json={
                "employee": {"external_ref": marker, "display_name": marker},
                "first_sick_day": "2026-01-05",
            },
            headers={**tenant_a.headers(), "X-Request-ID": "log-check-1"},
        )
        listed = await client.get("/api/v1/cases?employee_ref=" + marker, headers=tenant_a.headers())
        wrong_key = "Bearer " + next(iter(tenant_a.keys.values())) + "x"
        await client.get("/api/v1/cases", headers={"Authorization": wrong_key})
    assert response.status_code == 201 and listed.status_code == 200
    # The service's records only: the test client's own httpx log names the URL it called.
    service_records = [record for record in caplog.records if not record.name.startswith("httpx")]
    text = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in service_records)
    assert "log-check-1" in text  # the access line is there, with its request id
    assert marker not in text
    for key in tenant_a.keys.values():
        assert key not in text
