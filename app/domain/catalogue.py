"""The rule catalogue: every statutory deadline (T1–T12), the early-IVA window (T13) and the
informational timeline entries, as data. The timeline engine reads all week numbers, day offsets and
intervals from here, so changing one is a one-line change in this file (bump `CATALOGUE_VERSION`).

Conventions (domain.md, "The clock"):
- "end of week N" is sick-day 7N; "from week N" is sick-day 7(N-1)+1.
- Day offsets after an event count sick days (samentelling: healthy days in a gap do not count), which
  without a gap equals calendar days.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

CATALOGUE_VERSION: Final = "2026.1"

DAYS_PER_WEEK: Final = 7
WAITING_PERIOD_WEEKS: Final = 104  # WIA: 104 weeks of continued wage payment (BW 7:629)
RELAPSE_JOIN_GAP_DAYS: Final = 28  # BW 7:629 lid 10: periods less than 4 weeks apart join
DUE_SOON_HORIZON_DAYS: Final = 14  # default `due_soon` horizon
EVALUATION_INTERVAL_DAYS: Final = 42  # T4 default, configurable per case
TRACK_2_PROGRESS_INTERVAL_DAYS: Final = 28  # T8 default (practice), configurable per track
EARLY_IVA_FIRST_WEEK: Final = 3  # T13 window, weeks 3–68
EARLY_IVA_LAST_WEEK: Final = 68
WAGE_SANCTION_MAX_WEEKS: Final = 52

EntryKind = Literal["deadline", "window", "info"]

# Activity kinds that the timeline reads (domain.md A2). Other kinds are ignored by the engine.
EVENT_KINDS: Final = (
    "occupational_health_notification",
    "problem_analysis",
    "action_plan",
    "evaluation",
    "action_plan_update",
    "uwv_sick_notification",
    "first_year_evaluation",
    "progress_report",
    "current_assessment",
    "final_evaluation",
    "wia_application",
    "riv_submission",
    "early_iva_application",
)
# Activity kinds that carry timeline inputs other than plain events: the two that move the end of the
# waiting period (P12), a waived deadline and a return to work.
VOLUNTARY_EXTENSION_KIND: Final = "voluntary_extension"
WAGE_SANCTION_KIND: Final = "wage_sanction"
DEADLINE_WAIVER_KIND: Final = "deadline_waiver"
WORK_RESUMPTION_KIND: Final = "work_resumption"
# Every activity kind the timeline reads.
TIMELINE_INPUT_KINDS: Final = (
    *EVENT_KINDS,
    VOLUNTARY_EXTENSION_KIND,
    WAGE_SANCTION_KIND,
    DEADLINE_WAIVER_KIND,
    WORK_RESUMPTION_KIND,
)

# Pseudo kinds: facts that are not activities but satisfy or anchor an entry.
TRACK_2_STARTED: Final = "track_2_started"
TRACK_2_WAIVER: Final = "track_2_waiver"
SATISFACTORY_RESULT: Final = "satisfactory_result"
LONG_TERM_FLAGGED: Final = "long_term_flagged"

WAIVER_REASONS: Final = ("return_within_3_months", "marginal_capacity", "retirement_within_1_year")
CLOSURE_REASONS: Final = ("recovered", "employment_ended", "waiting_period_ended", "other")


@dataclass(frozen=True, slots=True)
class DueRule:
    """How an entry's due date (and window) derives from the clock and the case's facts.

    - `end_of_week`: due at the end of this week (sick-day 7N) — the default, or the fallback while
      no anchor event exists.
    - `window_from_week`: the window opens on the first day of this week.
    - `anchor_kinds` + `anchor_days`: when such an event is recorded, due that many sick days after the
      first one (0 = the day itself).
    - `flag_anchor`: a later `long_term_flagged_on` date replaces the week deadline (T2).
    - `fallback_code`: while no anchor event exists, anchor on that entry's due date instead.
    - `recurring_days`: the entry recurs, each occurrence that many sick days after the anchor or the
      latest satisfying event (default; the case or track may override it).
    - `next_working_day`: due on the first working day after the end of `end_of_week` (T5).
    - `moves_with_extensions`: voluntary extensions and wage sanctions move it (P12).
    """

    end_of_week: int | None = None
    window_from_week: int | None = None
    anchor_kinds: tuple[str, ...] = ()
    anchor_days: int = 0
    flag_anchor: bool = False
    fallback_code: str | None = None
    recurring_days: int | None = None
    next_working_day: bool = False
    moves_with_extensions: bool = False


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    code: str
    rule: str
    title: str
    kind: EntryKind
    due: DueRule
    satisfied_by: tuple[str, ...]
    consequence: str
    source: str
    waivable_with: tuple[str, ...] = ()


DEADLINES: Final[tuple[CatalogueEntry, ...]] = (
    CatalogueEntry(
        code="occupational_health_notified",
        rule="T1",
        title="Notify the occupational health service",
        kind="deadline",
        due=DueRule(end_of_week=1),
        satisfied_by=("occupational_health_notification",),
        consequence="weak dossier (practice; contract-dependent)",
        source="UWV step-by-step guide",
    ),
    CatalogueEntry(
        code="problem_analysis",
        rule="T2",
        title="Problem analysis by the occupational physician",
        kind="deadline",
        due=DueRule(end_of_week=6, flag_anchor=True, anchor_kinds=(LONG_TERM_FLAGGED,)),
        satisfied_by=("problem_analysis",),
        consequence="RIV gap",
        source="Regeling procesgang art. 2",
    ),
    CatalogueEntry(
        code="action_plan",
        rule="T3",
        title="Action plan agreed and signed",
        kind="deadline",
        due=DueRule(end_of_week=8, anchor_kinds=("problem_analysis",), anchor_days=14),
        satisfied_by=("action_plan",),
        consequence="RIV gap",
        source="UWV; Stcrt. 2023, 13931",
    ),
    CatalogueEntry(
        code="action_plan_evaluation",
        rule="T4",
        title="Evaluate the action plan",
        kind="deadline",
        due=DueRule(
            anchor_kinds=("action_plan",),
            fallback_code="action_plan",
            recurring_days=EVALUATION_INTERVAL_DAYS,
        ),
        satisfied_by=("evaluation", "action_plan_update"),
        consequence="weak dossier",
        source="UWV",
    ),
    CatalogueEntry(
        code="uwv_sick_notification",
        rule="T5",
        title="42nd-week sick notification to UWV",
        kind="deadline",
        due=DueRule(end_of_week=42, next_working_day=True),
        satisfied_by=("uwv_sick_notification",),
        consequence="fine up to EUR 455; does not extend the waiting period",
        source="UWV; Stb. 2008, 414",
    ),
    CatalogueEntry(
        code="first_year_evaluation",
        rule="T6",
        title="First-year evaluation",
        kind="deadline",
        due=DueRule(end_of_week=52, window_from_week=46),
        satisfied_by=("first_year_evaluation",),
        consequence="RIV gap",
        source="UWV; Regeling procesgang",
    ),
    CatalogueEntry(
        code="track_2_start",
        rule="T7",
        title="Start Track 2 (or record a waiver or a satisfactory result)",
        kind="deadline",
        due=DueRule(end_of_week=58, anchor_kinds=("first_year_evaluation",), anchor_days=42),
        satisfied_by=(TRACK_2_STARTED, TRACK_2_WAIVER, SATISFACTORY_RESULT),
        consequence="a common wage-sanction ground",
        source="UWV Werkwijzer Poortwachter",
    ),
    CatalogueEntry(
        code="track_2_progress_report",
        rule="T8",
        title="Track 2 progress report",
        kind="deadline",
        due=DueRule(anchor_kinds=(TRACK_2_STARTED,), recurring_days=TRACK_2_PROGRESS_INTERVAL_DAYS),
        satisfied_by=("progress_report",),
        consequence="weak dossier",
        source="practice",
    ),
    CatalogueEntry(
        code="current_assessment",
        rule="T9",
        title="Current assessment by the occupational physician",
        kind="deadline",
        due=DueRule(end_of_week=91, window_from_week=87),
        satisfied_by=("current_assessment",),
        consequence="RIV incomplete",
        source="UWV",
    ),
    CatalogueEntry(
        code="final_evaluation",
        rule="T10",
        title="Final evaluation",
        kind="deadline",
        due=DueRule(end_of_week=91, window_from_week=87),
        satisfied_by=("final_evaluation",),
        consequence="RIV incomplete",
        source="UWV",
        waivable_with=("no work capacity since day 1",),
    ),
    CatalogueEntry(
        code="wia_application",
        rule="T11",
        title="WIA application",
        kind="deadline",
        due=DueRule(end_of_week=93, moves_with_extensions=True),
        satisfied_by=("wia_application", "early_iva_application"),
        consequence="the waiting period extends by the delay",
        source="WIA art. 64(3)",
    ),
    CatalogueEntry(
        code="riv_submission",
        rule="T12",
        title="Submit the reintegration report (RIV)",
        kind="deadline",
        due=DueRule(
            anchor_kinds=("wia_application", "early_iva_application"),
            anchor_days=1,
            fallback_code="wia_application",
        ),
        satisfied_by=("riv_submission",),
        consequence="administrative sanction risk",
        source="UWV",
    ),
)

EARLY_IVA_WINDOW: Final = CatalogueEntry(
    code="early_iva",
    rule="T13",
    title="Early IVA application window",
    kind="window",
    due=DueRule(window_from_week=EARLY_IVA_FIRST_WEEK, end_of_week=EARLY_IVA_LAST_WEEK),
    satisfied_by=("early_iva_application",),
    consequence="422 outside the window",
    source="UWV",
)

UWV_WIA_LETTER: Final = CatalogueEntry(
    code="uwv_wia_letter",
    rule="T11",
    title="UWV's letter about the WIA application (informational)",
    kind="info",
    due=DueRule(window_from_week=88, end_of_week=89, moves_with_extensions=True),
    satisfied_by=(),
    consequence="none (informational)",
    source="UWV",
)

WAITING_PERIOD_END: Final = CatalogueEntry(
    code="waiting_period_end",
    rule="T0",
    title="End of the waiting period (last day of wage duty)",
    kind="info",
    due=DueRule(end_of_week=WAITING_PERIOD_WEEKS, moves_with_extensions=True),
    satisfied_by=(),
    consequence="none (informational)",
    source="BW 7:629; WIA art. 64(3)",
)

INFORMATIONAL: Final[tuple[CatalogueEntry, ...]] = (EARLY_IVA_WINDOW, UWV_WIA_LETTER, WAITING_PERIOD_END)
CATALOGUE: Final[tuple[CatalogueEntry, ...]] = DEADLINES + INFORMATIONAL
BY_CODE: Final[Mapping[str, CatalogueEntry]] = MappingProxyType({e.code: e for e in CATALOGUE})
DEADLINE_CODES: Final = frozenset(e.code for e in DEADLINES)
# Catalogue order, the tie-breaker of the legal order when two deadlines fall on the same day.
ORDER: Final[Mapping[str, int]] = MappingProxyType({e.code: i for i, e in enumerate(CATALOGUE)})


def last_day_of_week(week: int) -> int:
    """Sick-day number of the last day of week `week` (1-based)."""
    return DAYS_PER_WEEK * week


def first_day_of_week(week: int) -> int:
    """Sick-day number of the first day of week `week` (1-based)."""
    return DAYS_PER_WEEK * (week - 1) + 1
