"""Activities (validation per kind, filters, external ids) and the soft rules P8-P11 as case warnings."""

from __future__ import annotations

import httpx

from app.models.tenants import Role
from tests.api.scenario import Api, refused
from tests.conftest import TenantKeys


async def test_details_are_validated_per_kind_with_pointers(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    case_id = (await api.open_case())["id"]
    track = (await api.start_track(case_id, "track_2", "2026-06-01")).json()
    response = await api.activity(
        case_id, "job_application", "2026-06-02", track_id=track["id"], expect=422, employer="X", colour="red"
    )
    pointers = {error["pointer"] for error in response.json()["errors"]}
    assert pointers == {"#/details/vacancy", "#/details/result", "#/details/colour"}
    # A track kind on the case, and a case kind in a track, are refused (A1).
    assert (await api.activity(case_id, "job_inventory", "2026-06-02", expect=422)).json()["rule"] == "A1"
    wrong_place = await api.activity(case_id, "action_plan", "2026-06-02", track_id=track["id"], expect=422)
    assert wrong_place.json()["rule"] == "A1"
    refused(await api.activity(case_id, "evaluation", "2999-01-01", expect=None), "P6")
    refused(await api.activity(case_id, "evaluation", "2026-01-04", expect=None), "P6")


async def test_an_unsigned_action_plan_is_kept_but_does_not_meet_t3(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    case_id = (await api.open_case())["id"]
    draft = (await api.activity(case_id, "action_plan", "2026-02-20", case_manager="anna")).json()
    assert draft["counts_for_deadline"] is False
    timeline = (
        await api.call("GET", f"/cases/{case_id}/timeline", params={"as_of": "2026-03-05"}, expect=200)
    ).json()
    action_plan = next(d for d in timeline["deadlines"] if d["code"] == "action_plan")
    assert action_plan["status"] == "overdue"


async def test_external_id_stores_once(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    api = Api(client, tenant_a)
    case_id = (await api.open_case())["id"]
    body = {
        "kind": "employee_contact",
        "occurred_on": "2026-01-08",
        "external_id": "script-1",
        "summary": "Call",
    }
    first = await api.call(
        "POST", f"/cases/{case_id}/activities", json=body, role=Role.integration, expect=201
    )
    again = await api.call(
        "POST", f"/cases/{case_id}/activities", json=body, role=Role.integration, expect=200
    )
    assert again.json()["id"] == first.json()["id"]
    changed = await api.call(
        "POST", f"/cases/{case_id}/activities", json={**body, "summary": "Visit"}, role=Role.integration
    )
    assert changed.status_code == 409 and changed.json()["code"] == "conflict"
    assert changed.json()["activity_id"] == first.json()["id"]
    listed = (await api.call("GET", f"/cases/{case_id}/activities", expect=200)).json()["items"]
    assert len(listed) == 1


async def test_a_retry_answers_with_the_stored_activity_where_the_checks_would_refuse_it(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    """A5 before the other rules: the physician's problem analysis, sent again by the integration key
    (which may not record one, A3), answers 200 with the stored activity; without the external id, 403."""
    api = Api(client, tenant_a)
    case_id = (await api.open_case())["id"]
    body = {"kind": "problem_analysis", "occurred_on": "2026-01-20", "external_id": "pa-1"}
    path = f"/cases/{case_id}/activities"
    first = await api.call("POST", path, json=body, role=Role.occupational_physician, expect=201)
    again = await api.call("POST", path, json=body, role=Role.integration, expect=200)
    assert again.json()["id"] == first.json()["id"]
    other = {**body, "external_id": "pa-2"}
    assert (await api.call("POST", path, json=other, role=Role.integration)).status_code == 403


async def test_a_track_of_another_case_is_refused_alone_and_in_a_batch(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    case_id, other_case_id = [(await api.open_case("2026-01-05"))["id"] for _ in range(2)]
    other_track = (await api.start_track(other_case_id, "track_1", "2026-02-01")).json()["id"]
    body = {"kind": "coaching_session", "occurred_on": "2026-02-10", "track_id": other_track}
    single = await api.call("POST", f"/cases/{case_id}/activities", json=body, expect=422)
    assert [e["pointer"] for e in single.json()["errors"]] == ["#/track_id"]
    batch = await api.call(
        "POST",
        "/activities/batch",
        json={"items": [{**body, "case_id": other_case_id}, {**body, "case_id": case_id}]},
        role=Role.integration,
        expect=200,
    )
    first, second = batch.json()["results"]
    assert first["status"] == "created"
    assert [e["pointer"] for e in second["problem"]["errors"]] == ["#/items/1/track_id"]
    assert (await api.call("GET", f"/cases/{case_id}/activities", expect=200)).json()["items"] == []


async def test_activity_filters_and_pages(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    api = Api(client, tenant_a)
    case_id = (await api.open_case())["id"]
    for day in range(6, 16):
        await api.activity(case_id, "employee_contact", f"2026-01-{day:02d}")
    await api.activity(case_id, "occupational_health_notification", "2026-01-07")
    contacts = await api.call(
        "GET",
        f"/cases/{case_id}/activities",
        params={"kind": "employee_contact", "occurred_from": "2026-01-10", "occurred_to": "2026-01-12"},
        expect=200,
    )
    assert [a["occurred_on"] for a in contacts.json()["items"]] == ["2026-01-10", "2026-01-11", "2026-01-12"]
    page = await api.call("GET", f"/cases/{case_id}/activities", params={"limit": 4}, expect=200)
    seen = [a["id"] for a in page.json()["items"]]
    cursor = page.json()["next_cursor"]
    while cursor:
        page = await api.call(
            "GET", f"/cases/{case_id}/activities", params={"limit": 4, "cursor": cursor}, expect=200
        )
        seen += [a["id"] for a in page.json()["items"]]
        cursor = page.json()["next_cursor"]
    assert len(seen) == len(set(seen)) == 11


async def test_soft_rules_are_accepted_and_reported(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    api = Api(client, tenant_a)
    case_id = (await api.open_case("2025-06-02"))["id"]
    await api.start_track(case_id, "track_1", "2025-07-01")
    # T7 is due at the end of week 58 (no first-year evaluation): 2026-07-12. Starting later is accepted.
    late = await api.start_track(case_id, "track_2", "2026-08-03")
    assert late.status_code == 201
    detail = (await api.call("GET", f"/cases/{case_id}", params={"as_of": "2026-10-01"}, expect=200)).json()
    warnings = {w["code"]: w["rule"] for w in detail["warnings"]}
    assert warnings["track_2_late"] == "P8"
    assert warnings["track_2_unprepared"] == "P10"  # no action plan, no labour expert assessment
    assert warnings["track_1_neglected"] == "P11"  # no Track 1 activity while Track 2 runs


async def test_soft_rules_read_the_activities_on_file_as_of_the_day(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    """P10 and P11 from what the case overview reads: the first action plan and labour expert assessment,
    and the last Track 1 activity on or before as_of (a later one does not count)."""
    api = Api(client, tenant_a)
    case_id = (await api.open_case("2025-06-02"))["id"]
    plan = {
        "case_manager": "m.jansen",
        "signed_by_employer": True,
        "signed_by_employee": True,
        "employer_view": "Build up hours in own role",
        "employee_view": "Agrees, wants to start with mornings",
    }
    await api.activity(case_id, "action_plan", "2025-07-20", **plan)
    await api.activity(case_id, "labour_expert_assessment", "2026-06-15")
    track_1 = (await api.start_track(case_id, "track_1", "2025-07-01")).json()
    await api.start_track(case_id, "track_2", "2026-07-06")
    await api.activity(
        case_id, "workplace_adjustment", "2026-09-20", track_id=track_1["id"], adjustment="Standing desk"
    )

    async def warnings(as_of: str) -> dict[str, str]:
        detail = (await api.call("GET", f"/cases/{case_id}", params={"as_of": as_of}, expect=200)).json()
        return {w["code"]: w["rule"] for w in detail["warnings"]}

    prepared = await warnings("2026-10-01")
    assert "track_2_unprepared" not in prepared  # P10: plan and assessment both before Track 2's start
    assert "track_1_neglected" not in prepared  # P11: Track 1 activity 11 days before as_of
    assert (await warnings("2026-09-10"))["track_1_neglected"] == "P11"  # the 09-20 activity is later
