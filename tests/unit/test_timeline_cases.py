"""Hand-checked timeline cases. Every expected date below was worked out by hand (calendar arithmetic
with plain `datetime` in a scratch shell, never with the code under test) and is written literally."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest

from app.domain.clock import SicknessPeriod
from app.domain.errors import InvalidInput, RuleViolation
from app.domain.timeline import (
    CaseClosure,
    Event,
    Timeline,
    TimelineInput,
    Track2Record,
    Track2Waiver,
    VoluntaryExtension,
    WageSanction,
    compute_timeline,
    early_iva_window,
    validate_early_iva,
)

F = date(2026, 1, 5)  # Monday, the worked example of domain.md


def d(s: str) -> date:
    return date.fromisoformat(s)


def ev(kind: str, on: str, id: str | None = None) -> Event:
    return Event(kind, d(on), id or f"{kind}@{on}")


def find(tl: Timeline, code: str, occurrence: int | None = None):
    hits = [x for x in tl.deadlines if x.code == code and (occurrence is None or x.occurrence == occurrence)]
    assert hits, f"no deadline {code} #{occurrence}"
    return hits[0]


# --- The worked example -----------------------------------------------------------------------------


def test_worked_example_date_for_date() -> None:
    tl = compute_timeline(TimelineInput(first_sick_day=F, as_of=F))
    assert tl.sick_day == 1 and tl.week == 1 and tl.case_state == "open"
    assert find(tl, "occupational_health_notified").due_on == d("2026-01-11")  # end of week 1
    assert find(tl, "problem_analysis").due_on == d("2026-02-15")  # end of week 6
    assert find(tl, "action_plan").due_on == d("2026-03-01")  # end of week 8
    # end of week 42 = 2026-10-25 (a Sunday): T5 is due the first working day after, Monday 26 October
    assert find(tl, "uwv_sick_notification").due_on == d("2026-10-26")
    fye = find(tl, "first_year_evaluation")
    assert fye.window_starts_on == d("2026-11-16")  # week 46 starts
    assert fye.due_on == d("2027-01-03")  # end of week 52
    assert find(tl, "track_2_start").due_on == d("2027-02-14")  # end of week 58
    assert find(tl, "current_assessment").due_on == d("2027-10-03")  # end of week 91
    assert find(tl, "final_evaluation").due_on == d("2027-10-03")
    assert find(tl, "current_assessment").window_starts_on == d("2027-08-30")  # week 87 starts
    assert find(tl, "wia_application").due_on == d("2027-10-17")  # end of week 93
    assert find(tl, "riv_submission").due_on == d("2027-10-18")
    assert tl.waiting_period.base_ends_on == d("2028-01-02")  # end of week 104
    assert tl.waiting_period.ends_on == d("2028-01-02")
    assert tl.waiting_period.extensions == ()
    assert all(x.status in ("upcoming", "due_soon") for x in tl.deadlines)
    ms = {m.code: m for m in tl.milestones}
    assert (ms["early_iva"].window_starts_on, ms["early_iva"].on) == (d("2026-01-19"), d("2027-04-25"))
    assert ms["waiting_period_end"].on == d("2028-01-02")


def test_worked_example_with_a_21_day_gap_moves_later_deadlines_by_21_days() -> None:
    # sick 5–20 January (16 sick days), healthy 21 January – 10 February (21 days), sick again from 11 Feb
    periods = (SicknessPeriod(F, d("2026-01-20")), SicknessPeriod(d("2026-02-11")))
    tl = compute_timeline(TimelineInput(first_sick_day=F, as_of=d("2026-02-11"), periods=periods))
    assert find(tl, "occupational_health_notified").due_on == d("2026-01-11")  # before the gap: unmoved
    assert find(tl, "problem_analysis").due_on == d("2026-03-08")  # 2026-02-15 + 21
    assert find(tl, "action_plan").due_on == d("2026-03-22")  # 2026-03-01 + 21
    assert find(tl, "first_year_evaluation").due_on == d("2027-01-24")  # 2027-01-03 + 21
    assert find(tl, "wia_application").due_on == d("2027-11-07")  # 2027-10-17 + 21
    assert tl.waiting_period.base_ends_on == d("2028-01-23")  # 2028-01-02 + 21


# --- The table --------------------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    inp: TimelineInput
    code: str
    due: date | None
    status: str
    occurrence: int | None = None
    warning: str | None = None
    ends_on: date | None = None
    satisfied_by: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


def inp(as_of: str, first: date = F, **kw: object) -> TimelineInput:
    return TimelineInput(first_sick_day=first, as_of=d(as_of), **kw)  # type: ignore[arg-type]


CASES: list[Case] = [
    # --- T0: gaps, relapses, leap days ---
    Case(
        "gap-27-days-joins",
        inp("2026-02-20", periods=(SicknessPeriod(F, d("2026-01-20")), SicknessPeriod(d("2026-02-17")))),
        "problem_analysis",
        d("2026-03-14"),  # 2026-02-15 + 27
        "upcoming",
    ),
    Case(
        "several-relapses-add-up",
        inp(
            "2026-03-25",
            periods=(
                SicknessPeriod(F, d("2026-01-09")),  # 5 sick days, then 10 healthy
                SicknessPeriod(d("2026-01-20"), d("2026-02-02")),  # 14 sick days, then 20 healthy
                SicknessPeriod(d("2026-02-23")),
            ),
        ),
        "action_plan",
        d("2026-03-31"),  # 2026-03-01 + 30
        "due_soon",
    ),
    Case(
        "relapse-after-deadline-moves-later-only",
        inp("2026-03-25", periods=(SicknessPeriod(F, d("2026-03-10")), SicknessPeriod(d("2026-03-20")))),
        "action_plan",
        d("2026-03-01"),  # before the 9-day gap: unmoved
        "overdue",
    ),
    Case(
        "relapse-moves-t5",
        inp("2026-03-25", periods=(SicknessPeriod(F, d("2026-03-10")), SicknessPeriod(d("2026-03-20")))),
        "uwv_sick_notification",
        d("2026-11-04"),  # end of week 42 2026-10-25 + 9 = Tue 3 Nov; first working day after: Wed 4 Nov
        "upcoming",
    ),
    Case(
        "leap-2027-03-01-week-52",
        inp("2027-03-01", first=d("2027-03-01")),
        "first_year_evaluation",
        d("2028-02-27"),
        "upcoming",
        extra={"window_starts_on": d("2028-01-10")},
    ),
    Case(
        "leap-2027-03-01-week-104",
        inp("2027-03-01", first=d("2027-03-01")),
        "wia_application",
        d("2028-12-10"),  # end of week 93, across 29 Feb 2028
        "upcoming",
        ends_on=d("2029-02-25"),
    ),
    Case(
        "leap-2028-02-29-week-1",
        inp("2028-02-29", first=d("2028-02-29")),
        "occupational_health_notified",
        d("2028-03-06"),
        "due_soon",
        ends_on=d("2030-02-25"),
    ),
    Case(
        "leap-2028-02-29-week-8",
        inp("2028-02-29", first=d("2028-02-29")),
        "action_plan",
        d("2028-04-24"),
        "upcoming",
    ),
    Case(
        "leap-2028-02-29-week-52",
        inp("2028-02-29", first=d("2028-02-29")),
        "first_year_evaluation",
        d("2029-02-26"),
        "upcoming",
    ),
    # --- T5: the first working day after the end of week 42 ---
    Case(
        "t5-after-weekend",  # first sick day Sat 2026-01-03: week 42 ends Fri 23 Oct, Sat 24 -> Mon 26
        inp("2026-01-03", first=d("2026-01-03")),
        "uwv_sick_notification",
        d("2026-10-26"),
        "upcoming",
    ),
    Case(
        "t5-kings-day",  # week 42 ends Mon 2027-04-26; Tue 27 April is King's Day -> Wed 28
        inp("2026-07-07", first=d("2026-07-07")),
        "uwv_sick_notification",
        d("2027-04-28"),
        "upcoming",
    ),
    Case(
        "t5-christmas-friday",  # week 42 ends Thu 2026-12-24; 25 (Fri), 26, 27 off -> Mon 28
        inp("2026-03-06", first=d("2026-03-06")),
        "uwv_sick_notification",
        d("2026-12-28"),
        "upcoming",
    ),
    Case(
        "t5-christmas-monday",  # week 42 ends Sun 2028-12-24; Mon 25 and Tue 26 are holidays -> Wed 27
        inp("2028-03-06", first=d("2028-03-06")),
        "uwv_sick_notification",
        d("2028-12-27"),
        "upcoming",
    ),
    Case(
        "t5-good-friday-is-a-working-day",  # day after week 42 = Good Friday 2027-03-26
        inp("2026-06-05", first=d("2026-06-05")),
        "uwv_sick_notification",
        d("2027-03-26"),
        "upcoming",
    ),
    Case(
        "t5-liberation-day-lustrum-2025",  # Mon 2025-05-05 is a day off in a lustrum year -> Tue 6
        inp("2024-07-15", first=d("2024-07-15")),
        "uwv_sick_notification",
        d("2025-05-06"),
        "upcoming",
    ),
    Case(
        "t5-liberation-day-2026-working",  # Tue 2026-05-05, not a lustrum year: a working day
        inp("2025-07-15", first=d("2025-07-15")),
        "uwv_sick_notification",
        d("2026-05-05"),
        "upcoming",
    ),
    Case(
        "t5-ascension-day",  # Thu 2026-05-14 is Ascension Day -> Fri 15
        inp("2025-07-24", first=d("2025-07-24")),
        "uwv_sick_notification",
        d("2026-05-15"),
        "upcoming",
    ),
    Case(
        "t5-met-on-due-day",
        inp("2026-11-30", events=(ev("uwv_sick_notification", "2026-10-26", "n1"),)),
        "uwv_sick_notification",
        d("2026-10-26"),
        "met",
        satisfied_by="n1",
    ),
    Case(
        "t5-met-late",
        inp("2026-11-30", events=(ev("uwv_sick_notification", "2026-10-27"),)),
        "uwv_sick_notification",
        d("2026-10-26"),
        "met_late",
    ),
    # --- T1–T3 ---
    Case("t1-overdue", inp("2026-01-12"), "occupational_health_notified", d("2026-01-11"), "overdue"),
    Case("t2-due-soon-at-horizon", inp("2026-02-01"), "problem_analysis", d("2026-02-15"), "due_soon"),
    Case("t2-upcoming-before-horizon", inp("2026-01-31"), "problem_analysis", d("2026-02-15"), "upcoming"),
    Case("t2-overdue-day-after", inp("2026-02-16"), "problem_analysis", d("2026-02-15"), "overdue"),
    Case(
        "t2-due-soon-custom-horizon",
        inp("2026-01-25", due_soon_horizon_days=21),
        "problem_analysis",
        d("2026-02-15"),
        "due_soon",
    ),
    Case(
        "t2-met-on-due-day",
        inp("2026-03-01", events=(ev("problem_analysis", "2026-02-15", "pa"),)),
        "problem_analysis",
        d("2026-02-15"),
        "met",
        satisfied_by="pa",
    ),
    Case(
        "t2-flagged-later",
        inp("2026-03-01", long_term_flagged_on=d("2026-03-10")),  # flag after as_of: not yet known
        "problem_analysis",
        d("2026-02-15"),
        "overdue",
    ),
    Case(
        "t2-flagged-later-moves-due",
        inp("2026-03-11", long_term_flagged_on=d("2026-03-10")),
        "problem_analysis",
        d("2026-03-10"),
        "overdue",
    ),
    Case(
        "t3-pa-plus-14",
        inp("2026-02-20", events=(ev("problem_analysis", "2026-02-10"),)),
        "action_plan",
        d("2026-02-24"),
        "due_soon",
    ),
    Case(
        "t3-action-plan-after-late-pa",  # PA in week 10 (2026-03-15), plan ten days later
        inp(
            "2026-04-01",
            events=(ev("problem_analysis", "2026-03-15"), ev("action_plan", "2026-03-25", "ap")),
        ),
        "action_plan",
        d("2026-03-29"),
        "met",
        satisfied_by="ap",
    ),
    Case(
        "t3-late-action-plan-after-late-pa",
        inp("2026-04-10", events=(ev("problem_analysis", "2026-03-15"), ev("action_plan", "2026-04-05"))),
        "action_plan",
        d("2026-03-29"),
        "met_late",
    ),
    Case("t3-week-8-without-pa", inp("2026-03-02"), "action_plan", d("2026-03-01"), "overdue"),
    # --- T4: recurring evaluations ---
    Case(
        "t4-first-after-action-plan",
        inp("2026-03-01", events=(ev("action_plan", "2026-02-20"),)),
        "action_plan_evaluation",
        d("2026-04-03"),
        "upcoming",
        occurrence=1,
    ),
    Case(
        "t4-evaluation-met",
        inp("2026-04-20", events=(ev("action_plan", "2026-02-20"), ev("evaluation", "2026-03-20", "e1"))),
        "action_plan_evaluation",
        d("2026-04-03"),
        "met",
        occurrence=1,
        satisfied_by="e1",
    ),
    Case(
        "t4-evaluation-restarts-interval",
        inp("2026-04-20", events=(ev("action_plan", "2026-02-20"), ev("evaluation", "2026-03-20"))),
        "action_plan_evaluation",
        d("2026-05-01"),  # 2026-03-20 + 42
        "due_soon",
        occurrence=2,
    ),
    Case(
        "t4-late-evaluation-restarts-from-itself",
        inp("2026-04-20", events=(ev("action_plan", "2026-02-20"), ev("action_plan_update", "2026-04-10"))),
        "action_plan_evaluation",
        d("2026-05-22"),  # 2026-04-10 + 42
        "upcoming",
        occurrence=2,
    ),
    Case(
        "t4-late-evaluation-is-met-late",
        inp("2026-04-20", events=(ev("action_plan", "2026-02-20"), ev("action_plan_update", "2026-04-10"))),
        "action_plan_evaluation",
        d("2026-04-03"),
        "met_late",
        occurrence=1,
    ),
    Case(
        "t4-custom-interval-28",
        inp("2026-03-01", events=(ev("action_plan", "2026-02-20"),), evaluation_interval_days=28),
        "action_plan_evaluation",
        d("2026-03-20"),
        "upcoming",
        occurrence=1,
    ),
    Case(
        "t4-open-occurrence-overdue",
        inp("2026-04-04", events=(ev("action_plan", "2026-02-20"),)),
        "action_plan_evaluation",
        d("2026-04-03"),
        "overdue",
        occurrence=1,
    ),
    # --- T6: first-year evaluation ---
    Case(
        "t6-early-accepted-with-warning",
        inp("2026-12-01", events=(ev("first_year_evaluation", "2026-11-01", "fye"),)),
        "first_year_evaluation",
        d("2027-01-03"),
        "met",
        warning="first_year_evaluation_before_window",
        satisfied_by="fye",
    ),
    Case(
        "t6-in-window",
        inp("2026-12-02", events=(ev("first_year_evaluation", "2026-12-01"),)),
        "first_year_evaluation",
        d("2027-01-03"),
        "met",
    ),
    Case(
        "t6-late",
        inp("2027-01-11", events=(ev("first_year_evaluation", "2027-01-10"),)),
        "first_year_evaluation",
        d("2027-01-03"),
        "met_late",
    ),
    # --- T7, P7, P8, P9 ---
    Case("t7-week-58-overdue", inp("2027-02-15"), "track_2_start", d("2027-02-14"), "overdue"),
    Case(
        "t7-fye-plus-42-track-started",
        inp(
            "2027-01-20",
            events=(ev("first_year_evaluation", "2026-12-01"),),
            tracks_2=(Track2Record(d("2027-01-10"), id="tr"),),
        ),
        "track_2_start",
        d("2027-01-12"),
        "met",
        satisfied_by="tr",
    ),
    Case(
        "t7-track-2-started-late",
        inp(
            "2027-02-10",
            events=(ev("first_year_evaluation", "2026-12-01"),),
            tracks_2=(Track2Record(d("2027-02-01"), id="tr"),),
        ),
        "track_2_start",
        d("2027-01-12"),
        "met_late",
        warning="track_2_late",
    ),
    Case(
        "t7-valid-waiver",
        inp(
            "2027-01-20",
            events=(ev("first_year_evaluation", "2026-12-01"),),
            track_2_waivers=(Track2Waiver("marginal_capacity", d("2027-01-05"), id="w"),),
        ),
        "track_2_start",
        d("2027-01-12"),
        "met",
        satisfied_by="w",
    ),
    Case(
        "t7-waiver-lapses",  # expected return 2027-02-01 did not happen: due again the day after
        inp(
            "2027-02-10",
            events=(ev("first_year_evaluation", "2026-12-01"),),
            track_2_waivers=(
                Track2Waiver("return_within_3_months", d("2026-12-20"), expected_return_on=d("2027-02-01")),
            ),
        ),
        "track_2_start",
        d("2027-02-02"),
        "overdue",
        warning="track_2_waiver_lapsed",
    ),
    Case(
        "t7-waiver-kept-by-satisfactory-result",
        inp(
            "2027-02-10",
            events=(ev("first_year_evaluation", "2026-12-01"),),
            track_2_waivers=(
                Track2Waiver(
                    "return_within_3_months", d("2026-12-20"), expected_return_on=d("2027-02-01"), id="w"
                ),
            ),
            satisfactory_result_on=d("2027-01-25"),
        ),
        "track_2_start",
        d("2027-01-12"),
        "met",
        satisfied_by="w",
    ),
    Case(
        "t7-withdrawn-waiver-no-longer-counts",
        inp(
            "2027-02-20",
            track_2_waivers=(
                Track2Waiver("marginal_capacity", d("2027-01-05"), withdrawn_on=d("2027-02-18")),
            ),
        ),
        "track_2_start",
        d("2027-02-18"),  # recorded in time (before week 58's 2027-02-14), ended on 18 Feb
        "overdue",
    ),
    Case(
        "t7-satisfactory-result-p9",
        inp("2027-01-20", satisfactory_result_on=d("2027-01-03")),
        "track_2_start",
        d("2027-02-14"),
        "met",
    ),
    # --- T8 ---
    Case(
        "t8-report-met",
        inp("2027-02-10", tracks_2=(Track2Record(d("2027-01-10"), progress_reports=(d("2027-02-05"),)),)),
        "track_2_progress_report",
        d("2027-02-07"),
        "met",
        occurrence=1,
    ),
    Case(
        "t8-next-report-from-last",
        inp("2027-02-10", tracks_2=(Track2Record(d("2027-01-10"), progress_reports=(d("2027-02-05"),)),)),
        "track_2_progress_report",
        d("2027-03-05"),
        "upcoming",
        occurrence=2,
    ),
    # --- T9, T10 ---
    Case(
        "t9-in-window",
        inp("2027-09-20", events=(ev("current_assessment", "2027-09-15"),)),
        "current_assessment",
        d("2027-10-03"),
        "met",
        extra={"window_starts_on": d("2027-08-30")},
    ),
    Case(
        "t10-waived-no-capacity",
        inp("2027-10-10", waived={"final_evaluation": "no work capacity since day 1"}),
        "final_evaluation",
        d("2027-10-03"),
        "waived",
        extra={"waived_reason": "no work capacity since day 1"},
    ),
    # --- T11, T12, P12 ---
    Case(
        "t11-voluntary-extension",
        inp("2027-07-01", voluntary_extensions=(VoluntaryExtension(13, d("2027-06-01")),)),
        "wia_application",
        d("2028-01-16"),  # 2027-10-17 + 91
        "upcoming",
        ends_on=d("2028-04-02"),  # 2028-01-02 + 91
    ),
    Case(
        "t11-extension-does-not-move-earlier-deadlines",
        inp("2027-07-01", voluntary_extensions=(VoluntaryExtension(13, d("2027-06-01")),)),
        "final_evaluation",
        d("2027-10-03"),
        "upcoming",
    ),
    Case(
        "t11-wage-sanction",
        inp(
            "2028-01-01",
            events=(ev("wia_application", "2027-10-10", "wia"),),
            wage_sanctions=(WageSanction(52, d("2028-01-01")),),
        ),
        "wia_application",
        d("2028-10-15"),  # 2027-10-17 + 364
        "met",
        ends_on=d("2028-12-31"),  # 2028-01-02 + 364
        satisfied_by="wia",
    ),
    Case(
        "t11-late-wia-extends-waiting-period",
        inp("2027-11-01", events=(ev("wia_application", "2027-10-27"),)),
        "wia_application",
        d("2027-10-17"),
        "met_late",
        warning="wia_application_late",
        ends_on=d("2028-01-12"),  # 2028-01-02 + 10
    ),
    Case(
        "t11-early-iva-satisfies",
        inp("2026-06-03", events=(ev("early_iva_application", "2026-06-01", "iva"),)),
        "wia_application",
        d("2027-10-17"),
        "met",
        satisfied_by="iva",
    ),
    Case(
        "t12-after-early-iva",
        inp("2026-06-03", events=(ev("early_iva_application", "2026-06-01"),)),
        "riv_submission",
        d("2026-06-02"),
        "overdue",
    ),
    Case(
        "t12-day-after-wia",
        inp("2027-10-11", events=(ev("wia_application", "2027-10-10"),)),
        "riv_submission",
        d("2027-10-11"),
        "due_soon",
    ),
    # --- suspended, not applicable, closure ---
    Case(
        "recovered-suspended",  # sick 5 Jan – 10 Feb (37 sick days); as of 10 healthy days later
        inp("2026-02-20", periods=(SicknessPeriod(F, d("2026-02-10")),)),
        "problem_analysis",
        None,
        "suspended",
        extra={"case_state": "recovered_suspended"},
    ),
    Case(
        "recovered-suspended-keeps-earlier-overdue",
        inp("2026-02-20", periods=(SicknessPeriod(F, d("2026-02-10")),)),
        "occupational_health_notified",
        d("2026-01-11"),
        "overdue",
    ),
    Case(
        "recovered-28-days-not-applicable",
        inp("2026-03-10", periods=(SicknessPeriod(F, d("2026-02-10")),)),
        "problem_analysis",
        None,
        "not_applicable",
        extra={"case_state": "closed", "closed_on": d("2026-03-10"), "closure_reason": "recovered"},
    ),
    Case(
        "recovered-27-days-still-suspended",
        inp("2026-03-09", periods=(SicknessPeriod(F, d("2026-02-10")),)),
        "action_plan",
        None,
        "suspended",
    ),
    Case(
        "relapse-ends-suspension",
        inp("2026-03-12", periods=(SicknessPeriod(F, d("2026-02-10")), SicknessPeriod(d("2026-03-09")))),
        "problem_analysis",
        d("2026-03-13"),  # 2026-02-15 + 26 healthy days (11 Feb – 8 Mar)
        "due_soon",
        extra={"case_state": "open"},
    ),
    Case(
        "closed-employment-ended",
        inp("2026-06-01", closure=CaseClosure(d("2026-03-01"), "employment_ended")),
        "uwv_sick_notification",
        None,
        "not_applicable",
        extra={"case_state": "closed"},
    ),
    # --- pregnancy leave in the gap ---
    Case(
        "pregnancy-gap-joined",  # sick 5–31 Jan; 59-day gap of which 40 days leave -> 19 count, joins
        inp(
            "2026-04-02",
            periods=(
                SicknessPeriod(F, d("2026-01-31")),
                SicknessPeriod(
                    d("2026-04-01"),
                    pregnancy_leave_in_gap=True,
                    pregnancy_leave_days=40,
                    same_cause_not_pregnancy=True,
                ),
            ),
        ),
        "problem_analysis",
        d("2026-04-15"),  # 2026-02-15 + 59
        "due_soon",
    ),
]

ERRORS: list[tuple[str, TimelineInput, type[Exception], str | None]] = [
    (
        "gap-28-days-new-case",
        inp("2026-03-01", periods=(SicknessPeriod(F, d("2026-01-20")), SicknessPeriod(d("2026-02-18")))),
        RuleViolation,
        "T0",
    ),
    (
        "pregnancy-gap-refused-without-flag",
        inp(
            "2026-04-02",
            periods=(
                SicknessPeriod(F, d("2026-01-31")),
                SicknessPeriod(d("2026-04-01"), pregnancy_leave_in_gap=True, pregnancy_leave_days=40),
            ),
        ),
        RuleViolation,
        "T0",
    ),
    (
        "pregnancy-gap-too-long-after-leave",  # 59 - 31 = 28 healthy days count
        inp(
            "2026-04-02",
            periods=(
                SicknessPeriod(F, d("2026-01-31")),
                SicknessPeriod(
                    d("2026-04-01"),
                    pregnancy_leave_in_gap=True,
                    pregnancy_leave_days=31,
                    same_cause_not_pregnancy=True,
                ),
            ),
        ),
        RuleViolation,
        "T0",
    ),
    (
        "overlapping-periods",
        inp("2026-03-01", periods=(SicknessPeriod(F, d("2026-01-20")), SicknessPeriod(d("2026-01-20")))),
        RuleViolation,
        "T0",
    ),
    (
        "open-period-before-the-last",
        inp("2026-03-01", periods=(SicknessPeriod(F), SicknessPeriod(d("2026-02-01")))),
        RuleViolation,
        "T0",
    ),
    (
        "first-period-not-on-first-sick-day",
        inp("2026-03-01", periods=(SicknessPeriod(d("2026-01-06")),)),
        InvalidInput,
        None,
    ),
    ("unknown-waived-code", inp("2026-03-01", waived={"nope": "x"}), InvalidInput, None),
    (
        "wage-sanction-over-52-weeks",
        inp("2026-03-01", wage_sanctions=(WageSanction(53, F),)),
        InvalidInput,
        None,
    ),
    (
        "waiver-return-without-date",
        inp("2026-03-01", track_2_waivers=(Track2Waiver("return_within_3_months", F),)),
        InvalidInput,
        None,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case) -> None:
    tl = compute_timeline(case.inp)
    dl = find(tl, case.code, case.occurrence)
    assert (dl.due_on, dl.status) == (case.due, case.status)
    if case.warning is not None:
        assert case.warning in {w.code for w in tl.warnings}
    if case.ends_on is not None:
        assert tl.waiting_period.ends_on == case.ends_on
    if case.satisfied_by is not None:
        assert dl.satisfied_by == case.satisfied_by
    for name, value in case.extra.items():
        holder = dl if hasattr(dl, name) else tl
        assert getattr(holder, name) == value, name


@pytest.mark.parametrize(("inp_", "exc", "rule"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_refused(inp_: TimelineInput, exc: type[Exception], rule: str | None) -> None:
    with pytest.raises(exc) as info:
        compute_timeline(inp_)
    if rule is not None:
        assert info.value.rule == rule  # type: ignore[attr-defined]


def test_table_is_big_enough() -> None:
    assert len(CASES) + len(ERRORS) >= 40


# --- Focused checks ---------------------------------------------------------------------------------


def test_t4_shows_past_occurrences_and_one_open() -> None:
    tl = compute_timeline(
        inp(
            "2026-06-01",
            events=(
                ev("action_plan", "2026-02-20"),
                ev("evaluation", "2026-03-20", "e1"),
                ev("action_plan_update", "2026-05-10", "e2"),
            ),
        )
    )
    t4 = [(x.occurrence, x.due_on, x.status, x.satisfied_by) for x in tl.deadlines if x.rule == "T4"]
    assert t4 == [
        (1, d("2026-04-03"), "met", "e1"),
        (2, d("2026-05-01"), "met_late", "e2"),
        (3, d("2026-06-21"), "upcoming", None),  # 2026-05-10 + 42
    ]


def test_late_wia_and_extension_parts() -> None:
    tl = compute_timeline(
        inp(
            "2028-02-01",
            events=(ev("wia_application", "2028-01-20"),),
            voluntary_extensions=(VoluntaryExtension(13, d("2027-06-01")),),
        )
    )
    # T11 moved to 2028-01-16; the application came 4 days late
    assert find(tl, "wia_application").due_on == d("2028-01-16")
    assert [(x.kind, x.days) for x in tl.waiting_period.extensions] == [
        ("voluntary_extension", 91),
        ("late_wia_application", 4),
    ]
    assert tl.waiting_period.base_ends_on == d("2028-01-02")
    assert tl.waiting_period.ends_on == d("2028-04-06")  # 2028-01-02 + 91 + 4


def test_a_wia_application_after_recovery_never_shortens_the_waiting_period() -> None:
    # Found by the property test: sick one day, recovered, then a WIA application long after T11's date.
    # Its sick-day count (1) lies before T11's, so there is no delay; it once counted as 1 - k11 days.
    tl = compute_timeline(
        TimelineInput(
            first_sick_day=F,
            as_of=d("2027-12-01"),
            periods=(SicknessPeriod(F, F),),
            events=(ev("wia_application", "2027-12-01"),),
        )
    )
    assert tl.waiting_period.extensions == ()
    assert tl.waiting_period.ends_on == tl.waiting_period.base_ends_on == d("2028-01-02")
    assert not any(w.code == "wia_application_late" for w in tl.warnings)


def test_as_of_before_first_sick_day() -> None:
    tl = compute_timeline(inp("2026-01-01"))
    assert tl.sick_day is None and tl.week is None and tl.sick_days_counted == 0
    assert not any(x.status == "overdue" for x in tl.deadlines)


def test_sick_day_in_gap_is_none() -> None:
    periods = (SicknessPeriod(F, d("2026-01-20")), SicknessPeriod(d("2026-02-11")))
    tl = compute_timeline(TimelineInput(first_sick_day=F, as_of=d("2026-02-12"), periods=periods))
    assert (tl.sick_day, tl.week, tl.sick_days_counted) == (18, 3, 18)
    # the employee is recovered on 2026-01-25 as far as a timeline of that day can tell
    tl = compute_timeline(TimelineInput(first_sick_day=F, as_of=d("2026-01-25"), periods=periods))
    assert (tl.sick_day, tl.week, tl.sick_days_counted, tl.case_state) == (
        None,
        None,
        16,
        "recovered_suspended",
    )


def test_events_after_as_of_are_not_yet_known() -> None:
    tl = compute_timeline(inp("2026-02-01", events=(ev("problem_analysis", "2026-02-10"),)))
    assert find(tl, "problem_analysis").status == "due_soon"


def test_early_iva_window_and_validation() -> None:
    base = inp("2026-03-01")
    assert early_iva_window(base) == (d("2026-01-19"), d("2027-04-25"))
    validate_early_iva(base, d("2026-01-19"))
    validate_early_iva(base, d("2027-04-25"))
    for bad in (d("2026-01-18"), d("2027-04-26")):
        with pytest.raises(RuleViolation) as info:
            validate_early_iva(base, bad)
        assert info.value.rule == "T13"
    once = inp("2026-03-01", events=(ev("early_iva_application", "2026-02-01"),))
    with pytest.raises(RuleViolation) as info:
        validate_early_iva(once, d("2026-03-01"))
    assert info.value.rule == "T13"


def test_early_iva_ends_waiting_period_on_closure() -> None:
    tl = compute_timeline(
        inp(
            "2026-09-01",
            events=(ev("early_iva_application", "2026-06-01"),),
            closure=CaseClosure(d("2026-08-31"), "waiting_period_ended"),
        )
    )
    assert tl.waiting_period.ends_on == d("2026-08-31")
    assert tl.waiting_period.extensions[-1].kind == "early_iva"
    assert tl.case_state == "closed"


def test_deadline_carries_catalogue_facts() -> None:
    tl = compute_timeline(inp("2026-01-05"))
    t5 = find(tl, "uwv_sick_notification")
    assert (t5.rule, t5.source) == ("T5", "UWV; Stb. 2008, 414")
    assert "EUR 455" in t5.consequence
    assert tl.catalogue_version
