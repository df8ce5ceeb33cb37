"""Benchmark of the per-request session costs around the plain-SQL hot paths (not a test).

Every request opens a session, takes its asyncpg connection (`app.db.driver_connection`) three to five
times (visibility check, the read or write, events, the audit entry) and ends the session. This prints
the microseconds each step costs on this machine, so that changes to `app/db.py` can be weighed:

- a session opened, its connection taken once, closed (the floor of every request);
- the connection taken again in the same transaction;
- a commit after plain-SQL reads only (which `request_session` skips: nothing is open to commit);
- `SELECT 1` on the driver connection, for scale (one round trip).

    . .venv/bin/activate && python bench/session.py [--url postgresql://...] [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import Settings
from app.db import create_engine, create_sessionmaker, driver_connection


async def per_call_us(step: Callable[[], Awaitable[None]], repeat: int) -> float:
    for _ in range(repeat // 10):  # warm the pool and the statement caches
        await step()
    started = time.perf_counter()
    for _ in range(repeat):
        await step()
    return (time.perf_counter() - started) / repeat * 1e6


async def run(url: str, repeat: int) -> None:
    engine = create_engine(Settings(database_url=url))
    factory = create_sessionmaker(engine)

    async def open_take_close() -> None:
        async with factory() as session:
            await driver_connection(session, begin=False)

    async def open_take_four_times_close() -> None:
        async with factory() as session:
            for _ in range(4):
                await driver_connection(session, begin=False)

    async def open_take_commit_close() -> None:
        async with factory() as session:
            await driver_connection(session, begin=False)
            await session.commit()

    async def select_one() -> None:
        async with factory() as session:
            await (await driver_connection(session, begin=False)).fetchval("SELECT 1")

    try:
        floor = await per_call_us(open_take_close, repeat)
        four = await per_call_us(open_take_four_times_close, repeat)
        committed = await per_call_us(open_take_commit_close, repeat)
        selected = await per_call_us(select_one, repeat)
    finally:
        await engine.dispose()
    print(f"session opened, connection taken once, closed   {floor:8.1f} µs")
    print(f"the connection taken again, per time             {(four - floor) / 3:8.1f} µs")
    print(f"a commit after reads only                        {committed - floor:8.1f} µs")
    print(f"SELECT 1 on the driver connection                {selected - floor:8.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--repeat", type=int, default=3000)
    args = parser.parse_args()
    asyncio.run(run(args.url, args.repeat))


if __name__ == "__main__":
    main()
