"""Track rules: the hard rules P1, P2, P4-P7 as checks that raise, the soft rules P8-P11 as warnings.

Everything takes frozen snapshots (`CaseFacts`, `TrackFacts`) and plain dates; `today` is passed in.
A check returns None when the change is allowed and raises `RuleViolation` (rule id, and `missing`
where something is missing) when it is refused. P3, the phases, lives in `app.domain.phases`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from app.domain.activity_kinds import (
    TRACK_1_OUTCOMES,
    TRACK_2_EARLY_OUTCOMES,
    TRACK_2_OUTCOMES,
    ActivityKind,
    Track2WaiverReason,
    TrackKind,
    TrackOutcome,
)
from app.domain.errors import InvalidInput, RuleViolation
from app.domain.phases import DEFAULT_PHASE_MACHINES, PhaseMachines, TrackFacts

SATISFACTORY_RESULT_THRESHOLD_PERCENT = 65
"""P9: structural work at this share of the original wage value or more is normally satisfactory."""

TRACK_1_NEGLECT_DAYS = 42
"""P11: the longest gap in Track 1 activity while Track 2 is open before a warning."""

WAIVER_RETURN_WITHIN_MONTHS = 3
"""P7: how far ahead the expected return may lie for a `return_within_3_months` waiver."""


class CaseStatus(StrEnum):
    OPEN = "open"
    RECOVERED = "recovered"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """A frozen snapshot of a case as far as the track rules need it."""

    first_sick_day: date
    status: CaseStatus
    waiting_period_running: bool
    open_track_kinds: frozenset[TrackKind] = frozenset()
    track_2_waiver_present: bool = False
    """A Track 2 waiver in force (the service leaves out a lapsed one, see `waiver_lapses_on`)."""
    closed_on: date | None = None
    second_year_starts_on: date | None = None
    """The first day of sick-year two (clock T0); only the small-employer setting of P4 reads it."""

    @property
    def is_open(self) -> bool:
        return self.status is CaseStatus.OPEN

    @property
    def is_ending(self) -> bool:
        """Closed, recovered, or past its waiting period: what outcome `case_closed` stands for."""
        return not self.is_open or not self.waiting_period_running


@dataclass(frozen=True, slots=True)
class TrackWarning:
    """A soft-rule finding: accepted, reported in the compliance report and the case's warnings."""

    code: str
    rule: str
    detail: str
    evidence_dates: tuple[date, ...] = ()


# --- P1, P2, P7: starting a track ------------------------------------------------------------------


def check_track_start(case: CaseFacts, kind: TrackKind, started_on: date, today: date) -> None:
    """Refuse starting a track of `kind` on `started_on`.

    P2: not on a closed case, on or after the first sick day, not in the future.
    P1: at most one open track of each kind per case.
    P7: a Track 2 waiver and an open Track 2 exclude each other.
    """
    if not case.is_open:
        raise RuleViolation(f"the case is {case.status}; no track starts on it", rule="P2")
    if started_on < case.first_sick_day:
        raise RuleViolation(
            f"a track starts on or after the first sick day {case.first_sick_day}, not {started_on}",
            rule="P2",
        )
    if started_on > today:
        raise RuleViolation(
            f"a track does not start in the future ({started_on}; today is {today})", rule="P2"
        )
    if kind in case.open_track_kinds:
        raise RuleViolation(f"the case already has an open {kind}", rule="P1")
    if kind is TrackKind.TRACK_2 and case.track_2_waiver_present:
        raise RuleViolation("the case has a Track 2 waiver; withdraw it before starting Track 2", rule="P7")


# --- P4, P5: closing a track -----------------------------------------------------------------------


