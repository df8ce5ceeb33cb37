"""Reports through HTTP: the RIV and its completeness list, the compliance report and its risk, the
Track 2 progress and final reports, the timeline picture; escaping, well-formedness, privacy, tenancy."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.activities import Activity
from app.models.tenants import Role
from tests.api.scenario import Api
from tests.conftest import TenantKeys

HTML = {"Accept": "text/html"}
ACTION_PLAN = {
    "case_manager": "m.jansen",
    "signed_by_employer": True,
    "signed_by_employee": True,
    "employer_view": "Build up hours in the own role",
    "employee_view": "Agrees, wants to start with mornings",
}
HOSTILE = '<script>alert("x")</script> & \'quoted\' "text"'

# --- A fully documented case -------------------------------------------------------------------------
#
# First sick day Monday 2024-09-02; the reports are read on sick-day 660 (2026-06-23), after the WIA
# application: every deadline due by then is met, in its window, and Track 1 goes on beside Track 2.

FIRST_SICK_DAY = date(2024, 9, 2)
AS_OF_DAY = 660


def on(sick_day: int) -> str:
    return (FIRST_SICK_DAY + timedelta(days=sick_day - 1)).isoformat()


AS_OF = on(AS_OF_DAY)

# What the parametrized test leaves out, and the completeness part that must then be missing.
REQUIRED = {
    "problem_analysis": "problem_analysis",
    "action_plan": "action_plan",
    "evaluation": "action_plan_evaluation",
    "first_year_evaluation": "first_year_evaluation",
    "current_assessment": "current_assessment",
    "final_evaluation": "final_evaluation",
    "employee_view": "employee_view",
    "labour_expert_assessment": "labour_expert_assessment",
    "progress_report": "track_2_progress_report",
}


@dataclass
class BuiltCase:
    case_id: str
    track_1: str
    track_2: str
    ids: dict[str, list[str]] = field(default_factory=dict)


async def _record(
    api: Api,
    built: BuiltCase,
    kind: str,
    day: int,
    *,
    skip: str | None,
    track: str | None = None,
    **body: Any,
) -> None:
    if kind == skip:
        return
    role = (
        Role.occupational_physician
        if kind in ("problem_analysis", "current_assessment")
        else Role.case_manager
    )
    payload: dict[str, Any] = {
        "kind": kind,
        "occurred_on": on(day),
        "details": body.pop("details", {}),
        **body,
    }
    if track:
        payload["track_id"] = track
    response = await api.call(
        "POST", f"/cases/{built.case_id}/activities", json=payload, role=role, expect=201
    )
    built.ids.setdefault(kind, []).append(response.json()["id"])


async def documented_case(
    api: Api, *, skip: str | None = None, display_name: str = "L. de Boer"
) -> BuiltCase:
    case = await api.open_case(
        FIRST_SICK_DAY.isoformat(), employee={"external_ref": "E-RIV", "display_name": display_name}
    )
    built = BuiltCase(case["id"], "", "")
    await _record(api, built, "occupational_health_notification", 3, skip=skip)
    await _record(
        api,
        built,
        "problem_analysis",
        38,
        skip=skip,
        details={"functional_limitations": "No lifting over 10 kg", "expected_duration": "long_term"},
    )
    await _record(api, built, "action_plan", 49, skip=skip, details=ACTION_PLAN)
    built.track_1 = (await api.start_track(built.case_id, "track_1", on(49))).json()["id"]
    await _record(
        api,
        built,
        "job_inventory",
        70,
        skip=skip,
        track=built.track_1,
        details={"roles_considered": [{"role": "Planner", "suitable": True}]},
    )
    await api.move(built.track_1, "resumption", on(75))
    await _record(
        api,
        built,
        "work_resumption",
        90,
        skip=skip,
        track=built.track_1,
        details={"hours_per_week": 12, "wage_value_percentage": 30},
    )
    await _record(api, built, "uwv_sick_notification", 285, skip=skip)
    await _record(
        api,
        built,
        "labour_expert_assessment",
        300,
        skip=skip,
        details={"conclusion": "Other work at 24 hours"},
    )
    await _record(
        api,
        built,
        "first_year_evaluation",
        330,
        skip=skip,
        details={"employer_view": "Track 2 needed", "employee_view": "Agrees"},
    )
    built.track_2 = (await api.start_track(built.case_id, "track_2", on(345), provider="Werkfit BV")).json()[
        "id"
    ]
    t2 = built.track_2
    await _record(api, built, "intake_meeting", 346, skip=skip, track=t2)
    await _record(api, built, "personal_profile", 352, skip=skip, track=t2, details={"education": "MBO 4"})
    await _record(
        api,
        built,
        "trajectory_plan",
        355,
        skip=skip,
        track=t2,
        details={"agreed_reporting_interval_days": 28},
    )
    await api.move(t2, "active_search", on(356))
    await _record(
        api, built, "job_search_profile", 360, skip=skip, track=t2, details={"target_roles": ["Planner"]}
    )
    await _record(
        api,
        built,
        "job_application",
        380,
        skip=skip,
        track=t2,
        details={"employer": "Logistiek Noord BV", "vacancy": "Planner", "result": "invited"},
    )
    await _record(
        api,
        built,
        "job_interview",
        400,
        skip=skip,
        track=t2,
        details={"employer": "Logistiek Noord BV", "vacancy": "Planner", "result": "rejected"},
    )
    await _record(
        api,
        built,
        "training",
        420,
        skip=skip,
        track=t2,
        details={"course": "Excel basics", "completed": True},
    )
    await _record(
        api,
        built,
        "work_experience_placement",
        450,
        skip=skip,
        track=t2,
        details={"employer": "Zorg West", "role": "Planner", "hours_per_week": 16},
    )
    await _record(api, built, "current_assessment", 610, skip=skip, details={"capacities": "24 hours a week"})
    await _record(
        api, built, "final_evaluation", 615, skip=skip, details={"outcome_summary": "Placed part-time"}
    )
    await _record(api, built, "employee_view", 620, skip=skip, details={"view": "I agree with the report"})
    await _record(api, built, "wia_application", 625, skip=skip)
    await _record(api, built, "riv_submission", 626, skip=skip)

    # The recurring records in one batch: evaluations every 35 days (T4: 42), Track 2 progress reports
    # every 25 days (T8: 28), and Track 1 coaching beside Track 2 (P11: within 42 days).
    items: list[dict[str, Any]] = []
    if skip != "evaluation":
        items += [{"kind": "evaluation", "occurred_on": on(day)} for day in range(84, AS_OF_DAY + 1, 35)]
    if skip != "progress_report":
        items += [
            {
                "kind": "progress_report",
                "occurred_on": on(day),
                "track_id": t2,
                "details": {"period_from": on(day - 24), "period_to": on(day)},
            }
            for day in range(370, AS_OF_DAY + 1, 25)
        ]
    items += [
        {"kind": "coaching_session", "occurred_on": on(day), "track_id": built.track_1}
        for day in range(100, AS_OF_DAY + 1, 35)
    ]
    result = await api.call(
        "POST",
        "/activities/batch",
        json={"items": [{**i, "case_id": built.case_id} for i in items]},
        expect=200,
    )
    assert result.json()["errors"] == 0, result.text
    return built


async def riv(api: Api, case_id: str, as_of: str = AS_OF, **kwargs: Any) -> httpx.Response:
    return await api.call(
        "GET", f"/cases/{case_id}/reports/reintegration", params={"as_of": as_of}, expect=200, **kwargs
    )


async def compliance(api: Api, case_id: str, as_of: str = AS_OF) -> dict[str, Any]:
    response = await api.call(
        "GET", f"/cases/{case_id}/reports/compliance", params={"as_of": as_of}, expect=200
    )
    return response.json()


def by_rule(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {finding["rule"]: finding for finding in report["findings"]}


# --- RIV and compliance of a fully documented case ----------------------------------------------------


async def test_a_fully_documented_case_has_a_complete_riv_and_low_risk(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    built = await documented_case(api)

    report = (await riv(api, built.case_id)).json()
    assert report["completeness"] == [] and report["complete"] is True
    assert report["case"]["week"] == 95 and report["case"]["employee"]["display_name"] == "L. de Boer"
    sections = {s["key"]: s for s in report["general_part"]}
    assert [s["key"] for s in report["general_part"]] == [
        "problem_analysis",
        "action_plan",
        "evaluations",
        "first_year_evaluation",
        "current_assessment",
        "final_evaluation",
        "employee_view",
        "labour_expert_assessment",
    ]
    assert len(sections["evaluations"]["documents"]) == len(range(84, AS_OF_DAY + 1, 35))
    assert sections["problem_analysis"]["documents"][0]["details"] == {
        "functional_limitations": "No lifting over 10 kg",
        "expected_duration": "long_term",
    }
    assert [t["id"] for t in report["track_1"]] == [built.track_1]
    (track_2,) = report["track_2"]
    assert track_2["phase"] == "active_search" and track_2["activity_counts"]["job_application"] == 1
    assert {a["kind"] for a in track_2["key_activities"]} >= {"intake_meeting", "work_experience_placement"}
    assert "job_application" not in {a["kind"] for a in track_2["key_activities"]}  # counted, not listed

    findings = await compliance(api, built.case_id)
    rules = by_rule(findings)
    for rule in [f"T{n}" for n in range(1, 13)] + ["P8", "P9", "P10", "P11", "A2"]:
        assert rules[rule]["status"] == "ok", rules[rule]
        assert rules[rule]["source"], rule
    assert findings["risk"] == "low" and findings["risk_rules"] == []
    checks = [f["check"] for f in findings["findings"]]
    assert checks == sorted(
        checks, key=["documents_complete", "result_satisfactory", "efforts_sufficient"].index
    )
    # Evidence names the satisfying records and their dates.
    (t2_evidence,) = rules["T2"]["evidence"]
    assert t2_evidence["type"] == "activity" and t2_evidence["on"] == on(38)
    assert t2_evidence["id"] == built.ids["problem_analysis"][0]
    assert {e["type"] for e in rules["T7"]["evidence"]} == {"track"}

    # Earlier, the late documents are not due yet: pending, not missing.
    early = (await riv(api, built.case_id, as_of=on(400))).json()
    assert early["completeness"] == []
    assert {p["part"] for p in early["pending"]} == {
        "current_assessment",
        "final_evaluation",
        "employee_view",
    }


@pytest.mark.parametrize("left_out", sorted(REQUIRED))
async def test_each_missing_document_is_named_and_raises_the_risk(
    client: httpx.AsyncClient, tenant_a: TenantKeys, left_out: str
) -> None:
    api = Api(client, tenant_a)
    built = await documented_case(api, skip=left_out)

    report = (await riv(api, built.case_id)).json()
    assert [m["part"] for m in report["completeness"]] == [REQUIRED[left_out]], report["completeness"]
    (missing,) = report["completeness"]
    assert missing["rule"] and missing["detail"] and missing["source"]
    assert report["complete"] is False

    findings = await compliance(api, built.case_id)
    assert findings["risk"] in ("medium", "high"), findings["risk_reason"]
    assert findings["risk_rules"], findings
    if left_out in ("problem_analysis", "action_plan", "evaluation", "first_year_evaluation"):
        assert findings["risk"] == "high"
    if left_out in ("current_assessment", "final_evaluation"):
        assert findings["risk"] == "high"


# --- A neglected case ---------------------------------------------------------------------------------


async def test_late_track_2_missed_evaluations_and_a_neglected_track_1_are_findings(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    first = date(2025, 6, 2)

    def day(k: int) -> str:
        return (first + timedelta(days=k - 1)).isoformat()

    case_id = (await api.open_case(first.isoformat()))["id"]
    await api.activity(case_id, "occupational_health_notification", day(3))
    await api.activity(case_id, "problem_analysis", day(38), role=Role.occupational_physician)
    await api.activity(case_id, "action_plan", day(49), **ACTION_PLAN)
    track_1 = (await api.start_track(case_id, "track_1", day(49))).json()["id"]
    evaluations = [
        (await api.activity(case_id, "evaluation", day(k))).json() for k in (84, 126, 168, 210, 252, 294, 315)
    ]
    await api.activity(case_id, "uwv_sick_notification", day(285))
    await api.activity(case_id, "labour_expert_assessment", day(300))
    await api.activity(
        case_id, "first_year_evaluation", day(330), employer_view="Track 2", employee_view="Agrees"
    )
    track_2 = (await api.start_track(case_id, "track_2", day(400))).json()["id"]  # T7 was due on day 372
    as_of = day(420)  # 15 weeks after the last evaluation

    report = await compliance(api, case_id, as_of)
    rules = by_rule(report)

    p8 = rules["P8"]
    assert p8["status"] == "violation" and p8["check"] == "efforts_sufficient"
    assert {"type": "track", "id": track_2, "on": day(400)}.items() <= p8["evidence"][0].items()
    assert any(e["type"] == "due_date" and e["on"] == day(372) for e in p8["evidence"])

    t4 = rules["T4"]
    assert t4["status"] == "violation" and "overdue since " + day(357) in t4["detail"]
    last = evaluations[-1]
    assert any(e["id"] == last["id"] and e["on"] == day(315) for e in t4["evidence"])
    assert any(e["type"] == "due_date" and e["on"] == day(357) for e in t4["evidence"])

    p11 = rules["P11"]
    assert p11["status"] == "warning" and "no activity" in p11["detail"]
    assert any(e["type"] == "track" and e["id"] == track_2 for e in p11["evidence"])
    assert any(e["type"] == "as_of" and e["on"] == as_of for e in p11["evidence"])

    assert report["risk"] == "high"
    assert {"P8", "T4"} <= set(report["risk_rules"])
    assert "P8" in report["risk_reason"] and "T4" in report["risk_reason"]

    # A Track 1 activity brings P11 back to ok; the RIV names the missed evaluations.
    await api.activity(case_id, "coaching_session", day(410), track_id=track_1)
    assert by_rule(await compliance(api, case_id, as_of))["P11"]["status"] == "ok"
    missing = (await riv(api, case_id, as_of)).json()["completeness"]
    assert [m["part"] for m in missing] == ["action_plan_evaluation"] and missing[0]["rule"] == "T4"


# --- Track 2 reports ----------------------------------------------------------------------------------


async def test_track_2_progress_and_final_reports(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    api = Api(client, tenant_a)
    built = await documented_case(api)
    path = f"/tracks/{built.track_2}/reports"

    progress = (
        await api.call(
            "GET", f"{path}/progress", params={"from": on(375), "to": on(455), "as_of": AS_OF}, expect=200
        )
    ).json()
    assert progress["report"] == "progress" and progress["period"] == {"from": on(375), "to": on(455)}
    assert [(a["employer"], a["result"]) for a in progress["applications"]] == [
        ("Logistiek Noord BV", "invited")
    ]
    assert [i["result"] for i in progress["interviews"]] == ["rejected"]
    assert [(p["kind"], p["employer"], p["hours_per_week"]) for p in progress["placements"]] == [
        ("work_experience_placement", "Zorg West", 16)
    ]
    assert [(t["course"], t["completed"]) for t in progress["training"]] == [("Excel basics", True)]
    assert progress["totals"]["applications_by_result"] == {"invited": 1}
    phases = {p["phase"]: p for p in progress["by_phase"]}
    assert list(phases) == ["active_search"]
    assert all(on(375) <= a["occurred_on"] <= on(455) for a in phases["active_search"]["activities"])

    default = (await api.call("GET", f"{path}/progress", params={"as_of": AS_OF}, expect=200)).json()
    assert default["period"] == {"from": on(AS_OF_DAY - 27), "to": AS_OF}
    assert [a["kind"] for p in default["by_phase"] for a in p["activities"]] == ["progress_report"]

    final = (await api.call("GET", f"{path}/final", params={"as_of": AS_OF}, expect=200)).json()
    assert final["draft"] is True and final["outcome"] is None
    assert final["period"] == {"from": on(345), "to": AS_OF}
    assert [p["phase"] for p in final["by_phase"]] == ["orientation", "active_search"]
    assert final["totals"]["applications"] == 1 and final["totals"]["placements"] == 1

    html = (await api.call("GET", f"{path}/final", params={"as_of": AS_OF}, headers=HTML, expect=200)).text
    assert_well_formed(html)
    assert "Track 2 final report (draft)" in html and "Zorg West" in html

    bad = await api.call("GET", f"{path}/progress", params={"from": on(400), "to": on(390), "as_of": AS_OF})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "#/query/from"
    later = await api.call("GET", f"{path}/progress", params={"to": on(AS_OF_DAY + 1), "as_of": AS_OF})
    assert later.status_code == 422 and later.json()["errors"][0]["pointer"] == "#/query/to"

    # Track 1 has no such reports.
    for report in ("progress", "final"):
        refused = await api.call("GET", f"/tracks/{built.track_1}/reports/{report}", params={"as_of": AS_OF})
        assert refused.status_code == 404 and refused.json()["code"] == "not-found"
        assert "Track 1" in refused.json()["detail"]


async def test_a_closed_track_2_final_report_has_its_outcome(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    case_id = (await api.open_case("2026-01-05"))["id"]
    track = (await api.start_track(case_id, "track_2", "2026-06-01")).json()["id"]
    for kind, details in (
        ("intake_meeting", {}),
        ("personal_profile", {}),
        ("trajectory_plan", {"agreed_reporting_interval_days": 28}),
    ):
        await api.activity(case_id, kind, "2026-06-02", track_id=track, **details)
    await api.move(track, "active_search", "2026-06-03")
    await api.activity(case_id, "job_search_profile", "2026-06-03", track_id=track, target_roles=["Driver"])
    await api.activity(
        case_id,
        "job_application",
        "2026-06-04",
        track_id=track,
        employer="Bus BV",
        vacancy="Driver",
        result="hired",
    )
    await api.move(track, "completion", "2026-06-10")
    await api.activity(case_id, "final_report", "2026-06-11", track_id=track, outcome="placed_external")
    await api.close(track, "placed_external", "2026-06-12")

    final = (
        await api.call("GET", f"/tracks/{track}/reports/final", params={"as_of": "2026-07-01"}, expect=200)
    ).json()
    assert final["draft"] is False and final["outcome"] == "placed_external"
    assert final["period"] == {"from": "2026-06-01", "to": "2026-06-12"}
    assert final["final_report"]["details"] == {"outcome": "placed_external"}
    assert [p["phase"] for p in final["by_phase"]] == ["orientation", "active_search", "completion"]
    # As of a day before the closure, the track was open and its final report a draft.
    before = (
        await api.call("GET", f"/tracks/{track}/reports/final", params={"as_of": "2026-06-11"}, expect=200)
    ).json()
    assert (
        before["draft"] is True
        and before["track"]["status"] == "open"
        and before["outcome"] == "placed_external"
    )


# --- HTML, SVG, escaping ------------------------------------------------------------------------------

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "source", "wbr"}


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts += 1
        if any(name.startswith("on") for name, _ in attrs):
            self.errors.append(f"event attribute on {tag}")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def assert_well_formed(markup: str) -> None:
    parser = _Balance()
    parser.feed(markup)
    parser.close()
    assert parser.errors == [] and parser.stack == [], (parser.errors, parser.stack)
    assert parser.scripts == 0
    ET.fromstring(markup)  # XHTML-compatible: parses as XML too


def assert_safe_svg(markup: str) -> ET.Element:
    root = ET.fromstring(markup)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    for element in root.iter():
        assert not element.tag.lower().endswith(("script", "foreignobject")), element.tag
        assert not any(name.lower().startswith("on") for name in element.attrib), element.attrib
        assert not any("javascript:" in value.lower() for value in element.attrib.values())
    return root


async def test_the_riv_page_is_printable_well_formed_and_escapes_user_text(
    client: httpx.AsyncClient, tenant_a: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    built = await documented_case(api, display_name=HOSTILE)
    await api.call(
        "POST",
        f"/cases/{built.case_id}/activities",
        json={"kind": "evaluation", "occurred_on": on(650), "summary": HOSTILE, "outcome": "a < b && c > d"},
        expect=201,
    )
    response = await riv(api, built.case_id, headers=HTML)
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src" not in response.headers["content-security-policy"]
    assert response.headers["vary"] == "Accept"
    page = response.text
    assert_well_formed(page)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;quoted&#39; &#34;text&#34;" in page
    assert "a &lt; b &amp;&amp; c &gt; d" in page
    assert "@page" in page and "@media print" in page  # print CSS, inline
    assert (
        "<link" not in page
        and "src=" not in page
        and "http://" not in page.replace("http://www.w3.org/1999/xhtml", "")
    )
    assert "Complete: every part due" in page
    assert page.count("Action plan evaluation") == len(range(84, AS_OF_DAY + 1, 35)) + 1

    # JSON stays the default; a browser's Accept gets HTML.
    assert (await riv(api, built.case_id)).headers["content-type"] == "application/json"
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert (
        (await riv(api, built.case_id, headers={"Accept": browser}))
        .headers["content-type"]
        .startswith("text/html")
    )
    both = "application/json, text/html;q=0.5"
    assert (await riv(api, built.case_id, headers={"Accept": both})).headers[
        "content-type"
    ] == "application/json"


async def test_the_timeline_picture_is_safe_svg(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    api = Api(client, tenant_a)
    built = await documented_case(api, display_name=HOSTILE)
    response = await api.call(
        "GET", f"/cases/{built.case_id}/timeline.svg", params={"as_of": AS_OF}, expect=200
    )
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["x-content-type-options"] == "nosniff"
    markup = response.text
    root = assert_safe_svg(markup)
    assert "<script" not in markup
    assert "&lt;script&gt;" in markup
    texts = " ".join("".join(e.itertext()) for e in root.iter("{http://www.w3.org/2000/svg}text"))
    assert HOSTILE in texts  # the name is shown, as text
    for label in (
        "Track 1",
        "Track 2",
        "Sickness",
        "week 52",
        "week 104",
        "as of 23 Jun 2026 · week 95",
        "overdue",
    ):
        assert label in texts, label
    assert "active search" in texts and "resumption" in texts
    titles = " ".join(e.text or "" for e in root.iter("{http://www.w3.org/2000/svg}title"))
    assert "T3 Action plan agreed and signed: met" in titles


async def test_the_picture_shows_a_relapse_gap(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    api = Api(client, tenant_a)
    case_id = (await api.open_case("2026-01-05"))["id"]
    (period,) = (await api.call("GET", f"/cases/{case_id}/sickness-periods", expect=200)).json()["items"]
    await api.call(
        "PATCH",
        f"/cases/{case_id}/sickness-periods/{period['id']}",
        json={"ended_on": "2026-02-01"},
        headers={"If-Match": '"1"'},
        expect=200,
    )
    await api.call(
        "POST", f"/cases/{case_id}/sickness-periods", json={"started_on": "2026-02-20"}, expect=201
    )
    markup = (
        await api.call("GET", f"/cases/{case_id}/timeline.svg", params={"as_of": "2026-04-01"}, expect=200)
    ).text
    root = assert_safe_svg(markup)
    titles = [e.text or "" for e in root.iter("{http://www.w3.org/2000/svg}title")]
    assert "Healthy from 2026-02-02 to 2026-02-19 (18 days; the relapse joins the case)" in titles
    assert "Sick from 2026-02-20 (still sick)" in titles


# --- Privacy and tenancy ------------------------------------------------------------------------------


async def test_reports_show_only_the_documented_employer_side_fields(
    client: httpx.AsyncClient, tenant_a: TenantKeys, db: AsyncSession
) -> None:
    """Even a stored `details` key that no kind defines (written behind the API's back) stays out of
    every report: reports show only the fields each kind documents, which are non-medical (A3, A4)."""
    api = Api(client, tenant_a)
    case_id = (await api.open_case("2026-01-05"))["id"]
    created = await api.activity(
        case_id,
        "problem_analysis",
        "2026-02-10",
        role=Role.occupational_physician,
        capacities="Four hours a day",
    )
    secret = "SECRET-DIAGNOSIS-TEXT"
    await db.execute(
        update(Activity)
        .where(Activity.id == uuid.UUID(created.json()["id"]))
        .values(details={"capacities": "Four hours a day", "diagnosis": secret})
    )
    await db.flush()
    for path, headers in (
        (f"/cases/{case_id}/reports/reintegration", {}),
        (f"/cases/{case_id}/reports/reintegration", HTML),
        (f"/cases/{case_id}/reports/compliance", {}),
        (f"/cases/{case_id}/timeline.svg", {}),
    ):
        for role in (r for r in Role if r is not Role.coach):  # a coach may see only its provider's cases
            body = (await api.call("GET", path, role=role, headers=headers, expect=200)).text
            assert secret not in body and "diagnosis" not in body.lower(), (path, role)
    report = (await api.call("GET", f"/cases/{case_id}/reports/reintegration", expect=200)).json()
    (document,) = report["general_part"][0]["documents"]
    assert document["details"] == {"capacities": "Four hours a day"}


async def test_another_tenant_gets_404_on_every_report(
    client: httpx.AsyncClient, tenant_a: TenantKeys, tenant_b: TenantKeys
) -> None:
    api = Api(client, tenant_a)
    case_id = (await api.open_case("2026-01-05"))["id"]
    track_2 = (await api.start_track(case_id, "track_2", "2026-06-01")).json()["id"]
    paths = [
        f"/cases/{case_id}/reports/reintegration",
        f"/cases/{case_id}/reports/compliance",
        f"/cases/{case_id}/timeline.svg",
        f"/tracks/{track_2}/reports/progress",
        f"/tracks/{track_2}/reports/final",
    ]
    for path in paths:
        await api.call("GET", path, expect=200)
    other = Api(client, tenant_b)
    for path in paths:
        for headers in ({}, HTML):
            response = await other.call("GET", path, headers=headers)
            assert response.status_code == 404, (path, response.text)
            assert response.json()["code"] == "not-found"
    unknown = uuid.uuid4()
    assert (await api.call("GET", f"/cases/{unknown}/reports/compliance")).status_code == 404
    assert (await api.call("GET", f"/tracks/{unknown}/reports/final")).status_code == 404
    assert (await client.get(f"/api/v1/cases/{case_id}/timeline.svg")).status_code == 401
