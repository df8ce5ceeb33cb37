"""The statutory timeline (T0–T13, P7, P9, P12): a pure function of plain dates and strings.

`compute_timeline(inp)` returns every deadline of the rule catalogue with its due date and its status
as of `inp.as_of`, the waiting period and its parts, informational milestones and warnings.

Semantics the rule book leaves open, decided here:

- The timeline shows the case as known on `as_of`: events, tracks, waivers, extensions and closures
  dated after `as_of` are ignored, a sickness period starting after it is left out and one ending after
  it is still open. (Input is still validated in full: an impossible period sequence always raises.)
- All day offsets count sick days (samentelling): a healthy gap between an anchor event and its
  deadline moves the deadline by the gap, like every other later deadline. Without gaps this is plain
  calendar arithmetic. Extensions and the late-WIA delay are counted the same way.
- `sick_day`/`week` are None when `as_of` is not a sick day (before the first sick day, in a healthy
  gap, after recovery); `sick_days_counted` is the number of sick days up to `as_of` in every case.
- Case state: `closed` with an explicit closure on or before `as_of`, or when 28 healthy days have
  passed since the last sick day (reason `recovered`, closed on the 28th healthy day);
  `recovered_suspended` when the last period has ended and fewer than 28 days have passed; else
  `open`. Reaching the end of the waiting period does not close a case by itself: the service does.
- In a suspended or closed case an unmet deadline whose sick day lies beyond the last sick day (or the
  closure day) is `suspended` / `not_applicable` with no due date. Unmet deadlines due before that
  keep their status (`overdue` stays on the record).
- Windows (T6, T9, T10): an entry before the window is accepted (met) with a warning.
- T4/T8 (recurring): every recorded evaluation (progress report) is an occurrence; each restarts the
  interval. Only the next one is open. No open occurrence is shown beyond the end of the waiting
  period or for a Track 2 that has ended. Before an action plan exists, the first evaluation is
  projected one interval after T3's due date.
- T7: satisfied by the earliest of: a Track 2 start, a valid waiver (P7), a satisfactory result (P9).
  A waiver that is withdrawn, or lapses (`return_within_3_months` whose expected date passed without a
  satisfactory result, recovery or closure as recovered), no longer satisfies T7; if it was recorded in
  time, T7 falls due again on the day the waiver ended.
- T11: satisfied by a WIA application or an early IVA application (T13: an early IVA application is
  the WIA application made early, so T11 is met by it, T12 is due one day after it, and no late-WIA
  delay arises). A WIA application recorded before an extension still satisfies the moved T11. When a
  case with an early IVA application is closed with reason `waiting_period_ended` before the computed
  end, that closure day is the end of the waiting period (an `early_iva` part with negative days).
- The UWV WIA letter (weeks 88–89) is anchored to the end of the waiting period, so extensions move it.
- Event kinds the timeline does not read are ignored; an unknown waived code is invalid input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Final, Literal, cast

from app.domain import catalogue as cat
from app.domain.catalogue import BY_CODE, CATALOGUE_VERSION, ORDER, CatalogueEntry
from app.domain.clock import (
    OPEN,
    SickClock,
    SicknessPeriod,
    build_clock,
    next_working_day_after_ordinal,
)
from app.domain.errors import InvalidInput, RuleViolation

__all__ = [
    "CaseClosure",
    "Deadline",
    "Event",
    "Extension",
    "Milestone",
    "SicknessPeriod",
    "Timeline",
    "TimelineInput",
    "TimelineWarning",
    "Track2Record",
    "Track2Waiver",
    "VoluntaryExtension",
    "WageSanction",
    "WaitingPeriod",
    "compute_timeline",
    "early_iva_window",
    "validate_early_iva",
]

Status = Literal[
    "upcoming", "due_soon", "overdue", "met", "met_late", "waived", "suspended", "not_applicable"
]
CaseState = Literal["open", "recovered_suspended", "closed"]

UPCOMING: Final = "upcoming"
DUE_SOON: Final = "due_soon"
OVERDUE: Final = "overdue"
MET: Final = "met"
MET_LATE: Final = "met_late"
WAIVED: Final = "waived"
SUSPENDED: Final = "suspended"
NOT_APPLICABLE: Final = "not_applicable"

STATE_OPEN: Final = "open"
STATE_SUSPENDED: Final = "recovered_suspended"
STATE_CLOSED: Final = "closed"


# --- Input ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """A recorded activity that the timeline reads; the caller passes only valid ones."""

    kind: str
    occurred_on: date
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Track2Record:
    """A Track 2 over time. `progress_reports` are dates or `progress_report` events; `progress_report`
    events in `TimelineInput.events` count for the track whose dates contain them."""

    started_on: date
    ended_on: date | None = None
    progress_reports: tuple[date | Event, ...] = ()
    progress_interval_days: int = cat.TRACK_2_PROGRESS_INTERVAL_DAYS
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Track2Waiver:
    """P7. `reason` is one of `catalogue.WAIVER_REASONS`; `return_within_3_months` needs
    `expected_return_on`."""

    reason: str
    recorded_on: date
    expected_return_on: date | None = None
    withdrawn_on: date | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class VoluntaryExtension:
    weeks: int
    decided_on: date
    id: str | None = None


@dataclass(frozen=True, slots=True)
class WageSanction:
    weeks: int  # 1..52
    imposed_on: date
    id: str | None = None


@dataclass(frozen=True, slots=True)
class CaseClosure:
    closed_on: date
    reason: str  # one of catalogue.CLOSURE_REASONS


@dataclass(frozen=True, slots=True)
class TimelineInput:
    first_sick_day: date
    as_of: date
    periods: tuple[SicknessPeriod, ...] = ()  # empty: one open period from the first sick day
    events: tuple[Event, ...] = ()
    long_term_flagged_on: date | None = None
    tracks_2: tuple[Track2Record, ...] = ()
    track_2_waivers: tuple[Track2Waiver, ...] = ()
    satisfactory_result_on: date | None = None
    voluntary_extensions: tuple[VoluntaryExtension, ...] = ()
    wage_sanctions: tuple[WageSanction, ...] = ()
    waived: Mapping[str, str] = field(default_factory=dict)  # deadline code -> reason
    closure: CaseClosure | None = None
    evaluation_interval_days: int = cat.EVALUATION_INTERVAL_DAYS
    due_soon_horizon_days: int = cat.DUE_SOON_HORIZON_DAYS


# --- Output -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, init=False)
class Deadline:
    code: str
    rule: str
    title: str
    due_on: date | None  # None when suspended / not applicable beyond the last sick day
    window_starts_on: date | None
    status: str  # one of Status
    satisfied_by: str | None  # id of the satisfying event / track / waiver
    satisfied_on: date | None
    source: str
    consequence: str
    occurrence: int | None = None  # 1, 2, … for recurring deadlines (T4, T8)
    track_id: str | None = None  # T8: the Track 2 the report belongs to
    waived_reason: str | None = None

    def __init__(
        self,
        code: str,
        rule: str,
        title: str,
        due_on: date | None,
        window_starts_on: date | None,
        status: str,
        satisfied_by: str | None,
        satisfied_on: date | None,
        source: str,
        consequence: str,
        occurrence: int | None = None,
        track_id: str | None = None,
        waived_reason: str | None = None,
    ) -> None:
        # A timeline builds ~15 of these: setting the slots through their member descriptors is about
        # twice as fast as the generated frozen __init__ (object.__setattr__ by name). Still frozen.
        _set_code(self, code)
        _set_rule(self, rule)
        _set_title(self, title)
        _set_due_on(self, due_on)
        _set_window_starts_on(self, window_starts_on)
        _set_status(self, status)
        _set_satisfied_by(self, satisfied_by)
        _set_satisfied_on(self, satisfied_on)
        _set_source(self, source)
        _set_consequence(self, consequence)
        _set_occurrence(self, occurrence)
        _set_track_id(self, track_id)
        _set_waived_reason(self, waived_reason)


def _slot_setter(cls: type, name: str) -> Callable[[object, object], None]:
    return cast("Callable[[object, object], None]", cls.__dict__[name].__set__)


_set_code = _slot_setter(Deadline, "code")
_set_rule = _slot_setter(Deadline, "rule")
_set_title = _slot_setter(Deadline, "title")
_set_due_on = _slot_setter(Deadline, "due_on")
_set_window_starts_on = _slot_setter(Deadline, "window_starts_on")
_set_status = _slot_setter(Deadline, "status")
_set_satisfied_by = _slot_setter(Deadline, "satisfied_by")
_set_satisfied_on = _slot_setter(Deadline, "satisfied_on")
_set_source = _slot_setter(Deadline, "source")
_set_consequence = _slot_setter(Deadline, "consequence")
_set_occurrence = _slot_setter(Deadline, "occurrence")
_set_track_id = _slot_setter(Deadline, "track_id")
_set_waived_reason = _slot_setter(Deadline, "waived_reason")


@dataclass(frozen=True, slots=True)
class Extension:
    kind: str  # voluntary_extension | wage_sanction | late_wia_application | early_iva
    days: int
    reason: str


@dataclass(frozen=True, slots=True)
class WaitingPeriod:
    base_ends_on: date  # last day of week 104, walking the periods
    ends_on: date  # last day of wage duty: base + extensions
    extensions: tuple[Extension, ...]


@dataclass(frozen=True, slots=True)
class Milestone:
    """Informational entries: the early-IVA window (T13), UWV's WIA letter, the waiting-period end."""

    code: str
    rule: str
    title: str
    on: date  # the window's last day, or the day itself
    window_starts_on: date | None
    source: str


