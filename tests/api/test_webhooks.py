"""Webhooks end to end: real commits, the real worker, and a real HTTP receiver on loopback that verifies
every signature with the `standardwebhooks` library."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook, WebhookVerificationError

from app.activities.service import INSERT_CHUNK
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.events.catalogue import EventType
from app.http import today
from app.main import create_app
from app.models.events import OutboxEvent
from app.models.tenants import Role, Tenant
from app.webhooks.worker import Claim, EventWorker
from tests.api.scenario import Api
from tests.conftest import TenantKeys, make_tenant

ALL_TYPES = [event.value for event in EventType]
STATE_CHANGES = {
    "case.opened",
    "case.updated",
    "case.closed",
    "sickness_period.changed",
    "track.started",
    "track.phase_changed",
    "track.closed",
    "activity.recorded",
    "deadline.met",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    webhook_id: str
    message: dict[str, Any]
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 that verifies signatures and answers `status`."""

    port: int = field(default_factory=free_port)
    status: int = 200
    secret: str | None = None
    received: list[Received] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    server: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {key.decode(): value.decode() for key, value in scope["headers"]}
        try:
            assert self.secret is not None
            verified = Webhook(self.secret).verify(body, headers)
            self.received.append(Received(headers["webhook-id"], verified, body))
        except (WebhookVerificationError, AssertionError, KeyError) as exc:
            self.unverified.append(repr(exc))
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def start(self) -> None:
        config = uvicorn.Config(self, host="127.0.0.1", port=self.port, lifespan="off", log_level="warning")
        self.server = uvicorn.Server(config)
        self.task = asyncio.create_task(self.server.serve())
        await eventually(lambda: self.server is not None and self.server.started, "receiver started")

    async def stop(self) -> None:
        if self.server is not None and self.task is not None:
            self.server.should_exit = True
            await self.task

    def ids(self) -> Counter[str]:
        return Counter(item.webhook_id for item in self.received)


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], what: str, within_s: float = 15.0
) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        result = condition()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {what}")


@dataclass
class World:
    """An app whose requests commit for real, with private destinations allowed and short retries."""

    app: FastAPI
    client: httpx.AsyncClient
    tenant: TenantKeys
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    workers: list[EventWorker] = field(default_factory=list)

    @property
    def api(self) -> Api:
        return Api(self.client, self.tenant)

    def worker(self, **overrides: Any) -> EventWorker:
        worker = EventWorker(self.sessionmaker, self.settings.model_copy(update=overrides))
        self.workers.append(worker)
        return worker

    async def subscribe(self, receiver: Receiver, types: list[str] | None = None) -> dict[str, Any]:
        endpoint = (
            await self.api.call(
                "POST",
                "/webhook-endpoints",
                role=Role.admin,
                json={"url": receiver.url, "event_types": types or ALL_TYPES},
                expect=201,
            )
        ).json()
        receiver.secret = endpoint["secret"]
        return endpoint

    async def events(self, *types: str) -> list[OutboxEvent]:
        async with self.sessionmaker() as session:
            query = select(OutboxEvent).where(OutboxEvent.tenant_id == self.tenant.tenant_id)
            if types:
                query = query.where(OutboxEvent.type.in_(types))
            return list((await session.execute(query.order_by(OutboxEvent.occurred_at))).scalars())

    async def deliveries(self, endpoint_id: str) -> list[dict[str, Any]]:
        path = f"/webhook-endpoints/{endpoint_id}/deliveries"
        response = await self.api.call("GET", path, role=Role.admin, params={"limit": 500}, expect=200)
        return list(response.json()["items"])


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    world_settings = settings.model_copy(
        update={
            "webhooks_allow_private_destinations": True,
            "event_worker_poll_s": 0.05,
            "webhook_retry_schedule_s": [0.3] * 20,
            "webhook_timeout_s": 3.0,
            "deadline_scan_interval_s": 3600.0,
        }
    )
    app = create_app(world_settings, migrate_on_start=False)
    engine = create_engine(world_settings)
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    async with app.state.sessionmaker() as session, session.begin():
        tenant = await make_tenant(session, f"hooks-{uuid.uuid4().hex[:8]}")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        world = World(app, client, tenant, world_settings, app.state.sessionmaker)
        try:
            yield world
        finally:
            for worker in world.workers:
                await worker.stop()
            async with app.state.sessionmaker() as session, session.begin():
                await session.execute(delete(Tenant).where(Tenant.id == tenant.tenant_id))
            await engine.dispose()


