"""Two clients racing on one case or track leave it consistent: real concurrent connections, real commits."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Coroutine
from datetime import date
from typing import Any

import asyncpg
import httpx
from asyncpg.transaction import Transaction

from app.activities.schemas import ActivityBatchItem
from app.activities.service import content_hash
from app.models.tenants import Role
from tests.api.scenario import Api, contact_item
from tests.conftest import CommittedWorld

RACERS = 20


async def answered_after(
    request: Coroutine[Any, Any, httpx.Response], transaction: Transaction, held: str
) -> httpx.Response:
    """The answer to `request`, which must wait for `transaction` (holding `held`) until it commits."""
    sent = asyncio.create_task(request)
    await asyncio.sleep(0.5)
    assert not sent.done(), f"the request did not wait for {held}"
    await transaction.commit()
    return await asyncio.wait_for(sent, 10)


async def insert_twin(
    twin: asyncpg.Connection,
    tenant_id: uuid.UUID,
    case_id: str,
    external_id: str,
    digest: str,
    occurred_on: date,
    summary: str | None = None,
) -> uuid.UUID:
    """Another writer's employee contact under `external_id`, inserted on `twin` (its transaction open)."""
    twin_id = uuid.uuid4()
    await twin.execute(
        "INSERT INTO activities (id, tenant_id, case_id, kind, occurred_on, summary, external_id,"
        " content_hash, recorded_by_role)"
        " VALUES ($1, $2, $3, 'employee_contact', $4, $5, $6, $7, 'integration')",
        twin_id,
        tenant_id,
        uuid.UUID(case_id),
        occurred_on,
        summary,
        external_id,
        digest,
    )
    return twin_id


async def test_twenty_simultaneous_track_2_starts_give_exactly_one(committed: CommittedWorld) -> None:
    api = Api(committed.client, committed.tenant)
    case_id = (await api.open_case("2026-01-05"))["id"]
    responses = await asyncio.gather(
        *(api.start_track(case_id, "track_2", "2026-11-02", expect=None) for _ in range(RACERS))
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: RACERS - 1}, statuses
    assert {r.json()["rule"] for r in responses if r.status_code == 409} == {"P1"}
    tracks = (await api.call("GET", f"/cases/{case_id}/tracks", expect=200)).json()["items"]
    assert len(tracks) == 1


async def test_twenty_identical_phase_transitions_give_exactly_one(committed: CommittedWorld) -> None:
    api = Api(committed.client, committed.tenant)
    case_id = (await api.open_case("2026-01-05"))["id"]
    track = (await api.start_track(case_id, "track_1", "2026-02-01")).json()
    await api.activity(
        case_id,
        "job_inventory",
        "2026-02-10",
        track_id=track["id"],
        roles_considered=[{"role": "Planner", "suitable": False}],
    )
    responses = await asyncio.gather(
        *(api.move(track["id"], "resumption", "2026-02-15", expect=None) for _ in range(RACERS))
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: RACERS - 1}, statuses
    history = (await api.call("GET", f"/tracks/{track['id']}", expect=200)).json()["phases"]
    assert [p["phase"] for p in history] == ["assessment", "resumption"]


async def test_racing_activities_on_one_case_all_count_in_the_deadlines(committed: CommittedWorld) -> None:
    api = Api(committed.client, committed.tenant)
    case_id = (await api.open_case("2026-01-05"))["id"]
    kinds = [
        "occupational_health_notification",
        "uwv_sick_notification",
        "final_evaluation",
        "riv_submission",
    ]
    await asyncio.gather(*(api.activity(case_id, kind, "2026-01-07") for kind in kinds))
    worklist = (
        await api.call("GET", "/deadlines", params={"status": ["met", "met_late"], "limit": 500}, expect=200)
    ).json()["items"]
    assert {item["code"] for item in worklist} >= {"occupational_health_notified", "uwv_sick_notification"}


