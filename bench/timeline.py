"""Benchmark of the pure timeline engine (not a test).

Builds 100,000 varied synthetic cases (seeded), computes each full timeline on one core and prints
cases per second. Goal: at least 20,000 cases/s.

    . .venv/bin/activate && python bench/timeline.py [--cases N] [--seed S]
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.domain.clock import SicknessPeriod
from app.domain.timeline import (
    CaseClosure,
    Event,
    TimelineInput,
    Track2Record,
    Track2Waiver,
    VoluntaryExtension,
    WageSanction,
    compute_timeline,
)


def make_case(rng: random.Random, n: int) -> TimelineInput:
    first = date(2022, 1, 3) + timedelta(days=rng.randrange(0, 1500))
    age = rng.choice((3, 20, 60, 200, 300, 380, 450, 600, 660, 720, 800))
    as_of = first + timedelta(days=age + rng.randrange(0, 30))
    d = lambda days: first + timedelta(days=days)  # noqa: E731

    periods: tuple[SicknessPeriod, ...] = ()
    shift = 0
    r = rng.random()
    if r < 0.25:  # one or more relapses
        start = first
        ps: list[SicknessPeriod] = []
        for _ in range(rng.randint(1, 3)):
            length = rng.randint(5, 120)
            end = start + timedelta(days=length)
            ps.append(SicknessPeriod(start, end))
            start = end + timedelta(days=rng.randint(1, 28))
        ps.append(SicknessPeriod(start, None if rng.random() < 0.8 else start + timedelta(days=30)))
        periods = tuple(ps)
        shift = (start - first).days

    events: list[Event] = []
    i = 0

    def ev(kind: str, day: int) -> None:
        nonlocal i
        i += 1
        events.append(Event(kind, d(day + shift), f"{n}-{i}"))

    if rng.random() < 0.9:
        ev("occupational_health_notification", rng.randint(0, 10))
    pa = rng.randint(20, 60)
    if rng.random() < 0.9:
        ev("problem_analysis", pa)
    ap = pa + rng.randint(5, 25)
    if rng.random() < 0.85:
        ev("action_plan", ap)
        day = ap
        for _ in range(rng.randint(0, 12)):
            day += rng.randint(20, 50)
            ev("evaluation" if rng.random() < 0.7 else "action_plan_update", day)
    if rng.random() < 0.8:
        ev("uwv_sick_notification", 290 + rng.randint(0, 10))
    fye = 310 + rng.randint(0, 60)
    if rng.random() < 0.7:
        ev("first_year_evaluation", fye)
    tracks: tuple[Track2Record, ...] = ()
    waivers: tuple[Track2Waiver, ...] = ()
    if rng.random() < 0.5:
        start = d(fye + shift + rng.randint(10, 70))
        reports = tuple(
            start + timedelta(days=28 * j + rng.randint(-3, 6)) for j in range(1, rng.randint(1, 10))
        )
        ended = start + timedelta(days=rng.randint(60, 300)) if rng.random() < 0.3 else None
        tracks = (Track2Record(start, ended, reports, id=f"t{n}"),)
    elif rng.random() < 0.3:
        waivers = (
            Track2Waiver(
                "return_within_3_months",
                d(fye + shift + 10),
                expected_return_on=d(fye + shift + 90),
                id=f"w{n}",
            ),
        )
    if rng.random() < 0.6:
        ev("current_assessment", 600 + rng.randint(0, 40))
        ev("final_evaluation", 600 + rng.randint(0, 40))
    if rng.random() < 0.6:
        wia = 620 + rng.randint(0, 50)
        ev("wia_application", wia)
        ev("riv_submission", wia + rng.randint(0, 3))
    if rng.random() < 0.03:
        ev("early_iva_application", rng.randint(20, 400))
    rng.shuffle(events)
    return TimelineInput(
        first_sick_day=first,
        as_of=as_of,
        periods=periods,
        events=tuple(events),
        long_term_flagged_on=d(rng.randint(40, 100)) if rng.random() < 0.05 else None,
        tracks_2=tracks,
        track_2_waivers=waivers,
        satisfactory_result_on=d(500) if rng.random() < 0.05 else None,
        voluntary_extensions=(VoluntaryExtension(13, d(600)),) if rng.random() < 0.05 else (),
        wage_sanctions=(WageSanction(rng.randint(4, 52), d(700)),) if rng.random() < 0.05 else (),
        waived={"final_evaluation": "no work capacity since day 1"} if rng.random() < 0.05 else {},
        closure=CaseClosure(d(rng.randint(100, 700)), "employment_ended") if rng.random() < 0.05 else None,
        evaluation_interval_days=rng.choice((42, 42, 42, 28, 56)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20260105)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is reported")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    cases = [make_case(rng, n) for n in range(args.cases)]
    built = time.perf_counter() - t0
    deadlines = sum(len(compute_timeline(c).deadlines) for c in cases[:1000])

    gc.collect()
    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for c in cases:
            compute_timeline(c)
        best = min(best, time.perf_counter() - t0)

    rate = args.cases / best
    print(f"built {args.cases:,} inputs in {built:.1f} s; ~{deadlines / 1000:.1f} deadlines per case")
    print(
        f"timeline: {rate:,.0f} cases/s on one core ({best * 1e6 / args.cases:.1f} µs per case, best of "
        f"{args.repeat}); goal 20,000 cases/s: {'met' if rate >= 20_000 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