async def scenario(api: Api, marker: str = "MARKER") -> None:
    """A case through every state change the catalogue names, with personal data carrying `marker`."""
    first_sick_day = today() - timedelta(days=60)
    day = lambda n: (first_sick_day + timedelta(days=n)).isoformat()  # noqa: E731
    case = await api.open_case(
        first_sick_day.isoformat(),
        employee={"external_ref": f"E-{marker}", "display_name": f"Jan {marker}"},
        case_manager="m.jansen",
    )
    case_id = case["id"]
    await api.activity(
        case_id,
        "problem_analysis",
        day(30),
        role=Role.occupational_physician,
        functional_limitations=f"No lifting ({marker})",
        expected_duration="long_term",
    )
    track = (await api.start_track(case_id, "track_1", day(35))).json()
    await api.start_track(case_id, "track_1", day(36), expect=409)  # refused (P1): rolled back, no event
    await api.activity(
        case_id,
        "job_inventory",
        day(36),
        track_id=track["id"],
        roles_considered=[{"role": marker, "suitable": True}],
    )
    await api.move(track["id"], "resumption", day(37))
    current = (await api.call("GET", f"/cases/{case_id}", expect=200)).json()
    await api.call(
        "PATCH",
        f"/cases/{case_id}",
        json={"case_manager": "a.bakker"},
        headers={"If-Match": f'"{current["version"]}"'},
        expect=200,
    )
    periods = (await api.call("GET", f"/cases/{case_id}/sickness-periods", expect=200)).json()["items"]
    period = periods[0]
    await api.call(
        "PATCH",
        f"/cases/{case_id}/sickness-periods/{period['id']}",
        json={"ended_on": day(50)},
        headers={"If-Match": f'"{period["version"]}"'},
        expect=200,
    )
    await api.close(track["id"], "sustainable_return", day(51))
    current = (await api.call("GET", f"/cases/{case_id}", expect=200)).json()
    await api.call(
        "PATCH",
        f"/cases/{case_id}",
        json={"employment_ends_on": day(55)},
        headers={"If-Match": f'"{current["version"]}"'},
        expect=200,
    )


async def test_every_event_of_a_scenario_arrives_signed_once_per_webhook_id(world: World) -> None:
    receiver = Receiver()
    await receiver.start()
    try:
        await world.subscribe(receiver)
        worker = world.worker()
        await world.api.open_case(
            (today() - timedelta(days=35)).isoformat(), employee={"external_ref": "E-DUE"}
        )  # T1 overdue, T2 due soon
        await scenario(world.api)
        # Scanned before the worker runs: a scan skips a round while another holds the scan lock, and the
        # worker's own first round, started earlier, could be one that began before this case existed.
        assert await worker.scan_deadlines() > 0
        worker.start()
        emitted = await world.events()
        assert STATE_CHANGES | {"deadline.due_soon", "deadline.overdue"} <= {e.type for e in emitted}
        assert Counter(e.type for e in emitted)["track.started"] == 1
        await eventually(lambda: len(receiver.received) >= len(emitted), "every event delivered")
        await asyncio.sleep(0.3)  # room for a duplicate to show up, should there be one
        assert receiver.unverified == []
        assert receiver.ids() == Counter({str(event.id): 1 for event in emitted})
        by_id = {str(event.id): event for event in emitted}
        for item in receiver.received:
            event = by_id[item.webhook_id]
            assert item.message == {
                "type": event.type,
                "timestamp": event.occurred_at.astimezone(UTC).isoformat(),
                "data": event.payload,
            }
    finally:
        await receiver.stop()


async def test_payloads_hold_no_employee_name_reference_or_medical_data(world: World) -> None:
    receiver = Receiver()
    await receiver.start()
    try:
        await world.subscribe(receiver)
        worker = world.worker()
        worker.start()
        marker = "Zq7Privacy"
        await scenario(world.api, marker)
        case = await world.api.open_case(employee={"external_ref": f"E-{marker}"})
        await world.api.call(
            "POST",
            f"/cases/{case['id']}/activities",
            role=Role.occupational_physician,
            json={
                "kind": "problem_analysis",
                "occurred_on": "2026-02-10",
                "summary": f"summary {marker}",
                "details": {"functional_limitations": "None"},
                "medical": {"diagnosis": f"diagnosis {marker}"},
            },
            expect=201,
        )
        emitted = await world.events()
        await eventually(lambda: len(receiver.received) >= len(emitted), "every event delivered")
        assert receiver.received
        for item in receiver.received:
            assert marker.lower() not in item.body.decode().lower(), item.body
    finally:
        await receiver.stop()


