"""Two clients racing on one case or track leave it consistent: real concurrent connections, real commits."""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.api.scenario import Api
from tests.conftest import CommittedWorld

RACERS = 20


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
