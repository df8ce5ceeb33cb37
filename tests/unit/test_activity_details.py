"""Kind-specific activity details (A1), their privacy guarantees (A3, A4) and T3/T6's completeness."""

from __future__ import annotations

import contextlib
import json
import typing
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from app.activities.details import (
    DETAILS_MODELS,
    NON_MEDICAL,
    ActionPlanDetails,
    FinalReportOutcome,
    JobApplicationDetails,
    WorkResumptionDetails,
    counts_for_deadline,
    details_json,
    validate_details,
)
from app.domain.activity_kinds import TRACK_2_OUTCOMES, ActivityKind
from app.domain.catalogue import DEADLINE_CODES
from app.schemas import StrictModel

BEFORE = date(2023, 6, 30)
FROM = date(2023, 7, 1)

# A minimal valid `details` for every kind whose model has required fields.
MINIMAL: dict[ActivityKind, dict[str, Any]] = {
    ActivityKind.ACTION_PLAN: {"case_manager": "J. de Vries"},
    ActivityKind.ACTION_PLAN_UPDATE: {"case_manager": "J. de Vries"},
    ActivityKind.EMPLOYEE_VIEW: {"view": "I agree with the plan."},
    ActivityKind.EXPERT_OPINION_REQUEST: {"question": "reintegration_efforts", "requested_by": "employee"},
    ActivityKind.VOLUNTARY_EXTENSION: {"weeks": 12},
    ActivityKind.WAGE_SANCTION: {"weeks": 52},
    ActivityKind.DEADLINE_WAIVER: {"deadline": "final_evaluation", "reason": "no work capacity since day 1"},
    ActivityKind.JOB_INVENTORY: {"roles_considered": [{"role": "Planner", "suitable": True}]},
    ActivityKind.WORKPLACE_ADJUSTMENT: {"adjustment": "Sit-stand desk"},
    ActivityKind.WORK_RESUMPTION: {"hours_per_week": 16, "wage_value_percentage": 40},
    ActivityKind.CONCLUSION: {"conclusion": "no_internal_prospect"},
    ActivityKind.TRAJECTORY_PLAN: {"agreed_reporting_interval_days": 28},
    ActivityKind.JOB_SEARCH_PROFILE: {"target_roles": ["Administrative assistant"]},
    ActivityKind.EMPLOYER_CONTACT: {"employer": "Acme BV"},
    ActivityKind.SECONDMENT: {"employer": "Acme BV"},
    ActivityKind.WORK_EXPERIENCE_PLACEMENT: {"employer": "Acme BV"},
    ActivityKind.JOB_PLACEMENT: {"employer": "Acme BV"},
    ActivityKind.PROGRESS_REPORT: {"period_from": "2026-01-01", "period_to": "2026-01-28"},
    ActivityKind.JOB_APPLICATION: {"employer": "Acme BV", "vacancy": "VAC-123", "result": "pending"},
    ActivityKind.JOB_INTERVIEW: {"employer": "Acme BV"},
    ActivityKind.TRAINING: {"course": "Forklift licence"},
}


def stored_form(model: StrictModel) -> Any:
    """The details as the database receives them: the JSON text `details_json` makes, parsed."""
    return json.loads(details_json(model))


def locations(error: ValidationError) -> list[tuple[int | str, ...]]:
    return [tuple(e["loc"]) for e in error.errors()]


def invalid(kind: ActivityKind, raw: dict[str, Any]) -> list[tuple[int | str, ...]]:
    with pytest.raises(ValidationError) as info:
        validate_details(kind, raw)
    return locations(info.value)


def all_models() -> set[type[BaseModel]]:
    """Every model reachable from DETAILS_MODELS, nested ones (job inventory roles) included."""
    seen: set[type[BaseModel]] = set()
    todo: list[type[BaseModel]] = list(DETAILS_MODELS.values())
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for field in model.model_fields.values():
            todo.extend(
                t for t in leaf_types(field.annotation) if isinstance(t, type) and issubclass(t, BaseModel)
            )
    return seen


def leaf_types(annotation: Any) -> list[Any]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        return leaf_types(args[0])
    if args:
        return [leaf for arg in args for leaf in leaf_types(arg)]
    return [annotation]


