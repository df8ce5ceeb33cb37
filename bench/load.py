"""Load benchmark of the service's hot paths at scale, each against a raw ceiling in the same run.

What it measures, in one run on this machine:

1. Data: the database `poortwachter_bench_scale` seeded by `bench/seed_scale.py` (100,000 cases with
   sickness periods, Track 1 for 90%, Track 2 for a third, their phases, about 2,000,000 stored deadlines,
   about 5,000,000 activities; a quarter of the cases with an overdue deadline). With --seed it seeds
   when the database is missing, incomplete or of another size (a few minutes), else reuses it; --fresh
   always seeds again. Each run issues a new integration key.
2. Per hot path, the service (`poortwachter serve`: one process, one uvicorn worker) and the raw ceiling
   (`bench/raw_ceiling.py`: FastAPI on a bare asyncpg pool, one uvicorn worker, the same key check in one
   query) run side by side on 127.0.0.1. Each path is driven by `wrk` (one thread, --connections
   connections, a Lua script picking a random case id from a file) for --warmup seconds against each,
   then --duration seconds against each, the service first. Before each timed run it reads the data
   set into the page cache (pg_prewarm: this machine reclaims its page cache within minutes, and a cold
   read of a case's activities would measure the disk), vacuums the tables the runs write (as
   autovacuum would; this machine's PostgreSQL runs without it), waits until the server is idle (the service
   dispatches the outbox events of the POSTs before in the background, and its deadline scheduler
   catches up on a freshly seeded database after its start), then waits (at most --quiet-wait seconds)
   until other processes use under a quarter of a core, and it reports the cores they used during each
   run (column "other"): on 2 shared cores another test run halves the figures. Paths and goals:

   - `case`: GET /api/v1/cases/{id} (case, tracks with current phase, next 5 open deadlines):
     service >= 0.5 of the ceiling and p99 < 50 ms;
   - `post`: POST /api/v1/cases/{id}/activities (an employee contact, a new external_id each):
     service >= 0.5 of the ceiling and p99 < 50 ms;
   - `worklist`: GET /api/v1/deadlines?status=overdue&limit=50 (the first page of the tenant's
     worklist, by due date): p99 < 50 ms;
   - `case_list`: GET /api/v1/cases?has_overdue=true&limit=50 (the first page): p99 < 50 ms;
   - `timeline`: GET /api/v1/cases/{id}/timeline (the service computes it from the case's activities,
     the ceiling reads the stored deadlines): service >= 0.5 of the ceiling.

   Printed: requests/s (2xx only), p50 and p99 (wrk's, per request) for both, the ratio service /
   ceiling, and which goals are met.
3. Memory (--mixed SECONDS, default 180; 0 skips it): a mix of the five paths (weights 35/20/15/15/15
   for case/post/worklist/case_list/timeline) at a steady rate (--mixed-rate requests/s in total, with
   random exponential pauses per connection) against the service only, sampling the service process's
   resident memory (psutil) every --rss-interval seconds after a warm-up. Printed: start, end and max
   RSS, and whether the memory stayed within 10% of the start (goal).
4. Soak (--soak SECONDS, default 0: skipped): the same mix unpaced for --duration seconds (the
   capacity), then the mean pause per request that gives --soak-share (default 0.7) of that rate,
   calibrated in runs of 20 s (a connection's cycle is its pause plus the request's latency), then
   SECONDS of it with RSS sampling. Printed: capacity, the soak's rate, p50, p99, max, errors and RSS;
   goals: zero errors and memory within 10% of the start.
5. With --profile, one more --profile-seconds wrk run per path against the service while `py-spy record`
   samples it at 200 Hz (not counted in the figures); printed per path: the share of the sampled CPU by
   package of the innermost frame, the top functions by own time and the top functions of `app/`
   including what they call. The raw profiles stay in --profile-dir.

Only loopback addresses are used; every loop has a count and a time limit; both servers are stopped
at the end. Needs `wrk` (Debian: `apt-get install -y wrk`) and, for --profile, py-spy (in the venv).

    . .venv/bin/activate
    python bench/load.py --seed            # the whole suite at 100,000 cases: ~10 min, plus ~3.5 to seed
    python bench/load.py --seed --cases 10000 --activities 500000 --duration 10 --mixed 60   # a quick look
    python bench/load.py --paths case,post --mixed 0       # some paths, reuse the database, no memory run
    python bench/load.py --paths none --mixed 180          # only the memory run
    python bench/load.py --profile --mixed 0               # the figures plus a py-spy profile per path
    python bench/load.py --paths none --mixed 0 --soak 600 # the 10-minute soak at 70% of capacity
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import psutil  # noqa: E402

from bench.ingestion import (  # noqa: E402
    Server,
    ceiling_server,
    checkpoint,
    service_server,
    vacuum_written,
    wait_idle,
)
from bench.seed import DEFAULT_ADMIN_URL, database_url, issue_key, require_loopback, seeded_tenant  # noqa: E402
from bench.seed_scale import (  # noqa: E402
    DEFAULT_ACTIVITIES,
    DEFAULT_CASES,
    DEFAULT_DATABASE,
    ScaleSeeded,
    count_rows,
    load_case_ids,
    prepare_scale_database,
    print_counts,
)

P99_GOAL_MS = 50.0
RATIO_GOAL = 0.5
MEMORY_GOAL = 0.10
WRK_GRACE_S = 60
INSTALL_WRK = "apt-get install -y wrk   (Debian, as root)"


@dataclass(frozen=True, slots=True)
class HotPath:
    name: str
    label: str
    ratio_goal: bool
    p99_goal: bool
    weight: int
    """Share in the mixed run."""


PATHS: tuple[HotPath, ...] = (
    HotPath("case", "GET /cases/{id}", True, True, 35),
    HotPath("post", "POST /cases/{id}/activities", True, True, 20),
    HotPath("worklist", "GET /deadlines?status=overdue", False, True, 15),
    HotPath("case_list", "GET /cases?has_overdue=true", False, True, 15),
    HotPath("timeline", "GET /cases/{id}/timeline", True, False, 15),
)
BY_NAME = {p.name: p for p in PATHS}


# --- wrk ---------------------------------------------------------------------------------------------------

WRK_SCRIPT = r"""
-- Generated by bench/load.py. mode: one path name, or "mixed" (weighted random paths).
local key = "__KEY__"
local ids_file = "__IDS__"
local day = "__DAY__"
local prefix = "__PREFIX__"
local mode = "__MODE__"
local mean_delay_ms = __DELAY__
local weights = { __WEIGHTS__ }
local names = { "case", "post", "worklist", "case_list", "timeline" }
local cases = {}
local counter = 0
local next_thread = 1
local threads = {}
local get_headers = { ["Authorization"] = "Bearer " .. key }
local post_headers = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }
local total_weight = 0
for _, w in ipairs(weights) do total_weight = total_weight + w end
first_error = ""
sent = {}

