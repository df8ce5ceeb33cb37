"""Benchmark of the reports on a large case (not a test).

Creates a fresh database (on DATABASE_URL's server, or the embedded one), migrates it, records one case
with 2,000 activities through the API (in-process, one batch), then times each report endpoint over HTTP
in-process: median and 95th percentile of `--runs` requests after a warm-up. Goal: under 200 ms each.

    . .venv/bin/activate && python bench/reports.py [--activities N] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import httpx

from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.main import create_app
from app.models.tenants import Role
from app.runtime import migrate_to_head_async
from app.tenants.service import create_tenant, issue_key

GOAL_MS = 200.0
ACTION_PLAN = {
    "case_manager": "bench",
    "signed_by_employer": True,
    "signed_by_employee": True,
    "employer_view": "Build up hours",
    "employee_view": "Agrees",
}


def server_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url.replace("postgresql+asyncpg://", "postgresql://", 1)
    from app.embedded_db import start_embedded_postgres

    return start_embedded_postgres(Settings().embedded_pg_data, database="postgres")


async def recreate(admin_url: str, name: str, *, drop_only: bool = False) -> str:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return urlunsplit(urlsplit(admin_url)._replace(path="/" + name))


class Client:
    def __init__(self, http: httpx.AsyncClient, key: str, physician_key: str) -> None:
        self.http, self.key, self.physician_key = http, key, physician_key

    async def call(self, method: str, path: str, *, physician: bool = False, **kwargs: Any) -> httpx.Response:
        key = self.physician_key if physician else self.key
        headers = {"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}
        response = await self.http.request(method, "/api/v1" + path, headers=headers, **kwargs)
        if response.status_code >= 300:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response


async def build_case(api: Client, activities: int) -> tuple[str, str, date]:
    """A case in its second year, both tracks running, the statutory documents, and `activities` in all."""
    today = date.today()
    first = today - timedelta(days=700)

    def on(day: int) -> str:
        return (first + timedelta(days=day - 1)).isoformat()

    case = (
        await api.call(
            "POST",
            "/cases",
            json={"employee": {"external_ref": "BENCH-1"}, "first_sick_day": first.isoformat()},
        )
    ).json()
    case_id = case["id"]
    await api.call(
        "POST",
        f"/cases/{case_id}/activities",
        json={"kind": "problem_analysis", "occurred_on": on(38)},
        physician=True,
    )
    await api.call(
        "POST",
        f"/cases/{case_id}/activities",
        json={"kind": "action_plan", "occurred_on": on(49), "details": ACTION_PLAN},
    )
    track_1 = (
        await api.call("POST", f"/cases/{case_id}/tracks", json={"kind": "track_1", "started_on": on(49)})
    ).json()["id"]
    await api.call(
        "POST",
        f"/cases/{case_id}/activities",
        json={
            "kind": "first_year_evaluation",
            "occurred_on": on(330),
            "details": {"employer_view": "Track 2", "employee_view": "Agrees"},
        },
    )
    track_2 = (
        await api.call(
            "POST",
            f"/cases/{case_id}/tracks",
            json={"kind": "track_2", "started_on": on(345), "provider": "Bench BV"},
        )
    ).json()["id"]
    items: list[dict[str, Any]] = []
    results = ("pending", "invited", "rejected", "rejected", "withdrawn")
    n = 0
    while len(items) < activities - 4:
        n += 1
        day = 346 + n % 340
        kind = n % 10
        if kind < 4:
            details = {"employer": f"Employer {n % 97}", "vacancy": f"Vacancy {n}", "result": results[n % 5]}
            items.append(
                {"kind": "job_application", "occurred_on": on(day), "track_id": track_2, "details": details}
            )
        elif kind < 6:
            details = {"sources": ["job board"], "vacancies_found": n % 30, "vacancies_suitable": n % 5}
            items.append(
                {"kind": "vacancy_search", "occurred_on": on(day), "track_id": track_2, "details": details}
            )
        elif kind == 6:
            items.append(
                {
                    "kind": "employer_contact",
                    "occurred_on": on(day),
                    "track_id": track_2,
                    "details": {"employer": f"E{n}"},
                }
            )
        elif kind == 7:
            items.append(
                {
                    "kind": "coaching_session",
                    "occurred_on": on(60 + n % 620),
                    "track_id": track_1,
                    "summary": "Discussed the build-up of hours and the next steps in the own role.",
                }
            )
        elif kind == 8:
            items.append(
                {"kind": "evaluation", "occurred_on": on(84 + n % 600), "summary": "Progress as planned."}
            )
        else:
            details = {
                "period_from": on(day - 27),
                "period_to": on(day),
                "summary_of_results": "Applications sent.",
            }
            items.append(
                {"kind": "progress_report", "occurred_on": on(day), "track_id": track_2, "details": details}
            )
    result = (
        await api.call(
            "POST", "/activities/batch", json={"items": [{**i, "case_id": case_id} for i in items]}
        )
    ).json()
    assert result["errors"] == 0, result
    return case_id, track_2, today


async def timed(api: Client, path: str, runs: int, headers: dict[str, str] | None = None) -> list[float]:
    for _ in range(3):
        await api.call("GET", path, headers=headers or {})
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await api.call("GET", path, headers=headers or {})
        times.append((time.perf_counter() - started) * 1000)
    return times


async def main(activities: int, runs: int) -> None:
    admin_url = server_url()
    name = f"poortwachter_bench_reports_{os.getpid()}"
    url = await recreate(admin_url, name)
    try:
        await migrate_to_head_async(url)
        settings = Settings(database_url=url, log_level="warning")
        app = create_app(settings, migrate_on_start=False)
        engine = create_engine(settings)
        app.state.engine, app.state.sessionmaker = engine, create_sessionmaker(engine)
        async with app.state.sessionmaker() as session, session.begin():
            tenant = await create_tenant(session, "bench", "Bench")
            _, key = await issue_key(session, tenant.id, Role.case_manager, "bench")
            _, physician_key = await issue_key(session, tenant.id, Role.occupational_physician, "bench")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120) as http:
            api = Client(http, key, physician_key)
            started = time.perf_counter()
            case_id, track_2, today = await build_case(api, activities)
            print(f"case with {activities} activities recorded in {time.perf_counter() - started:.1f}s")
            html = {"Accept": "text/html"}
            rows = [
                ("RIV, JSON", f"/cases/{case_id}/reports/reintegration?as_of={today}", None),
                ("RIV, HTML", f"/cases/{case_id}/reports/reintegration?as_of={today}", html),
                ("compliance report", f"/cases/{case_id}/reports/compliance?as_of={today}", None),
                ("Track 2 progress report, JSON", f"/tracks/{track_2}/reports/progress?as_of={today}", None),
                ("Track 2 final report, JSON", f"/tracks/{track_2}/reports/final?as_of={today}", None),
                ("Track 2 final report, HTML", f"/tracks/{track_2}/reports/final?as_of={today}", html),
                ("timeline.svg", f"/cases/{case_id}/timeline.svg?as_of={today}", None),
            ]
            print(f"\n{'report':32} {'median ms':>10} {'p95 ms':>8} {'size':>9}   goal {GOAL_MS:.0f} ms")
            worst = 0.0
            for label, path, headers in rows:
                times = await timed(api, path, runs, headers)
                size = len((await api.call("GET", path, headers=headers or {})).content)
                median = statistics.median(times)
                p95 = sorted(times)[max(int(len(times) * 0.95) - 1, 0)]
                worst = max(worst, median)
                print(f"{label:32} {median:10.1f} {p95:8.1f} {size / 1024:8.0f}K")
            print(
                f"\nslowest median {worst:.1f} ms: "
                f"{'within' if worst < GOAL_MS else 'OVER'} the {GOAL_MS:.0f} ms goal"
            )
        await engine.dispose()
    finally:
        await recreate(admin_url, name, drop_only=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--activities", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(main(args.activities, args.runs))