async def test_racing_posts_of_one_external_id_store_it_once(committed: CommittedWorld) -> None:
    """The racers meet in the external id's unique index: one 201; on the same case the rest 200 with
    that activity, on another case 409 naming it (A5)."""
    api = Api(committed.client, committed.tenant)
    case_id, other_case_id = [(await api.open_case("2026-01-05"))["id"] for _ in range(2)]
    body = {
        "kind": "employee_contact",
        "occurred_on": "2026-01-08",
        "summary": "Call",
        "external_id": "run-7",
    }
    responses = await asyncio.gather(
        *(
            api.call("POST", f"/cases/{case}/activities", json=body, expect=None)
            for case in [case_id] * (RACERS - 1) + [other_case_id]
        )
    )
    statuses = Counter(r.status_code for r in responses)
    created = [r.json()["id"] for r in responses if r.status_code == 201]
    assert len(created) == 1, statuses
    if responses[-1].status_code == 201:  # the other case's twin won: every racer on the first case lost
        assert statuses == {201: 1, 409: RACERS - 1}, statuses
    else:
        assert statuses == {201: 1, 200: RACERS - 2, 409: 1}, statuses
        assert responses[-1].json()["activity_id"] == created[0]
    assert all(r.json()["id"] == created[0] for r in responses if r.status_code == 200)
    stored = [
        a
        for case in (case_id, other_case_id)
        for a in (await api.call("GET", f"/cases/{case}/activities", expect=200)).json()["items"]
    ]
    assert [a["id"] for a in stored] == created


async def test_an_external_id_stored_by_a_twin_on_another_case_meanwhile_is_a_conflict(
    committed: CommittedWorld, database_url: str
) -> None:
    """The twin's insert is still uncommitted when this POST inserts: it waits in the unique index and,
    once the twin commits, answers 409 naming the twin's activity (A5), not a database error."""
    api = Api(committed.client, committed.tenant)
    case_id, other_case_id = [(await api.open_case("2026-01-05"))["id"] for _ in range(2)]
    twin = await asyncpg.connect(database_url)
    try:
        transaction = twin.transaction()
        await transaction.start()
        twin_id = await insert_twin(
            twin, committed.tenant.tenant_id, other_case_id, "run-8", "x", date(2026, 1, 8)
        )
        body = {"kind": "employee_contact", "occurred_on": "2026-01-08", "external_id": "run-8"}
        post = api.call("POST", f"/cases/{case_id}/activities", json=body, expect=None)
        response = await answered_after(post, transaction, "the twin's insert")
    finally:
        await twin.close()
    assert response.status_code == 409, response.text
    assert (response.json()["code"], response.json()["activity_id"]) == ("conflict", str(twin_id))
    assert (await api.call("GET", f"/cases/{case_id}/activities", expect=200)).json()["items"] == []


async def test_a_batch_whose_external_ids_twins_store_meanwhile_answers_with_the_twins(
    committed: CommittedWorld, database_url: str
) -> None:
    """Two twins insert a batch's external ids after the batch read the stored ones: its INSERT waits in
    the unique index, skips both rows once they commit, and each item answers as a retry would (A5): the
    twin with the same content is a duplicate of it, the one with other content a conflict naming it. The
    batch's other item is stored; the twins are not stored again."""
    api = Api(committed.client, committed.tenant)
    case_id = (await api.open_case("2026-01-05"))["id"]

    same, other, own = (contact_item(case_id, n) for n in range(3))
    same_content = content_hash(ActivityBatchItem.model_validate(same))
    twin = await asyncpg.connect(database_url)
    try:
        transaction = twin.transaction()
        await transaction.start()
        stored_on = date.fromisoformat(same["occurred_on"])
        same_twin, other_twin = [
            await insert_twin(
                twin, committed.tenant.tenant_id, case_id, item["external_id"], digest, stored_on
            )
            for item, digest in ((same, same_content), (other, "x"))
        ]
        batch = api.call(
            "POST",
            "/activities/batch",
            json={"items": [same, other, own]},
            role=Role.integration,
            expect=None,
        )
        response = await answered_after(batch, transaction, "the twins' inserts")
    finally:
        await twin.close()
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["duplicates"], body["errors"]) == (1, 1, 1)
    duplicate, conflict, created = body["results"]
    assert (duplicate["status"], duplicate["activity_id"]) == ("duplicate", str(same_twin))
    assert conflict["status"] == "error" and conflict["activity_id"] is None
    assert (conflict["problem"]["code"], conflict["problem"]["rule"]) == ("conflict", "A5")
    assert conflict["problem"]["activity_id"] == str(other_twin)
    assert created["status"] == "created"
    stored = (await api.call("GET", f"/cases/{case_id}/activities", expect=200)).json()["items"]
    assert sorted(a["id"] for a in stored) == sorted(
        [str(same_twin), str(other_twin), created["activity_id"]]
    )


