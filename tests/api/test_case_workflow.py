"""A whole case through HTTP, Track 1 and Track 2 in parallel, every illegal step tried and refused."""

from __future__ import annotations

import httpx

from app.models.tenants import Role
from tests.api.scenario import Api, refused
from tests.conftest import TenantKeys

ACTION_PLAN = {
    "case_manager": "m.jansen",
    "signed_by_employer": True,
    "signed_by_employee": True,
    "employer_view": "Build up hours in own role",
    "employee_view": "Agrees, wants to start with mornings",
}


async def test_a_case_from_first_sick_day_to_track_2_closure(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    case = await api.open_case("2026-01-05")
    case_id = case["id"]
    assert case["status"] == "open" and case["tracks"] == []

    await api.activity(case_id, "occupational_health_notification", "2026-01-07")
    # Only the physician records the problem analysis (A3).
    await api.activity(case_id, "problem_analysis", "2026-02-10", expect=403)
    await api.activity(
        case_id,
        "problem_analysis",
        "2026-02-10",
        role=Role.occupational_physician,
        functional_limitations="No lifting over 10 kg",
        expected_duration="long_term",
    )
    await api.activity(case_id, "action_plan", "2026-02-20", **ACTION_PLAN)

    # Track 1: assessment -> resumption -> completion, each exit requirement enforced (P3).
    track_1 = (await api.start_track(case_id, "track_1", "2026-02-20")).json()
    assert track_1["phase"] == "assessment"
    assert track_1["next_phase"] == {"phase": "resumption", "missing": ["job_inventory"]}
    body = refused(await api.move(track_1["id"], "resumption", "2026-03-15", expect=None), "P3")
    assert body["missing"] == ["job_inventory"]
    refused(await api.move(track_1["id"], "completion", "2026-03-15", expect=None), "P3")  # skipping
    await api.activity(
        case_id,
        "job_inventory",
        "2026-03-10",
        track_id=track_1["id"],
        roles_considered=[{"role": "Planner", "suitable": True}],
    )
    moved = (await api.move(track_1["id"], "resumption", "2026-03-15")).json()
    assert moved["phase"] == "resumption"
    refused(await api.move(track_1["id"], "assessment", "2026-03-20", expect=None), "P3")  # going back
    await api.activity(
        case_id,
        "work_resumption",
        "2026-04-01",
        track_id=track_1["id"],
        hours_per_week=12,
        wage_value_percentage=35,
    )
    for on in ("2026-04-01", "2026-05-10", "2026-06-20", "2026-08-01", "2026-09-10", "2026-10-20"):
        await api.activity(case_id, "evaluation", on)
    await api.activity(case_id, "uwv_sick_notification", "2026-10-20")
    await api.activity(case_id, "labour_expert_assessment", "2026-11-10")
    await api.activity(
        case_id, "first_year_evaluation", "2026-11-16", employer_view="Track 2 needed", employee_view="Agrees"
    )

    # Track 2 starts while Track 1 stays open: they run in parallel.
    track_2 = (await api.start_track(case_id, "track_2", "2026-11-17", provider="Werkfit BV")).json()
    assert track_2["phase"] == "orientation"
    refused(
        await api.start_track(case_id, "track_2", "2026-11-17", expect=None), "P1"
    )  # a second open Track 2
    tracks = (await api.call("GET", f"/cases/{case_id}/tracks", expect=200)).json()["items"]
    assert [(t["kind"], t["status"]) for t in tracks] == [("track_1", "open"), ("track_2", "open")]
    # An activity dated before the track started (P6).
    refused(
        await api.activity(case_id, "intake_meeting", "2026-11-16", track_id=track_2["id"], expect=None), "P6"
    )

    body = refused(await api.move(track_2["id"], "active_search", "2026-11-18", expect=None), "P3")
    assert body["missing"] == ["intake_meeting", "personal_profile", "trajectory_plan"]
    await api.activity(case_id, "intake_meeting", "2026-11-17", track_id=track_2["id"])
    await api.activity(case_id, "personal_profile", "2026-11-18", track_id=track_2["id"], education="MBO 4")
    await api.activity(
        case_id, "trajectory_plan", "2026-11-18", track_id=track_2["id"], agreed_reporting_interval_days=28
    )
    await api.move(track_2["id"], "active_search", "2026-11-18")

    body = refused(await api.move(track_2["id"], "completion", "2026-11-19", expect=None), "P3")
    assert body["missing"] == [
        "job_search_profile",
        "one of: job_application, secondment, work_experience_placement",
    ]
    await api.activity(
        case_id, "job_search_profile", "2026-11-19", track_id=track_2["id"], target_roles=["Planner"]
    )
    await api.activity(
        case_id,
        "job_application",
        "2026-11-19",
        track_id=track_2["id"],
        employer="Logistiek Noord BV",
        vacancy="Planner",
        result="hired",
    )
    await api.move(track_2["id"], "completion", "2026-11-20")

    # Closing Track 1 while Track 2 runs in the waiting period is refused (P4).
    refused(await api.close(track_1["id"], "no_internal_prospect", "2026-11-20", expect=None), "P4")
    # Closing Track 2 without a final report is refused (P5).
    body = refused(await api.close(track_2["id"], "placed_external", "2026-11-21", expect=None), "P5")
    assert body["missing"] == ["final_report"]
    await api.activity(
        case_id, "final_report", "2026-11-21", track_id=track_2["id"], outcome="placed_external"
    )
    closed = (await api.close(track_2["id"], "placed_external", "2026-11-21")).json()
    assert closed["status"] == "closed" and closed["outcome"] == "placed_external"
    assert closed["phases"][-1]["left_on"] == "2026-11-21"
    # Track 1 was never touched by any of it.
    track_1_now = (await api.call("GET", f"/tracks/{track_1['id']}", expect=200)).json()
    assert track_1_now["status"] == "open" and track_1_now["phase"] == "resumption"

    timeline = (
        await api.call("GET", f"/cases/{case_id}/timeline", params={"as_of": "2026-11-22"}, expect=200)
    ).json()
    statuses = {(d["code"], d["occurrence"]): d["status"] for d in timeline["deadlines"]}
    for code in (
        "occupational_health_notified",
        "problem_analysis",
        "action_plan",
        "uwv_sick_notification",
        "first_year_evaluation",
        "track_2_start",
    ):
        assert statuses[(code, None)] == "met", (code, statuses)
    evaluations = [
        s for (code, n), s in statuses.items() if code == "action_plan_evaluation" and n and n <= 6
    ]
    assert evaluations == ["met"] * 6

    detail = (await api.call("GET", f"/cases/{case_id}", params={"as_of": "2026-11-22"}, expect=200)).json()
    assert detail["week"] == 46 and detail["waiting_period_ends_on"] == "2028-01-02"
    assert [(t["kind"], t["phase"], t["status"]) for t in detail["tracks"]] == [
        ("track_1", "resumption", "open"),
        ("track_2", "completion", "closed"),
    ]


async def test_track_start_rules(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    api = Api(client, tenant_a)
    case_id = (await api.open_case("2026-03-02"))["id"]
    refused(await api.start_track(case_id, "track_1", "2026-03-01", expect=None), "P2")  # before day 1
    refused(await api.start_track(case_id, "track_1", "2999-01-01", expect=None), "P2")  # future
    await api.start_track(case_id, "track_1", "2026-03-02")
    refused(await api.start_track(case_id, "track_1", "2026-03-03", expect=None), "P1")


async def test_waiver_and_track_2_exclude_each_other(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    api = Api(client, tenant_a)
    case_id = (await api.open_case("2026-01-05"))["id"]
    refused(
        await api.call(
            "PUT",
            f"/cases/{case_id}/track-2-waiver",
            json={"reason": "return_within_3_months", "recorded_on": "2026-11-01"},
        ),
        "P7",
    )
    waiver = await api.call(
        "PUT",
        f"/cases/{case_id}/track-2-waiver",
        json={"reason": "marginal_capacity", "recorded_on": "2026-11-01"},
        expect=201,
    )
    assert waiver.json()["reason"] == "marginal_capacity"
    refused(await api.start_track(case_id, "track_2", "2026-11-02", expect=None), "P7")
    await api.call("DELETE", f"/cases/{case_id}/track-2-waiver", expect=204)
    await api.call("GET", f"/cases/{case_id}/track-2-waiver", expect=404)
    await api.start_track(case_id, "track_2", "2026-11-02")
    refused(
        await api.call(
            "PUT",
            f"/cases/{case_id}/track-2-waiver",
            json={"reason": "marginal_capacity", "recorded_on": "2026-11-03"},
        ),
        "P7",
    )


async def test_a_failed_rule_writes_nothing(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    api = Api(client, tenant_a)
    case_id = (await api.open_case("2026-01-05"))["id"]
    track = (await api.start_track(case_id, "track_2", "2026-06-01")).json()
    refused(await api.move(track["id"], "active_search", "2026-06-02", expect=None), "P3")
    after = (await api.call("GET", f"/tracks/{track['id']}", expect=200)).json()
    assert after["phases"] == track["phases"] and after["version"] == track["version"]
    activities = (await api.call("GET", f"/cases/{case_id}/activities", expect=200)).json()
    assert activities["items"] == []


async def test_relapses_and_recovery(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    api = Api(client, tenant_a)
    case_id = (await api.open_case("2026-01-05"))["id"]
    # A relapse while the period is still open (T0).
    refused(
        await api.call("POST", f"/cases/{case_id}/sickness-periods", json={"started_on": "2026-02-01"}), "T0"
    )
    periods = (await api.call("GET", f"/cases/{case_id}/sickness-periods", expect=200)).json()["items"]
    first = periods[0]
    await api.call(
        "PATCH",
        f"/cases/{case_id}/sickness-periods/{first['id']}",
        json={"ended_on": "2026-01-20"},
        expect=428,
    )
    recovered = await api.call(
        "PATCH",
        f"/cases/{case_id}/sickness-periods/{first['id']}",
        json={"ended_on": "2026-01-20"},
        headers={"If-Match": '"1"'},
    )
    assert recovered.status_code == 200, recovered.text
    # 28 healthy days or more: a new case (T0).
    refused(
        await api.call("POST", f"/cases/{case_id}/sickness-periods", json={"started_on": "2026-02-18"}), "T0"
    )
    # 27 healthy days: joins, and later deadlines move by the gap.
    await api.call(
        "POST", f"/cases/{case_id}/sickness-periods", json={"started_on": "2026-02-17"}, expect=201
    )
    timeline = (
        await api.call("GET", f"/cases/{case_id}/timeline", params={"as_of": "2026-03-01"}, expect=200)
    ).json()
    due = {d["code"]: d["due_on"] for d in timeline["deadlines"] if d["occurrence"] in (None, 1)}
    assert due["wia_application"] == "2027-11-13"  # 2027-10-17 + 27