def is_free_text(field: FieldInfo) -> bool:
    """A plain string field: not an enum, not a coded value (enum in the schema), not a URL (pattern)."""
    if str not in leaf_types(field.annotation):
        return False
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "enum" in extra:
        return False
    return not any(getattr(m, "pattern", None) for m in field.metadata)


def max_length(field: FieldInfo) -> int | None:
    return next((m.max_length for m in field.metadata if getattr(m, "max_length", None)), None)


# --- coverage and strictness -------------------------------------------------------------------------------


def test_every_kind_has_a_strict_model() -> None:
    assert set(DETAILS_MODELS) == set(ActivityKind)
    assert len(DETAILS_MODELS) == 42
    for model in DETAILS_MODELS.values():
        assert issubclass(model, StrictModel)
        assert model.model_config.get("extra") == "forbid"


def test_models_are_distinct_per_kind() -> None:
    assert len(set(DETAILS_MODELS.values())) == len(DETAILS_MODELS)


@pytest.mark.parametrize("kind", list(ActivityKind))
def test_minimal_details_are_valid_and_round_trip(kind: ActivityKind) -> None:
    model = validate_details(kind, MINIMAL.get(kind, {}))
    assert isinstance(model, DETAILS_MODELS[kind])
    assert validate_details(kind, stored_form(model)) == model


@pytest.mark.parametrize("kind", [k for k in ActivityKind if k not in MINIMAL])
def test_kinds_without_required_fields_accept_none_and_empty(kind: ActivityKind) -> None:
    assert validate_details(kind, None) == validate_details(kind, {})


@pytest.mark.parametrize("kind", list(ActivityKind))
def test_unknown_field_refused(kind: ActivityKind) -> None:
    assert ("unexpected",) in invalid(kind, {**MINIMAL.get(kind, {}), "unexpected": 1})


@pytest.mark.parametrize("kind", list(MINIMAL))
def test_required_fields_are_required(kind: ActivityKind) -> None:
    with pytest.raises(ValidationError):
        validate_details(kind, {})


# --- job_application ---------------------------------------------------------------------------------------


def test_job_application_valid() -> None:
    model = validate_details(
        ActivityKind.JOB_APPLICATION,
        {
            "employer": " Acme BV ",
            "vacancy": "Office manager",
            "result": "invited",
            "applied_via": "company website",
            "vacancy_url": "https://acme.example/jobs/42",
        },
    )
    assert isinstance(model, JobApplicationDetails)
    assert model.employer == "Acme BV"
    assert model.result == "invited"


def test_job_application_invalid_locations() -> None:
    assert sorted(invalid(ActivityKind.JOB_APPLICATION, {})) == [("employer",), ("result",), ("vacancy",)]
    base = MINIMAL[ActivityKind.JOB_APPLICATION]
    assert invalid(ActivityKind.JOB_APPLICATION, {**base, "result": "ghosted"}) == [("result",)]
    assert invalid(ActivityKind.JOB_APPLICATION, {**base, "employer": "   "}) == [("employer",)]
    assert invalid(ActivityKind.JOB_APPLICATION, {**base, "vacancy": "x" * 201}) == [("vacancy",)]
    assert invalid(ActivityKind.JOB_APPLICATION, {**base, "vacancy_url": "acme.example"}) == [
        ("vacancy_url",)
    ]


# --- work_resumption ---------------------------------------------------------------------------------------


def test_work_resumption_valid() -> None:
    model = validate_details(
        ActivityKind.WORK_RESUMPTION,
        {"percentage_of_original_hours": 50, "wage_value_percentage": 65.5, "work_type": "adapted_own_work"},
    )
    assert isinstance(model, WorkResumptionDetails)
    assert model.structural is False
    stored = stored_form(model)
    # The timeline reads these from the stored JSON: a number and a real boolean.
    assert stored["wage_value_percentage"] == 65.5
    assert stored["structural"] is False
    structural = validate_details(
        ActivityKind.WORK_RESUMPTION, {"hours_per_week": 32, "wage_value_percentage": 80, "structural": True}
    )
    assert stored_form(structural)["structural"] is True