async def test_a_receiver_that_is_down_gets_every_event_once_it_is_back(world: World) -> None:
    receiver = Receiver()  # not listening yet: connections are refused
    endpoint = await world.subscribe(receiver)
    worker = world.worker()
    worker.start()
    for n in range(3):
        await world.api.open_case(employee={"external_ref": f"E-DOWN-{n}"})
    emitted = await world.events()
    assert len(emitted) == 3

    async def retried() -> bool:
        log = await world.deliveries(endpoint["id"])
        return len(log) == 3 and all(d["attempts"] >= 2 and d["status"] == "pending" for d in log)

    await eventually(retried, "every delivery failed at least twice")
    log = await world.deliveries(endpoint["id"])
    assert all(d["last_status_code"] is None and d["last_error"] for d in log)

    await receiver.start()
    try:
        await eventually(lambda: len(receiver.received) >= 3, "every event delivered after the outage")

        async def delivered() -> bool:
            return all(d["status"] == "delivered" for d in await world.deliveries(endpoint["id"]))

        await eventually(delivered, "the log shows every delivery delivered")
        await asyncio.sleep(0.6)  # past two retry intervals: nothing may arrive twice
        assert receiver.unverified == []
        assert receiver.ids() == Counter({str(event.id): 1 for event in emitted})
    finally:
        await receiver.stop()


async def test_two_schedulers_against_one_database_emit_each_due_soon_event_once(world: World) -> None:
    cases = [
        await world.api.open_case(
            (today() - timedelta(days=35)).isoformat(), employee={"external_ref": f"E-{n}"}
        )
        for n in range(3)
    ]
    # Two replicas: each its own engine and connections.
    other_engine = create_engine(world.settings)
    try:
        schedulers = [world.worker(), EventWorker(create_sessionmaker(other_engine), world.settings)]
        world.workers.append(schedulers[1])
        for _ in range(3):
            await asyncio.gather(*(scheduler.scan_deadlines() for scheduler in schedulers for _ in range(2)))
        due_soon = await world.events("deadline.due_soon")
        assert sorted((e.payload["case_id"], e.payload["code"]) for e in due_soon) == sorted(
            (case["id"], "problem_analysis") for case in cases
        )
        # A refresh replaces the stored deadline rows; the same deadline is still announced once.
        await world.api.activity(cases[0]["id"], "occupational_health_notification", today().isoformat())
        await asyncio.gather(*(scheduler.scan_deadlines() for scheduler in schedulers))
        assert len(await world.events("deadline.due_soon")) == 3

        # Catching up after downtime: a month later the same deadlines are overdue, announced once each.
        later = today() + timedelta(days=30)
        await asyncio.gather(*(scheduler.scan_deadlines(later) for scheduler in schedulers for _ in range(2)))
        overdue = Counter(
            (e.payload["case_id"], e.payload["code"]) for e in await world.events("deadline.overdue")
        )
        assert all(count == 1 for count in overdue.values())
        assert {(case["id"], "problem_analysis") for case in cases} <= set(overdue)
    finally:
        await other_engine.dispose()