def check_track_closure(
    case: CaseFacts,
    track: TrackFacts,
    ended_on: date,
    outcome: TrackOutcome,
    today: date,
    *,
    machines: PhaseMachines = DEFAULT_PHASE_MACHINES,
    allow_small_employer_track_1_closure: bool = False,
) -> None:
    """Refuse closing `track` on `ended_on` with `outcome` (P4 for Track 1, P5 for Track 2).

    Both: the track is open; `ended_on` is on or after the track's start and its current phase's
    start, and not in the future; outcome `case_closed` only when the case is closed, recovered or
    past its waiting period (`CaseFacts.is_ending`: the service closing a case passes the case as it
    will be), else `missing` is `["case_closed"]`.
    P4: Track 1 closes with `sustainable_return` or `case_closed`. With
    `allow_small_employer_track_1_closure` (planned law, off by default) also with
    `no_internal_prospect` in sick-year two while a Track 2 is open.
    P5: Track 2 closes from its final phase with any Track 2 outcome, or earlier with `case_closed`
    or `returned_internal` (else `missing` names the final phase), and only with a `final_report`
    dated on or before `ended_on` in the track (else `missing` has `"final_report"`).
    """
    rule = "P4" if track.kind is TrackKind.TRACK_1 else "P5"
    if not track.is_open:
        raise RuleViolation(f"the {track.kind} is already closed", rule=rule)
    earliest = max(track.started_on, track.current_phase_entered_on)
    if ended_on < earliest:
        raise RuleViolation(
            f"the {track.kind} cannot end on {ended_on}, before its start or its current phase's start "
            f"{earliest}",
            rule=rule,
            extra={"earliest_on": earliest.isoformat()},
        )
    if ended_on > today:
        raise RuleViolation(f"a track does not end in the future ({ended_on}; today is {today})", rule=rule)
    if outcome is TrackOutcome.CASE_CLOSED and not case.is_ending:
        raise RuleViolation(
            "outcome case_closed needs a closed or recovered case, or one past its waiting period",
            rule=rule,
            missing=["case_closed"],
        )
    if track.kind is TrackKind.TRACK_1:
        _check_track_1_outcome(case, ended_on, outcome, allow_small_employer_track_1_closure)
    else:
        _check_track_2_closure(track, ended_on, outcome, machines)


def _check_track_1_outcome(
    case: CaseFacts, ended_on: date, outcome: TrackOutcome, allow_small_employer_closure: bool
) -> None:
    if outcome in TRACK_1_OUTCOMES:
        return
    allowed = sorted(TRACK_1_OUTCOMES)
    if outcome is TrackOutcome.NO_INTERNAL_PROSPECT and allow_small_employer_closure:
        missing = []
        if TrackKind.TRACK_2 not in case.open_track_kinds:
            missing.append("open track_2")
        if case.second_year_starts_on is None or ended_on < case.second_year_starts_on:
            missing.append("second sick year")
        if not missing:
            return
        raise RuleViolation(
            "a small employer closes Track 1 without internal prospect only in sick-year two, "
            "with Track 2 open",
            rule="P4",
            missing=missing,
        )
    detail = f"Track 1 closes only with outcome {' or '.join(allowed)}, not {outcome}"
    if TrackKind.TRACK_2 in case.open_track_kinds and case.waiting_period_running:
        detail += "; while Track 2 is open UWV expects Track 1 efforts to continue in parallel"
    raise RuleViolation(detail, rule="P4", extra={"allowed_outcomes": allowed})


def _check_track_2_closure(
    track: TrackFacts, ended_on: date, outcome: TrackOutcome, machines: PhaseMachines
) -> None:
    if outcome not in TRACK_2_OUTCOMES:
        allowed = sorted(TRACK_2_OUTCOMES)
        raise RuleViolation(
            f"Track 2 closes with one of {', '.join(allowed)}, not {outcome}",
            rule="P5",
            extra={"allowed_outcomes": allowed},
        )
    missing: list[str] = []
    final_phase = machines[track.kind].final_phase
    if track.current_phase != final_phase and outcome not in TRACK_2_EARLY_OUTCOMES:
        missing.append(final_phase)
    has_final_report = any(
        a.kind is ActivityKind.FINAL_REPORT and a.occurred_on <= ended_on for a in track.activities
    )
    if not has_final_report:
        missing.append(ActivityKind.FINAL_REPORT.value)
    if missing:
        raise RuleViolation(
            f"Track 2 closes from {final_phase} (earlier only with case_closed or returned_internal) "
            f"and with a final_report in the track; missing: {', '.join(missing)}",
            rule="P5",
            missing=missing,
        )