@dataclass(frozen=True, slots=True)
class TimelineWarning:
    code: str
    rule: str
    detail: str


@dataclass(frozen=True, slots=True)
class Timeline:
    first_sick_day: date
    as_of: date
    sick_day: int | None
    week: int | None
    sick_days_counted: int
    case_state: str  # one of CaseState
    closed_on: date | None
    closure_reason: str | None
    waiting_period: WaitingPeriod
    deadlines: tuple[Deadline, ...]
    milestones: tuple[Milestone, ...]
    warnings: tuple[TimelineWarning, ...]
    catalogue_version: str = CATALOGUE_VERSION


# --- Catalogue numbers, read once -------------------------------------------------------------------

_T1 = BY_CODE["occupational_health_notified"]
_T2 = BY_CODE["problem_analysis"]
_T3 = BY_CODE["action_plan"]
_T4 = BY_CODE["action_plan_evaluation"]
_T5 = BY_CODE["uwv_sick_notification"]
_T6 = BY_CODE["first_year_evaluation"]
_T7 = BY_CODE["track_2_start"]
_T8 = BY_CODE["track_2_progress_report"]
_T9 = BY_CODE["current_assessment"]
_T10 = BY_CODE["final_evaluation"]
_T11 = BY_CODE["wia_application"]
_T12 = BY_CODE["riv_submission"]


