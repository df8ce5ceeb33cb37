"""Phase machines of the tracks (P3) as configuration.

Phases are market practice, not law, so each track kind's phase list and exit requirements are data:
`DEFAULT_PHASE_TABLE` is the literal default table of domain.md, `build_phase_machines` turns such a
table (or an override of it) into `PhaseMachine`s. The guards take a frozen `TrackFacts` snapshot and
return or raise what is missing; they never read a clock, `today` is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from app.domain.activity_kinds import (
    ActivityKind,
    Conclusion,
    TrackKind,
    TrackStatus,
    kinds_allowed_in,
)
from app.domain.errors import InvalidInput, RuleViolation

RULE_PHASES = "P3"


class Phase(StrEnum):
    """The default phase names. Machines built from configuration may use other names (plain str)."""

    ASSESSMENT = "assessment"
    RESUMPTION = "resumption"
    ORIENTATION = "orientation"
    ACTIVE_SEARCH = "active_search"
    COMPLETION = "completion"


CONCLUSION_PREFIX = "conclusion:"
"""In a requirement's alternatives, `conclusion:<value>` means a `conclusion` activity with that value."""

DEFAULT_PHASE_TABLE: Mapping[str, Sequence[Mapping[str, object]]] = MappingProxyType(
    {
        "track_1": (
            {
                "phase": "assessment",
                "title": "Possibilities with the own employer",
                "exit": (("job_inventory",),),
            },
            {
                "phase": "resumption",
                "title": "Own, adapted or other internal work, built up",
                "exit": (("work_resumption", "conclusion:no_internal_prospect"),),
            },
            {"phase": "completion", "title": "Completion", "exit": ()},
        ),
        "track_2": (
            {
                "phase": "orientation",
                "title": "Intake, personal profile, trajectory plan, reporting agreed",
                "exit": (("intake_meeting",), ("personal_profile",), ("trajectory_plan",)),
            },
            {
                "phase": "active_search",
                "title": "Search profile, applications, placements, training",
                "exit": (
                    ("job_search_profile",),
                    ("job_application", "secondment", "work_experience_placement"),
                ),
            },
            {
                "phase": "completion",
                "title": "Placement, work-experience arrangement, or WIA preparation",
                "exit": (),
            },
        ),
    }
)
"""domain.md's default phases. Each `exit` entry is one requirement: a list of alternatives, any one
of which the track must hold (an activity kind, or `conclusion:<value>`)."""


@dataclass(frozen=True, slots=True)
class RecordedActivity:
    """One activity recorded in a track, as far as the phase guards need it."""

    kind: ActivityKind
    occurred_on: date
    conclusion: str | None = None
    """The `conclusion` detail of a `conclusion` activity; None for other kinds."""


@dataclass(frozen=True, slots=True)
class TrackFacts:
    """A frozen snapshot of one track, built by the service from its rows."""

    kind: TrackKind
    status: TrackStatus
    started_on: date
    current_phase: str
    current_phase_entered_on: date
    activities: frozenset[RecordedActivity] = frozenset()
    ended_on: date | None = None

    @property
    def is_open(self) -> bool:
        return self.status is TrackStatus.OPEN


@dataclass(frozen=True, slots=True)
class Requirement:
    """Holds when the track has at least one activity of `kinds` or a conclusion of `conclusions`."""

    kinds: tuple[ActivityKind, ...] = ()
    conclusions: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """How a refusal names it: `job_inventory`, or `one of: a, b, c`."""
        alternatives = [str(k) for k in self.kinds] + [f"conclusion {c}" for c in self.conclusions]
        if len(alternatives) == 1:
            return alternatives[0]
        return "one of: " + ", ".join(alternatives)

    def holds(self, activities: Iterable[RecordedActivity], as_of: date | None = None) -> bool:
        """True when an activity dated on or before `as_of` (any date when None) satisfies it."""
        for activity in activities:
            if as_of is not None and activity.occurred_on > as_of:
                continue
            if activity.kind in self.kinds:
                return True
            if activity.kind is ActivityKind.CONCLUSION and activity.conclusion in self.conclusions:
                return True
        return False