def test_work_resumption_invalid_locations() -> None:
    kind = ActivityKind.WORK_RESUMPTION
    # Neither hours nor percentage: a model-level error.
    assert invalid(kind, {"wage_value_percentage": 70}) == [()]
    assert invalid(kind, {"hours_per_week": 20}) == [("wage_value_percentage",)]
    assert invalid(kind, {"hours_per_week": 20, "wage_value_percentage": 200.5}) == [
        ("wage_value_percentage",)
    ]
    assert invalid(kind, {"hours_per_week": 20, "wage_value_percentage": -1}) == [("wage_value_percentage",)]
    assert invalid(kind, {"hours_per_week": 20, "wage_value_percentage": "70"}) == [
        ("wage_value_percentage",)
    ]
    assert invalid(kind, {"hours_per_week": 0, "wage_value_percentage": 70}) == [("hours_per_week",)]
    assert invalid(kind, {"hours_per_week": 20, "wage_value_percentage": 70, "work_type": "external"}) == [
        ("work_type",)
    ]
    assert invalid(kind, {"hours_per_week": 20, "wage_value_percentage": 70, "structural": "yes"}) == [
        ("structural",)
    ]


def test_work_resumption_boundaries() -> None:
    kind = ActivityKind.WORK_RESUMPTION
    assert validate_details(kind, {"hours_per_week": 1, "wage_value_percentage": 0})
    assert validate_details(kind, {"percentage_of_original_hours": 100, "wage_value_percentage": 200})


# --- action_plan -------------------------------------------------------------------------------------------

COMPLETE_PLAN: dict[str, Any] = {
    "case_manager": "J. de Vries",
    "signed_by_employer": True,
    "signed_by_employee": True,
    "signed_on": "2026-02-20",
    "employer_view": "We support a gradual return in adapted work.",
    "employee_view": "I want to start with mornings only.",
    "goals": ["Back in own work at 50% by week 16"],
}


def plan(**changes: Any) -> ActionPlanDetails:
    model = validate_details(ActivityKind.ACTION_PLAN, {**COMPLETE_PLAN, **changes})
    assert isinstance(model, ActionPlanDetails)
    return model


def test_action_plan_draft_is_valid() -> None:
    draft = validate_details(ActivityKind.ACTION_PLAN, {"case_manager": "J. de Vries"})
    assert isinstance(draft, ActionPlanDetails)
    assert not draft.signed_by_employer and not draft.signed_by_employee


def test_action_plan_invalid_locations() -> None:
    kind = ActivityKind.ACTION_PLAN
    assert invalid(kind, {}) == [("case_manager",)]
    assert invalid(kind, {"case_manager": ""}) == [("case_manager",)]
    assert invalid(kind, {**COMPLETE_PLAN, "signed_by_employer": "yes"}) == [("signed_by_employer",)]
    assert invalid(kind, {**COMPLETE_PLAN, "signed_on": "20-02-2026"}) == [("signed_on",)]
    assert invalid(kind, {**COMPLETE_PLAN, "employee_view": "x" * 4001}) == [("employee_view",)]
    assert invalid(kind, {**COMPLETE_PLAN, "goals": ["ok", ""]}) == [("goals", 1)]


@pytest.mark.parametrize(
    ("changes", "first_sick_day", "expected"),
    [
        ({}, BEFORE, True),
        ({}, FROM, True),
        ({"signed_by_employer": False}, BEFORE, False),
        ({"signed_by_employer": False}, FROM, False),
        ({"signed_by_employee": False}, BEFORE, False),
        ({"signed_by_employee": False}, FROM, False),
        ({"employer_view": None}, BEFORE, True),
        ({"employer_view": None}, FROM, False),
        ({"employee_view": None}, BEFORE, True),
        ({"employee_view": None}, FROM, False),
        ({"employee_view": "   "}, FROM, False),
        ({"employer_view": None, "employee_view": None}, BEFORE, True),
        ({"employer_view": None, "employee_view": None}, date(2026, 1, 5), False),
        ({"signed_by_employer": False, "signed_by_employee": False}, BEFORE, False),
    ],
)
def test_action_plan_counts_for_deadline(
    changes: dict[str, Any], first_sick_day: date, expected: bool
) -> None:
    assert counts_for_deadline(ActivityKind.ACTION_PLAN, plan(**changes), first_sick_day) is expected