def _week_end(e: CatalogueEntry) -> int:
    w = e.due.end_of_week
    assert w is not None, e.code
    return cat.last_day_of_week(w)


def _window_start(e: CatalogueEntry) -> int:
    w = e.due.window_from_week
    assert w is not None, e.code
    return cat.first_day_of_week(w)


_K1 = _week_end(_T1)
_K2 = _week_end(_T2)
_K3 = _week_end(_T3)
_D3 = _T3.due.anchor_days
_K5 = _week_end(_T5)
_W6, _K6 = _window_start(_T6), _week_end(_T6)
_K7 = _week_end(_T7)
_D7 = _T7.due.anchor_days
_W9, _K9 = _window_start(_T9), _week_end(_T9)
_W10, _K10 = _window_start(_T10), _week_end(_T10)
_K11 = _week_end(_T11)
_D12 = _T12.due.anchor_days
_K_END = _week_end(cat.WAITING_PERIOD_END)
_W_LETTER, _K_LETTER = _window_start(cat.UWV_WIA_LETTER), _week_end(cat.UWV_WIA_LETTER)
_W_IVA, _K_IVA = _window_start(cat.EARLY_IVA_WINDOW), _week_end(cat.EARLY_IVA_WINDOW)
_JOIN = cat.RELAPSE_JOIN_GAP_DAYS