async def test_a_webhook_url_on_a_private_address_is_refused(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    for url in (
        "https://10.1.2.3/hooks",
        "https://192.168.0.10/hooks",
        "https://127.0.0.1:8443/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://[::ffff:10.0.0.1]/hooks",
        "https://localhost/hooks",
    ):
        body = {"url": url, "event_types": ["case.opened"]}
        response = await api.call("POST", "/webhook-endpoints", role=Role.admin, json=body, expect=422)
        assert response.json()["errors"][0]["pointer"] == "#/url", url
        assert "private" in response.json()["detail"], url


async def test_endpoint_urls_must_be_https_and_http_only_to_loopback_in_development(
    client: httpx.AsyncClient, app: FastAPI, tenant_a: TenantKeys, settings: Settings
) -> None:
    api = Api(client, tenant_a)

    async def register(url: str, expect: int) -> httpx.Response:
        body = {"url": url, "event_types": ["case.opened"]}
        return await api.call("POST", "/webhook-endpoints", role=Role.admin, json=body, expect=expect)

    for url in ("http://93.184.216.34/hooks", "ftp://93.184.216.34/hooks", "https://user:pw@93.184.216.34/"):
        await register(url, 422)
    await register("https://93.184.216.34/hooks", 201)  # a public address (no DNS needed)

    app.state.settings = settings.model_copy(update={"webhooks_allow_private_destinations": True})
    try:
        await register("http://93.184.216.34/hooks", 422)  # http to a public host: still refused
        await register("https://10.1.2.3/hooks", 201)
        endpoint = (await register("http://127.0.0.1:9/hooks", 201)).json()
    finally:
        app.state.settings = settings

    # The check runs again before every attempt: with the setting off, that endpoint gets nothing.
    worker = EventWorker(app.state.sessionmaker, settings)
    try:
        claim = Claim(
            delivery_id=uuid.uuid4(),
            tenant_id=tenant_a.tenant_id,
            endpoint_id=uuid.UUID(endpoint["id"]),
            url=endpoint["url"],
            secret="whsec_c2VjcmV0c2VjcmV0c2VjcmV0",
            event_id=uuid.uuid4(),
            event_type="case.opened",
            occurred_at=datetime.now(UTC),
            payload={},
            attempt=1,
            lease_token=uuid.uuid4(),
        )
        outcome = await worker.attempt(claim)
        assert outcome.status_code is None and "destination refused" in (outcome.error or "")
    finally:
        await worker.stop()


async def test_the_delivery_log_and_redelivering_one_event(world: World) -> None:
    receiver = Receiver()
    await receiver.start()
    try:
        endpoint = await world.subscribe(receiver, ["case.opened"])
        worker = world.worker()
        await world.api.open_case(employee={"external_ref": "E-LOG"})
        assert await worker.dispatch() == 1
        assert await worker.deliver_due() == 1
        [entry] = await world.deliveries(endpoint["id"])
        assert entry["event_type"] == "case.opened" and entry["status"] == "delivered"
        assert entry["attempts"] == 1 and entry["last_status_code"] == 200 and entry["delivered_at"]

        path = f"/webhook-endpoints/{endpoint['id']}/redeliveries"
        again = await world.api.call(
            "POST", path, role=Role.admin, json={"event_id": entry["event_id"]}, expect=202
        )
        assert again.json()["status"] == "pending" and again.json()["attempts"] == 0
        assert await worker.deliver_due() == 1
        assert receiver.ids() == Counter({entry["event_id"]: 2})  # the same webhook-id: a receiver can tell
        [entry] = await world.deliveries(endpoint["id"])
        assert entry["status"] == "delivered" and entry["attempts"] == 1

        unknown = {"event_id": str(uuid.uuid4())}
        await world.api.call("POST", path, role=Role.admin, json=unknown, expect=404)
    finally:
        await receiver.stop()


async def test_410_gone_disables_the_endpoint_until_it_is_reactivated(world: World) -> None:
    receiver = Receiver(status=410)
    await receiver.start()
    try:
        endpoint = await world.subscribe(receiver, ["case.opened"])
        worker = world.worker()
        await world.api.open_case(employee={"external_ref": "E-GONE-1"})
        await worker.dispatch()
        await worker.deliver_due()
        read = (await world.api.call("GET", f"/webhook-endpoints/{endpoint['id']}", role=Role.admin)).json()
        assert read["status"] == "disabled" and read["disabled_reason"] == "gone"
        [entry] = await world.deliveries(endpoint["id"])
        assert entry["status"] == "failed" and entry["last_status_code"] == 410 and entry["attempts"] == 1
        [disabled] = await world.events("webhook_endpoint.disabled")
        assert disabled.payload == {"endpoint_id": endpoint["id"], "reason": "gone"}

        # Disabled: later events wait, unsent; reactivation sends them.
        await world.api.open_case(employee={"external_ref": "E-GONE-2"})
        await worker.dispatch()
        assert await worker.deliver_due() == 0
        receiver.status = 200
        reactivate = f"/webhook-endpoints/{endpoint['id']}/reactivation"
        read = (await world.api.call("POST", reactivate, role=Role.admin, expect=200)).json()
        assert read["status"] == "enabled" and read["disabled_reason"] is None
        assert await worker.deliver_due() == 1
        assert len(receiver.received) == 2  # the 410 answer's attempt, and the event that waited
    finally:
        await receiver.stop()


async def test_an_endpoint_failing_every_retry_is_disabled_with_an_event(world: World) -> None:
    receiver = Receiver(status=500)
    await receiver.start()
    try:
        endpoint = await world.subscribe(receiver, ["case.opened"])
        worker = world.worker(webhook_retry_schedule_s=[0.05, 0.05])
        worker.start()
        await world.api.open_case(employee={"external_ref": "E-FAIL"})

        async def disabled() -> bool:
            response = await world.api.call("GET", f"/webhook-endpoints/{endpoint['id']}", role=Role.admin)
            return bool(response.json()["status"] == "disabled")

        await eventually(disabled, "the endpoint disabled")
        [entry] = await world.deliveries(endpoint["id"])
        assert entry["status"] == "failed" and entry["attempts"] == 3 and entry["last_status_code"] == 500
        [event] = await world.events("webhook_endpoint.disabled")
        assert event.payload == {"endpoint_id": endpoint["id"], "reason": "failing"}
    finally:
        await receiver.stop()


async def test_a_batch_emits_its_events_in_the_order_of_its_items(world: World) -> None:
    """Receivers see a batch's activity.recorded events in the order the items were sent: the outbox
    orders by occurred_at, so no event may carry an earlier time than the one before it in the batch,
    also where the batch is inserted in several statements (more items than INSERT_CHUNK)."""
    case_id = (await world.api.open_case((today() - timedelta(days=30)).isoformat()))["id"]
    items = [
        {
            "case_id": case_id,
            "kind": "employee_contact",
            "occurred_on": (today() - timedelta(days=1 + n % 20)).isoformat(),
            "summary": f"Call {n}",
            "external_id": f"order-{n}",
        }
        for n in range(2 * INSERT_CHUNK + 40)
    ]
    result = (await world.api.call("POST", "/activities/batch", json={"items": items}, expect=200)).json()
    sent = [r["activity_id"] for r in result["results"]]
    assert result["created"] == len(items)
    events = {e.payload["activity_id"]: e.occurred_at for e in await world.events("activity.recorded")}
    times = [events[activity_id] for activity_id in sent]
    assert times == sorted(times)


async def test_a_batch_items_event_carries_what_a_single_posts_event_carries(world: World) -> None:
    """The batch builds its activity.recorded payloads in SQL and the single POST in Python: the same
    activity gets the same thin payload (ids, kind, date; no summary or details) either way."""
    first_sick_day = today() - timedelta(days=400)
    case_id = (await world.api.open_case(first_sick_day.isoformat()))["id"]
    track_id = (
        await world.api.start_track(case_id, "track_2", (first_sick_day + timedelta(days=370)).isoformat())
    ).json()["id"]
    occurred_on = (today() - timedelta(days=2)).isoformat()
    on_case = {"kind": "employee_contact", "occurred_on": occurred_on, "summary": "Phoned"}
    in_track = {
        "kind": "job_application",
        "occurred_on": occurred_on,
        "track_id": track_id,
        "details": {"employer": "Werkgever", "vacancy": "Planner", "result": "pending"},
    }
    singles = [
        (await world.api.call("POST", f"/cases/{case_id}/activities", json=body, expect=201)).json()["id"]
        for body in (on_case, in_track)
    ]
    batch = (
        await world.api.call(
            "POST",
            "/activities/batch",
            json={"items": [{**on_case, "case_id": case_id}, {**in_track, "case_id": case_id}]},
            expect=200,
        )
    ).json()
    batched = [result["activity_id"] for result in batch["results"]]
    payloads = {e.payload["activity_id"]: e.payload for e in await world.events("activity.recorded")}
    for single, in_batch, track in zip(singles, batched, (None, track_id), strict=True):
        expected = {
            "case_id": case_id,
            "track_id": track,
            "kind": "employee_contact" if track is None else "job_application",
            "occurred_on": occurred_on,
        }
        assert payloads[single] == {**expected, "activity_id": single}
        assert payloads[in_batch] == {**expected, "activity_id": in_batch}
