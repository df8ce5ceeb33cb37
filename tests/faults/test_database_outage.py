"""PostgreSQL stops for a few seconds under a steady mixed load and starts again; the service process keeps
running. While the database is down every request answers a 503 problem at once and /health/ready says not
ready; afterwards the service recovers by itself. Every write acknowledged with 2xx is stored, no failed
write is half stored (a batch is all or nothing, an activity never lacks its event), and a client that
retries its failed writes with the same Idempotency-Key ends with each record exactly once."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from app.runtime import migrate_to_head
from tests.faults.harness import DisposableCluster, ServiceProcess, make_committed_tenant

WORKERS = 6
BATCH_SIZE = 10
HEALTHY_S = 3.0
DOWN_S = 4.0
AFTER_S = 3.0
QUICK_S = 3.0  # "quickly": a refusal while the database is down, at most this long


@dataclass
class Write:
    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    external_ids: list[str]


@dataclass
class Outcome:
    label: str
    started: float
    elapsed: float
    status: int  # 0: no HTTP answer at all
    content_type: str = ""
    code: str | None = None
    retry_after: str | None = None
    write: Write | None = None


@dataclass
class Load:
    client: httpx.AsyncClient
    keys: dict[str, str]
    case_ids: list[str]
    outcomes: list[Outcome] = field(default_factory=list)
    readiness: list[tuple[float, int]] = field(default_factory=list)

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def single(self, worker: int, n: int) -> Write:
        external_id = f"single-{worker}-{n}"
        body = {
            "kind": "employee_contact",
            "occurred_on": "2026-03-02",
            "summary": f"Call {external_id}",
            "external_id": external_id,
        }
        headers = {**self.auth("integration"), "Idempotency-Key": str(uuid.uuid4())}
        case_id = self.case_ids[n % len(self.case_ids)]
        return Write("POST", f"/api/v1/cases/{case_id}/activities", body, headers, [external_id])

    def batch(self, worker: int, n: int) -> Write:
        items = [
            {
                "case_id": self.case_ids[k % len(self.case_ids)],
                "kind": "employee_contact",
                "occurred_on": "2026-03-03",
                "summary": f"Batch call {k}",
                "external_id": f"batch-{worker}-{n}-{k}",
            }
            for k in range(BATCH_SIZE)
        ]
        headers = {**self.auth("integration"), "Idempotency-Key": str(uuid.uuid4())}
        return Write(
            "POST", "/api/v1/activities/batch", {"items": items}, headers, [i["external_id"] for i in items]
        )

    async def send(
        self, label: str, method: str, path: str, write: Write | None = None, **kwargs: Any
    ) -> Outcome:
        started = time.monotonic()
        try:
            response = await self.client.request(method, path, **kwargs)
        except httpx.TransportError:
            return Outcome(label, started, time.monotonic() - started, 0, write=write)
        outcome = Outcome(
            label,
            started,
            time.monotonic() - started,
            response.status_code,
            response.headers.get("content-type", ""),
            retry_after=response.headers.get("retry-after"),
            write=write,
        )
        if response.status_code >= 400 and outcome.content_type.startswith("application/problem+json"):
            outcome.code = response.json().get("code")
        return outcome

    async def send_write(self, label: str, write: Write) -> Outcome:
        return await self.send(label, write.method, write.path, write, json=write.body, headers=write.headers)

    async def worker(self, worker: int, stop: asyncio.Event) -> None:
        for n in itertools.count():
            if stop.is_set():
                return
            case_id = self.case_ids[n % len(self.case_ids)]
            match (worker + n) % 4:
                case 0:
                    outcome = await self.send_write("single", self.single(worker, n))
                case 1:
                    outcome = await self.send_write("batch", self.batch(worker, n))
                case 2:
                    outcome = await self.send(
                        "read", "GET", f"/api/v1/cases/{case_id}", headers=self.auth("viewer")
                    )
                case _:
                    outcome = await self.send(
                        "worklist",
                        "GET",
                        "/api/v1/deadlines?status=overdue",
                        headers=self.auth("case_manager"),
                    )
            self.outcomes.append(outcome)

    async def poll_readiness(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            outcome = await self.send("ready", "GET", "/health/ready")
            self.readiness.append((outcome.started, outcome.status))
            await asyncio.sleep(0.1)

    async def ready_again(self, after: float, timeout_s: float) -> float:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(at > after and status == 200 for at, status in self.readiness):
                return min(at for at, status in self.readiness if at > after and status == 200)
            await asyncio.sleep(0.05)
        raise AssertionError("/health/ready never reported ready again")


@pytest.fixture(scope="module")
def outage(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[DisposableCluster, ServiceProcess, str]]:
    cluster = DisposableCluster()
    service: ServiceProcess | None = None
    try:
        cluster.init()
        cluster.start()
        url = asyncio.run(cluster.create_database("poortwachter"))
        migrate_to_head(url)
        folder: Path = tmp_path_factory.mktemp("outage")
        service = ServiceProcess(url, folder, extra_env={"GRACEFUL_SHUTDOWN_S": "5"})
        service.start()
        yield cluster, service, url
    finally:
        if service is not None:
            service.stop()
        cluster.destroy()


@pytest.mark.parametrize("stop_mode", ["fast", "immediate"])
async def test_a_database_outage_under_load_loses_nothing(
    outage: tuple[DisposableCluster, ServiceProcess, str], stop_mode: str
) -> None:
    cluster, service, url = outage
    await service.wait_ready()
    _, keys = await make_committed_tenant(url)
    async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as client:
        case_ids = []
        for n in range(4):
            body = {"employee": {"external_ref": f"E-{n}"}, "first_sick_day": "2026-01-05"}
            response = await client.post(
                "/api/v1/cases", json=body, headers={"Authorization": f"Bearer {keys['case_manager']}"}
            )
            assert response.status_code == 201, response.text
            case_ids.append(response.json()["id"])

        load = Load(client, keys, case_ids)
        stop = asyncio.Event()
        tasks = [asyncio.create_task(load.worker(w, stop)) for w in range(WORKERS)]
        tasks.append(asyncio.create_task(load.poll_readiness(stop)))
        await asyncio.sleep(HEALTHY_S)
        await asyncio.to_thread(cluster.stop, stop_mode)
        down_at = time.monotonic()
        await asyncio.sleep(DOWN_S)
        up_from = time.monotonic()
        await asyncio.to_thread(cluster.start)
        up_at = time.monotonic()
        ready_at = await load.ready_again(after=up_at, timeout_s=15)
        await asyncio.sleep(AFTER_S)
        stop.set()
        await asyncio.gather(*tasks)

        assert service.process is not None and service.process.poll() is None, "the service process died"
        outcomes = load.outcomes
        print(
            f"\n{stop_mode} stop: {len(outcomes)} requests; ready again {ready_at - up_at:.2f}s after start"
        )

        # No server errors and no hangs, at any time.
        assert {o.status for o in outcomes} <= {200, 201, 503}, sorted({o.status for o in outcomes})
        refused = [o for o in outcomes if o.status == 503]
        assert refused, "the outage was not noticed"
        for o in refused:
            assert o.content_type.startswith("application/problem+json") and o.code == "unavailable", o
            assert o.retry_after is not None, o

        # While down: every request refused, quickly; readiness says not ready.
        while_down = [o for o in outcomes if down_at + 0.2 <= o.started and o.started + o.elapsed <= up_from]
        assert len(while_down) >= 20, f"too little load while the database was down: {len(while_down)}"
        assert {o.status for o in while_down} == {503}
        slowest = max(o.elapsed for o in while_down)
        assert slowest < QUICK_S, f"a request took {slowest:.2f}s while the database was down"
        ready_while_down = {
            status for at, status in load.readiness if down_at + 0.2 <= at and at + 2.5 <= up_from
        }
        assert ready_while_down == {503}, ready_while_down

        # Afterwards: recovered without a restart; everything started a moment after readiness succeeds.
        assert ready_at - up_at < 10
        settled = [o for o in outcomes if o.started >= ready_at + 1.0]
        assert settled and all(200 <= o.status < 300 for o in settled), [
            o for o in settled if o.status >= 300
        ]

        acknowledged = [o.write for o in outcomes if o.write is not None and 200 <= o.status < 300]
        failed = [o.write for o in outcomes if o.write is not None and not 200 <= o.status < 300]
        assert failed, "no write failed: the outage did not hit the writes"
        stored = await stored_activities(url, case_ids)
        for write in acknowledged:
            assert write is not None
            assert all(external_id in stored for external_id in write.external_ids), write
        for write in failed:
            assert write is not None
            present = sum(external_id in stored for external_id in write.external_ids)
            assert present in (0, len(write.external_ids)), f"half a batch stored: {write.external_ids}"
        missing_events = [external_id for external_id, has_event in stored.items() if not has_event]
        assert not missing_events, f"activities stored without their event: {missing_events}"

        # A client retrying its failed writes with the same keys ends with each record exactly once.
        for write in failed:
            assert write is not None
            retried = await load.send_write("retry", write)
            assert retried.status in (200, 201), retried
        stored = await stored_activities(url, case_ids)
        planned = [external_id for o in outcomes if o.write for external_id in o.write.external_ids]
        assert sorted(stored) == sorted(planned)


async def stored_activities(url: str, case_ids: list[str]) -> dict[str, bool]:
    """external_id -> whether its activity.recorded event exists, for the activities of these cases."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            """
            SELECT a.external_id,
                   EXISTS (SELECT 1 FROM outbox_events e
                           WHERE e.tenant_id = a.tenant_id AND e.type = 'activity.recorded'
                             AND e.payload->>'activity_id' = a.id::text) AS has_event
            FROM activities a
            WHERE a.case_id = ANY($1::uuid[]) AND a.external_id IS NOT NULL
            """,
            case_ids,
        )
    finally:
        await connection.close()
    external_ids = [row["external_id"] for row in rows]
    assert len(external_ids) == len(set(external_ids))
    return {row["external_id"]: row["has_event"] for row in rows}