_T1_KINDS = _T1.satisfied_by
_T4_KINDS = _T4.satisfied_by
_WAIVER_REASONS = frozenset(cat.WAIVER_REASONS)
_CLOSURE_REASONS = frozenset(cat.CLOSURE_REASONS)

_first = itemgetter(0)
_fromord = date.fromordinal

Hit = tuple[int, str | None]  # (ordinal, id)


def _earliest(ev: dict[str, list[Hit]], kinds: tuple[str, ...]) -> Hit | None:
    best: Hit | None = None
    for kind in kinds:
        lst = ev.get(kind)
        if lst and (best is None or lst[0][0] < best[0]):
            best = lst[0]
    return best


def _validate(inp: TimelineInput) -> None:
    if inp.evaluation_interval_days < 1:
        raise InvalidInput("the evaluation interval must be at least 1 day")
    if inp.due_soon_horizon_days < 0:
        raise InvalidInput("the due-soon horizon must not be negative")
    for code, reason in inp.waived.items():
        if code not in cat.DEADLINE_CODES:
            raise InvalidInput(f"unknown deadline code {code!r} in waived deadlines")
        if not reason or not reason.strip():
            raise InvalidInput(f"waiving {code!r} needs a reason")
    for t in inp.tracks_2:
        if t.ended_on is not None and t.ended_on < t.started_on:
            raise InvalidInput(f"Track 2 ends ({t.ended_on}) before it starts ({t.started_on})")
        if t.progress_interval_days < 1:
            raise InvalidInput("the Track 2 progress interval must be at least 1 day")
    for w in inp.track_2_waivers:
        if w.reason not in _WAIVER_REASONS:
            raise InvalidInput(f"unknown Track 2 waiver reason {w.reason!r}")
        if w.reason == "return_within_3_months" and w.expected_return_on is None:
            raise InvalidInput("a waiver for a return within 3 months needs the expected return date")
        if w.withdrawn_on is not None and w.withdrawn_on < w.recorded_on:
            raise InvalidInput("a waiver cannot be withdrawn before it was recorded")
    for v in inp.voluntary_extensions:
        if v.weeks < 1:
            raise InvalidInput("a voluntary extension is at least 1 week")
    total = 0
    for s in inp.wage_sanctions:
        if not 1 <= s.weeks <= cat.WAGE_SANCTION_MAX_WEEKS:
            raise InvalidInput(f"a wage sanction is 1 to {cat.WAGE_SANCTION_MAX_WEEKS} weeks")
        total += s.weeks
    if total > cat.WAGE_SANCTION_MAX_WEEKS:
        raise InvalidInput(f"wage sanctions total more than {cat.WAGE_SANCTION_MAX_WEEKS} weeks")
    c = inp.closure
    if c is not None:
        if c.reason not in _CLOSURE_REASONS:
            raise InvalidInput(f"unknown closure reason {c.reason!r}")
        if c.closed_on < inp.first_sick_day:
            raise InvalidInput("a case cannot close before its first sick day")


