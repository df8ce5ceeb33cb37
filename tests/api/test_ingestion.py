"""Activity ingestion for scripts: batches, external ids, Idempotency-Key; nothing duplicated or lost."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import asyncpg
import httpx
from fastapi import FastAPI

from app.activities.service import INSERT_CHUNK
from app.models.tenants import Role
from tests.api.scenario import Api, contact_item
from tests.conftest import CommittedWorld, TenantKeys


async def post_batch(api: Api, items: list[dict], **kwargs: object) -> httpx.Response:
    return await api.call("POST", "/activities/batch", json={"items": items}, role=Role.integration, **kwargs)


async def stored_ids(api: Api, cases: list[str]) -> set[str]:
    """The ids of every activity stored on these cases, page by page."""
    stored: set[str] = set()
    for case in cases:
        cursor = None
        while True:
            params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            page = (await api.call("GET", f"/cases/{case}/activities", params=params, expect=200)).json()
            stored |= {activity["id"] for activity in page["items"]}
            if not (cursor := page["next_cursor"]):
                break
    return stored


async def test_a_mixed_batch_gets_a_result_per_item(
    client: httpx.AsyncClient, tenant_a: TenantKeys, tenant_b: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    case = (await api.open_case("2026-01-05"))["id"]
    other_tenants_case = (await Api(client, tenant_b).open_case("2026-01-05"))["id"]
    track = (await api.start_track(case, "track_2", "2026-06-01")).json()["id"]
    single = {key: value for key, value in contact_item(case, 0).items() if key != "case_id"}
    await api.call("POST", f"/cases/{case}/activities", json=single, expect=201)
    items = [
        contact_item(case, 1),  # 0 created
        contact_item("00000000-0000-0000-0000-000000000000", 2),  # 1 unknown case
        contact_item(other_tenants_case, 3),  # 2 another tenant's case: not found
        {**contact_item(case, 4), "kind": "lunch"},  # 3 invalid kind
        {**contact_item(case, 5), "occurred_on": "2026-01-04"},  # 4 before the first sick day (P6)
        {**contact_item(case, 6), "occurred_on": "2026-02-30"},  # 5 not a date
        contact_item(case, 0),  # 6 stored before with the same content: duplicate
        {**contact_item(case, 0), "summary": "Other"},  # 7 stored before with other content: conflict
        contact_item(case, 1),  # 8 the same as item 0: duplicate of it
        {
            "case_id": case,
            "kind": "job_application",
            "occurred_on": "2026-06-02",
            "track_id": track,
            "details": {"employer": "X"},
        },  # 9 details incomplete
        {
            "case_id": case,
            "kind": "job_application",
            "occurred_on": "2026-06-02",
            "track_id": track,
            "details": {"employer": "X", "vacancy": "Planner", "result": "pending"},
        },  # 10 created
        {"case_id": case, "kind": "problem_analysis", "occurred_on": "2026-02-01"},  # 11 physician only
        {**contact_item(case, 12), "colour": "red"},  # 12 unknown field
    ]
    response = await post_batch(api, items, expect=200)
    body = response.json()
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    outcome = [
        (r["status"], (r["problem"] or {}).get("code"), (r["problem"] or {}).get("rule")) for r in results
    ]
    assert outcome == [
        ("created", None, None),
        ("error", "not-found", None),
        ("error", "not-found", None),
        ("error", "validation-failed", None),
        ("error", "rule-violated", "P6"),
        ("error", "validation-failed", None),
        ("duplicate", None, None),
        ("error", "conflict", "A5"),
        ("duplicate", None, None),
        ("error", "validation-failed", "A1"),
        ("created", None, None),
        ("error", "forbidden", None),
        ("error", "validation-failed", None),
    ]
    assert results[8]["activity_id"] == results[0]["activity_id"]
    assert {e["pointer"] for e in results[3]["problem"]["errors"]} == {"#/items/3/kind"}
    assert {e["pointer"] for e in results[9]["problem"]["errors"]} == {
        "#/items/9/details/vacancy",
        "#/items/9/details/result",
    }
    assert {e["pointer"] for e in results[12]["problem"]["errors"]} == {"#/items/12/colour"}
    assert (body["created"], body["duplicates"], body["errors"]) == (2, 2, 9)
    stored = (await api.call("GET", f"/cases/{case}/activities", params={"limit": 500}, expect=200)).json()[
        "items"
    ]
    assert sorted(a["external_id"] or "" for a in stored) == ["", "script-0", "script-1"]


async def test_items_across_insert_chunks_are_checked_against_each_other(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    """A batch with more items than one INSERT takes (INSERT_CHUNK): an item repeating an external id of
    an earlier chunk is that item's duplicate with the same content and a conflict with other content,
    and a refused item in a later chunk loses none of the others."""
    api = Api(client, tenant_a)
    cases = [(await api.open_case("2026-01-05"))["id"] for _ in range(4)]
    count = 2 * INSERT_CHUNK + 10
    items = [contact_item(cases[n % 4], n) for n in range(count)]
    same, other, refused = count - 3, count - 2, count - 1
    items[same] = contact_item(cases[3 % 4], 3)  # item 3 again: a duplicate of it
    items[other] = {**contact_item(cases[5 % 4], 5), "summary": "Other"}  # item 5 with other content
    items[refused] = {
        **contact_item(cases[0], count),
        "occurred_on": "2026-01-04",
    }  # before the first sick day
    body = (await post_batch(api, items, expect=200)).json()
    results = body["results"]
    assert (body["created"], body["duplicates"], body["errors"]) == (count - 3, 1, 2)
    assert [r["index"] for r in results] == list(range(count))
    assert (results[same]["status"], results[same]["activity_id"]) == ("duplicate", results[3]["activity_id"])
    conflict, refusal = results[other]["problem"], results[refused]["problem"]
    assert (conflict["code"], conflict["rule"]) == ("conflict", "A5")
    assert conflict["activity_id"] == results[5]["activity_id"]
    assert (refusal["code"], refusal["rule"]) == ("rule-violated", "P6")
    created = {r["activity_id"] for r in results if r["status"] == "created"}
    assert len(created) == count - 3
    assert await stored_ids(api, cases) == created


async def test_a_batch_satisfies_deadlines_of_every_case_it_touches(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    cases = [(await api.open_case("2026-01-05"))["id"] for _ in range(3)]
    items = [
        {"case_id": c, "kind": "occupational_health_notification", "occurred_on": "2026-01-08"} for c in cases
    ]
    assert (await post_batch(api, items, expect=200)).json()["created"] == 3
    met = (
        await api.call(
            "GET", "/deadlines", params={"status": "met", "code": "occupational_health_notified"}, expect=200
        )
    ).json()["items"]
    assert sorted(i["case_id"] for i in met) == sorted(cases)


async def test_too_many_items_is_413(client: httpx.AsyncClient, tenant_a: TenantKeys, app: FastAPI) -> None:
    api = Api(client, tenant_a)
    limit = app.state.settings.batch_max_items
    response = await post_batch(api, [{}] * (limit + 1))
    assert response.status_code == 413 and response.json()["code"] == "payload-too-large"


async def test_the_same_batch_three_times_at_once_is_stored_once(committed: CommittedWorld) -> None:
    api = Api(committed.client, committed.tenant)
    cases = [(await api.open_case("2026-01-05"))["id"] for _ in range(5)]
    count = 2 * INSERT_CHUNK + 100  # more than one INSERT each
    items = [contact_item(cases[n % 5], n) for n in range(count)]
    responses = await asyncio.gather(*(post_batch(api, items, expect=200) for _ in range(3)))
    bodies = [r.json() for r in responses]
    assert sorted((b["created"], b["duplicates"], b["errors"]) for b in bodies) == [
        (0, count, 0),
        (0, count, 0),
        (count, 0, 0),
    ]
    ids = [[r["activity_id"] for r in b["results"]] for b in bodies]
    assert ids[0] == ids[1] == ids[2]
    assert await stored_ids(api, cases) == set(ids[0])


async def test_batches_share_their_cases_unless_they_change_deadlines(
    committed: CommittedWorld, database_url: str
) -> None:
    """A batch of kinds the timeline ignores runs beside another such batch on the same case (the other
    one is played by a transaction holding the case FOR SHARE); a batch that changes deadlines waits for
    it, and any batch waits for a change to the case in flight (a transaction holding it FOR UPDATE)."""
    api = Api(committed.client, committed.tenant)
    case = (await api.open_case("2026-01-05"))["id"]
    notification = {"case_id": case, "kind": "occupational_health_notification", "occurred_on": "2026-01-08"}
    holder = await asyncpg.connect(database_url)
    try:

        async def hold(mode: str) -> asyncpg.transaction.Transaction:
            transaction = holder.transaction()
            await transaction.start()
            await holder.execute(f"SELECT 1 FROM cases WHERE id = $1 FOR {mode}", uuid.UUID(case))
            return transaction

        async def waits_for(transaction: asyncpg.transaction.Transaction, items: list[dict]) -> None:
            batch = asyncio.create_task(post_batch(api, items, expect=200))
            await asyncio.sleep(0.5)
            assert not batch.done(), "the batch did not wait for the lock"
            await transaction.rollback()
            assert (await asyncio.wait_for(batch, 10)).json()["created"] == len(items)

        shared = await hold("SHARE")
        beside = await asyncio.wait_for(post_batch(api, [contact_item(case, 1)], expect=200), 10)
        assert beside.json()["created"] == 1
        await waits_for(shared, [notification, contact_item(case, 2)])
        await waits_for(await hold("UPDATE"), [contact_item(case, 3)])
    finally:
        await holder.close()


async def test_idempotency_key_replays_and_refuses_reuse(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    case = (await api.open_case("2026-01-05"))["id"]
    body = {"kind": "employee_contact", "occurred_on": "2026-01-09", "summary": "Call"}
    headers = {"Idempotency-Key": "retry-123"}
    first = await api.call("POST", f"/cases/{case}/activities", json=body, headers=headers, expect=201)
    again = await api.call("POST", f"/cases/{case}/activities", json=body, headers=headers, expect=201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    reused = await api.call(
        "POST", f"/cases/{case}/activities", json={**body, "summary": "Other"}, headers=headers
    )
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency-key-reused"
    listed = (await api.call("GET", f"/cases/{case}/activities", expect=200)).json()["items"]
    assert len(listed) == 1
    # Keys are per tenant: another tenant's identical key is a different request.
    opened = await api.call(
        "POST",
        "/cases",
        json={"employee": {"external_ref": "X"}, "first_sick_day": "2026-01-05"},
        headers={"Idempotency-Key": "open-1"},
        expect=201,
    )
    replay = await api.call(
        "POST",
        "/cases",
        json={"employee": {"external_ref": "X"}, "first_sick_day": "2026-01-05"},
        headers={"Idempotency-Key": "open-1"},
        expect=201,
    )
    assert replay.json()["id"] == opened.json()["id"]


async def test_a_batch_with_an_idempotency_key_is_replayed_as_answered(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    case = (await api.open_case("2026-01-05"))["id"]
    items = [contact_item(case, 1), {**contact_item(case, 2), "occurred_on": "2025-12-01"}]
    headers = {"Idempotency-Key": "batch-1"}
    first = await post_batch(api, items, headers=headers, expect=200)
    assert [r["status"] for r in first.json()["results"]] == ["created", "error"]
    # A retry gets the first answer itself (the same error, "created" rather than "duplicate").
    again = await post_batch(api, items, headers=headers, expect=200)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert len(await stored_ids(api, [case])) == 1


async def test_concurrent_requests_with_one_key_run_once(committed: CommittedWorld) -> None:
    api = Api(committed.client, committed.tenant)
    case = (await api.open_case("2026-01-05"))["id"]
    body = {"kind": "employee_contact", "occurred_on": "2026-01-09", "summary": "Call"}
    responses = await asyncio.gather(
        *(
            api.call("POST", f"/cases/{case}/activities", json=body, headers={"Idempotency-Key": "same"})
            for _ in range(10)
        )
    )
    assert Counter(r.status_code for r in responses) == {201: 10}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 9
    listed = (await api.call("GET", f"/cases/{case}/activities", expect=200)).json()["items"]
    assert len(listed) == 1


async def test_a_malformed_idempotency_key_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    case = (await api.open_case("2026-01-05"))["id"]
    body = {"kind": "employee_contact", "occurred_on": "2026-01-09", "summary": "Call"}
    for key in ["has space", "x" * 256, ""]:
        refused = await api.call(
            "POST", f"/cases/{case}/activities", json=body, headers={"Idempotency-Key": key}
        )
        assert refused.status_code == 422, (key, refused.text)
        problem = refused.json()
        assert problem["code"] == "validation-failed"
        assert [e["pointer"] for e in problem["errors"]] == ["#/headers/Idempotency-Key"], problem
    listed = (await api.call("GET", f"/cases/{case}/activities", expect=200)).json()["items"]
    assert listed == []
