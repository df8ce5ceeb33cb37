"""Properties of the timeline engine, checked with Hypothesis on generated valid inputs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.catalogue import CLOSURE_REASONS, EVENT_KINDS, ORDER, WAIVER_REASONS
from app.domain.clock import SicknessPeriod, next_working_day_after
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

SETTINGS = settings(max_examples=200, deadline=None)
DAY = timedelta(days=1)

firsts = st.dates(date(2020, 1, 1), date(2034, 12, 31))


@st.composite
def periods_for(draw: st.DrawFn, first: date) -> tuple[SicknessPeriod, ...]:
    """1–4 periods joined by gaps of 0–27 healthy days, sometimes with pregnancy leave in the gap."""
    n = draw(st.integers(1, 4))
    if n == 1 and draw(st.booleans()):
        return ()
    out: list[SicknessPeriod] = []
    start = first
    leave = 0
    for i in range(n):
        last = i == n - 1
        end = None if last and draw(st.booleans()) else start + draw(st.integers(0, 250)) * DAY
        out.append(
            SicknessPeriod(
                start,
                end,
                pregnancy_leave_in_gap=leave > 0,
                pregnancy_leave_days=leave,
                same_cause_not_pregnancy=leave > 0,
            )
        )
        if end is None:
            break
        leave = draw(st.integers(1, 120)) if draw(st.integers(0, 5)) == 0 else 0
        start = end + (draw(st.integers(0, 27)) + leave + 1) * DAY
    return tuple(out)


@st.composite
def timeline_inputs(draw: st.DrawFn, as_of_first: bool = False) -> TimelineInput:
    first = draw(firsts)
    periods = draw(periods_for(first))
    on = lambda lo, hi: first + draw(st.integers(lo, hi)) * DAY  # noqa: E731
    events = tuple(
        Event(draw(st.sampled_from(EVENT_KINDS)), on(0, 900), draw(st.one_of(st.none(), st.text(max_size=3))))
        for _ in range(draw(st.integers(0, 25)))
    )
    tracks: list[Track2Record] = []
    t_start = first
    for j in range(draw(st.integers(0, 2))):
        t_start = t_start + draw(st.integers(0, 400)) * DAY
        t_end = t_start + draw(st.integers(0, 300)) * DAY if draw(st.booleans()) else None
        reports = tuple(t_start + draw(st.integers(-10, 400)) * DAY for _ in range(draw(st.integers(0, 6))))
        tracks.append(Track2Record(t_start, t_end, reports, draw(st.integers(7, 60)), id=f"t{j}"))
        if t_end is None:
            break
        t_start = t_end + DAY
    waivers = ()
    if draw(st.booleans()):
        reason = draw(st.sampled_from(WAIVER_REASONS))
        rec = on(0, 600)
        waivers = (
            Track2Waiver(
                reason,
                rec,
                expected_return_on=rec + draw(st.integers(0, 100)) * DAY
                if reason == "return_within_3_months"
                else None,
                withdrawn_on=rec + draw(st.integers(0, 200)) * DAY if draw(st.booleans()) else None,
                id="w",
            ),
        )
    sanction_weeks = draw(st.integers(0, 52))
    return TimelineInput(
        first_sick_day=first,
        as_of=first if as_of_first else on(-30, 1100),
        periods=periods,
        events=events,
        long_term_flagged_on=on(0, 200) if draw(st.booleans()) else None,
        tracks_2=tuple(tracks),
        track_2_waivers=waivers,
        satisfactory_result_on=on(0, 800) if draw(st.booleans()) else None,
        voluntary_extensions=(VoluntaryExtension(draw(st.integers(1, 52)), on(0, 800)),)
        if draw(st.booleans())
        else (),
        wage_sanctions=(WageSanction(sanction_weeks, on(300, 900)),) if sanction_weeks else (),
        waived={"final_evaluation": "no work capacity since day 1"} if draw(st.booleans()) else {},
        closure=CaseClosure(on(0, 900), draw(st.sampled_from(CLOSURE_REASONS)))
        if draw(st.booleans())
        else None,
        evaluation_interval_days=draw(st.integers(1, 90)),
        due_soon_horizon_days=draw(st.integers(0, 30)),
    )


@SETTINGS
@given(timeline_inputs())
def test_never_raises_and_statuses_are_consistent(inp: TimelineInput) -> None:
    tl = compute_timeline(inp)
    assert tl.waiting_period.base_ends_on <= tl.waiting_period.ends_on or any(
        x.kind == "early_iva" for x in tl.waiting_period.extensions
    )
    for x in tl.deadlines:
        if x.status in ("suspended", "not_applicable"):
            assert x.due_on is None
            continue
        assert x.due_on is not None
        if x.status == "met":
            assert x.satisfied_on is not None and x.satisfied_on <= x.due_on
        elif x.status == "met_late":
            assert x.satisfied_on is not None and x.satisfied_on > x.due_on
        elif x.status == "overdue":
            assert x.satisfied_on is None and inp.as_of > x.due_on
        elif x.status in ("due_soon", "upcoming"):
            assert x.satisfied_on is None and inp.as_of <= x.due_on
        if x.satisfied_on is not None:
            assert x.satisfied_on <= inp.as_of


@SETTINGS
@given(timeline_inputs())
def test_deadlines_come_in_legal_order(inp: TimelineInput) -> None:
    dated = [(x.due_on, ORDER[x.code]) for x in compute_timeline(inp).deadlines if x.due_on is not None]
    assert dated == sorted(dated)


@SETTINGS
@given(timeline_inputs(as_of_first=True))
def test_nothing_is_overdue_on_the_first_sick_day(inp: TimelineInput) -> None:
    assert not [x.code for x in compute_timeline(inp).deadlines if x.status == "overdue"]


@SETTINGS
@given(timeline_inputs())
def test_an_event_on_or_before_its_due_date_is_never_overdue_or_late(inp: TimelineInput) -> None:
    for x in compute_timeline(inp).deadlines:
        if x.satisfied_on is not None and x.due_on is not None and x.satisfied_on <= x.due_on:
            assert x.status not in ("overdue", "met_late")


# Deadlines whose own satisfying event does not move their own due date.
SELF_SATISFIED = {
    "occupational_health_notified": "occupational_health_notification",
    "problem_analysis": "problem_analysis",
    "action_plan": "action_plan",
    "uwv_sick_notification": "uwv_sick_notification",
    "first_year_evaluation": "first_year_evaluation",
    "current_assessment": "current_assessment",
    "final_evaluation": "final_evaluation",
    "wia_application": "wia_application",
    "riv_submission": "riv_submission",
}


@SETTINGS
@given(timeline_inputs(), st.data())
def test_recording_the_event_by_the_due_date_satisfies_in_time(
    inp: TimelineInput, data: st.DataObject
) -> None:
    tl = compute_timeline(inp)
    candidates = [
        x
        for x in tl.deadlines
        if x.code in SELF_SATISFIED and x.due_on is not None and x.status not in ("waived", "met", "met_late")
    ]
    if not candidates:
        return
    target = data.draw(st.sampled_from(candidates))
    assert target.due_on is not None
    on = target.due_on - data.draw(st.integers(0, 60)) * DAY
    after = compute_timeline(replace(inp, events=(*inp.events, Event(SELF_SATISFIED[target.code], on, "x"))))
    again = [x for x in after.deadlines if x.code == target.code]
    assert len(again) == 1
    assert again[0].due_on == target.due_on
    assert again[0].status not in ("overdue", "met_late")


@SETTINGS
@given(
    first=firsts,
    gap_at=st.integers(1, 760),
    n=st.integers(1, 27),
    event_days=st.lists(st.tuples(st.sampled_from(EVENT_KINDS), st.integers(1, 800)), max_size=20),
    extra=st.integers(0, 400),
    interval=st.integers(7, 90),
)
def test_a_healthy_gap_moves_later_deadlines_by_its_length(
    first: date, gap_at: int, n: int, event_days: list[tuple[str, int]], extra: int, interval: int
) -> None:
    """Insert n < 28 healthy days after sick-day `gap_at`: every deadline after the gap moves by n days,
    nothing before it moves. Events sit on sick days and move with them."""

    def on_sick_day(s: int, gap: int) -> date:
        return first + (s - 1 + (gap if s > gap_at else 0)) * DAY

    def build(gap: int) -> TimelineInput:
        periods: tuple[SicknessPeriod, ...] = ()
        if gap:
            periods = (
                SicknessPeriod(first, on_sick_day(gap_at, 0)),
                SicknessPeriod(on_sick_day(gap_at + 1, gap)),
            )
        return TimelineInput(
            first_sick_day=first,
            as_of=on_sick_day(gap_at + 1 + extra, gap),
            periods=periods,
            events=tuple(Event(k, on_sick_day(s, gap), f"e{i}") for i, (k, s) in enumerate(event_days)),
            evaluation_interval_days=interval,
        )

    base, gapped = compute_timeline(build(0)), compute_timeline(build(n))
    last_before_gap = on_sick_day(gap_at, 0)
    assert len(base.deadlines) == len(gapped.deadlines)
    moved = {(x.code, x.occurrence): x for x in gapped.deadlines}
    for x in base.deadlines:
        y = moved[(x.code, x.occurrence)]
        assert x.due_on is not None and y.due_on is not None
        if x.code == "uwv_sick_notification":  # the first working day after the end of week 42
            end42 = first + 293 * DAY
            expected = next_working_day_after(end42 + n * DAY if gap_at < 294 else end42)
            assert y.due_on == expected
        elif x.due_on <= last_before_gap:
            assert y.due_on == x.due_on, x.code
        else:
            assert y.due_on == x.due_on + n * DAY, x.code
    shift = n * DAY if base.waiting_period.ends_on > last_before_gap else timedelta(0)
    assert gapped.waiting_period.ends_on == base.waiting_period.ends_on + shift
