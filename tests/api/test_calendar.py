"""The iCalendar feed: a case manager's upcoming deadlines, read by the secret URL alone."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from icalendar import Calendar

from app.http import today
from app.models.tenants import Role
from tests.api.scenario import Api
from tests.conftest import TenantKeys


async def test_the_feed_holds_the_case_managers_upcoming_deadlines_only(
    client: httpx.AsyncClient, tenant_a: TenantKeys, tenant_b: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    first_sick_day = (today() - timedelta(days=35)).isoformat()
    mine = [
        await api.open_case(first_sick_day, employee={"external_ref": f"E-CAL-{n}"}, case_manager="m.jansen")
        for n in range(2)
    ]
    await api.activity(mine[0]["id"], "occupational_health_notification", first_sick_day)  # T1 met
    theirs = await api.open_case(
        first_sick_day, employee={"external_ref": "E-CAL-X"}, case_manager="a.bakker"
    )
    await Api(client, tenant_b).open_case(first_sick_day, case_manager="m.jansen")  # another tenant's

    created = await api.call("POST", "/calendar-feeds", json={"case_manager": "m.jansen"}, expect=201)
    url = created.json()["url"]
    assert url.startswith("http://testserver/calendar/pwc_") and url.endswith(".ics")

    response = await client.get(url)  # no API key: the token in the URL is the credential
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    assert "E-CAL" not in response.text  # no employee reference in a calendar synced who knows where
    events = Calendar.from_ical(response.content).walk("VEVENT")

    expected = []
    for case in mine:
        timeline = (await api.call("GET", f"/cases/{case['id']}/timeline", expect=200)).json()
        expected += [
            (case["id"], date.fromisoformat(d["due_on"]))
            for d in timeline["deadlines"]
            if d["status"] in ("upcoming", "due_soon")
        ]
    # Each event links to its case; compare (case, due date) pairs with the timelines.
    got = [(str(event["url"]).rsplit("/", 1)[1], event.decoded("dtstart")) for event in events]
    assert sorted(got) == sorted(expected) and got
    assert all(due_on >= today() for _, due_on in got)
    assert theirs["id"] not in response.text
    summaries = {str(event["summary"]) for event in events}
    assert any("(T2)" in summary for summary in summaries)
    assert not any("(T1)" in summary for summary in summaries)  # met or overdue: not upcoming


async def test_a_wrong_or_revoked_token_is_not_found(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    api = Api(client, tenant_a)
    created = (
        await api.call("POST", "/calendar-feeds", json={"case_manager": "m.jansen"}, expect=201)
    ).json()
    assert (await client.get(created["url"])).status_code == 200

    wrong = await client.get("/calendar/pwc_" + "x" * 43 + ".ics")
    assert wrong.status_code == 404 and wrong.json()["code"] == "not-found"

    listed = (await api.call("GET", "/calendar-feeds", expect=200)).json()["items"]
    assert [feed["id"] for feed in listed] == [created["id"]]
    assert "url" not in listed[0] and created["url"].split("/")[-1].startswith(listed[0]["token_prefix"])
    await api.call("DELETE", f"/calendar-feeds/{created['id']}", expect=204)
    assert (await client.get(created["url"])).status_code == 404
    await api.call("POST", "/calendar-feeds", json={"case_manager": "m.jansen"}, role=Role.viewer, expect=403)