function setup(thread)
  thread:set("thread_id", next_thread)
  threads[#threads + 1] = thread
  next_thread = next_thread + 1
end

function init(args)
  for line in io.lines(ids_file) do cases[#cases + 1] = line end
  math.randomseed(4242 + thread_id)
  for _, name in ipairs(names) do sent[name] = 0 end
end

local function build(name)
  sent[name] = sent[name] + 1
  if name == "worklist" then
    return wrk.format("GET", "/api/v1/deadlines?status=overdue&limit=50", get_headers)
  elseif name == "case_list" then
    return wrk.format("GET", "/api/v1/cases?has_overdue=true&limit=50", get_headers)
  end
  local id = cases[math.random(#cases)]
  if name == "case" then
    return wrk.format("GET", "/api/v1/cases/" .. id, get_headers)
  elseif name == "timeline" then
    return wrk.format("GET", "/api/v1/cases/" .. id .. "/timeline", get_headers)
  end
  counter = counter + 1
  local body = '{"kind":"employee_contact","occurred_on":"' .. day .. '","summary":"Phoned about progress",'
    .. '"details":{"channel":"phone","initiated_by":"employer"},"external_id":"'
    .. prefix .. "-" .. thread_id .. "-" .. counter .. '"}'
  return wrk.format("POST", "/api/v1/cases/" .. id .. "/activities", post_headers, body)
end

function request()
  if mode ~= "mixed" then return build(mode) end
  local r = math.random(total_weight)
  for i, w in ipairs(weights) do
    if r <= w then return build(names[i]) end
    r = r - w
  end
  return build(names[1])
end

__DELAY_FUNCTION__

function response(status, headers, body)
  if (status < 200 or status > 299) and first_error == "" then
    first_error = status .. " " .. string.sub(body or "", 1, 300)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local sample = ""
  local counts = {}
  for _, name in ipairs(names) do counts[#counts + 1] = '"' .. name .. '":0' end
  for _, thread in ipairs(threads) do
    local found = thread:get("first_error")
    if found and found ~= "" then sample = found end
    local s = thread:get("sent")
    if s then
      counts = {}
      for _, name in ipairs(names) do counts[#counts + 1] = '"' .. name .. '":' .. (s[name] or 0) end
    end
  end
  sample = string.gsub(sample, '[%c"\\]', " ")
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,'
    .. '"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"first_error":"%s","sent":{%s}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, sample, table.concat(counts, ",")))
end
"""

DELAY_FUNCTION = """
function delay()
  return -mean_delay_ms * math.log(1 - math.random())
end
"""


@dataclass
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    detail: str = ""
    sent: dict[str, int] = field(default_factory=dict)
    other_cores: float = 0.0
    """Cores other processes used meanwhile (CpuMeter)."""

    @property
    def rate(self) -> float:
        """Successful (2xx) requests per second."""
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0


@dataclass
class Context:
    api_key: str
    ids_file: Path
    workdir: Path
    connections: int
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    day: str = field(default_factory=lambda: (date.today() - timedelta(days=3)).isoformat())
    scripts: int = 0
    meter: CpuMeter | None = None


async def run_wrk(
    ctx: Context, base_url: str, mode: str, seconds: float, *, mean_delay_ms: float = 0.0
) -> WrkResult:
    """One wrk run (one thread) of `mode` against `base_url`; its figures from the script's done()."""
    ctx.scripts += 1
    script = ctx.workdir / f"{mode}-{ctx.scripts}.lua"
    script.write_text(
        WRK_SCRIPT.replace("__KEY__", ctx.api_key)
        .replace("__IDS__", str(ctx.ids_file))
        .replace("__DAY__", ctx.day)
        .replace("__PREFIX__", f"load-{ctx.run_id}-{ctx.scripts}")
        .replace("__MODE__", mode)
        .replace("__DELAY__", f"{mean_delay_ms:.3f}")
        .replace("__WEIGHTS__", ", ".join(str(p.weight) for p in PATHS))
        .replace("__DELAY_FUNCTION__", DELAY_FUNCTION if mean_delay_ms > 0 else "")
    )
    duration = max(1, round(seconds))
    if ctx.meter is not None:
        ctx.meter.start()
    process = await asyncio.create_subprocess_exec(
        "wrk", "-t1", f"-c{ctx.connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(script),
        base_url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout=duration + WRK_GRACE_S)
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
        detail += f"; first non-2xx: {figures['first_error'][:160]}"
    return WrkResult(
        figures["requests"],
        figures["duration_us"] / 1e6,
        figures["p50_us"] / 1000,
        figures["p99_us"] / 1000,
        figures["max_us"] / 1000,
        errors,
        detail,
        figures["sent"],
        ctx.meter.other_cores() if ctx.meter is not None else 0.0,
    )


# --- the machine while measuring ------------------------------------------------------------------------


class CpuMeter:
    """The CPU other processes took from this machine during a measurement, in cores: all busy CPU time
    minus that of this process and its children (wrk), the servers and the benchmark database's
    PostgreSQL backends. Another developer's test run on the same 2 cores shows up here."""

    def __init__(self, servers: list[Server], database: str) -> None:
        self.pids = {s.process.pid for s in servers if s.process is not None} | {os.getpid()}
        self.database = database

    def _ours(self) -> tuple[float, dict[int, float]]:
        """This process's and its waited children's CPU time, and that of each server and backend by pid."""
        times = os.times()
        own = times.user + times.system + times.children_user + times.children_system
        processes: dict[int, float] = {}
        for process in psutil.process_iter(["pid", "cmdline", "cpu_times"]):
            info = process.info
            cmdline = " ".join(info["cmdline"] or [])
            if info["pid"] in self.pids - {os.getpid()} or (
                cmdline.startswith("postgres:") and self.database in cmdline.split()
            ):
                cpu = info["cpu_times"]
                processes[info["pid"]] = cpu.user + cpu.system if cpu else 0.0
        return own, processes

    @staticmethod
    def _busy() -> float:
        """Processes' CPU time (user, nice, system), not the kernel's interrupt work or the hypervisor's."""
        cpu = psutil.cpu_times()
        return cpu.user + getattr(cpu, "nice", 0.0) + cpu.system

    def start(self) -> None:
        self.started, self.busy, self.ours = time.monotonic(), self._busy(), self._ours()

    async def wait_quiet(self, limit_s: float, cores: float = 0.25) -> float | None:
        """Wait (at most limit_s) until other processes use under `cores` over 2 seconds; the cores they
        used in the last 2 seconds when the limit passed, else None."""
        deadline = time.monotonic() + limit_s
        for _ in range(int(limit_s / 2) + 1):
            self.start()
            await asyncio.sleep(2.0)
            used = self.other_cores()
            if used < cores:
                return None
            if time.monotonic() >= deadline:
                return used
        return None

    def other_cores(self) -> float:
        """Cores used by other processes since start(). A server or backend that exited meanwhile counts
        as unchanged: a plain difference of totals would subtract the CPU of its whole life and report
        it as other processes' work. Its work between start() and its exit counts as other's."""
        seconds = time.monotonic() - self.started
        own_before, before = self.ours
        own_after, after = self._ours()
        ours = (own_after - own_before) + sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
        other = (self._busy() - self.busy) - ours
        return max(0.0, other / seconds) if seconds > 0 else 0.0


# --- smoke checks ------------------------------------------------------------------------------------------


async def smoke(ctx: Context, server: Server, case_id: uuid.UUID) -> None:
    """One request per path first: a wrong key, path or body shows its problem instead of a wall of errors;
    the lists must not be empty (else the data set is not what the figures claim)."""
    headers = {"Authorization": f"Bearer {ctx.api_key}"}
    body = {
        "kind": "employee_contact",
        "occurred_on": ctx.day,
        "summary": "Phoned about progress",
        "details": {"channel": "phone", "initiated_by": "employer"},
        "external_id": f"smoke-{uuid.uuid4().hex}",
    }
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30.0) as client:
        checks = [
            ("case", await client.get(f"/api/v1/cases/{case_id}"), 200),
            ("post", await client.post(f"/api/v1/cases/{case_id}/activities", json=body), 201),
            ("worklist", await client.get("/api/v1/deadlines?status=overdue&limit=50"), 200),
            ("case_list", await client.get("/api/v1/cases?has_overdue=true&limit=50"), 200),
            ("timeline", await client.get(f"/api/v1/cases/{case_id}/timeline"), 200),
        ]
    for name, response, expected in checks:
        if response.status_code != expected:
            raise SystemExit(f"{server.name}, {name}: {response.status_code} {response.text[:500]}")
        if name in ("worklist", "case_list") and len(response.json()["items"]) != 50:
            raise SystemExit(f"{server.name}, {name}: a page of 50 expected: {response.text[:300]}")


# --- figures -----------------------------------------------------------------------------------------------


@dataclass
class PathFigures:
    path: HotPath
    service: WrkResult
    ceiling: WrkResult

    @property
    def ratio(self) -> float:
        return self.service.rate / self.ceiling.rate if self.ceiling.rate else 0.0

    def goals(self) -> list[tuple[str, bool]]:
        goals = []
        if self.path.ratio_goal:
            goals.append((f"ratio {self.ratio:.2f} >= {RATIO_GOAL}", self.ratio >= RATIO_GOAL))
        if self.path.p99_goal:
            goals.append(
                (
                    f"p99 {self.service.p99_ms:.1f} ms < {P99_GOAL_MS:.0f} ms",
                    self.service.p99_ms < P99_GOAL_MS,
                )
            )
        if self.service.errors:
            goals.append((f"{self.service.errors} service errors", False))
        return goals


async def quiet_machine(ctx: Context, args: argparse.Namespace) -> None:
    if ctx.meter is None or args.quiet_wait <= 0:
        return
    busy = await ctx.meter.wait_quiet(args.quiet_wait)
    if busy is not None:
        print(
            f"    other processes still use {busy:.2f} cores after {args.quiet_wait:.0f}s: measuring anyway"
        )


PREWARM = """
SELECT coalesce(sum(pg_prewarm(c.oid, 'read')), 0) FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')
"""


async def prewarm(database_url: str) -> None:
    """Read the data set's tables and indexes (about 3 GB at 100,000 cases) into the operating system's
    page cache before each timed run, as on a database server whose working set fits in its memory. This
    machine's page cache is reclaimed within minutes, and a cold read of a case's activities costs a
    few milliseconds of disk each: the run would measure the disk, not the service (the ceiling reads
    no activities). Uses the pg_prewarm extension that ships with PostgreSQL; without it, measures cold."""
    conn = await asyncpg.connect(database_url, timeout=10)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        await conn.fetchval(PREWARM, timeout=600)
    except asyncpg.PostgresError as exc:
        print(f"    could not prewarm the page cache ({type(exc).__name__}): measuring cold", flush=True)
    finally:
        await conn.close()


# What the runs write: the POST path's activities, their events (updated when dispatched) and every
# request's audit entry.
async def bench_path(
    ctx: Context, path: HotPath, service: Server, ceiling: Server, args: argparse.Namespace, db_url: str
) -> PathFigures:
    targets = (("service", service), ("ceiling", ceiling))
    for name, server in targets:
        print(f"  {path.label}: warming up the {name} ({args.warmup:.0f}s)", flush=True)
        await run_wrk(ctx, server.base_url, path.name, args.warmup)
    results: dict[str, WrkResult] = {}
    for name, server in targets:
        await vacuum_written(db_url)
        await checkpoint(db_url)
        await prewarm(db_url)
        # The service's own background work (the outbox events of the POSTs before) is not this path's.
        waited = await wait_idle(server)
        if waited >= 1:
            print(f"    the {name} was busy for {waited:.0f}s before the run (background work)", flush=True)
        await quiet_machine(ctx, args)
        print(f"  {path.label}: the {name} for {args.duration:.0f}s", flush=True)
        results[name] = await run_wrk(ctx, server.base_url, path.name, args.duration)
        r = results[name]
        print(
            f"    {r.rate:,.0f}/s, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms"
            + (f", {r.errors} errors ({r.detail})" if r.errors else ""),
            flush=True,
        )
    return PathFigures(path, results["service"], results["ceiling"])


# --- memory ------------------------------------------------------------------------------------------------


@dataclass
class MemoryFigures:
    seconds: float
    target_rate: float
    load: WrkResult
    samples: list[tuple[float, int]]

    @property
    def start(self) -> int:
        return self.samples[0][1]

    @property
    def end(self) -> int:
        return self.samples[-1][1]

    @property
    def peak(self) -> int:
        return max(rss for _, rss in self.samples)

    @property
    def within_goal(self) -> bool:
        return self.peak <= self.start * (1 + MEMORY_GOAL) and self.end <= self.start * (1 + MEMORY_GOAL)


async def bench_memory(ctx: Context, service: Server, args: argparse.Namespace) -> MemoryFigures:
    delay_ms = 1000.0 * ctx.connections / args.mixed_rate
    print(f"  mixed: warming up ({args.warmup:.0f}s)", flush=True)
    await run_wrk(ctx, service.base_url, "mixed", args.warmup, mean_delay_ms=delay_ms)
    print(
        f"  mixed: {args.mixed:.0f}s at about {args.mixed_rate:.0f} requests/s,"
        f" RSS every {args.rss_interval:.0f}s",
        flush=True,
    )
    await quiet_machine(ctx, args)
    return await paced_run(ctx, service, args.mixed, delay_ms, args.mixed_rate, args.rss_interval)


async def paced_run(
    ctx: Context, service: Server, seconds: float, delay_ms: float, target_rate: float, rss_interval: float
) -> MemoryFigures:
    """A mixed wrk run with a mean pause of delay_ms per request and connection, sampling the service's
    resident memory every rss_interval seconds."""
    assert service.process is not None
    process = psutil.Process(service.process.pid)
    samples: list[tuple[float, int]] = []
    started = time.monotonic()
    load = asyncio.create_task(run_wrk(ctx, service.base_url, "mixed", seconds, mean_delay_ms=delay_ms))
    limit = int(seconds / rss_interval) + 5  # a count limit besides wrk's end
    while not load.done() and len(samples) < limit:
        samples.append((time.monotonic() - started, process.memory_info().rss))
        await asyncio.wait({load}, timeout=rss_interval)
    result = await load
    samples.append((time.monotonic() - started, process.memory_info().rss))
    return MemoryFigures(seconds, target_rate, result, samples)


# --- soak --------------------------------------------------------------------------------------------------

CALIBRATION_S = 20.0
CALIBRATION_ROUNDS = 4
CALIBRATION_TOLERANCE = 0.03


@dataclass
class SoakFigures:
    capacity: WrkResult
    """The mixed load unpaced: what the service can do."""
    share: float
    calibration: list[tuple[float, float]]
    """(mean pause per request in ms, requests/s it gave) of each calibration run."""
    run: MemoryFigures

    @property
    def target_rate(self) -> float:
        return self.share * self.capacity.rate

    @property
    def goals(self) -> list[tuple[str, bool]]:
        return [("zero errors", self.run.load.errors == 0), ("memory flat", self.run.within_goal)]


async def bench_soak(ctx: Context, service: Server, args: argparse.Namespace) -> SoakFigures:
    """Capacity first (the mixed load with no pauses), then the pause that gives --soak-share of it
    (calibrated: a request's cycle on a connection is its pause plus its latency), then the soak itself."""
    base = service.base_url
    print(
        f"  soak: warming up, then the capacity of the mixed load ({args.duration:.0f}s unpaced)", flush=True
    )
    await run_wrk(ctx, base, "mixed", args.warmup)
    await quiet_machine(ctx, args)
    capacity = await run_wrk(ctx, base, "mixed", args.duration)
    if capacity.rate <= 0:
        raise SystemExit(f"no successful request in the capacity run: {capacity.detail}")
    target = args.soak_share * capacity.rate
    delay_ms = 1000.0 * ctx.connections / target
    calibration: list[tuple[float, float]] = []
    for _ in range(CALIBRATION_ROUNDS):
        probe = await run_wrk(ctx, base, "mixed", CALIBRATION_S, mean_delay_ms=delay_ms)
        calibration.append((delay_ms, probe.rate))
        print(
            f"  soak: pause {delay_ms:.1f} ms gives {probe.rate:,.0f}/s (target {target:,.0f}/s)", flush=True
        )
        if abs(probe.rate / target - 1) <= CALIBRATION_TOLERANCE:
            break
        latency_ms = 1000.0 * ctx.connections / probe.rate - delay_ms
        delay_ms = max(0.5, 1000.0 * ctx.connections / target - latency_ms)
    print(f"  soak: {args.soak:.0f}s at about {target:,.0f} requests/s, RSS every {args.rss_interval:.0f}s")
    await quiet_machine(ctx, args)
    run = await paced_run(ctx, service, args.soak, delay_ms, target, args.rss_interval)
    return SoakFigures(capacity, args.soak_share, calibration, run)


# --- profiles ----------------------------------------------------------------------------------------------

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
PACKAGES = {
    "app": "app/",
    "sqlalchemy": "SQLAlchemy",
    "asyncpg": "asyncpg",
    "pydantic": "pydantic",
    "pydantic_core": "pydantic",
    "fastapi": "FastAPI",
    "starlette": "Starlette",
    "uvicorn": "uvicorn",
    "httptools": "uvicorn",
    "h11": "uvicorn",
    "asyncio": "asyncio (event loop)",
}


def package_of(file: str) -> str:
    """A frame's top-level package (`sqlalchemy/orm/session.py` -> SQLAlchemy); stdlib modules by name."""
    short = _short(file)
    if not short:
        return "(native or unknown)"
    top = short.split("/", 1)[0].removesuffix(".py")
    return PACKAGES.get(top, top)


def summarise_profile(raw: str, top: int = 6) -> list[str]:
    """py-spy's raw (collapsed) stacks -> the CPU share by package of the innermost frame, the top
    functions by own time, and the share by innermost `app/` function on the stack (the app code that
    caused the work below it). SQLAlchemy runs statements in a greenlet whose stack py-spy shows apart
    from its caller's: those samples count as "(SQLAlchemy greenlet)"."""
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    callers: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        matches = [FRAME.match(f) for f in stack.split(";")]
        frames = [(m["function"], _short(m["file"])) for m in matches if m is not None]
        if not frames:
            packages["(native or unknown)"] += count
            continue
        function, file = frames[-1]
        own[f"{function} ({file})"] += count
        packages[package_of(file)] += count
        in_app = [f"{f} ({p})" for f, p in frames if p.startswith("app/") and not p.startswith("app/cli.py")]
        if in_app:
            callers[in_app[-1]] += count
        elif frames[0][1].startswith("sqlalchemy/"):
            callers["(SQLAlchemy greenlet)"] += count
        else:
            callers["(outside app code: server, event loop)"] += count
    if not total:
        return ["(no samples)"]
    share = lambda n: f"{100 * n / total:5.1f}%"  # noqa: E731
    lines = [f"{total:,} samples; by package of the innermost frame:"]
    lines += [f"    {share(n)}  {name}" for name, n in packages.most_common(10)]
    lines.append("top functions by own time:")
    lines += [f"    {share(n)}  {name}" for name, n in own.most_common(top)]
    lines.append("by innermost app/ function on the stack:")
    lines += [f"    {share(n)}  {name}" for name, n in callers.most_common(top + 2)]
    return lines


def _short(file: str) -> str:
    path = file.replace("\\", "/")
    for marker in ("/site-packages/", "/work/main/", "/lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


async def profile_path(ctx: Context, path: HotPath, service: Server, args: argparse.Namespace) -> list[str]:
    assert service.process is not None
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        return ["py-spy not installed (pip install py-spy)"]
    out = args.profile_dir / f"{path.name}.txt"
    seconds = max(2, round(args.profile_seconds))
    load = asyncio.create_task(run_wrk(ctx, service.base_url, path.name, seconds + 4))
    await asyncio.sleep(2)
    process = await asyncio.create_subprocess_exec(
        py_spy, "record", "-p", str(service.process.pid), "-d", str(seconds), "-r", "200", "-f", "raw",
        "-o", str(out), "--nonblocking",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        spy_out, _ = await asyncio.wait_for(process.communicate(), timeout=seconds + 60)
    except TimeoutError:
        process.kill()
        await process.wait()
        spy_out = b"py-spy did not finish in time"
    await load
    if not out.exists():
        return [f"py-spy failed: {spy_out.decode(errors='replace')[-300:]}"]
    return summarise_profile(out.read_text(errors="replace"))


# --- report ------------------------------------------------------------------------------------------------


def machine() -> str:
    model = ""
    with contextlib.suppress(OSError):
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "")
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{os.cpu_count()} cores ({model or platform.processor() or 'unknown CPU'}), {memory:.0f} GiB RAM,"
        f" {platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def print_memory(memory: MemoryFigures) -> None:
    mb = 2**20
    growth = memory.end / memory.start - 1
    print("  requests sent: " + ", ".join(f"{k} {v:,}" for k, v in memory.load.sent.items()))
    print(
        f"  service RSS: start {memory.start / mb:.1f} MB, end {memory.end / mb:.1f} MB"
        f" ({growth:+.1%}), max {memory.peak / mb:.1f} MB over {len(memory.samples)} samples;"
        f" within {MEMORY_GOAL:.0%} of the start: {'met' if memory.within_goal else 'NOT met'}"
    )
    print(
        "  samples (s: MB): "
        + ", ".join(
            f"{t:.0f}: {rss / mb:.1f}" for t, rss in memory.samples[:: max(1, len(memory.samples) // 12)]
        )
    )


def print_report(
    seeded: ScaleSeeded,
    figures: list[PathFigures],
    memory: MemoryFigures | None,
    soak: SoakFigures | None,
    profiles: dict[str, list[str]],
    args: argparse.Namespace,
    server_version: str,
) -> None:
    print()
    print(
        f"Load at scale: {seeded.counts.get('cases', 0):,} cases, {seeded.counts.get('activities', 0):,}"
        f" activities, {seeded.counts.get('deadlines', 0):,} stored deadlines"
        f" ({seeded.counts.get('cases with an overdue deadline', 0):,} cases with an overdue one)"
    )
    print(f"machine: {machine()}; {server_version}; app at {revision()}")
    print(
        f"one uvicorn worker each; wrk, 1 thread, {args.connections} connections, {args.warmup:.0f}s warm-up"
        f" and {args.duration:.0f}s per path and server"
    )
    if figures:
        print()
        print(
            f"{'path':<32}{'service/s':>10}{'p50 ms':>8}{'p99 ms':>8}   {'ceiling/s':>10}{'p50 ms':>8}"
            f"{'p99 ms':>8}{'ratio':>7}{'other':>7}   goals"
        )
        for f in figures:
            goals = f.goals()
            verdict = "; ".join(f"{text}: {'met' if ok else 'NOT met'}" for text, ok in goals) or "-"
            print(
                f"{f.path.label:<32}{f.service.rate:>10,.0f}{f.service.p50_ms:>8.1f}{f.service.p99_ms:>8.1f}"
                f"   {f.ceiling.rate:>10,.0f}{f.ceiling.p50_ms:>8.1f}{f.ceiling.p99_ms:>8.1f}"
                f"{f.ratio:>7.2f}{max(f.service.other_cores, f.ceiling.other_cores):>7.2f}   {verdict}"
            )
        for f in figures:
            for name, r in (("service", f.service), ("ceiling", f.ceiling)):
                if r.errors:
                    print(f"  {f.path.label}, {name}: {r.errors:,} errors of {r.requests:,}: {r.detail}")
        print(
            "per s: 2xx answers per second; p50/p99: wrk's latency per request; ratio: service / ceiling;"
            " other: cores used meanwhile by other processes on this machine (the larger of the two runs)"
        )
        met = [ok for f in figures for _, ok in f.goals()]
        print(f"goals met: {sum(met)} of {len(met)}")
    if memory is not None:
        print()
        print(
            f"memory, mixed run of {memory.seconds:.0f}s (target {memory.target_rate:.0f}/s):"
            f" {memory.load.rate:,.1f} requests/s, p50 {memory.load.p50_ms:.1f} ms,"
            f" p99 {memory.load.p99_ms:.1f} ms, {memory.load.errors} errors,"
            f" other processes {memory.load.other_cores:.2f} cores"
            + (f" ({memory.load.detail})" if memory.load.errors else "")
        )
        print_memory(memory)
    if soak is not None:
        cap, run = soak.capacity, soak.run.load
        print()
        print(
            f"soak: capacity of the mixed load (unpaced, {args.connections} connections): {cap.rate:,.0f}"
            f" requests/s, p50 {cap.p50_ms:.1f} ms, p99 {cap.p99_ms:.1f} ms, {cap.errors} errors"
        )
        print(
            f"  {soak.run.seconds:.0f}s at {soak.share:.0%} of it (target {soak.target_rate:,.0f}/s, pause"
            f" {soak.calibration[-1][0]:.1f} ms): {run.rate:,.1f} requests/s ({run.rate / cap.rate:.0%} of"
            f" capacity), p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms, max {run.max_ms:.0f} ms,"
            f" {run.requests:,} requests, {run.errors} errors, other processes {run.other_cores:.2f} cores"
            + (f" ({run.detail})" if run.errors else "")
        )
        print_memory(soak.run)
        print("  goals: " + "; ".join(f"{text}: {'met' if ok else 'NOT met'}" for text, ok in soak.goals))
    for name, lines in profiles.items():
        print()
        print(f"profile of the service, {BY_NAME[name].label} ({args.profile_dir / (name + '.txt')}):")
        for line in lines:
            print("  " + line)


# --- main --------------------------------------------------------------------------------------------------


async def open_database(args: argparse.Namespace) -> ScaleSeeded:
    if args.seed or args.fresh:
        print(f"data: {args.cases:,} cases, {args.activities:,} activities in {args.database}", flush=True)
        seeded = await prepare_scale_database(
            args.database_url,
            cases=args.cases,
            activities=args.activities,
            reuse=not args.fresh,
            name=args.database,
        )
        print_counts(seeded)
        return seeded
    url = database_url(args.database_url, args.database)
    tenant = await seeded_tenant(args.database_url, args.database)
    counts = await count_rows(url) if tenant is not None else {}
    if not counts.get("complete"):
        raise SystemExit(f"{args.database} is not seeded: run with --seed (seeds {args.cases:,} cases)")
    tenant_id, key_id, secret = await issue_key(url, "bench load", "integration")
    seeded = ScaleSeeded(
        url, tenant_id, secret, key_id, await load_case_ids(url, tenant_id), counts, False, 0.0, []
    )
    print_counts(seeded)
    return seeded


def revision() -> str:
    """The app's git revision, marked when the working tree differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "app", "migrations"],
            cwd=ROOT, capture_output=True, text=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown revision"
    return f"{head or 'unknown'}{' with local changes' if dirty else ''}"


async def server_version(url: str) -> str:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        version: str = await conn.fetchval("SHOW server_version")
        return f"PostgreSQL {version.split()[0]}"
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> None:
    require_loopback(args.database_url)
    if shutil.which("wrk") is None:
        raise SystemExit(f"wrk is not installed; install it with: {INSTALL_WRK}")
    seeded = await open_database(args)
    if not seeded.case_ids:
        raise SystemExit("no open cases")
    version = await server_version(seeded.database_url)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        workdir = Path(tmp)
        ids_file = workdir / "case_ids.txt"
        ids_file.write_text("\n".join(str(i) for i in seeded.case_ids) + "\n")
        ctx = Context(seeded.api_key, ids_file, workdir, args.connections)
        service = service_server(seeded.database_url, workdir)
        ceiling = ceiling_server(seeded.database_url, workdir)
        servers = [service, ceiling] if args.paths else [service]
        figures: list[PathFigures] = []
        memory: MemoryFigures | None = None
        soak: SoakFigures | None = None
        profiles: dict[str, list[str]] = {}
        try:
            for server in servers:
                server.start()
            for server in servers:
                await server.wait_ready()
            print(f"service on {service.base_url} (pid {service.process.pid if service.process else '?'})")
            for server in servers:
                waited = await wait_idle(server)
                if waited >= 1:
                    print(f"  the {server.name} was busy for {waited:.0f}s after start (background work)")
            ctx.meter = CpuMeter(servers, args.database)
            sample_case = seeded.case_ids[len(seeded.case_ids) // 3]
            for server in servers:
                await smoke(ctx, server, sample_case)
            for name in args.paths:
                figures.append(
                    await bench_path(ctx, BY_NAME[name], service, ceiling, args, seeded.database_url)
                )
            if args.mixed > 0:
                await prewarm(seeded.database_url)
                memory = await bench_memory(ctx, service, args)
            if args.soak > 0:
                await prewarm(seeded.database_url)
                soak = await bench_soak(ctx, service, args)
            if args.profile:
                args.profile_dir.mkdir(parents=True, exist_ok=True)
                for name in args.paths or [p.name for p in PATHS]:
                    print(
                        f"  profiling the service: {BY_NAME[name].label} ({args.profile_seconds:.0f}s)",
                        flush=True,
                    )
                    profiles[name] = await profile_path(ctx, BY_NAME[name], service, args)
        finally:
            for server in servers:
                server.stop()
            for server in servers:
                tail = server.log_tail(10)
                if tail.strip():
                    print(f"--- last lines of the {server.name} log ---\n{tail}")
    print_report(seeded, figures, memory, soak, profiles, args, version)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default=DEFAULT_ADMIN_URL, help="admin URL of the PostgreSQL server"
    )
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="name of the benchmark database")
    parser.add_argument("--seed", action="store_true", help="seed the database unless it holds --cases cases")
    parser.add_argument("--fresh", action="store_true", help="seed the database again in any case")
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES)
    parser.add_argument("--activities", type=int, default=DEFAULT_ACTIVITIES)
    parser.add_argument(
        "--paths",
        default=",".join(p.name for p in PATHS),
        help="comma-separated hot paths to measure ('none' for none): " + ", ".join(BY_NAME),
    )
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per path and server")
    parser.add_argument("--warmup", type=float, default=5.0, help="warm-up seconds per path and server")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="before each timed run, wait up to this many seconds for other processes to use < 0.25 cores",
    )
    parser.add_argument("--mixed", type=float, default=180.0, help="seconds of the mixed run (0: skip it)")
    parser.add_argument("--mixed-rate", type=float, default=100.0, help="requests/s of the mixed run")
    parser.add_argument(
        "--soak", type=float, default=0.0, help="seconds of the soak at --soak-share of capacity (0: skip it)"
    )
    parser.add_argument("--soak-share", type=float, default=0.7, help="share of measured capacity to soak at")
    parser.add_argument("--rss-interval", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--profile", action="store_true", help="also profile each path with py-spy")
    parser.add_argument("--profile-seconds", type=float, default=8.0)
    parser.add_argument(
        "--profile-dir", type=Path, default=Path(tempfile.gettempdir()) / "bench-load-profiles"
    )
    args = parser.parse_args(argv)
    args.paths = [] if args.paths == "none" else [p.strip() for p in args.paths.split(",") if p.strip()]
    unknown = [p for p in args.paths if p not in BY_NAME]
    if unknown:
        parser.error(f"unknown paths {unknown}; known: {', '.join(BY_NAME)}")
    if not 0 < args.duration <= 600 or not 0 < args.warmup <= 120 or not 0 <= args.mixed <= 3600:
        parser.error("--duration in (0, 600], --warmup in (0, 120], --mixed in [0, 3600]")
    if not 1 <= args.connections <= 256 or not 0 < args.mixed_rate <= 10_000:
        parser.error("--connections in [1, 256], --mixed-rate in (0, 10000]")
    if not 0 <= args.soak <= 7200 or not 0.05 <= args.soak_share <= 1:
        parser.error("--soak in [0, 7200], --soak-share in [0.05, 1]")
    if not 0 <= args.quiet_wait <= 600:
        parser.error("--quiet-wait in [0, 600]")
    if not 1 <= args.rss_interval <= 60 or not 2 <= args.profile_seconds <= 60:
        parser.error("--rss-interval in [1, 60], --profile-seconds in [2, 60]")
    if not 1 <= args.cases <= 2_000_000 or not 0 <= args.activities <= 50_000_000:
        parser.error("at most 2,000,000 cases and 50,000,000 activities")
    return args


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