def test_counts_for_deadline_accepts_raw_details() -> None:
    assert counts_for_deadline(ActivityKind.ACTION_PLAN, COMPLETE_PLAN, FROM) is True
    assert counts_for_deadline(ActivityKind.ACTION_PLAN, {"case_manager": "J."}, BEFORE) is False
    with pytest.raises(ValidationError):
        counts_for_deadline(ActivityKind.ACTION_PLAN, {}, FROM)


def test_action_plan_update_always_counts() -> None:
    update = validate_details(ActivityKind.ACTION_PLAN_UPDATE, {"case_manager": "J. de Vries"})
    assert counts_for_deadline(ActivityKind.ACTION_PLAN_UPDATE, update, FROM) is True


@pytest.mark.parametrize(
    ("views", "expected"),
    [
        ({"employer_view": "Good progress.", "employee_view": "I agree."}, True),
        ({"employer_view": "Good progress."}, False),
        ({"employee_view": "I agree."}, False),
        ({"employer_view": "Good progress.", "employee_view": ""}, False),
        ({}, False),
    ],
)
@pytest.mark.parametrize("first_sick_day", [BEFORE, FROM])
def test_first_year_evaluation_counts_only_with_both_views(
    views: dict[str, Any], expected: bool, first_sick_day: date
) -> None:
    model = validate_details(ActivityKind.FIRST_YEAR_EVALUATION, {**views, "track_2_needed": True})
    assert counts_for_deadline(ActivityKind.FIRST_YEAR_EVALUATION, model, first_sick_day) is expected


@pytest.mark.parametrize(
    "kind",
    [k for k in ActivityKind if k not in {ActivityKind.ACTION_PLAN, ActivityKind.FIRST_YEAR_EVALUATION}],
)
def test_other_kinds_always_count(kind: ActivityKind) -> None:
    model = validate_details(kind, MINIMAL.get(kind, {}))
    assert counts_for_deadline(kind, model, BEFORE) is True
    assert counts_for_deadline(kind, model, FROM) is True


# --- other kinds the rest of the service reads -------------------------------------------------------------


def test_extension_and_sanction_weeks() -> None:
    for kind in (ActivityKind.VOLUNTARY_EXTENSION, ActivityKind.WAGE_SANCTION):
        assert stored_form(validate_details(kind, {"weeks": 52}))["weeks"] == 52
        assert invalid(kind, {"weeks": 0}) == [("weeks",)]
        assert invalid(kind, {"weeks": 53}) == [("weeks",)]
        assert invalid(kind, {"weeks": True}) == [("weeks",)]
        assert invalid(kind, {"weeks": "12"}) == [("weeks",)]


def test_deadline_waiver_codes() -> None:
    kind = ActivityKind.DEADLINE_WAIVER
    for code in DEADLINE_CODES:
        assert validate_details(kind, {"deadline": code, "reason": "agreed with UWV"})
    assert invalid(kind, {"deadline": "early_iva", "reason": "r"}) == [("deadline",)]
    assert invalid(kind, {"deadline": "final_evaluation", "reason": ""}) == [("reason",)]
    assert invalid(kind, {"deadline": "final_evaluation", "reason": "x" * 501}) == [("reason",)]


def test_conclusion_values() -> None:
    model = validate_details(ActivityKind.CONCLUSION, {"conclusion": "no_internal_prospect"})
    assert stored_form(model) == {"conclusion": "no_internal_prospect"}
    assert invalid(ActivityKind.CONCLUSION, {"conclusion": "maybe"}) == [("conclusion",)]


def test_placement_dates_in_order() -> None:
    for kind in (ActivityKind.SECONDMENT, ActivityKind.WORK_EXPERIENCE_PLACEMENT, ActivityKind.JOB_PLACEMENT):
        ok = {"employer": "Acme BV", "starts_on": "2026-03-01", "ends_on": "2026-03-01", "paid": False}
        assert validate_details(kind, ok)
        assert invalid(kind, {**ok, "ends_on": "2026-02-28"}) == [()]