def compute_timeline(inp: TimelineInput) -> Timeline:
    """The full statutory timeline as of `inp.as_of`. Raises RuleViolation(rule="T0") for sickness
    periods that do not form one case, InvalidInput for meaningless input."""
    if (
        inp.waived
        or inp.closure
        or inp.track_2_waivers
        or inp.wage_sanctions
        or inp.voluntary_extensions
        or inp.tracks_2
        or inp.evaluation_interval_days != cat.EVALUATION_INTERVAL_DAYS
        or inp.due_soon_horizon_days != cat.DUE_SOON_HORIZON_DAYS
    ):
        _validate(inp)
    as_of_d = inp.as_of
    as_of = as_of_d.toordinal()
    clock = build_clock(inp.first_sick_day, inp.periods, as_of_d)
    date_of = clock.date_of
    count_upto = clock.count_upto
    horizon = inp.due_soon_horizon_days
    waived = inp.waived
    warnings: list[TimelineWarning] = []

    # Events known on as_of, by kind, in date order.
    ev: dict[str, list[Hit]] = {}
    for e in inp.events:
        o = e.occurred_on.toordinal()
        if o > as_of:
            continue
        lst = ev.get(e.kind)
        if lst is None:
            ev[e.kind] = [(o, e.id)]
        else:
            lst.append((o, e.id))
    for lst in ev.values():
        if len(lst) > 1:
            lst.sort(key=_first)

    # Case state and the sick-day cut-off beyond which unmet deadlines are suspended / not applicable.
    closure = inp.closure
    closed_on: int | None = None
    closure_reason: str | None = None
    cutoff = OPEN
    if closure is not None and closure.closed_on.toordinal() <= as_of:
        state = STATE_CLOSED
        closed_on = closure.closed_on.toordinal()
        closure_reason = closure.reason
        cutoff = count_upto(closed_on)
    elif clock.last_end is not None:
        assert clock.total is not None
        cutoff = clock.total
        if as_of - clock.last_end >= _JOIN:
            state = STATE_CLOSED
            closed_on = clock.last_end + _JOIN
            closure_reason = "recovered"
        else:
            state = STATE_SUSPENDED
    else:
        state = STATE_OPEN
    cut_status = SUSPENDED if state == STATE_SUSPENDED else NOT_APPLICABLE

    rows: list[tuple[int, int, int, int, Deadline]] = []

    def add(
        e: CatalogueEntry,
        k: int,
        due: int,
        window: int | None,
        hit: Hit | None,
        occurrence: int | None = None,
        track_id: str | None = None,
    ) -> None:
        reason = waived.get(e.code) if waived else None
        due_on: date | None = None
        window_on: date | None = None
        if reason is None and hit is None and k > cutoff:
            status = cut_status  # beyond the last sick day: no due date
        else:
            due_on = _fromord(due)
            if window is not None:
                window_on = _fromord(window)
            if reason is not None:
                status = WAIVED
            elif hit is not None:
                status = MET if hit[0] <= due else MET_LATE
            elif as_of > due:
                status = OVERDUE
            elif as_of >= due - horizon:
                status = DUE_SOON
            else:
                status = UPCOMING
        rows.append(
            (
                due,
                ORDER[e.code],
                occurrence or 0,
                len(rows),
                Deadline(
                    e.code,
                    e.rule,
                    e.title,
                    due_on,
                    window_on,
                    status,
                    None if hit is None else hit[1],
                    None if hit is None else _fromord(hit[0]),
                    e.source,
                    e.consequence,
                    occurrence,
                    track_id,
                    reason,
                ),
            )
        )

    # Waiting period: extensions (P12) and the late-WIA delay (T11, WIA art. 64(3)).
    ext_parts: list[Extension] = []
    ext = 0
    for v in inp.voluntary_extensions:
        if v.decided_on.toordinal() <= as_of:
            ext += 7 * v.weeks
            ext_parts.append(
                Extension(
                    "voluntary_extension",
                    7 * v.weeks,
                    f"voluntary extension of {v.weeks} weeks decided on {v.decided_on.isoformat()}",
                )
            )
    for s in inp.wage_sanctions:
        if s.imposed_on.toordinal() <= as_of:
            ext += 7 * s.weeks
            ext_parts.append(
                Extension(
                    "wage_sanction",
                    7 * s.weeks,
                    f"wage sanction of {s.weeks} weeks imposed on {s.imposed_on.isoformat()}",
                )
            )
    k11 = _K11 + ext
    due11 = date_of(k11)
    wia = ev.get("wia_application")
    ivas = ev.get("early_iva_application")
    wia_hit = wia[0] if wia else None
    iva_hit = ivas[0] if ivas else None
    t11_hit = wia_hit if iva_hit is None or (wia_hit is not None and wia_hit[0] < iva_hit[0]) else iva_hit
    delay = 0
    if t11_hit is not None and t11_hit is wia_hit and t11_hit[0] > due11:
        # the delay counts sick days, like the rest of the clock (healthy days in a gap do not count);
        # after a recovery before the due date there are none, and the period never shortens
        delay = max(0, count_upto(t11_hit[0]) - k11)
        if delay > 0:
            ext_parts.append(
                Extension(
                    "late_wia_application",
                    delay,
                    f"WIA application {delay} sick day(s) after its due date {_fromord(due11).isoformat()}",
                )
            )
            warnings.append(
                TimelineWarning(
                    "wia_application_late", "T11", f"the waiting period extends by {delay} sick day(s)"
                )
            )
    end_k = _K_END + ext + delay
    base_end = date_of(_K_END)
    ends_on = date_of(end_k)

    # T1, T2, T3
    add(_T1, _K1, date_of(_K1), None, _earliest(ev, _T1_KINDS))
    k2 = _K2
    due2 = date_of(k2)
    flagged = inp.long_term_flagged_on
    if flagged is not None:
        f_o = flagged.toordinal()
        if due2 < f_o <= as_of:
            due2 = f_o
            k2 = count_upto(f_o)
    pas = ev.get("problem_analysis")
    add(_T2, k2, due2, None, pas[0] if pas else None)
    k3 = count_upto(pas[0][0]) + _D3 if pas else _K3
    due3 = date_of(k3)
    aps = ev.get("action_plan")
    add(_T3, k3, due3, None, aps[0] if aps else None)

    # T4: recurring evaluations of the action plan.
    interval = inp.evaluation_interval_days
    if aps:
        anchor = aps[0][0]
        evals: list[Hit] = []
        for kind in _T4_KINDS:
            lst = ev.get(kind)
            if lst:
                evals.extend(h for h in lst if h[0] > anchor)
        if len(evals) > 1:
            evals.sort(key=_first)
        a_k = count_upto(anchor)
        if _T4.code in waived:
            k = a_k + interval
            add(_T4, k, date_of(k), None, None, 1)
        else:
            occ = 0
            for h in evals:
                occ += 1
                k = a_k + interval
                add(_T4, k, date_of(k), None, h, occ)
                a_k = count_upto(h[0])
            k = a_k + interval
            if k <= end_k:
                add(_T4, k, date_of(k), None, None, occ + 1)
    else:
        k = k3 + interval
        add(_T4, k, date_of(k), None, None, 1)

    # T5: the first working day after the end of week 42.
    add(_T5, _K5, next_working_day_after_ordinal(date_of(_K5)), None, _earliest(ev, _T5.satisfied_by))

    # T6: first-year evaluation, window weeks 46–52.
    w6 = date_of(_W6)
    fyes = ev.get("first_year_evaluation")
    fye = fyes[0] if fyes else None
    if fye is not None and fye[0] < w6:
        warnings.append(
            TimelineWarning(
                "first_year_evaluation_before_window",
                "T6",
                f"first-year evaluation of {_fromord(fye[0]).isoformat()} precedes its window "
                f"(from {_fromord(w6).isoformat()}); accepted",
            )
        )
    add(_T6, _K6, date_of(_K6), w6, fye)

    # T7: Track 2 start, a valid waiver (P7) or a satisfactory result (P9).
    k7 = count_upto(fye[0]) + _D7 if fye is not None else _K7
    due7 = date_of(k7)
    cands: list[Hit] = []
    first_track: Hit | None = None
    open_track = False
    for t in inp.tracks_2:
        s_o = t.started_on.toordinal()
        if s_o <= as_of:
            if first_track is None or s_o < first_track[0]:
                first_track = (s_o, t.id)
            if t.ended_on is None or t.ended_on.toordinal() > as_of:
                open_track = True
    if first_track is not None:
        cands.append(first_track)
    sat_o = inp.satisfactory_result_on.toordinal() if inp.satisfactory_result_on is not None else None
    if sat_o is not None and sat_o > as_of:
        sat_o = None
    if sat_o is not None:
        cands.append((sat_o, None))
    if inp.track_2_waivers:
        moved = due7
        for w in inp.track_2_waivers:
            r_o = w.recorded_on.toordinal()
            if r_o > as_of:
                continue
            ended = OPEN
            if w.withdrawn_on is not None and w.withdrawn_on.toordinal() <= as_of:
                ended = w.withdrawn_on.toordinal()
            if w.reason == "return_within_3_months" and w.expected_return_on is not None:
                x = w.expected_return_on.toordinal()
                if as_of > x and not _returned_by(x, sat_o, closed_on, closure_reason, clock):
                    if x + 1 < ended:
                        ended = x + 1
                    warnings.append(
                        TimelineWarning(
                            "track_2_waiver_lapsed",
                            "P7",
                            f"the expected return on {w.expected_return_on.isoformat()} did not happen: "
                            "the waiver no longer satisfies T7",
                        )
                    )
            if ended == OPEN:
                cands.append((r_o, w.id))
                if open_track:
                    warnings.append(
                        TimelineWarning(
                            "track_2_waiver_with_open_track",
                            "P7",
                            "a Track 2 waiver and an open Track 2 exclude each other",
                        )
                    )
            elif r_o <= due7 and ended > moved:
                moved = ended
        if moved != due7:
            due7 = moved
            k7 = count_upto(moved)
    hit7 = min(cands, key=_first) if cands else None
    if first_track is not None and first_track[0] > due7:
        warnings.append(
            TimelineWarning(
                "track_2_late",
                "P8",
                f"Track 2 started on {_fromord(first_track[0]).isoformat()}, after T7's due date "
                f"{_fromord(due7).isoformat()}: wage-sanction risk",
            )
        )
    add(_T7, k7, due7, None, hit7)

    # T8: progress reports per Track 2, recurring while the track is open.
    if inp.tracks_2:
        loose = ev.get("progress_report") or []
        for t in sorted(inp.tracks_2, key=_track_start):
            s_o = t.started_on.toordinal()
            if s_o > as_of:
                continue
            e_o = t.ended_on.toordinal() if t.ended_on is not None else OPEN
            is_open = e_o > as_of
            last = as_of if is_open else e_o
            reps: list[Hit] = []
            for r in t.progress_reports:
                h = (r.occurred_on.toordinal(), r.id) if isinstance(r, Event) else (r.toordinal(), None)
                if s_o < h[0] <= last:
                    reps.append(h)
            reps.extend(h for h in loose if s_o < h[0] <= last)
            reps.sort(key=_first)
            step = t.progress_interval_days
            a_k = count_upto(s_o)
            if _T8.code in waived:
                k = a_k + step
                add(_T8, k, date_of(k), None, None, 1, t.id)
                continue
            occ = 0
            for h in reps:
                occ += 1
                k = a_k + step
                add(_T8, k, date_of(k), None, h, occ, t.id)
                a_k = count_upto(h[0])
            k = a_k + step
            if is_open and k <= end_k:
                add(_T8, k, date_of(k), None, None, occ + 1, t.id)

    # T9, T10: window from week 87, due end of week 91.
    for entry, w_k, k in ((_T9, _W9, _K9), (_T10, _W10, _K10)):
        lst = ev.get(entry.satisfied_by[0])
        hit = lst[0] if lst else None
        w_o = date_of(w_k)
        if hit is not None and hit[0] < w_o:
            warnings.append(
                TimelineWarning(
                    f"{entry.code}_before_window",
                    entry.rule,
                    f"{entry.code} of {_fromord(hit[0]).isoformat()} precedes its window "
                    f"(from {_fromord(w_o).isoformat()}); accepted",
                )
            )
        add(entry, k, date_of(k), w_o, hit)

    # T11, T12
    add(_T11, k11, due11, None, t11_hit)
    k12 = count_upto(t11_hit[0]) + _D12 if t11_hit is not None else k11 + _D12
    add(_T12, k12, date_of(k12), None, _earliest(ev, _T12.satisfied_by))

    # T13: early IVA — checks only; the application itself satisfies T11 above.
    iva_start = date_of(_W_IVA)
    iva_end = date_of(_K_IVA)
    if ivas:
        if not iva_start <= ivas[0][0] <= iva_end:
            warnings.append(
                TimelineWarning(
                    "early_iva_outside_window",
                    "T13",
                    f"early IVA application of {_fromord(ivas[0][0]).isoformat()} is outside weeks "
                    f"{cat.EARLY_IVA_FIRST_WEEK}–{cat.EARLY_IVA_LAST_WEEK}",
                )
            )
        if len(ivas) > 1:
            warnings.append(
                TimelineWarning(
                    "early_iva_recorded_twice", "T13", "an early IVA application is recorded once"
                )
            )
        if (
            closure_reason == "waiting_period_ended"
            and closed_on is not None
            and closure is not None
            and closed_on < ends_on
        ):
            ext_parts.append(
                Extension(
                    "early_iva",
                    closed_on - ends_on,
                    "waiting period ended early after an early IVA application",
                )
            )
            ends_on = closed_on

    rows.sort()  # (due, catalogue order, occurrence, seq): seq is unique, Deadlines never compared
    ends_on_d = _fromord(ends_on)
    milestones = (
        Milestone(
            cat.EARLY_IVA_WINDOW.code,
            cat.EARLY_IVA_WINDOW.rule,
            cat.EARLY_IVA_WINDOW.title,
            _fromord(iva_end),
            _fromord(iva_start),
            cat.EARLY_IVA_WINDOW.source,
        ),
        Milestone(
            cat.UWV_WIA_LETTER.code,
            cat.UWV_WIA_LETTER.rule,
            cat.UWV_WIA_LETTER.title,
            _fromord(date_of(_K_LETTER + ext)),
            _fromord(date_of(_W_LETTER + ext)),
            cat.UWV_WIA_LETTER.source,
        ),
        Milestone(
            cat.WAITING_PERIOD_END.code,
            cat.WAITING_PERIOD_END.rule,
            cat.WAITING_PERIOD_END.title,
            ends_on_d,
            None,
            cat.WAITING_PERIOD_END.source,
        ),
    )
    sick_day = clock.sick_day_of(as_of)
    return Timeline(
        inp.first_sick_day,
        as_of_d,
        sick_day,
        None if sick_day is None else (sick_day - 1) // 7 + 1,
        count_upto(as_of),
        state,
        None if closed_on is None else _fromord(closed_on),
        closure_reason,
        WaitingPeriod(_fromord(base_end), ends_on_d, tuple(ext_parts)),
        tuple(r[4] for r in rows),
        milestones,
        tuple(warnings),
    )


