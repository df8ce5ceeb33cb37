"""The timeline through HTTP: a stored case's timeline, the preview, the stored deadlines worklist."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from app.models.tenants import Role
from tests.conftest import TenantKeys

WORKED_EXAMPLE = {
    "occupational_health_notified": "2026-01-11",
    "problem_analysis": "2026-02-15",
    "action_plan": "2026-03-01",
    "uwv_sick_notification": "2026-10-26",  # week 42 ends Sunday 2026-10-25
    "first_year_evaluation": "2027-01-03",
    "track_2_start": "2027-02-14",  # end of week 58 while no first-year evaluation exists
    "current_assessment": "2027-10-03",
    "final_evaluation": "2027-10-03",
    "wia_application": "2027-10-17",
}


async def open_case(client: httpx.AsyncClient, tenant: TenantKeys, **fields: object) -> dict:
    body = {"employee": {"external_ref": "E-T"}, "first_sick_day": "2026-01-05", **fields}
    response = await client.post("/api/v1/cases", json=body, headers=tenant.headers())
    assert response.status_code == 201, response.text
    return response.json()


def due_dates(timeline: dict) -> dict[str, str]:
    return {d["code"]: d["due_on"] for d in timeline["deadlines"] if d.get("occurrence") in (None, 1)}


async def test_a_case_timeline_follows_the_worked_example(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    case = await open_case(client, tenant_a)
    response = await client.get(
        f"/api/v1/cases/{case['id']}/timeline", params={"as_of": "2026-02-01"}, headers=tenant_a.headers()
    )
    assert response.status_code == 200, response.text
    timeline = response.json()
    assert timeline["sick_day"] == 28 and timeline["week"] == 4
    assert timeline["waiting_period"]["base_ends_on"] == "2028-01-02"
    assert timeline["waiting_period"]["ends_on"] == "2028-01-02"
    dates = due_dates(timeline)
    for code, due in WORKED_EXAMPLE.items():
        assert dates[code] == due, code
    statuses = {d["code"]: d["status"] for d in timeline["deadlines"]}
    assert statuses["occupational_health_notified"] == "overdue"
    assert statuses["problem_analysis"] == "due_soon"
    assert statuses["wia_application"] == "upcoming"


async def test_preview_moves_later_deadlines_by_a_healthy_gap(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    body = {
        "first_sick_day": "2026-01-05",
        "as_of": "2026-03-01",
        "sickness_periods": [
            {"started_on": "2026-01-05", "ended_on": "2026-01-11"},  # 7 sick days
            {"started_on": "2026-02-02"},  # healthy 2026-01-12 .. 2026-02-01: a 21-day gap
        ],
    }
    response = await client.post("/api/v1/timeline/preview", json=body, headers=tenant_a.headers(Role.viewer))
    assert response.status_code == 200, response.text
    dates = due_dates(response.json())
    assert dates["occupational_health_notified"] == "2026-01-11"  # before the gap: unmoved
    assert dates["problem_analysis"] == "2026-03-08"  # 2026-02-15 + 21
    assert dates["wia_application"] == "2027-11-07"  # 2027-10-17 + 21


async def test_preview_refuses_a_gap_of_28_days_as_a_new_case(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    body = {
        "first_sick_day": "2026-01-05",
        "as_of": "2026-03-01",
        "sickness_periods": [
            {"started_on": "2026-01-05", "ended_on": "2026-01-11"},
            {"started_on": "2026-02-09"},
        ],
    }
    response = await client.post("/api/v1/timeline/preview", json=body, headers=tenant_a.headers())
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["code"] == "rule-violated" and problem["rule"] == "T0"


async def test_preview_with_events_and_extensions(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    body = {
        "first_sick_day": "2026-01-05",
        "as_of": "2027-09-15",  # the timeline reads what is known on as_of: the extension is
        "events": [
            {"kind": "problem_analysis", "occurred_on": "2026-02-20", "id": "pa"},  # late
            {"kind": "action_plan", "occurred_on": "2026-03-03", "id": "pva"},
        ],
        "extensions": [{"kind": "voluntary_extension", "weeks": 10, "decided_on": "2027-09-01"}],
    }
    response = await client.post("/api/v1/timeline/preview", json=body, headers=tenant_a.headers())
    assert response.status_code == 200, response.text
    timeline = response.json()
    by_code = {d["code"]: d for d in timeline["deadlines"] if d.get("occurrence") in (None, 1)}
    assert by_code["problem_analysis"]["status"] == "met_late"
    assert by_code["problem_analysis"]["satisfied_by"] == "pa"
    assert by_code["action_plan"]["due_on"] == "2026-03-06"  # problem analysis + 14 days
    assert by_code["action_plan"]["status"] == "met"
    # P12: the extension moves the waiting-period end and T11 (11 weeks before it), nothing earlier.
    assert timeline["waiting_period"]["ends_on"] == "2028-03-12"  # 2028-01-02 + 70 days
    assert by_code["wia_application"]["due_on"] == "2027-12-26"  # 2028-03-12 - 77 days
    assert by_code["first_year_evaluation"]["due_on"] == "2027-01-03"


async def test_preview_validation_points_at_the_field(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    body = {"first_sick_day": "2026-01-05", "events": [{"kind": "lunch", "occurred_on": "2026-01-06"}]}
    response = await client.post("/api/v1/timeline/preview", json=body, headers=tenant_a.headers())
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/events/0/kind"


async def test_worklist_shows_overdue_deadlines_across_cases(
    client: httpx.AsyncClient, tenant_a: TenantKeys, tenant_b: TenantKeys
) -> None:
    await open_case(client, tenant_a, first_sick_day="2026-01-05", case_manager="anna")
    await open_case(client, tenant_a, first_sick_day="2026-06-01", case_manager="bram")
    await open_case(client, tenant_b, first_sick_day="2026-01-05")

    params = {"status": "overdue", "as_of": "2026-03-02"}
    response = await client.get("/api/v1/deadlines", params=params, headers=tenant_a.headers())
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    # Only the January case is overdue on 2 March: T1 (Jan 11), T2 (Feb 15), T3 (Mar 1).
    assert [(i["code"], i["due_on"]) for i in items] == [
        ("occupational_health_notified", "2026-01-11"),
        ("problem_analysis", "2026-02-15"),
        ("action_plan", "2026-03-01"),
    ]
    assert {i["case_manager"] for i in items} == {"anna"}
    assert all(i["status"] == "overdue" for i in items)

    by_manager = await client.get(
        "/api/v1/deadlines",
        params={"case_manager": "bram", "code": "problem_analysis", "as_of": "2026-03-02"},
        headers=tenant_a.headers(),
    )
    assert [(i["due_on"], i["status"]) for i in by_manager.json()["items"]] == [("2026-07-12", "upcoming")]


async def test_worklist_pages_with_a_cursor(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    await open_case(client, tenant_a)
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        params = {"limit": 3, "as_of": "2026-02-01", **({"cursor": cursor} if cursor else {})}
        page = await client.get("/api/v1/deadlines", params=params, headers=tenant_a.headers())
        assert page.status_code == 200
        seen += [item["id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            assert "link" not in page.headers
            break
        assert 'rel="next"' in page.headers["link"]
    assert len(seen) == len(set(seen)) >= 9
    everything = await client.get(
        "/api/v1/deadlines", params={"limit": 500, "as_of": "2026-02-01"}, headers=tenant_a.headers()
    )
    assert [i["id"] for i in everything.json()["items"]] == seen


async def test_worklist_filters_by_statuses_due_window_and_a_coachs_provider(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    january = await open_case(client, tenant_a, first_sick_day="2026-01-05")
    june = await open_case(client, tenant_a, first_sick_day="2026-06-01")
    headers, as_of = tenant_a.headers(), "2026-02-10"

    async def worklist(**params: object) -> list[tuple[str, str, str]]:
        response = await client.get("/api/v1/deadlines", params={"as_of": as_of, **params}, headers=headers)
        assert response.status_code == 200, response.text
        return [(i["case_id"], i["code"], i["status"]) for i in response.json()["items"]]

    # On 10 February the January case's T1 (11 Jan) is overdue and T2 (15 Feb) due within the horizon.
    assert await worklist(status=["due_soon", "overdue"]) == [
        (january["id"], "occupational_health_notified", "overdue"),
        (january["id"], "problem_analysis", "due_soon"),
    ]
    window = await worklist(due_from="2026-06-07", due_to="2026-07-12")
    assert {(case_id, code) for case_id, code, _ in window} == {
        (june["id"], "occupational_health_notified"),
        (june["id"], "problem_analysis"),
    }
    assert all(status == "upcoming" for _, _, status in window)

    track = await client.post(
        f"/api/v1/cases/{june['id']}/tracks",
        json={"kind": "track_2", "started_on": "2026-06-02", "provider": f"{tenant_a.slug} provider"},
        headers=headers,
    )
    assert track.status_code == 201, track.text
    headers = tenant_a.headers(Role.coach)
    coach_sees = await worklist(limit=500)
    assert coach_sees and {case_id for case_id, _, _ in coach_sees} == {june["id"]}


async def test_cases_with_overdue_deadlines(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    late = await open_case(client, tenant_a, first_sick_day="2026-01-05")
    fresh = await open_case(client, tenant_a, first_sick_day="2026-02-25")
    overdue = await client.get(
        "/api/v1/cases", params={"has_overdue": "true", "as_of": "2026-02-27"}, headers=tenant_a.headers()
    )
    assert [c["id"] for c in overdue.json()["items"]] == [late["id"]]
    not_overdue = await client.get(
        "/api/v1/cases", params={"has_overdue": "false", "as_of": "2026-02-27"}, headers=tenant_a.headers()
    )
    assert [c["id"] for c in not_overdue.json()["items"]] == [fresh["id"]]


@pytest.mark.parametrize("path", ["/api/v1/cases/{id}/timeline"])
async def test_another_tenants_timeline_is_not_found(
    client: httpx.AsyncClient, tenant_a: TenantKeys, tenant_b: TenantKeys, path: str
) -> None:
    case = await open_case(client, tenant_a)
    response = await client.get(path.format(id=case["id"]), headers=tenant_b.headers())
    assert response.status_code == 404


@pytest.mark.parametrize("kind", ["voluntary_extension", "wage_sanction"])
async def test_a_recorded_extension_moves_the_stored_case_timeline(
    client: httpx.AsyncClient, tenant_a: TenantKeys, kind: str
) -> None:
    """P12 from stored activities: the case read and the timeline read take `weeks` from the activity's
    details as the database returns them, and move the waiting-period end, T11 and T12 (a day after
    T11), nothing earlier."""
    case = await open_case(client, tenant_a, first_sick_day="2025-01-06")
    as_of = {"as_of": "2026-09-15"}
    timeline_url, case_url = f"/api/v1/cases/{case['id']}/timeline", f"/api/v1/cases/{case['id']}"
    before = (await client.get(timeline_url, params=as_of, headers=tenant_a.headers())).json()
    activity = {
        "kind": kind,
        "occurred_on": "2026-09-01",
        "summary": "UWV decision",
        "details": {"weeks": 10},
    }
    recorded = await client.post(f"{case_url}/activities", json=activity, headers=tenant_a.headers())
    assert recorded.status_code == 201, recorded.text

    after = (await client.get(timeline_url, params=as_of, headers=tenant_a.headers())).json()
    base_end = date.fromisoformat(before["waiting_period"]["ends_on"])
    moved_end = base_end + timedelta(weeks=10)
    assert after["waiting_period"]["ends_on"] == moved_end.isoformat()
    moved = due_dates(after)
    wia_due = moved_end - timedelta(weeks=11)  # T11
    assert moved["wia_application"] == wia_due.isoformat()
    assert moved["riv_submission"] == (wia_due + timedelta(days=1)).isoformat()  # T12 follows T11
    anchored = {"wia_application", "riv_submission"}
    unmoved = {code: due for code, due in due_dates(before).items() if code not in anchored}
    assert {code: moved[code] for code in unmoved} == unmoved
    detail = (await client.get(case_url, params=as_of, headers=tenant_a.headers())).json()
    assert detail["waiting_period_ends_on"] == moved_end.isoformat()


async def test_activities_whose_details_are_timeline_inputs_change_the_stored_timeline(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    """The timeline reads the details of a few kinds only (`DETAILED_INPUT_KINDS`): a structural
    resumption at 65% or more of the wage value is a satisfactory result (P9), which settles the Track 2
    start (T7); a deadline waiver (its deadline and reason) waives that deadline."""
    case = await open_case(client, tenant_a)
    headers = tenant_a.headers()
    track = await client.post(
        f"/api/v1/cases/{case['id']}/tracks",
        json={"kind": "track_1", "started_on": "2026-03-02"},
        headers=headers,
    )
    assert track.status_code == 201, track.text
    for body in (
        {
            "kind": "work_resumption",
            "occurred_on": "2026-06-01",
            "track_id": track.json()["id"],
            "details": {"hours_per_week": 32, "wage_value_percentage": 70, "structural": True},
        },
        {
            "kind": "deadline_waiver",
            "occurred_on": "2026-06-02",
            "details": {"deadline": "final_evaluation", "reason": "No work capacity since day 1"},
        },
    ):
        response = await client.post(f"/api/v1/cases/{case['id']}/activities", json=body, headers=headers)
        assert response.status_code == 201, response.text
    timeline = await client.get(
        f"/api/v1/cases/{case['id']}/timeline", params={"as_of": "2027-11-01"}, headers=headers
    )
    assert timeline.status_code == 200, timeline.text
    deadlines = {d["code"]: d for d in timeline.json()["deadlines"] if d.get("occurrence") in (None, 1)}
    assert deadlines["final_evaluation"]["status"] == "waived"
    assert (deadlines["track_2_start"]["status"], deadlines["track_2_start"]["satisfied_on"]) == (
        "met",
        "2026-06-01",
    )
    assert deadlines["current_assessment"]["status"] == "overdue"  # nothing else waived
