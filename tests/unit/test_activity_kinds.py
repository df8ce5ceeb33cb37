"""The closed list of activity kinds and its per-kind facts (A1-A3, deadline codes of T1-T13)."""

from __future__ import annotations

import pytest

from app.domain.activity_kinds import (
    ACTIVITY_KINDS,
    ActivityKind,
    ActivityScope,
    TrackKind,
    check_activity_placement,
    kind_facts,
    kinds_allowed_in,
    kinds_satisfying,
    may_record,
    physician_only_kinds,
    statutory_documents,
)
from app.domain.errors import InvalidInput

A2_DOCUMENTS = {
    "occupational_health_notification",
    "problem_analysis",
    "action_plan",
    "action_plan_update",
    "evaluation",
    "first_year_evaluation",
    "current_assessment",
    "final_evaluation",
    "employee_view",
    "uwv_sick_notification",
    "wia_application",
    "riv_submission",
    "early_iva_application",
    "labour_expert_assessment",
    "expert_opinion_request",
}

# Deadline code -> the kinds that satisfy it, as in domain.md's timeline table.
TIMELINE_SATISFIERS = {
    "occupational_health_notified": {"occupational_health_notification"},
    "problem_analysis": {"problem_analysis"},
    "action_plan": {"action_plan"},
    "action_plan_evaluation": {"evaluation", "action_plan_update"},
    "uwv_sick_notification": {"uwv_sick_notification"},
    "first_year_evaluation": {"first_year_evaluation"},
    "track_2_progress_report": {"progress_report"},
    "current_assessment": {"current_assessment"},
    "final_evaluation": {"final_evaluation"},
    "wia_application": {"wia_application", "early_iva_application"},
    "riv_submission": {"riv_submission"},
    "early_iva": {"early_iva_application"},
}


def test_every_kind_has_exactly_one_entry() -> None:
    assert set(ACTIVITY_KINDS) == set(ActivityKind)
    assert all(facts.kind is kind for kind, facts in ACTIVITY_KINDS.items())
    assert 35 <= len(ActivityKind) <= 45


def test_values_are_snake_case_names() -> None:
    for kind in ActivityKind:
        assert kind.value == kind.name.lower()
        assert kind_facts(kind).title


def test_statutory_documents_of_a2_are_listed_as_documents() -> None:
    assert {k.value for k in statutory_documents()} >= A2_DOCUMENTS


def test_statutory_documents_are_case_level() -> None:
    assert all(kind_facts(k).scope is ActivityScope.CASE for k in statutory_documents())


def test_physician_makes_problem_analysis_and_current_assessment() -> None:
    assert {ActivityKind.PROBLEM_ANALYSIS, ActivityKind.CURRENT_ASSESSMENT} <= physician_only_kinds()
    assert ActivityKind.ACTION_PLAN not in physician_only_kinds()


def test_only_physician_kinds_carry_a_medical_part() -> None:
    """A3: medical data exists only in the physician's own activities."""
    for facts in ACTIVITY_KINDS.values():
        if facts.may_carry_medical_part:
            assert facts.physician_only, facts.kind
    assert not kind_facts(ActivityKind.JOB_APPLICATION).may_carry_medical_part
    assert kind_facts(ActivityKind.PROBLEM_ANALYSIS).may_carry_medical_part


def test_may_record_physician_only_kinds() -> None:
    assert not may_record(ActivityKind.PROBLEM_ANALYSIS, is_occupational_physician=False)
    assert may_record(ActivityKind.PROBLEM_ANALYSIS, is_occupational_physician=True)
    assert may_record(ActivityKind.ACTION_PLAN, is_occupational_physician=False)


@pytest.mark.parametrize(("code", "kinds"), sorted(TIMELINE_SATISFIERS.items()))
def test_deadline_codes_match_the_timeline(code: str, kinds: set[str]) -> None:
    assert {k.value for k in kinds_satisfying(code)} == kinds


def test_no_kind_satisfies_an_unknown_code() -> None:
    used = {code for facts in ACTIVITY_KINDS.values() for code in facts.satisfies}
    assert used == set(TIMELINE_SATISFIERS)


def test_deadline_codes_agree_with_the_rule_catalogue() -> None:
    """The catalogue (timeline engine) and this table name the same satisfying kinds."""
    catalogue = pytest.importorskip("app.domain.catalogue")
    for entry in catalogue.DEADLINES:
        activity_kinds = {s for s in entry.satisfied_by if s in set(ActivityKind)}
        assert {k.value for k in kinds_satisfying(entry.code)} == activity_kinds, entry.code


def test_phase_requirement_kinds_are_recordable_in_their_track() -> None:
    track_1 = kinds_allowed_in(TrackKind.TRACK_1)
    track_2 = kinds_allowed_in(TrackKind.TRACK_2)
    assert {ActivityKind.JOB_INVENTORY, ActivityKind.WORK_RESUMPTION, ActivityKind.CONCLUSION} <= track_1
    assert {
        ActivityKind.INTAKE_MEETING,
        ActivityKind.PERSONAL_PROFILE,
        ActivityKind.TRAJECTORY_PLAN,
        ActivityKind.JOB_SEARCH_PROFILE,
        ActivityKind.JOB_APPLICATION,
        ActivityKind.SECONDMENT,
        ActivityKind.WORK_EXPERIENCE_PLACEMENT,
        ActivityKind.PROGRESS_REPORT,
        ActivityKind.FINAL_REPORT,
    } <= track_2


def test_scopes_partition_the_kinds() -> None:
    case_level = kinds_allowed_in(None)
    in_tracks = kinds_allowed_in(TrackKind.TRACK_1) | kinds_allowed_in(TrackKind.TRACK_2)
    assert case_level.isdisjoint(in_tracks)
    assert case_level | in_tracks == set(ActivityKind)


def test_placement_accepts_the_right_place() -> None:
    check_activity_placement(ActivityKind.ACTION_PLAN, None)
    check_activity_placement(ActivityKind.JOB_INVENTORY, TrackKind.TRACK_1)
    check_activity_placement(ActivityKind.TRAINING, TrackKind.TRACK_1)
    check_activity_placement(ActivityKind.TRAINING, TrackKind.TRACK_2)


@pytest.mark.parametrize(
    ("kind", "track_kind"),
    [
        (ActivityKind.ACTION_PLAN, TrackKind.TRACK_1),
        (ActivityKind.JOB_INVENTORY, TrackKind.TRACK_2),
        (ActivityKind.INTAKE_MEETING, TrackKind.TRACK_1),
        (ActivityKind.JOB_APPLICATION, None),
    ],
)
def test_placement_refuses_the_wrong_place(kind: ActivityKind, track_kind: TrackKind | None) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_activity_placement(kind, track_kind)
    assert refused.value.rule == "A1"