# --- P6: activity dates ----------------------------------------------------------------------------


def check_activity_dates(case: CaseFacts, track: TrackFacts | None, occurred_on: date, today: date) -> None:
    """P6: a track's activity falls within the track's dates (on or after its start, on or before
    its end once closed); a case activity is on or after the first sick day; none is in the future."""
    if occurred_on > today:
        raise RuleViolation(
            f"an activity does not occur in the future ({occurred_on}; today is {today})", rule="P6"
        )
    if track is None:
        if occurred_on < case.first_sick_day:
            raise RuleViolation(
                f"a case activity is on or after the first sick day {case.first_sick_day}, not {occurred_on}",
                rule="P6",
            )
        return
    if occurred_on < track.started_on:
        raise RuleViolation(
            f"an activity of the {track.kind} is on or after its start {track.started_on}, not {occurred_on}",
            rule="P6",
        )
    if track.ended_on is not None and occurred_on > track.ended_on:
        raise RuleViolation(
            f"an activity of the {track.kind} is on or before its end {track.ended_on}, not {occurred_on}",
            rule="P6",
        )


# --- P7: Track 2 waiver ----------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later, clamped to the month's end (Nov 30 + 3 = Feb 28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def check_waiver(
    case: CaseFacts,
    reason: Track2WaiverReason | None,
    recorded_on: date,
    today: date,
    *,
    expected_return_on: date | None = None,
    employer_consents: bool = False,
    employee_consents: bool = False,
) -> None:
    """P7: refuse recording a Track 2 waiver.

    It needs a reason; `return_within_3_months` an `expected_return_on` from `recorded_on` to three
    calendar months after it; `retirement_within_1_year` both parties' consent; `marginal_capacity`
    nothing more. It is refused while a Track 2 is open, on a closed case, and when `recorded_on` is
    before the first sick day or in the future.
    """
    if reason is None:
        raise RuleViolation("a Track 2 waiver needs a reason", rule="P7", missing=["reason"])
    if not case.is_open:
        raise RuleViolation(f"the case is {case.status}; no waiver is recorded on it", rule="P7")
    if recorded_on < case.first_sick_day or recorded_on > today:
        raise RuleViolation(
            f"a waiver is dated from the first sick day {case.first_sick_day} to today {today}, "
            f"not {recorded_on}",
            rule="P7",
        )
    if TrackKind.TRACK_2 in case.open_track_kinds:
        raise RuleViolation("a Track 2 waiver and an open Track 2 exclude each other", rule="P7")
    if reason is Track2WaiverReason.RETURN_WITHIN_3_MONTHS:
        if expected_return_on is None:
            raise RuleViolation(
                "a return_within_3_months waiver needs the expected return date",
                rule="P7",
                missing=["expected_return_on"],
            )
        latest = add_months(recorded_on, WAIVER_RETURN_WITHIN_MONTHS)
        if not recorded_on <= expected_return_on <= latest:
            raise RuleViolation(
                f"the expected return {expected_return_on} is not within 3 months of {recorded_on} "
                f"(from {recorded_on} to {latest})",
                rule="P7",
                missing=["expected_return_on"],
                extra={"earliest_on": recorded_on.isoformat(), "latest_on": latest.isoformat()},
            )
    elif reason is Track2WaiverReason.RETIREMENT_WITHIN_1_YEAR:
        missing = [
            name
            for name, given in (
                ("employer_consent", employer_consents),
                ("employee_consent", employee_consents),
            )
            if not given
        ]
        if missing:
            raise RuleViolation(
                "a retirement_within_1_year waiver needs the consent of both employer and employee",
                rule="P7",
                missing=missing,
            )


