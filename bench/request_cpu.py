"""CPU per request of the service's hot paths, in-process (not a test).

Calls the ASGI app directly (no HTTP server, no client), one request after another, against the load
benchmark's data set (`bench/seed_scale.py`, database `poortwachter_bench_scale`), and prints the
process's CPU time per request for each path: the minimum and the median of --rounds rounds of
--requests requests. Under load the service is bound by this figure (one worker, one core), so it shows
what a change saves long before a wrk run can tell it from this machine's noise (rates drift 15-25%
between runs; these figures by a few percent). With --raw it measures the load benchmark's ceiling
(`bench/raw_ceiling.py`) the same way and prints raw/service: the share of the ceiling's rate the
service could reach if both were bound by their own CPU alone.

    . .venv/bin/activate && python bench/request_cpu.py [--paths case,post,timeline,worklist] [--raw]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import uvloop

from app.config import Settings
from app.main import create_app
from bench.seed import DEFAULT_ADMIN_URL, database_url, issue_key
from bench.seed_scale import DEFAULT_DATABASE as DATABASE

PATHS = ("case", "post", "timeline", "worklist", "case_list")


def request_for(path: str, case_id: uuid.UUID, day: str) -> tuple[str, str, bytes, bytes]:
    """(method, path, body, query string) of one request."""
    if path == "case":
        return "GET", f"/api/v1/cases/{case_id}", b"", b""
    if path == "timeline":
        return "GET", f"/api/v1/cases/{case_id}/timeline", b"", b""
    if path == "worklist":
        return "GET", "/api/v1/deadlines", b"", b"status=overdue&limit=50"
    if path == "case_list":
        return "GET", "/api/v1/cases", b"", b"has_overdue=true&limit=50"
    body = {
        "kind": "employee_contact",
        "occurred_on": day,
        "summary": "call",
        "external_id": uuid.uuid4().hex,
    }
    return "POST", f"/api/v1/cases/{case_id}/activities", json.dumps(body).encode(), b""


async def run(url: str, paths: list[str], requests: int, rounds: int, raw: bool) -> None:
    settings = Settings(
        database_url=url, log_level="warning", rate_limit="100000000/minute", event_worker_enabled=False
    )
    apps: dict[str, Any] = {"service": create_app(settings, migrate_on_start=False)}
    if raw:  # the load benchmark's ceiling: minimal raw-asyncpg endpoints doing the same work
        os.environ["DATABASE_URL"] = url
        from bench.raw_ceiling import app as raw_app

        apps["raw"] = raw_app
    _, _, secret = await issue_key(url, "bench request cpu", "integration")
    connection = await asyncpg.connect(url)
    try:
        # the same sample every run (not random()), so two runs, or two versions, read the same cases
        sample = "SELECT id FROM cases ORDER BY md5(id::text) LIMIT 3000"
        case_ids = [r[0] for r in await connection.fetch(sample)]
    finally:
        await connection.close()
    if not case_ids:
        raise SystemExit(f"{DATABASE} holds no cases: seed it with bench/seed_scale.py")
    day = (date.today() - timedelta(days=3)).isoformat()
    figures = {
        name: await measure(app, secret, case_ids, day, paths, requests, rounds) for name, app in apps.items()
    }
    print(f"CPU per request, in-process, {rounds} rounds of {requests} requests:")
    for path in paths:
        line = "  ".join(
            f"{name} min {min(values[path]):7.1f} µs median {statistics.median(values[path]):7.1f} µs"
            for name, values in figures.items()
        )
        if raw:
            ratio = min(figures["raw"][path]) / min(figures["service"][path])
            line += f"  raw/service {ratio:.2f}"
        print(f"  {path:10s} {line}")


async def measure(
    app: Any, secret: str, case_ids: list[uuid.UUID], day: str, paths: list[str], requests: int, rounds: int
) -> dict[str, list[float]]:
    """The app's CPU per request for each path: one figure per round."""

    async def call(method: str, path: str, body: bytes, query: bytes) -> int:
        headers = [(b"host", b"bench"), (b"authorization", f"Bearer {secret}".encode())]
        if body:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        scope: dict[str, Any] = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
            "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "root_path": "",
        }  # fmt: skip
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the client never disconnects
            raise AssertionError

        statuses: list[int] = []

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(scope, receive, send)
        return statuses[0]

    async with app.router.lifespan_context(app):
        for path in paths:  # warm up: statement caches, the holiday calendar, pydantic
            for i in range(50):
                status = await call(*request_for(path, case_ids[i], day))
                if status not in (200, 201):
                    raise SystemExit(f"{path}: answered {status}")
        figures: dict[str, list[float]] = {path: [] for path in paths}
        for round_no in range(rounds):
            for path in paths:
                started = time.process_time()
                for i in range(requests):
                    await call(*request_for(path, case_ids[(round_no * requests + i) % len(case_ids)], day))
                figures[path].append((time.process_time() - started) / requests * 1e6)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_ADMIN_URL, help="the server (any database on it)")
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--raw", action="store_true", help="also measure the raw-asyncpg ceiling (bench/raw_ceiling.py)"
    )
    args = parser.parse_args()
    paths = [p for p in args.paths.split(",") if p]
    if unknown := set(paths) - set(PATHS):
        parser.error(f"unknown paths {sorted(unknown)}; known: {', '.join(PATHS)}")
    uvloop.run(run(database_url(args.database_url, DATABASE), paths, args.requests, args.rounds, args.raw))


if __name__ == "__main__":
    main()
