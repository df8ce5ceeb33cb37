"""Phase machines (P3): the default table, the guards, configuration, and properties of the machine."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.activity_kinds import ActivityKind, TrackKind, TrackStatus, kinds_allowed_in
from app.domain.errors import InvalidInput, RuleViolation
from app.domain.phases import (
    DEFAULT_PHASE_MACHINES,
    Phase,
    RecordedActivity,
    TrackFacts,
    build_phase_machines,
    check_transition,
    initial_phase,
    next_phase,
)

START = date(2026, 3, 2)
TODAY = date(2026, 9, 1)

K = ActivityKind

# The oracle: domain.md's table written out independently of the code under test.
PHASES = {
    TrackKind.TRACK_1: ["assessment", "resumption", "completion"],
    TrackKind.TRACK_2: ["orientation", "active_search", "completion"],
}
EXIT = {
    (TrackKind.TRACK_1, "assessment"): [{"job_inventory"}],
    (TrackKind.TRACK_1, "resumption"): [{"work_resumption", "conclusion:no_internal_prospect"}],
    (TrackKind.TRACK_2, "orientation"): [{"intake_meeting"}, {"personal_profile"}, {"trajectory_plan"}],
    (TrackKind.TRACK_2, "active_search"): [
        {"job_search_profile"},
        {"job_application", "secondment", "work_experience_placement"},
    ],
}


def act(kind: ActivityKind, on: date = START, conclusion: str | None = None) -> RecordedActivity:
    return RecordedActivity(kind, on, conclusion)


def track(
    kind: TrackKind = TrackKind.TRACK_1,
    phase: str | None = None,
    entered_on: date = START,
    activities: tuple[RecordedActivity, ...] = (),
    status: TrackStatus = TrackStatus.OPEN,
) -> TrackFacts:
    return TrackFacts(
        kind=kind,
        status=status,
        started_on=START,
        current_phase=phase or initial_phase(kind),
        current_phase_entered_on=entered_on,
        activities=frozenset(activities),
        ended_on=None if status is TrackStatus.OPEN else TODAY,
    )


def refusal(facts: TrackFacts, to_phase: str, on: date = TODAY, today: date = TODAY) -> RuleViolation:
    with pytest.raises(RuleViolation) as refused:
        check_transition(facts, to_phase, on, today)
    assert refused.value.rule == "P3"
    return refused.value


# --- the default table -----------------------------------------------------------------------------


def test_default_phase_lists() -> None:
    for kind, names in PHASES.items():
        assert list(DEFAULT_PHASE_MACHINES[kind].phase_names) == names
        assert initial_phase(kind) == names[0]
        assert DEFAULT_PHASE_MACHINES[kind].final_phase == Phase.COMPLETION


def test_default_table_matches_the_oracle() -> None:
    for (kind, phase), requirements in EXIT.items():
        spec = DEFAULT_PHASE_MACHINES[kind].spec(phase)
        parsed = [
            {str(k) for k in r.kinds} | {f"conclusion:{c}" for c in r.conclusions}
            for r in spec.exit_requirements
        ]
        assert parsed == requirements


# --- check_transition: each clause of P3 -----------------------------------------------------------


def test_track_1_assessment_needs_a_job_inventory() -> None:
    assert refusal(track(), "resumption").missing == ["job_inventory"]
    check_transition(track(activities=(act(K.JOB_INVENTORY),)), "resumption", TODAY, TODAY)


def test_track_1_resumption_needs_work_resumption_or_conclusion() -> None:
    facts = track(phase="resumption")
    assert refusal(facts, "completion").missing == [
        "one of: work_resumption, conclusion no_internal_prospect"
    ]
    check_transition(
        replace(facts, activities=frozenset({act(K.WORK_RESUMPTION)})), "completion", TODAY, TODAY
    )
    concluded = replace(facts, activities=frozenset({act(K.CONCLUSION, conclusion="no_internal_prospect")}))
    check_transition(concluded, "completion", TODAY, TODAY)


def test_a_conclusion_with_another_value_does_not_count() -> None:
    facts = track(phase="resumption", activities=(act(K.CONCLUSION, conclusion="something_else"),))
    assert refusal(facts, "completion").missing == [
        "one of: work_resumption, conclusion no_internal_prospect"
    ]


def test_track_2_orientation_lists_each_missing_document() -> None:
    facts = track(TrackKind.TRACK_2)
    assert refusal(facts, "active_search").missing == [
        "intake_meeting",
        "personal_profile",
        "trajectory_plan",
    ]
    partial = replace(facts, activities=frozenset({act(K.PERSONAL_PROFILE)}))
    assert refusal(partial, "active_search").missing == ["intake_meeting", "trajectory_plan"]
    complete = replace(
        facts, activities=frozenset({act(K.INTAKE_MEETING), act(K.PERSONAL_PROFILE), act(K.TRAJECTORY_PLAN)})
    )
    check_transition(complete, "active_search", TODAY, TODAY)


def test_track_2_active_search_needs_profile_and_one_effort() -> None:
    facts = track(TrackKind.TRACK_2, phase="active_search")
    assert refusal(facts, "completion").missing == [
        "job_search_profile",
        "one of: job_application, secondment, work_experience_placement",
    ]
    for effort in (K.JOB_APPLICATION, K.SECONDMENT, K.WORK_EXPERIENCE_PLACEMENT):
        ready = replace(facts, activities=frozenset({act(K.JOB_SEARCH_PROFILE), act(effort)}))
        check_transition(ready, "completion", TODAY, TODAY)
    trained = replace(facts, activities=frozenset({act(K.JOB_SEARCH_PROFILE), act(K.TRAINING)}))
    assert refusal(trained, "completion").missing == [
        "one of: job_application, secondment, work_experience_placement"
    ]


def test_requirements_count_only_activities_on_or_before_the_transition_date() -> None:
    later = START + timedelta(days=30)
    facts = track(activities=(act(K.JOB_INVENTORY, later),))
    assert refusal(facts, "resumption", on=later - timedelta(days=1)).missing == ["job_inventory"]
    check_transition(facts, "resumption", later, TODAY)


def test_skipping_a_phase_is_refused_and_names_the_next() -> None:
    facts = track(activities=(act(K.JOB_INVENTORY), act(K.WORK_RESUMPTION)))
    assert refusal(facts, "completion").missing == ["resumption"]


def test_going_back_or_staying_is_refused_and_names_the_next() -> None:
    facts = track(phase="resumption", activities=(act(K.WORK_RESUMPTION),))
    assert refusal(facts, "assessment").missing == ["completion"]
    assert refusal(facts, "resumption").missing == ["completion"]


def test_final_phase_has_no_transition() -> None:
    assert refusal(track(phase="completion"), "completion").missing == []


def test_date_before_the_current_phase_start_is_refused() -> None:
    entered = START + timedelta(days=10)
    facts = track(entered_on=entered, activities=(act(K.JOB_INVENTORY),))
    refusal(facts, "resumption", on=entered - timedelta(days=1))
    check_transition(facts, "resumption", entered, TODAY)


def test_date_in_the_future_is_refused() -> None:
    facts = track(activities=(act(K.JOB_INVENTORY),))
    refusal(facts, "resumption", on=TODAY + timedelta(days=1))


def test_a_closed_track_has_no_transitions() -> None:
    facts = track(activities=(act(K.JOB_INVENTORY),), status=TrackStatus.CLOSED)
    refusal(facts, "resumption")


def test_unknown_phase_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        check_transition(track(), "orientation", TODAY, TODAY)


def test_next_phase_reports_what_is_missing() -> None:
    assert next_phase(track()) == ("resumption", ["job_inventory"])
    assert next_phase(track(activities=(act(K.JOB_INVENTORY),))) == ("resumption", [])
    assert next_phase(track(phase="completion")) == (None, [])


# --- configuration ---------------------------------------------------------------------------------


def test_override_replaces_one_track_kind_and_keeps_the_other() -> None:
    machines = build_phase_machines(
        {
            "track_2": [
                {"phase": "orientation", "exit": [["intake_meeting"]]},
                {"phase": "search", "exit": [["job_application"], ["progress_report"]]},
                {"phase": "placement", "exit": [["job_placement"]]},
                {"phase": "completion"},
            ]
        }
    )
    assert machines[TrackKind.TRACK_1] == DEFAULT_PHASE_MACHINES[TrackKind.TRACK_1]
    assert machines[TrackKind.TRACK_2].phase_names == ("orientation", "search", "placement", "completion")
    facts = track(TrackKind.TRACK_2, activities=(act(K.INTAKE_MEETING),))
    check_transition(facts, "search", TODAY, TODAY, machines)
    searching = replace(facts, current_phase="search")
    with pytest.raises(RuleViolation) as refused:
        check_transition(searching, "placement", TODAY, TODAY, machines)
    assert refused.value.missing == ["job_application", "progress_report"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"track_3": [{"phase": "a"}]},
        {"track_1": []},
        {"track_1": [{"phase": "a", "exit": [["no_such_kind"]]}, {"phase": "b"}]},
        {"track_1": [{"phase": "a", "exit": [["intake_meeting"]]}, {"phase": "b"}]},
        {"track_2": [{"phase": "a", "exit": [["conclusion:no_internal_prospect"]]}, {"phase": "b"}]},
        {"track_1": [{"phase": "a", "exit": [["conclusion:maybe"]]}, {"phase": "b"}]},
        {"track_1": [{"phase": "a", "exit": [[]]}, {"phase": "b"}]},
        {"track_1": [{"phase": "a", "exit": ["job_inventory"]}, {"phase": "b"}]},
        {"track_1": [{"phase": "a"}, {"phase": "a"}]},
        {"track_1": [{"phase": "a"}, {"phase": "b", "exit": [["job_inventory"]]}]},
        {"track_1": [{"title": "no name"}]},
    ],
)
def test_bad_configuration_is_refused(overrides: dict[str, list[dict[str, object]]]) -> None:
    with pytest.raises(ValueError):
        build_phase_machines(overrides)


# --- properties ------------------------------------------------------------------------------------


def oracle_accepts(facts: TrackFacts, to_phase: str, on: date, today: date) -> bool:
    names = PHASES[facts.kind]
    here = names.index(facts.current_phase)
    if facts.status is not TrackStatus.OPEN or here + 1 >= len(names) or names[here + 1] != to_phase:
        return False
    if not facts.current_phase_entered_on <= on <= today:
        return False
    held = {a.kind.value for a in facts.activities if a.occurred_on <= on} | {
        f"conclusion:{a.conclusion}" for a in facts.activities if a.occurred_on <= on and a.conclusion
    }
    return all(alternatives & held for alternatives in EXIT[(facts.kind, facts.current_phase)])


def recorded_activities(kind: TrackKind, last_day: int = 60) -> st.SearchStrategy[RecordedActivity]:
    # Mostly the kinds the phases ask for, so that transitions are often possible.
    required = sorted(
        {
            ActivityKind(a)
            for (k, _), reqs in EXIT.items()
            if k is kind
            for r in reqs
            for a in r
            if ":" not in a
        }
    )
    kinds = st.one_of(st.sampled_from(required), st.sampled_from(sorted(kinds_allowed_in(kind))))
    return st.builds(
        RecordedActivity,
        kind=kinds,
        occurred_on=st.integers(0, last_day).map(lambda d: START + timedelta(days=d)),
        conclusion=st.sampled_from([None, "no_internal_prospect"]),
    ).map(lambda a: a if a.kind is K.CONCLUSION else replace(a, conclusion=None))


@st.composite
def attempt_sequences(draw: st.DrawFn) -> tuple[TrackKind, list[tuple[str, object]]]:
    kind = draw(st.sampled_from(list(TrackKind)))
    add = st.tuples(st.just("add"), recorded_activities(kind, last_day=40))
    move = st.tuples(st.just("move"), st.tuples(st.sampled_from(PHASES[kind]), st.integers(-5, 70)))
    close = st.tuples(st.just("close"), st.none())
    return kind, draw(st.lists(st.one_of(add, add, move, move, move, close), max_size=40))


@settings(max_examples=500, deadline=None)
@given(attempt_sequences())
def test_random_attempts_move_forward_one_step_at_a_time(
    sequence: tuple[TrackKind, list[tuple[str, object]]],
) -> None:
    """P3 as a property: whatever is attempted, a phase only ever advances by one, and a transition
    is accepted exactly when the oracle (domain.md's table) says the requirements hold."""
    kind, steps = sequence
    today = START + timedelta(days=60)
    facts = track(kind)
    for step, payload in steps:
        if step == "add":
            assert isinstance(payload, RecordedActivity)
            facts = replace(facts, activities=facts.activities | {payload})
            continue
        if step == "close" and len(steps) > 20:  # close only in long runs, so most runs stay open
            facts = replace(facts, status=TrackStatus.CLOSED, ended_on=today)
            continue
        if step == "close":
            continue
        assert isinstance(payload, tuple)
        to_phase, offset = payload
        on = START + timedelta(days=offset)
        before = PHASES[kind].index(facts.current_phase)
        expected = oracle_accepts(facts, to_phase, on, today)
        try:
            check_transition(facts, to_phase, on, today)
        except RuleViolation as refused:
            assert not expected
            assert refused.rule == "P3"
            continue
        assert expected
        after = PHASES[kind].index(to_phase)
        assert after == before + 1
        assert on >= facts.current_phase_entered_on
        facts = replace(facts, current_phase=to_phase, current_phase_entered_on=on)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(list(TrackKind)),
    data=st.data(),
)
def test_next_phase_agrees_with_check_transition(kind: TrackKind, data: st.DataObject) -> None:
    phase = data.draw(st.sampled_from(PHASES[kind]))
    activities = data.draw(st.frozensets(recorded_activities(kind), max_size=8))
    facts = replace(track(kind, phase=phase), activities=activities)
    today = START + timedelta(days=60)
    following, missing = next_phase(facts)
    if following is None:
        assert phase == PHASES[kind][-1]
        return
    try:
        check_transition(facts, following, today, today)
    except RuleViolation as refused:
        assert refused.missing == missing and missing
    else:
        assert missing == []


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(list(TrackKind)),
    data=st.data(),
)
def test_configured_machines_walk_to_the_end_when_everything_is_recorded(
    kind: TrackKind, data: st.DataObject
) -> None:
    allowed = sorted(kinds_allowed_in(kind))
    count = data.draw(st.integers(1, 6))
    rows: list[dict[str, object]] = []
    for position in range(count):
        final = position == count - 1
        requirements = (
            [] if final else data.draw(st.lists(st.lists(st.sampled_from(allowed), min_size=1), max_size=3))
        )
        rows.append({"phase": f"phase_{position}", "exit": requirements})
    machines = build_phase_machines({kind.value: rows})
    everything = frozenset(act(k) for k in allowed)
    facts = TrackFacts(kind, TrackStatus.OPEN, START, "phase_0", START, everything)
    steps = 0
    while (following := next_phase(facts, machines)[0]) is not None:
        check_transition(facts, following, TODAY, TODAY, machines)
        facts = replace(facts, current_phase=following, current_phase_entered_on=TODAY)
        steps += 1
    assert steps == count - 1
    assert facts.current_phase == f"phase_{count - 1}"