@dataclass(frozen=True, slots=True)
class PhaseSpec:
    name: str
    title: str
    exit_requirements: tuple[Requirement, ...] = ()


@dataclass(frozen=True, slots=True)
class PhaseMachine:
    """The ordered phases of one track kind. The last phase is left only by closing (P4, P5)."""

    track_kind: TrackKind
    phases: tuple[PhaseSpec, ...]
    _index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", MappingProxyType({p.name: i for i, p in enumerate(self.phases)}))

    @property
    def phase_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.phases)

    @property
    def first_phase(self) -> str:
        return self.phases[0].name

    @property
    def final_phase(self) -> str:
        return self.phases[-1].name

    def has_phase(self, name: str) -> bool:
        return name in self._index

    def position(self, name: str) -> int:
        """The 0-based position of a phase; InvalidInput for a name the machine does not know."""
        try:
            return self._index[name]
        except KeyError:
            raise InvalidInput(
                f"{self.track_kind} has no phase {name!r}; its phases are {', '.join(self.phase_names)}",
                rule=RULE_PHASES,
            ) from None

    def spec(self, name: str) -> PhaseSpec:
        return self.phases[self.position(name)]

    def phase_after(self, name: str) -> str | None:
        position = self.position(name)
        return self.phases[position + 1].name if position + 1 < len(self.phases) else None

    def missing_to_leave(
        self, name: str, activities: Iterable[RecordedActivity], as_of: date | None = None
    ) -> list[str]:
        """The names of the exit requirements of phase `name` that do not hold (as of `as_of`)."""
        recorded = tuple(activities)
        return [r.name for r in self.spec(name).exit_requirements if not r.holds(recorded, as_of)]


PhaseMachines = Mapping[TrackKind, PhaseMachine]


def _parse_requirement(track_kind: TrackKind, alternatives: object) -> Requirement:
    if isinstance(alternatives, str) or not isinstance(alternatives, Sequence) or not alternatives:
        raise ValueError(f"{track_kind}: an exit requirement is a non-empty list of alternatives")
    allowed = kinds_allowed_in(track_kind)
    kinds: list[ActivityKind] = []
    conclusions: list[str] = []
    for alternative in alternatives:
        if not isinstance(alternative, str):
            raise ValueError(f"{track_kind}: requirement alternative {alternative!r} is not a string")
        if alternative.startswith(CONCLUSION_PREFIX):
            value = alternative.removeprefix(CONCLUSION_PREFIX)
            if value not in set(Conclusion):
                raise ValueError(f"{track_kind}: unknown conclusion {value!r}")
            if ActivityKind.CONCLUSION not in allowed:
                raise ValueError(f"{track_kind}: a conclusion is not recorded in this track kind")
            conclusions.append(value)
        else:
            if alternative not in set(ActivityKind):
                raise ValueError(f"{track_kind}: unknown activity kind {alternative!r}")
            kind = ActivityKind(alternative)
            if kind not in allowed:
                # A requirement no activity could ever meet would lock the track in its phase.
                raise ValueError(f"{track_kind}: a {kind} cannot be recorded in this track kind")
            kinds.append(kind)
    return Requirement(tuple(kinds), tuple(conclusions))


def _build_machine(track_kind: TrackKind, rows: Sequence[Mapping[str, object]]) -> PhaseMachine:
    if isinstance(rows, str) or not rows:
        raise ValueError(f"{track_kind}: a phase list needs at least one phase")
    specs: list[PhaseSpec] = []
    for row in rows:
        name = row.get("phase")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{track_kind}: every phase needs a name")
        title = row.get("title", name)
        if not isinstance(title, str):
            raise ValueError(f"{track_kind}: the title of {name} is not a string")
        exit_rows = row.get("exit", ())
        if isinstance(exit_rows, str) or not isinstance(exit_rows, Sequence):
            raise ValueError(f"{track_kind}: the exit of {name} is a list of requirements")
        requirements = tuple(_parse_requirement(track_kind, alternatives) for alternatives in exit_rows)
        specs.append(PhaseSpec(name, title, requirements))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"{track_kind}: phase names repeat: {names}")
    if specs[-1].exit_requirements:
        raise ValueError(f"{track_kind}: the final phase is left by closing the track, not by requirements")
    return PhaseMachine(track_kind, tuple(specs))