def _track_start(t: Track2Record) -> date:
    return t.started_on


def _returned_by(
    x: int, sat_o: int | None, closed_on: int | None, closure_reason: str | None, clock: SickClock
) -> bool:
    """Did the employee return by ordinal `x` (P7 lapse test)? A satisfactory result, a case closed as
    recovered, or the last sickness period ended, on or before `x`."""
    if sat_o is not None and sat_o <= x:
        return True
    if closure_reason == "recovered" and closed_on is not None and closed_on <= x:
        return True
    return clock.last_end is not None and clock.last_end <= x


# --- T13: early IVA ---------------------------------------------------------------------------------


def early_iva_window(inp: TimelineInput) -> tuple[date, date]:
    """First and last day of the early-IVA window (weeks 3–68), walking the sickness periods."""
    clock = build_clock(inp.first_sick_day, inp.periods)
    return _fromord(clock.date_of(_W_IVA)), _fromord(clock.date_of(_K_IVA))


def validate_early_iva(inp: TimelineInput, proposed_on: date) -> None:
    """Refuse (RuleViolation rule T13) an early IVA application outside weeks 3–68 or when one is
    already recorded."""
    if any(e.kind == "early_iva_application" for e in inp.events):
        raise RuleViolation("an early IVA application is already recorded for this case", rule="T13")
    start, end = early_iva_window(inp)
    if not start <= proposed_on <= end:
        raise RuleViolation(
            f"an early IVA application can be recorded only in weeks {cat.EARLY_IVA_FIRST_WEEK}–"
            f"{cat.EARLY_IVA_LAST_WEEK} ({start.isoformat()} to {end.isoformat()})",
            rule="T13",
        )
