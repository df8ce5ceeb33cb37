"""Track rules: hard rules P1, P2, P4-P7 (refusals with rule id and missing), soft rules P8-P11."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.activity_kinds import (
    ActivityKind,
    Track2WaiverReason,
    TrackKind,
    TrackOutcome,
    TrackStatus,
)
from app.domain.errors import InvalidInput, RuleViolation
from app.domain.phases import RecordedActivity, TrackFacts
from app.domain.tracks import (
    SATISFACTORY_RESULT_THRESHOLD_PERCENT,
    TRACK_1_NEGLECT_DAYS,
    CaseFacts,
    CaseStatus,
    add_months,
    check_activity_dates,
    check_track_closure,
    check_track_start,
    check_waiver,
    is_satisfactory_result,
    track_warnings,
    waiver_lapses_on,
)

FIRST_SICK_DAY = date(2026, 1, 5)
TODAY = date(2027, 3, 1)
TRACK_START = date(2026, 3, 2)
PHASE_START = date(2026, 6, 1)

T1, T2 = TrackKind.TRACK_1, TrackKind.TRACK_2
OUT = TrackOutcome
W = Track2WaiverReason


def case(**changes: object) -> CaseFacts:
    base = CaseFacts(
        first_sick_day=FIRST_SICK_DAY,
        status=CaseStatus.OPEN,
        waiting_period_running=True,
        open_track_kinds=frozenset(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def track(
    kind: TrackKind = T1,
    phase: str | None = None,
    activities: tuple[RecordedActivity, ...] = (),
    ended_on: date | None = None,
) -> TrackFacts:
    return TrackFacts(
        kind=kind,
        status=TrackStatus.OPEN if ended_on is None else TrackStatus.CLOSED,
        started_on=TRACK_START,
        current_phase=phase or ("completion" if kind is T2 else "resumption"),
        current_phase_entered_on=PHASE_START,
        activities=frozenset(activities),
        ended_on=ended_on,
    )


def final_report(on: date = PHASE_START) -> RecordedActivity:
    return RecordedActivity(ActivityKind.FINAL_REPORT, on)


def refused(rule: str, check: object, *args: object, **kwargs: object) -> RuleViolation:
    assert callable(check)
    with pytest.raises(RuleViolation) as refusal:
        check(*args, **kwargs)
    assert refusal.value.rule == rule, refusal.value.detail
    return refusal.value


# --- P1, P2, P7 at track start ---------------------------------------------------------------------


def test_track_starts_on_an_open_case_within_its_dates() -> None:
    check_track_start(case(), T1, FIRST_SICK_DAY, TODAY)
    check_track_start(case(open_track_kinds=frozenset({T1})), T2, TODAY, TODAY)


def test_p1_one_open_track_of_each_kind() -> None:
    busy = case(open_track_kinds=frozenset({T1}))
    assert refused("P1", check_track_start, busy, T1, TODAY, TODAY).missing == []


def test_p2_not_before_the_first_sick_day() -> None:
    refused("P2", check_track_start, case(), T1, FIRST_SICK_DAY - timedelta(days=1), TODAY)


def test_p2_not_in_the_future() -> None:
    refused("P2", check_track_start, case(), T2, TODAY + timedelta(days=1), TODAY)


@pytest.mark.parametrize("status", [CaseStatus.CLOSED, CaseStatus.RECOVERED])
def test_p2_not_on_a_closed_case(status: CaseStatus) -> None:
    refused("P2", check_track_start, case(status=status, closed_on=TODAY), T1, TRACK_START, TODAY)


def test_p7_waiver_excludes_starting_track_2() -> None:
    waived = case(track_2_waiver_present=True)
    refused("P7", check_track_start, waived, T2, TODAY, TODAY)
    check_track_start(waived, T1, TODAY, TODAY)


# --- P4: closing Track 1 ---------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", [OUT.SUSTAINABLE_RETURN])
def test_p4_track_1_closes_with_sustainable_return(outcome: TrackOutcome) -> None:
    check_track_closure(case(open_track_kinds=frozenset({T1, T2})), track(), TODAY, outcome, TODAY)


def test_p4_track_1_closes_with_case_closed_once_the_case_ends() -> None:
    check_track_closure(case(status=CaseStatus.CLOSED), track(), TODAY, OUT.CASE_CLOSED, TODAY)
    check_track_closure(case(waiting_period_running=False), track(), TODAY, OUT.CASE_CLOSED, TODAY)


def test_p4_case_closed_is_refused_while_the_case_runs() -> None:
    violation = refused("P4", check_track_closure, case(), track(), TODAY, OUT.CASE_CLOSED, TODAY)
    assert violation.missing == ["case_closed"]


@pytest.mark.parametrize(
    "outcome", [OUT.NO_INTERNAL_PROSPECT, OUT.PLACED_EXTERNAL, OUT.WIA_PREPARATION, OUT.RETURNED_INTERNAL]
)
def test_p4_track_1_refuses_other_outcomes(outcome: TrackOutcome) -> None:
    running = case(open_track_kinds=frozenset({T1, T2}))
    violation = refused("P4", check_track_closure, running, track(), TODAY, outcome, TODAY)
    assert "in parallel" in violation.detail
    refused("P4", check_track_closure, case(), track(), TODAY, outcome, TODAY)


def test_p4_small_employer_setting_is_off_by_default() -> None:
    year_two = case(open_track_kinds=frozenset({T1, T2}), second_year_starts_on=date(2027, 1, 4))
    refused("P4", check_track_closure, year_two, track(), TODAY, OUT.NO_INTERNAL_PROSPECT, TODAY)
    check_track_closure(
        year_two, track(), TODAY, OUT.NO_INTERNAL_PROSPECT, TODAY, allow_small_employer_track_1_closure=True
    )


def test_p4_small_employer_closure_needs_year_two_and_track_2() -> None:
    year_one = case(second_year_starts_on=date(2027, 6, 1))
    violation = refused(
        "P4",
        check_track_closure,
        year_one,
        track(),
        TODAY,
        OUT.NO_INTERNAL_PROSPECT,
        TODAY,
        allow_small_employer_track_1_closure=True,
    )
    assert violation.missing == ["open track_2", "second sick year"]


# --- P5: closing Track 2 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "outcome",
    [OUT.PLACED_EXTERNAL, OUT.WORK_EXPERIENCE_OR_SECONDMENT, OUT.WIA_PREPARATION, OUT.RETURNED_INTERNAL],
)
def test_p5_track_2_closes_from_completion_with_a_final_report(outcome: TrackOutcome) -> None:
    check_track_closure(case(), track(T2, activities=(final_report(),)), TODAY, outcome, TODAY)


def test_p5_track_2_requires_a_final_report() -> None:
    violation = refused("P5", check_track_closure, case(), track(T2), TODAY, OUT.PLACED_EXTERNAL, TODAY)
    assert violation.missing == ["final_report"]


def test_p5_final_report_dated_after_the_end_does_not_count() -> None:
    late = track(T2, activities=(final_report(TODAY),))
    violation = refused(
        "P5", check_track_closure, case(), late, TODAY - timedelta(days=1), OUT.WIA_PREPARATION, TODAY
    )
    assert violation.missing == ["final_report"]


def test_p5_track_2_closes_only_from_completion() -> None:
    searching = track(T2, phase="active_search", activities=(final_report(),))
    violation = refused("P5", check_track_closure, case(), searching, TODAY, OUT.PLACED_EXTERNAL, TODAY)
    assert violation.missing == ["completion"]
    bare = track(T2, phase="orientation")
    violation = refused("P5", check_track_closure, case(), bare, TODAY, OUT.WIA_PREPARATION, TODAY)
    assert violation.missing == ["completion", "final_report"]


def test_p5_early_closing_with_returned_internal_or_case_closed() -> None:
    searching = track(T2, phase="active_search", activities=(final_report(),))
    check_track_closure(case(), searching, TODAY, OUT.RETURNED_INTERNAL, TODAY)
    check_track_closure(case(status=CaseStatus.RECOVERED), searching, TODAY, OUT.CASE_CLOSED, TODAY)


@pytest.mark.parametrize("outcome", [OUT.SUSTAINABLE_RETURN, OUT.NO_INTERNAL_PROSPECT])
def test_p5_track_2_refuses_track_1_outcomes(outcome: TrackOutcome) -> None:
    refused("P5", check_track_closure, case(), track(T2, activities=(final_report(),)), TODAY, outcome, TODAY)


@pytest.mark.parametrize(("kind", "rule"), [(T1, "P4"), (T2, "P5")])
def test_closing_dates(kind: TrackKind, rule: str) -> None:
    open_track = track(kind, activities=(final_report(),))
    outcome = OUT.SUSTAINABLE_RETURN if kind is T1 else OUT.PLACED_EXTERNAL
    refused(rule, check_track_closure, case(), open_track, PHASE_START - timedelta(days=1), outcome, TODAY)
    refused(rule, check_track_closure, case(), open_track, TODAY + timedelta(days=1), outcome, TODAY)
    check_track_closure(case(), open_track, PHASE_START, outcome, TODAY)


@pytest.mark.parametrize(("kind", "rule"), [(T1, "P4"), (T2, "P5")])
def test_a_closed_track_does_not_close_again(kind: TrackKind, rule: str) -> None:
    closed = track(kind, activities=(final_report(),), ended_on=TODAY)
    outcome = OUT.SUSTAINABLE_RETURN if kind is T1 else OUT.PLACED_EXTERNAL
    refused(rule, check_track_closure, case(), closed, TODAY, outcome, TODAY)


# --- P6: activity dates ----------------------------------------------------------------------------


def test_p6_case_activity_from_the_first_sick_day_up_to_today() -> None:
    check_activity_dates(case(), None, FIRST_SICK_DAY, TODAY)
    check_activity_dates(case(), None, TODAY, TODAY)
    refused("P6", check_activity_dates, case(), None, FIRST_SICK_DAY - timedelta(days=1), TODAY)
    refused("P6", check_activity_dates, case(), None, TODAY + timedelta(days=1), TODAY)


def test_p6_track_activity_within_the_track() -> None:
    check_activity_dates(case(), track(), TRACK_START, TODAY)
    refused("P6", check_activity_dates, case(), track(), TRACK_START - timedelta(days=1), TODAY)
    refused("P6", check_activity_dates, case(), track(), TODAY + timedelta(days=1), TODAY)


def test_p6_closed_track_activity_on_or_before_its_end() -> None:
    ended = PHASE_START + timedelta(days=20)
    closed = track(ended_on=ended)
    check_activity_dates(case(), closed, ended, TODAY)
    refused("P6", check_activity_dates, case(), closed, ended + timedelta(days=1), TODAY)


# --- P7: Track 2 waiver ----------------------------------------------------------------------------


def test_p7_waiver_needs_a_reason() -> None:
    assert refused("P7", check_waiver, case(), None, TRACK_START, TODAY).missing == ["reason"]


def test_p7_marginal_capacity_needs_nothing_more() -> None:
    check_waiver(case(), W.MARGINAL_CAPACITY, TRACK_START, TODAY)


def test_p7_waiver_and_open_track_2_exclude_each_other() -> None:
    with_track_2 = case(open_track_kinds=frozenset({T2}))
    refused("P7", check_waiver, with_track_2, W.MARGINAL_CAPACITY, TRACK_START, TODAY)
    check_waiver(case(open_track_kinds=frozenset({T1})), W.MARGINAL_CAPACITY, TRACK_START, TODAY)


def test_p7_return_within_3_months_needs_the_expected_date() -> None:
    violation = refused("P7", check_waiver, case(), W.RETURN_WITHIN_3_MONTHS, TRACK_START, TODAY)
    assert violation.missing == ["expected_return_on"]


def test_p7_expected_return_within_3_months_of_recording() -> None:
    recorded = date(2026, 11, 30)
    check_waiver(case(), W.RETURN_WITHIN_3_MONTHS, recorded, TODAY, expected_return_on=date(2027, 2, 28))
    for expected in (date(2027, 3, 1), recorded - timedelta(days=1)):
        violation = refused(
            "P7", check_waiver, case(), W.RETURN_WITHIN_3_MONTHS, recorded, TODAY, expected_return_on=expected
        )
        assert violation.missing == ["expected_return_on"]


@pytest.mark.parametrize(
    ("employer", "employee", "missing"),
    [
        (False, False, ["employer_consent", "employee_consent"]),
        (True, False, ["employee_consent"]),
        (False, True, ["employer_consent"]),
    ],
)
def test_p7_retirement_needs_both_consents(employer: bool, employee: bool, missing: list[str]) -> None:
    violation = refused(
        "P7",
        check_waiver,
        case(),
        W.RETIREMENT_WITHIN_1_YEAR,
        TRACK_START,
        TODAY,
        employer_consents=employer,
        employee_consents=employee,
    )
    assert violation.missing == missing
    check_waiver(
        case(), W.RETIREMENT_WITHIN_1_YEAR, TRACK_START, TODAY, employer_consents=True, employee_consents=True
    )


def test_p7_waiver_dates_and_closed_case() -> None:
    refused("P7", check_waiver, case(), W.MARGINAL_CAPACITY, TODAY + timedelta(days=1), TODAY)
    refused("P7", check_waiver, case(), W.MARGINAL_CAPACITY, FIRST_SICK_DAY - timedelta(days=1), TODAY)
    refused("P7", check_waiver, case(status=CaseStatus.CLOSED), W.MARGINAL_CAPACITY, TRACK_START, TODAY)


def test_p7_waiver_lapses_after_the_expected_return() -> None:
    assert waiver_lapses_on(W.RETURN_WITHIN_3_MONTHS, date(2026, 5, 1)) == date(2026, 5, 2)
    assert waiver_lapses_on(W.MARGINAL_CAPACITY, None) is None


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)), st.integers(0, 24))
def test_add_months_lands_in_the_right_month_and_never_overshoots(day: date, months: int) -> None:
    later = add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day <= day.day
    assert later >= day


# --- P9 --------------------------------------------------------------------------------------------


def test_p9_threshold_is_65_percent() -> None:
    assert SATISFACTORY_RESULT_THRESHOLD_PERCENT == 65
    assert is_satisfactory_result(65)
    assert is_satisfactory_result(80.5)
    assert not is_satisfactory_result(64.99)
    with pytest.raises(InvalidInput):
        is_satisfactory_result(-1)


# --- P8, P10, P11 warnings -------------------------------------------------------------------------

AS_OF = date(2027, 3, 1)
DUE = date(2027, 2, 14)
ACTION_PLAN = date(2026, 2, 20)
LEA = date(2026, 12, 1)


def codes(**kwargs: object) -> dict[str, tuple[date, ...]]:
    base: dict[str, object] = {
        "as_of": AS_OF,
        "track_2_started_on": DUE,
        "track_2_open": True,
        "track_2_due_on": DUE,
        "action_plan_on": ACTION_PLAN,
        "labour_expert_assessment_on": LEA,
        "last_track_1_activity_on": AS_OF,
    }
    base.update(kwargs)
    return {w.code: w.evidence_dates for w in track_warnings(**base)}  # type: ignore[arg-type]


def test_no_warnings_for_a_timely_prepared_parallel_track_2() -> None:
    assert codes() == {}


def test_p8_track_2_late() -> None:
    late = DUE + timedelta(days=1)
    assert codes(track_2_started_on=late) == {"track_2_late": (late, DUE)}
    warning = track_warnings(
        as_of=AS_OF,
        track_2_started_on=late,
        track_2_open=False,
        track_2_due_on=DUE,
        action_plan_on=ACTION_PLAN,
        labour_expert_assessment_on=LEA,
    )[0]
    assert (warning.code, warning.rule) == ("track_2_late", "P8")


def test_p10_track_2_before_the_action_plan_or_without_labour_expert_assessment() -> None:
    early = ACTION_PLAN - timedelta(days=1)
    assert codes(track_2_started_on=early, labour_expert_assessment_on=early) == {
        "track_2_unprepared": (early, ACTION_PLAN)
    }
    assert codes(labour_expert_assessment_on=None) == {"track_2_unprepared": (DUE,)}
    assert codes(action_plan_on=None) == {"track_2_unprepared": (DUE,)}
    assert codes(labour_expert_assessment_on=DUE + timedelta(days=1)) == {
        "track_2_unprepared": (DUE, DUE + timedelta(days=1))
    }


def test_p11_track_1_neglected_after_42_days() -> None:
    assert TRACK_1_NEGLECT_DAYS == 42
    boundary = AS_OF - timedelta(days=42)
    assert codes(last_track_1_activity_on=boundary) == {}
    stale = boundary - timedelta(days=1)
    assert codes(last_track_1_activity_on=stale) == {"track_1_neglected": (stale, AS_OF)}
    assert codes(last_track_1_activity_on=None) == {"track_1_neglected": (AS_OF,)}


def test_p11_only_while_track_2_open_and_track_1_not_closed() -> None:
    assert codes(last_track_1_activity_on=None, track_2_open=False) == {}
    assert codes(last_track_1_activity_on=None, track_1_closed=True) == {}
    warnings = track_warnings(as_of=AS_OF, track_2_started_on=None, track_2_open=True)
    assert [(w.code, w.rule) for w in warnings] == [("track_1_neglected", "P11")]