def build_phase_machines(
    overrides: Mapping[str, Sequence[Mapping[str, object]]] | None = None,
) -> dict[TrackKind, PhaseMachine]:
    """Build the machines from `DEFAULT_PHASE_TABLE`, with a track kind's list replaced where
    `overrides` names it (same shape as the default table). Raises ValueError for a bad table."""
    table: dict[str, Sequence[Mapping[str, object]]] = dict(DEFAULT_PHASE_TABLE)
    for key, rows in (overrides or {}).items():
        if key not in set(TrackKind):
            raise ValueError(f"unknown track kind {key!r} in the phase configuration")
        table[key] = rows
    return {kind: _build_machine(kind, table[kind]) for kind in TrackKind}


DEFAULT_PHASE_MACHINES: PhaseMachines = MappingProxyType(build_phase_machines())


def initial_phase(kind: TrackKind, machines: PhaseMachines = DEFAULT_PHASE_MACHINES) -> str:
    """The phase a new track starts in, entered on the track's start date."""
    return machines[kind].first_phase


def next_phase(
    facts: TrackFacts, machines: PhaseMachines = DEFAULT_PHASE_MACHINES
) -> tuple[str | None, list[str]]:
    """P3: the phase after the current one (None in the final phase) and what is missing to enter it.

    Counts every recorded activity; the service keeps future-dated ones out (P6).
    """
    machine = machines[facts.kind]
    following = machine.phase_after(facts.current_phase)
    if following is None:
        return None, []
    return following, machine.missing_to_leave(facts.current_phase, facts.activities)


def check_transition(
    facts: TrackFacts,
    to_phase: str,
    on: date,
    today: date,
    machines: PhaseMachines = DEFAULT_PHASE_MACHINES,
) -> None:
    """P3: move `facts`' track to `to_phase` on `on`, or raise RuleViolation saying why not.

    Phases move forward one step at a time (`missing` names the next phase when another is asked),
    dated on or after the current phase's start and not after `today`, and only when the current
    phase's exit requirements hold with activities dated on or before `on` (`missing` lists each
    requirement that does not). A closed track has no transitions. An unknown phase is InvalidInput.
    """
    machine = machines[facts.kind]
    if not facts.is_open:
        raise RuleViolation(f"the {facts.kind} is closed; its phase no longer changes", rule=RULE_PHASES)
    target = machine.position(to_phase)
    current = machine.position(facts.current_phase)
    following = machine.phase_after(facts.current_phase)
    if following is None:
        raise RuleViolation(
            f"the {facts.kind} is in its final phase {facts.current_phase}; close the track instead",
            rule=RULE_PHASES,
        )
    if target != current + 1:
        asked = "staying in" if target == current else ("back to" if target < current else "skipping to")
        raise RuleViolation(
            f"phases move forward one step at a time: from {facts.current_phase} to {following}, "
            f"not {asked} {to_phase}",
            rule=RULE_PHASES,
            missing=[following],
        )
    if on < facts.current_phase_entered_on:
        raise RuleViolation(
            f"the transition date {on} is before {facts.current_phase} began on "
            f"{facts.current_phase_entered_on}",
            rule=RULE_PHASES,
            extra={"earliest_on": facts.current_phase_entered_on.isoformat()},
        )
    if on > today:
        raise RuleViolation(
            f"the transition date {on} is in the future (today is {today})",
            rule=RULE_PHASES,
            extra={"latest_on": today.isoformat()},
        )
    missing = machine.missing_to_leave(facts.current_phase, facts.activities, as_of=on)
    if missing:
        raise RuleViolation(
            f"to leave {facts.current_phase} on {on} the {facts.kind} must hold: {'; '.join(missing)}",
            rule=RULE_PHASES,
            missing=missing,
        )
