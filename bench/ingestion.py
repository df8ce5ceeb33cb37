"""Benchmark of activity ingestion over HTTP (not a test).

What it measures, in one run on this machine:

1. Seeding: (re)creates the database `poortwachter_bench` on the given PostgreSQL server, migrates it
   to head and fills it with set-based SQL (`bench/seed.py`): one tenant, an integration key,
   --cases cases (each with an open sickness period, a third with an open Track 2) and --activities
   activities. Prints how long that took.
2. Batch ingestion: `POST /api/v1/activities/batch` with --batch-size items spread over random cases
   (employee contacts on the case; job applications and coaching sessions in a Track 2):
   --batches batches one after the other, then --batches more as 2 concurrent streams, then one
   batch sent again (every item a duplicate). Prints activities/s and the per-batch latency.
   Goal: at least 20,000 activities/s. A 404/405 prints "batch endpoint not available".
3. Single POST: `POST /api/v1/cases/{case_id}/activities` (an employee contact on a random case, a
   new external_id each) for --duration seconds at --connections connections (HTTP/1.1 keep-alive),
   against the service and against the raw ceiling (`bench/raw_ceiling.py`: bare asyncpg, same
   insert) in the same run. Prints requests/s, p50/p99 latency, errors, and the ratio service /
   ceiling. Goal: ratio at least 0.5.

The service runs as `poortwachter serve` and the ceiling under uvicorn, each one process with one
worker on 127.0.0.1, stopped at the end. The service's per-key rate limit is raised so that it never
refuses (the limiter stays in the path); BENCH_RATE_LIMIT sets another (`limits` notation).

The load generator is `wrk` when installed (one thread; as root: `apt-get install -y wrk`), else one
asyncio process with httpx, which costs about as much CPU per request as the ceiling itself on these
2 cores: its ceiling figure is understated and the ratio overstated. Only loopback addresses are
used; every loop has a count and a time limit.

    . .venv/bin/activate
    python bench/ingestion.py                                          # 10,000 cases, 1,000,000 activities
    python bench/ingestion.py --cases 2000 --activities 100000 --duration 5   # a quick look
    python bench/ingestion.py --reuse                                   # keep the seeded database

Options: --database-url (admin URL of the server, default postgresql://postgres@127.0.0.1:5432/postgres),
--cases, --activities, --batches, --batch-size, --duration, --connections, --client {auto,wrk,httpx},
--reuse, --seed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import psutil  # noqa: E402

from bench.seed import DEFAULT_ADMIN_URL, BenchCase, Seeded, prepare_database, require_loopback  # noqa: E402

HOST = "127.0.0.1"
BATCH_PATH = "/api/v1/activities/batch"
BATCH_GOAL = 20_000
RATIO_GOAL = 0.5
READY_TIMEOUT_S = 90.0
BATCH_TIMEOUT_S = 300.0
BATCH_PHASE_LIMIT_S = 900.0
WARMUP_S = 3.0
INSTALL_WRK = "apt-get install -y wrk   (Debian, as root; or run with --client httpx)"


# --- servers ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A uvicorn process on 127.0.0.1, its output in a log file; stopped with SIGTERM, then killed."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    async def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    raise SystemExit(f"{self.name} exited while starting:\n{self.log_tail()}")
                try:
                    if (await client.get("/health/ready")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise SystemExit(f"{self.name} not ready after {timeout_s:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def service_server(database_url: str, workdir: Path) -> Server:
    port = free_port()
    command = shutil.which("poortwachter", path=str(Path(sys.executable).parent)) or shutil.which(
        "poortwachter"
    )
    argv = [command, "serve", "--port", str(port)] if command else [
        sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app_from_env", "--port", str(port)
    ]  # fmt: skip
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HOST": HOST,
        "PORT": str(port),
        "LOG_LEVEL": "warning",
        "GRACEFUL_SHUTDOWN_S": "5",
        # The per-key limit (1200/minute by default) would answer most of the load with 429: keep the
        # limiter in the path, but high enough never to refuse.
        "RATE_LIMIT": os.environ.get("BENCH_RATE_LIMIT", "100000000/minute"),
    }
    return Server("service", argv, env, port, workdir / "service.log")


def ceiling_server(database_url: str, workdir: Path) -> Server:
    port = free_port()
    argv = [
        sys.executable, "-m", "uvicorn", "bench.raw_ceiling:app", "--host", HOST, "--port", str(port),
        "--workers", "1", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    env = {**os.environ, "DATABASE_URL": database_url, "RAW_POOL_SIZE": "10"}
    return Server("raw ceiling", argv, env, port, workdir / "raw_ceiling.log")


# --- figures ---------------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


@dataclass
class Row:
    name: str
    count: int
    rate: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    note: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def print(self, header: str) -> None:
        print()
        print(header)
        print(
            f"{'measurement':<44}{'count':>10}{'per s':>10}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}"
            f"{'errors':>8}"
        )
        for r in self.rows:
            print(
                f"{r.name:<44}{r.count:>10,}{r.rate:>10,.0f}{r.p50_ms:>10.1f}{r.p99_ms:>10.1f}"
                f"{r.max_ms:>10.1f}{r.errors:>8,}  {r.note}".rstrip()
            )
        print(
            "count: requests answered (batch rows: items stored); per s: 2xx answers per second (batch rows:"
            " items per second of wall time); latencies per request (batch rows: per batch). Rows stored can"
            " exceed the count by the requests still in flight when the load generator stopped."
        )
        for line in self.lines:
            print(line)


# --- batch ingestion -------------------------------------------------------------------------------------


def batch_item(case: BenchCase, rng: random.Random, today: date, external_id: str) -> dict[str, Any]:
    occurred_on = (today - timedelta(days=rng.randint(2, 5))).isoformat()
    draw = rng.random()
    if case.track_2_id is not None and draw < 0.4:
        return {
            "case_id": str(case.id),
            "kind": "job_application",
            "occurred_on": occurred_on,
            "track_id": str(case.track_2_id),
            "summary": "Applied for a vacancy",
            "details": {
                "employer": f"Werkgever {rng.randrange(500)}",
                "vacancy": f"Vacature {rng.randrange(997)}",
                "result": rng.choice(("pending", "invited", "rejected")),
            },
            "external_id": external_id,
        }
    if case.track_2_id is not None and draw < 0.6:
        return {
            "case_id": str(case.id),
            "kind": "coaching_session",
            "occurred_on": occurred_on,
            "track_id": str(case.track_2_id),
            "details": {"coach": f"Coach {rng.randrange(40)}", "topic": "job search"},
            "external_id": external_id,
        }
    return {
        "case_id": str(case.id),
        "kind": "employee_contact",
        "occurred_on": occurred_on,
        "summary": "Phoned about progress",
        "details": {"channel": rng.choice(("phone", "video", "email")), "initiated_by": "employer"},
        "external_id": external_id,
    }


def make_batches(seeded: Seeded, count: int, size: int, rng: random.Random, run_id: str) -> list[bytes]:
    today = date.today()
    return [
        json.dumps(
            {
                "items": [
                    batch_item(rng.choice(seeded.cases), rng, today, f"{run_id}-b{b}-{i}")
                    for i in range(size)
                ]
            }
        ).encode()
        for b in range(count)
    ]


@dataclass
class BatchResult:
    status: int
    seconds: float
    created: int = 0
    duplicates: int = 0
    errors: int = 0
    sample_problem: Any = None


class BatchEndpointMissing(Exception):
    pass


async def post_batch(client: httpx.AsyncClient, body: bytes) -> BatchResult:
    started = time.perf_counter()
    response = await client.post(BATCH_PATH, content=body, headers={"Content-Type": "application/json"})
    seconds = time.perf_counter() - started
    if response.status_code in (404, 405):
        raise BatchEndpointMissing(f"{response.status_code} {response.text[:200]}")
    if response.status_code != 200:
        return BatchResult(response.status_code, seconds, errors=1, sample_problem=response.text[:500])
    payload = response.json()
    problem = next((r.get("problem") for r in payload.get("results", []) if r.get("status") == "error"), None)
    return BatchResult(
        200,
        seconds,
        payload.get("created", 0),
        payload.get("duplicates", 0),
        payload.get("errors", 0),
        problem,
    )


def batch_row(name: str, results: list[BatchResult], wall_s: float, size: int, note: str = "") -> Row:
    latencies = [r.seconds * 1000 for r in results]
    stored = sum(r.created + r.duplicates for r in results)
    errors = sum(r.errors for r in results)
    return Row(
        name,
        stored,
        stored / wall_s if wall_s else 0.0,
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        max(latencies, default=float("nan")),
        errors,
        note or "per batch: " + " ".join(f"{s:.0f}" for s in latencies) + " ms",
    )


async def bench_batches(
    service: Server, api_key: str, seeded: Seeded, args: argparse.Namespace, report: Report
) -> None:
    rng = random.Random(args.seed)
    run_id = f"batch-{uuid.uuid4().hex[:8]}"
    sequential_n = args.batches
    per_stream = max(1, args.batches // 2)
    prepared = time.perf_counter()
    bodies = make_batches(seeded, sequential_n + 2 * per_stream, args.batch_size, rng, run_id)
    print(
        f"  built {len(bodies)} batch bodies of {args.batch_size:,} items"
        f" in {time.perf_counter() - prepared:.1f}s"
    )
    deadline = time.monotonic() + BATCH_PHASE_LIMIT_S
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(
        base_url=service.base_url, headers=headers, timeout=BATCH_TIMEOUT_S
    ) as client:
        try:
            await settle(service, seeded.database_url)
            sequential: list[BatchResult] = []
            started = time.perf_counter()
            for body in bodies[:sequential_n]:
                if time.monotonic() > deadline:
                    break
                sequential.append(await post_batch(client, body))
            wall = time.perf_counter() - started
        except BatchEndpointMissing as missing:
            print(f"  batch endpoint not available ({missing})")
            report.lines.append("batch endpoint not available")
            return
        report.rows.append(
            batch_row(
                f"batch, sequential ({len(sequential)} x {args.batch_size:,})",
                sequential,
                wall,
                args.batch_size,
            )
        )

        async def stream(chunk: list[bytes]) -> list[BatchResult]:
            results = []
            for body in chunk:
                if time.monotonic() > deadline:
                    break
                results.append(await post_batch(client, body))
            return results

        rest = bodies[sequential_n:]
        await settle(service, seeded.database_url)
        started = time.perf_counter()
        streams = await asyncio.gather(stream(rest[:per_stream]), stream(rest[per_stream:]))
        wall = time.perf_counter() - started
        concurrent = [r for results in streams for r in results]
        report.rows.append(
            batch_row(
                f"batch, 2 concurrent ({len(concurrent)} x {args.batch_size:,})",
                concurrent,
                wall,
                args.batch_size,
            )
        )

        await settle(service, seeded.database_url)
        started = time.perf_counter()
        replay = await post_batch(client, bodies[0])
        wall = time.perf_counter() - started
        note = f"{replay.duplicates:,} duplicates, {replay.created:,} created"
        report.rows.append(
            batch_row("batch, one sent again (duplicates)", [replay], wall, args.batch_size, note)
        )

    all_results = [*sequential, *concurrent, replay]
    stored = await count_rows(seeded.database_url, run_id)
    created = sum(r.created for r in all_results)
    report.lines.append(f"batch: {created:,} reported created, {stored:,} rows found in the database")
    problems = [r.sample_problem for r in all_results if r.sample_problem is not None]
    if problems:
        report.lines.append(f"batch: first problem: {json.dumps(problems[0])[:400]}")
    statuses = sorted({r.status for r in all_results if r.status != 200})
    if statuses:
        report.lines.append(f"batch: non-200 answers: {statuses}")
    best = max(r.rate for r in report.rows if r.name.startswith("batch, ") and "again" not in r.name)
    verdict = "met" if best >= BATCH_GOAL else "NOT met"
    report.lines.append(f"batch goal >= {BATCH_GOAL:,} activities/s: {verdict} (best {best:,.0f}/s)")


# --- single POST -----------------------------------------------------------------------------------------


def single_body(external_id: str, occurred_on: str) -> str:
    return json.dumps(
        {
            "kind": "employee_contact",
            "occurred_on": occurred_on,
            "summary": "Phoned about progress",
            "details": {"channel": "phone", "initiated_by": "employer"},
            "external_id": external_id,
        },
        separators=(",", ":"),
    )


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    detail: str = ""

    @property
    def rate(self) -> float:
        """Successful (2xx) requests per second: refused ones do not count as throughput."""
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0


WRK_SCRIPT = r"""
-- Generated by bench/ingestion.py: POST one employee contact on a random case, a new external_id each.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer __KEY__"
local prefix = "__PREFIX__"
local day = "__DAY__"
local ids_file = "__IDS__"
local cases = {}
local counter = 0
local next_thread = 1
local threads = {}
first_error = ""