def test_progress_and_final_report() -> None:
    assert invalid(ActivityKind.PROGRESS_REPORT, {"period_from": "2026-02-01"}) == [("period_to",)]
    assert invalid(
        ActivityKind.PROGRESS_REPORT, {"period_from": "2026-02-01", "period_to": "2026-01-01"}
    ) == [()]
    assert invalid(
        ActivityKind.PROGRESS_REPORT, {**MINIMAL[ActivityKind.PROGRESS_REPORT], "applications_count": -1}
    ) == [("applications_count",)]
    assert validate_details(
        ActivityKind.FINAL_REPORT, {"outcome": "placed_external", "applications_count": 14}
    )
    assert invalid(ActivityKind.FINAL_REPORT, {"outcome": "sustainable_return"}) == [("outcome",)]


def test_final_report_outcomes_are_track_2_outcomes() -> None:
    assert {o.value for o in FinalReportOutcome} == {o.value for o in TRACK_2_OUTCOMES}


def test_job_inventory_needs_a_role() -> None:
    kind = ActivityKind.JOB_INVENTORY
    assert invalid(kind, {"roles_considered": []}) == [("roles_considered",)]
    assert invalid(kind, {"roles_considered": [{"role": "Planner"}]}) == [("roles_considered", 0, "suitable")]


def test_job_search_profile_needs_a_target_role() -> None:
    assert invalid(ActivityKind.JOB_SEARCH_PROFILE, {"target_roles": []}) == [("target_roles",)]


# --- privacy (A3, A4) --------------------------------------------------------------------------------------

MEDICAL_WORDS = ("diagnos", "complaint", "treatment", "medicat", "symptom", "medical", "illness", "disease")


def test_no_medical_field_anywhere() -> None:
    models = all_models()
    assert len(models) > len(DETAILS_MODELS)  # nested models are scanned too
    for model in models:
        for name in model.model_fields:
            assert not any(word in name.lower() for word in MEDICAL_WORDS), f"{model.__name__}.{name}"


def test_free_text_is_bounded_and_documented_non_medical() -> None:
    checked = 0
    for model in all_models():
        for name, field in model.model_fields.items():
            if not is_free_text(field):
                continue
            checked += 1
            assert max_length(field) is not None, f"{model.__name__}.{name} has no max_length"
            assert NON_MEDICAL in (field.description or ""), f"{model.__name__}.{name}"
    assert checked > 50


def test_physician_documents_carry_only_employer_side_fields() -> None:
    for kind in (
        ActivityKind.PROBLEM_ANALYSIS,
        ActivityKind.PROBLEM_ANALYSIS_UPDATE,
        ActivityKind.CURRENT_ASSESSMENT,
        ActivityKind.PHYSICIAN_CONSULTATION,
    ):
        model = DETAILS_MODELS[kind]
        assert "diagnosis" in (model.__doc__ or "").lower()
        assert {"functional_limitations", "capacities", "expected_duration", "degree_of_incapacity"} <= set(
            model.model_fields
        )
        assert ("diagnosis",) in invalid(kind, {"diagnosis": "x"})


# --- property: nothing but ValidationError -----------------------------------------------------------------

FIELD_NAMES = sorted({name for model in all_models() for name in model.model_fields})

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["2026-01-05", "2023-07-01", "pending", "no_internal_prospect", "final_evaluation", ""])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
json_dicts = st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=10), json_values, max_size=8)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(list(ActivityKind)), raw=st.none() | json_dicts, first_sick_day=st.dates())
def test_validate_details_raises_nothing_but_validation_error(
    kind: ActivityKind, raw: dict[str, Any] | None, first_sick_day: date
) -> None:
    try:
        model = validate_details(kind, raw)
    except ValidationError:
        return
    assert isinstance(model, DETAILS_MODELS[kind])
    assert validate_details(kind, stored_form(model)) == model
    assert isinstance(counts_for_deadline(kind, model, first_sick_day), bool)


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(list(MINIMAL)), name=st.sampled_from(FIELD_NAMES), value=json_values)
def test_one_changed_field_raises_nothing_but_validation_error(
    kind: ActivityKind, name: str, value: Any
) -> None:
    with contextlib.suppress(ValidationError):
        validate_details(kind, {**MINIMAL[kind], name: value})


def test_non_dict_details_are_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        validate_details(ActivityKind.TRAINING, ["course"])  # type: ignore[arg-type]