async def test_a_first_sick_day_moved_while_a_post_waits_refuses_the_activity(
    committed: CommittedWorld, database_url: str
) -> None:
    """A case activity is checked against the case as read without a lock, and inserted only while the
    case still holds what the checks read. Here another writer moves the first sick day past the
    activity's date between the two: the insert waits for that writer's lock, finds the case changed,
    and the POST is checked again under the case lock: 409 P6, nothing stored, one audit entry."""
    api = Api(committed.client, committed.tenant)
    case_id = (await api.open_case("2026-01-05"))["id"]
    mover = await asyncpg.connect(database_url)
    try:
        transaction = mover.transaction()
        await transaction.start()
        await mover.execute(
            "UPDATE cases SET first_sick_day = '2026-01-20' WHERE id = $1", uuid.UUID(case_id)
        )
        body = {"kind": "employee_contact", "occurred_on": "2026-01-10", "summary": "Call"}
        headers = {**committed.tenant.headers(), "X-Request-ID": "moved-while-waiting"}
        post = committed.client.post(f"/api/v1/cases/{case_id}/activities", json=body, headers=headers)
        response = await answered_after(post, transaction, "the other writer's lock on the case")
    finally:
        await mover.close()
    assert response.status_code == 409, response.text
    assert (response.json()["code"], response.json()["rule"]) == ("rule-violated", "P6")
    assert (await api.call("GET", f"/cases/{case_id}/activities", expect=200)).json()["items"] == []
    events = (
        await api.call("GET", "/audit-events", role=Role.admin, params={"limit": 100}, expect=200)
    ).json()["items"]
    entries = [e["outcome"] for e in events if e["request_id"] == "moved-while-waiting"]
    assert entries == ["rule-violated"], entries


async def test_posts_after_another_writer_moved_the_first_sick_day_are_checked_against_the_move(
    committed: CommittedWorld, database_url: str
) -> None:
    """The service keeps the case as its last POST read it; another writer (another replica, say) then
    moves the first sick day. Later POSTs are checked against the case as it is now, either way: an
    activity before the new first sick day is refused (P6), and one that only the old first sick day
    refused is stored."""
    api = Api(committed.client, committed.tenant)
    case_id = (await api.open_case("2026-01-05"))["id"]

    async def move_first_sick_day(to: str) -> None:
        writer = await asyncpg.connect(database_url)
        try:
            moved, case = date.fromisoformat(to), uuid.UUID(case_id)
            await writer.execute("UPDATE cases SET first_sick_day = $1 WHERE id = $2", moved, case)
        finally:
            await writer.close()

    async def post(on: str) -> httpx.Response:
        body = {"kind": "employee_contact", "occurred_on": on, "summary": "Call"}
        return await api.call("POST", f"/cases/{case_id}/activities", json=body, expect=None)

    assert (await post("2026-01-10")).status_code == 201
    await move_first_sick_day("2026-01-20")
    refused = await post("2026-01-12")
    assert (refused.status_code, refused.json().get("rule")) == (409, "P6"), refused.text
    assert (await post("2026-01-25")).status_code == 201
    await move_first_sick_day("2026-01-05")
    assert (await post("2026-01-12")).status_code == 201
    stored = (await api.call("GET", f"/cases/{case_id}/activities", expect=200)).json()["items"]
    assert sorted(a["occurred_on"] for a in stored) == ["2026-01-10", "2026-01-12", "2026-01-25"]