function setup(thread)
  thread:set("thread_id", next_thread)
  threads[#threads + 1] = thread
  next_thread = next_thread + 1
end

function init(args)
  for line in io.lines(ids_file) do cases[#cases + 1] = line end
  math.randomseed(1000 + thread_id)
end

function request()
  counter = counter + 1
  local body = '{"kind":"employee_contact","occurred_on":"' .. day .. '","summary":"Phoned about progress",'
    .. '"details":{"channel":"phone","initiated_by":"employer"},"external_id":"'
    .. prefix .. "-" .. thread_id .. "-" .. counter .. '"}'
  return wrk.format(nil, "/api/v1/cases/" .. cases[math.random(#cases)] .. "/activities", nil, body)
end

function response(status, headers, body)
  if status ~= 201 and first_error == "" then
    first_error = status .. " " .. string.sub(body or "", 1, 300)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local sample = ""
  for _, thread in ipairs(threads) do
    local found = thread:get("first_error")
    if found and found ~= "" then sample = found end
  end
  sample = string.gsub(sample, '[%c"\\]', " ")
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,'
    .. '"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"first_error":"%s"}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, sample))
end
"""


async def wrk_load(
    base_url: str,
    api_key: str,
    ids_file: Path,
    prefix: str,
    day: str,
    duration_s: float,
    connections: int,
    workdir: Path,
) -> LoadResult:
    script = workdir / f"{prefix}.lua"
    script.write_text(
        WRK_SCRIPT.replace("__KEY__", api_key)
        .replace("__PREFIX__", prefix)
        .replace("__DAY__", day)
        .replace("__IDS__", str(ids_file))
    )
    seconds = max(1, round(duration_s))
    process = await asyncio.create_subprocess_exec(
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), base_url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout=seconds + 60)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise SystemExit("wrk did not finish in time") from None
    text = out.decode(errors="replace")
    line = next((ln for ln in text.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise SystemExit(f"unexpected wrk output:\n{text}")
    figures = json.loads(line.removeprefix("WRKJSON "))
    errors = sum(figures[k] for k in ("connect", "read", "write", "status", "timeout"))
    detail = ", ".join(
        f"{k} {figures[k]}" for k in ("status", "timeout", "connect", "read", "write") if figures[k]
    )
    if figures["first_error"]:
        detail += f"; first non-201: {figures['first_error'][:200]}"
    return LoadResult(
        figures["requests"],
        figures["duration_us"] / 1e6,
        figures["p50_us"] / 1000,
        figures["p99_us"] / 1000,
        figures["max_us"] / 1000,
        errors,
        detail,
    )


async def httpx_load(
    base_url: str,
    api_key: str,
    case_ids: list[str],
    prefix: str,
    day: str,
    duration_s: float,
    connections: int,
) -> LoadResult:
    """One keep-alive connection per worker, each its own client: httpx's shared pool is slow when many
    requests wait on it at once."""
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    cap = int(duration_s * 50_000)  # a count limit besides the time limit
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + duration_s

    async def worker(w: int) -> None:
        rng = random.Random(w)
        n = 0
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(
            base_url=base_url, headers=headers, limits=limits, timeout=10.0
        ) as client:
            while loop.time() < deadline and len(latencies) < cap:
                n += 1
                path = f"/api/v1/cases/{rng.choice(case_ids)}/activities"
                sent = loop.time()
                try:
                    status = (
                        await client.post(path, content=single_body(f"{prefix}-{w}-{n}", day))
                    ).status_code
                except httpx.HTTPError:
                    status = 0
                latencies.append((loop.time() - sent) * 1000)
                statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(worker(w) for w in range(connections)))
    seconds = loop.time() - started
    errors = sum(n for status, n in statuses.items() if not 200 <= status < 300)
    detail = ", ".join(
        f"{status or 'transport'}: {n}" for status, n in sorted(statuses.items()) if status != 201
    )
    return LoadResult(
        len(latencies),
        seconds,
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        max(latencies, default=float("nan")),
        errors,
        detail,
    )


async def smoke_post(base_url: str, api_key: str, case_id: str, day: str, name: str) -> None:
    """One request first: a wrong key, path or body shows its problem instead of a wall of errors."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as client:
        response = await client.post(
            f"/api/v1/cases/{case_id}/activities",
            content=single_body(f"smoke-{uuid.uuid4().hex}", day),
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
        )
    if response.status_code != 201:
        raise SystemExit(f"{name}: single POST answered {response.status_code}: {response.text[:500]}")


async def count_rows(database_url: str, prefix: str) -> int:
    conn = await asyncpg.connect(database_url, timeout=10)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM activities WHERE external_id LIKE $1", prefix + "-%"
        )
        return count
    finally:
        await conn.close()


async def checkpoint(database_url: str) -> None:
    """Flush dirty pages before a timed run, so no measurement pays for an earlier one's checkpoint."""
    conn = await asyncpg.connect(database_url, timeout=10)
    try:
        await conn.execute("CHECKPOINT")
    except asyncpg.PostgresError:  # not a superuser (or pg_checkpoint member): measure anyway
        pass
    finally:
        await conn.close()


WRITTEN_TABLES = ("activities", "outbox_events", "audit_events")


async def vacuum_written(database_url: str) -> None:
    """Vacuum what the runs before wrote, as autovacuum would on a database server: a PostgreSQL with
    autovacuum off (as this machine's is) keeps every dispatched event's dead row, and the dispatcher
    slowed each later POST run by scanning them."""
    conn = await asyncpg.connect(database_url, timeout=10)
    try:
        await conn.execute(f"VACUUM (ANALYZE) {', '.join(WRITTEN_TABLES)}")
    finally:
        await conn.close()


IDLE_CPU_PERCENT = 10.0
IDLE_QUIET_S = 3
IDLE_LIMIT_S = 900.0


async def wait_idle(server: Server) -> float:
    """Wait (at most IDLE_LIMIT_S) until the server process used under IDLE_CPU_PERCENT of a core for
    IDLE_QUIET_S seconds in a row: work it does at start (e.g. the deadline scheduler catching up on a
    freshly seeded database) must not run during a measurement. Returns the seconds waited."""
    assert server.process is not None
    process = psutil.Process(server.process.pid)
    started = time.monotonic()
    process.cpu_percent(None)
    quiet = 0
    for _ in range(int(IDLE_LIMIT_S)):
        await asyncio.sleep(1.0)
        quiet = quiet + 1 if process.cpu_percent(None) < IDLE_CPU_PERCENT else 0
        if quiet >= IDLE_QUIET_S:
            break
    return time.monotonic() - started - IDLE_QUIET_S


async def settle(server: Server, database_url: str) -> None:
    """Before a timed run: the service idle (the outbox events of the run before dispatched), what the
    runs before wrote vacuumed (as autovacuum would) and the dirty pages flushed."""
    waited = await wait_idle(server)
    if waited >= 1:
        print(f"    the {server.name} was busy for {waited:.0f}s before the run (background work)")
    await vacuum_written(database_url)
    await checkpoint(database_url)


async def bench_single(
    service: Server,
    ceiling: Server,
    seeded: Seeded,
    args: argparse.Namespace,
    client: str,
    workdir: Path,
    report: Report,
) -> None:
    day = (date.today() - timedelta(days=3)).isoformat()
    case_ids = [str(case.id) for case in seeded.cases]
    ids_file = workdir / "case_ids.txt"
    ids_file.write_text("\n".join(case_ids) + "\n")
    run_id = uuid.uuid4().hex[:8]

    def load(server: Server, prefix: str, seconds: float) -> Any:
        if client == "wrk":
            return wrk_load(
                server.base_url, seeded.api_key, ids_file, prefix, day, seconds, args.connections, workdir
            )
        return httpx_load(server.base_url, seeded.api_key, case_ids, prefix, day, seconds, args.connections)

    targets = [("service", service), ("raw ceiling", ceiling)]
    for name, server in targets:
        await smoke_post(server.base_url, seeded.api_key, case_ids[0], day, name)
    warmup = min(WARMUP_S, args.duration)
    for name, server in targets:
        print(f"  warming up {name} ({warmup:.0f}s)")
        await load(server, f"warm-{run_id}-{name[:3]}", warmup)
    results: dict[str, LoadResult] = {}
    for name, server in targets:
        print(
            f"  single POST against the {name} for {args.duration:.0f}s"
            f" at {args.connections} connections ({client})"
        )
        prefix = f"single-{run_id}-{name[:3]}"
        await settle(server, seeded.database_url)
        result = await load(server, prefix, args.duration)
        results[name] = result
        stored = await count_rows(seeded.database_url, prefix)
        note = f"{stored:,} rows stored" + (f"; {result.detail}" if result.detail else "")
        report.rows.append(
            Row(
                f"single POST, {name}",
                result.requests,
                result.rate,
                result.p50_ms,
                result.p99_ms,
                result.max_ms,
                result.errors,
                note,
            )
        )
    ceiling_rate = results["raw ceiling"].rate
    ratio = results["service"].rate / ceiling_rate if ceiling_rate else 0.0
    verdict = "met" if ratio >= RATIO_GOAL else "NOT met"
    report.lines.append(f"single POST ratio service / ceiling: {ratio:.2f} (goal >= {RATIO_GOAL}: {verdict})")
    if client == "httpx":
        report.lines.append(
            "note: httpx costs about as much CPU per request as the ceiling: the ceiling is understated and"
            f" the ratio overstated; for real figures install wrk: {INSTALL_WRK}"
        )


# --- main ------------------------------------------------------------------------------------------------


def choose_client(wanted: str) -> str:
    has_wrk = shutil.which("wrk") is not None
    if wanted == "wrk" and not has_wrk:
        raise SystemExit(f"wrk is not installed; install it with: {INSTALL_WRK}")
    if wanted == "auto" and not has_wrk:
        print(f"note: wrk is not installed, using httpx (heavier on the 2 cores); to install: {INSTALL_WRK}")
        return "httpx"
    return "wrk" if wanted in ("auto", "wrk") else "httpx"


async def run(args: argparse.Namespace) -> None:
    require_loopback(args.database_url)
    client = choose_client(args.client)
    report = Report()
    print(
        f"seeding {args.cases:,} cases and {args.activities:,} activities"
        + (" (reuse allowed)" if args.reuse else "")
    )
    seeded = await prepare_database(
        args.database_url, cases=args.cases, activities=args.activities, reuse=args.reuse
    )
    if seeded.created:
        for label, seconds in seeded.steps:
            print(f"  {label:<28}{seconds:>8.2f}s")
        print(f"seeded in {seeded.seconds:.1f}s: {seeded.database_url}")
    else:
        print(
            f"reused {seeded.database_url}: {len(seeded.cases):,} open cases,"
            f" {seeded.activities:,} activities"
        )
    if not seeded.cases:
        raise SystemExit("no open cases to post to")

    with tempfile.TemporaryDirectory(prefix="bench-ingestion-") as tmp:
        workdir = Path(tmp)
        servers = [service_server(seeded.database_url, workdir), ceiling_server(seeded.database_url, workdir)]
        try:
            for server in servers:
                server.start()
            for server in servers:
                await server.wait_ready()
            service, ceiling = servers
            print(f"service on {service.base_url}, raw ceiling on {ceiling.base_url}")
            print("batch ingestion (service)")
            await bench_batches(service, seeded.api_key, seeded, args, report)
            print("single POST")
            await bench_single(service, ceiling, seeded, args, client, workdir, report)
        finally:
            for server in servers:
                server.stop()
            for server in servers:
                tail = server.log_tail(10)
                if tail.strip():
                    print(f"--- last lines of the {server.name} log ---\n{tail}")

    cases_with_track = len(seeded.track_cases)
    report.print(
        f"Ingestion: {len(seeded.cases):,} cases ({cases_with_track:,} with Track 2),"
        f" {seeded.activities:,} seeded activities; 1 uvicorn worker each; {client},"
        f" {args.connections} connections; seeding {seeded.seconds:.1f}s"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default=DEFAULT_ADMIN_URL, help="admin URL of the PostgreSQL server"
    )
    parser.add_argument("--cases", type=positive, default=10_000)
    parser.add_argument("--activities", type=positive, default=1_000_000)
    parser.add_argument(
        "--batches", type=positive, default=6, help="sequential batches (and as many concurrent)"
    )
    parser.add_argument("--batch-size", type=positive, default=5_000)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per single-POST measurement")
    parser.add_argument("--connections", type=positive, default=32)
    parser.add_argument("--client", choices=("auto", "wrk", "httpx"), default="auto")
    parser.add_argument("--reuse", action="store_true", help="reuse poortwachter_bench when it is seeded")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the batch items")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 600:
        parser.error("--duration must be in (0, 600]")
    if args.batches > 100 or args.batch_size > 50_000 or args.connections > 256:
        parser.error("at most 100 batches of 50,000 items and 256 connections")
    return args


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