def waiver_lapses_on(reason: Track2WaiverReason, expected_return_on: date | None) -> date | None:
    """P7: the day a `return_within_3_months` waiver lapses if the employee has not returned by
    then (the day after the expected return); None for reasons that do not lapse."""
    if reason is Track2WaiverReason.RETURN_WITHIN_3_MONTHS and expected_return_on is not None:
        return expected_return_on + timedelta(days=1)
    return None


# --- P9: satisfactory result -----------------------------------------------------------------------


def is_satisfactory_result(percentage_of_wage_value: Decimal | float) -> bool:
    """P9: work resumed structurally at 65% or more of the original wage value is satisfactory."""
    if percentage_of_wage_value < 0:
        raise InvalidInput("a percentage of the wage value is not negative", rule="P9")
    return percentage_of_wage_value >= SATISFACTORY_RESULT_THRESHOLD_PERCENT


# --- P8, P10, P11: warnings ------------------------------------------------------------------------


def track_warnings(
    *,
    as_of: date,
    track_2_started_on: date | None,
    track_2_open: bool,
    track_2_due_on: date | None = None,
    action_plan_on: date | None = None,
    labour_expert_assessment_on: date | None = None,
    track_1_closed: bool = False,
    last_track_1_activity_on: date | None = None,
) -> list[TrackWarning]:
    """The soft track rules as of `as_of` (P9 is judged with the timeline, see `is_satisfactory_result`).

    P8 `track_2_late`: Track 2 started after T7's due date `track_2_due_on`.
    P10 `track_2_unprepared`: Track 2 started before the action plan (or with none on file), or with
    no labour expert assessment dated on or before its start (`action_plan_on`,
    `labour_expert_assessment_on`: the earliest of each).
    P11 `track_1_neglected`: Track 2 open, Track 1 not closed, and the last Track 1 activity on or
    before `as_of` more than 42 days before `as_of` (or none at all).
    """
    warnings: list[TrackWarning] = []
    if track_2_started_on is not None:
        if track_2_due_on is not None and track_2_started_on > track_2_due_on:
            warnings.append(
                TrackWarning(
                    "track_2_late",
                    "P8",
                    f"Track 2 started on {track_2_started_on}, after its due date {track_2_due_on}: "
                    "a wage-sanction risk",
                    (track_2_started_on, track_2_due_on),
                )
            )
        warnings.extend(_unprepared(track_2_started_on, action_plan_on, labour_expert_assessment_on))
    if track_2_open and not track_1_closed:
        if last_track_1_activity_on is None:
            warnings.append(
                TrackWarning(
                    "track_1_neglected",
                    "P11",
                    "Track 2 is open and Track 1 has no activity; UWV expects both tracks in parallel",
                    (as_of,),
                )
            )
        elif (as_of - last_track_1_activity_on).days > TRACK_1_NEGLECT_DAYS:
            warnings.append(
                TrackWarning(
                    "track_1_neglected",
                    "P11",
                    f"Track 2 is open and the last Track 1 activity was on {last_track_1_activity_on}, "
                    f"more than {TRACK_1_NEGLECT_DAYS} days before {as_of}",
                    (last_track_1_activity_on, as_of),
                )
            )
    return warnings


def _unprepared(
    started_on: date, action_plan_on: date | None, labour_expert_assessment_on: date | None
) -> list[TrackWarning]:
    causes: list[str] = []
    evidence: list[date] = [started_on]
    if action_plan_on is None:
        causes.append("no action plan on file")
    elif started_on < action_plan_on:
        causes.append(f"started before the action plan of {action_plan_on}")
        evidence.append(action_plan_on)
    if labour_expert_assessment_on is None:
        causes.append("no labour expert assessment on file")
    elif labour_expert_assessment_on > started_on:
        causes.append(f"the labour expert assessment came later, on {labour_expert_assessment_on}")
        evidence.append(labour_expert_assessment_on)
    if not causes:
        return []
    detail = f"Track 2 started on {started_on}: " + "; ".join(causes) + " (advice, not law)"
    return [TrackWarning("track_2_unprepared", "P10", detail, tuple(evidence))]
