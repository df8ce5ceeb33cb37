"""Report endpoints. Any authenticated role of the tenant may read them; another tenant's case or track
answers 404. JSON by default; `Accept: text/html` gives a printable page (RIV and Track 2 reports)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from app.activities.service import medical_parts_for
from app.db import SessionDep
from app.http import AsOfQuery, horizon_days, today
from app.problems import problem_responses
from app.reports import compliance, html, service, svg
from app.reports.schemas import ComplianceReport, ReintegrationReport, Track2Report
from app.schemas import IsoDate
from app.security import PrincipalDep

router = APIRouter(tags=["reports"])

HTML = "text/html"
JSON = "application/json"
SVG = "image/svg+xml"
# Pages and pictures are served from the API's origin: they may not load or run anything.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
SAFE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Vary": "Accept",
}


def _html_or_json(description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": description,
            "content": {HTML: {"schema": {"type": "string"}, "example": "<!DOCTYPE html>…"}},
        },
        **problem_responses(401, 404, 422),
    }


def _quality(accept: str, media_type: str) -> float:
    """The q-value `accept` gives `media_type`, using the most specific matching range."""
    main = media_type.split("/")[0]
    best: tuple[int, float] = (-1, 0.0)
    for item in accept.split(","):
        kind, *params = (part.strip() for part in item.split(";"))
        specificity = {media_type: 2, f"{main}/*": 1, "*/*": 0}.get(kind.lower())
        if specificity is None or specificity < best[0]:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best = (specificity, q)
    return best[1]


def wants_html(request: Request) -> bool:
    """HTML only when the client ranks it above JSON; JSON on a tie or without an Accept header."""
    accept = request.headers.get("accept")
    if not accept:
        return False
    return _quality(accept, HTML) > _quality(accept, JSON)


def _page(markup: str) -> HTMLResponse:
    return HTMLResponse(markup, headers=SAFE_HEADERS)


@router.get(
    "/cases/{case_id}/reports/reintegration",
    response_model=ReintegrationReport,
    responses=_html_or_json("The RIV as JSON, or with `Accept: text/html` a printable page."),
    summary="The reintegration report (RIV) with its completeness list",
    description="The general part assembled from the case's documents (problem analysis and updates, "
    "action plan and updates, evaluations, first-year evaluation, current assessment, final evaluation, "
    "the employee's view, the labour expert assessment), the Track 1 and Track 2 summaries, and "
    "`completeness`: each part due by `as_of` that is missing, with the rule behind it (T2, T3, T4, T6, "
    "T7, T8, T9, T10; A2 the employee's view, due with the final evaluation; P10 the labour expert "
    "assessment once Track 2 has started). Records dated after `as_of` are left out. No medical data "
    "(A3). Send `Accept: text/html` for a printable page (inline CSS, no external assets).",
)
async def reintegration_report(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    as_of: AsOfQuery = None,
) -> Any:
    data = await service.load_case(
        session, principal.tenant_id, case_id, as_of or today(), horizon_days(request)
    )
    report = service.reintegration_report(data)
    if principal.is_physician:  # A3: the medical parts, for the occupational physician alone
        documents = [doc for section in report.general_part for doc in section.documents]
        medical = await medical_parts_for(session, principal, [doc.activity_id for doc in documents])
        for doc in documents:
            doc.medical = medical.get(doc.activity_id)
    if wants_html(request):
        return _page(html.render_reintegration(report))
    return report


@router.get(
    "/cases/{case_id}/reports/compliance",
    response_model=ComplianceReport,
    responses=problem_responses(401, 404, 422),
    summary="The compliance report: UWV's checks as findings and the wage-sanction risk",
    description="UWV's order of checks: 1 `documents_complete` (T1–T6, T9–T12 and the employee's view, "
    "A2), 2 `result_satisfactory` (P9), 3 `efforts_sufficient` (T7, T8, P8, P10, P11). One finding per "
    "rule with `status` ok, warning or violation, a plain-language `detail`, `evidence` (activity, track "
    "or waiver ids with their dates, and due dates) and the `source` from the rule catalogue. Deadline "
    "statuses map as: met → ok; met_late → warning; overdue → violation for the statutory documents and "
    "T7, warning for the practice rules T1 and T8; not yet due, waived (with the reason), suspended and "
    "not applicable → ok. `risk` is high on a violation of a wage-sanction rule (T2, T3, T6, T7, T9, T10, "
    "P8, or T4 missed more than once), medium on any other violation or warning, low otherwise; with a "
    "satisfactory result (P9) the efforts do not count, as UWV does not judge them.",
)
async def compliance_report(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    as_of: AsOfQuery = None,
) -> ComplianceReport:
    data = await service.load_case(
        session, principal.tenant_id, case_id, as_of or today(), horizon_days(request)
    )
    return compliance.compliance_report(data)


TRACK_1_NOTE = (
    " Only for Track 2: a Track 1 track answers 404 (`not-found`) with a detail saying so, as it has no "
    "such report (Track 1 is reported in the case's RIV)."
)


@router.get(
    "/tracks/{track_id}/reports/progress",
    response_model=Track2Report,
    responses=_html_or_json("The progress report as JSON, or with `Accept: text/html` a printable page."),
    summary="Track 2 progress report for a period",
    description="The activities of the period by phase, the applications with their results, interviews, "
    "placements, training, totals and the outcome. Default period: the last 28 days up to `as_of` (T8's "
    "interval); `to` may not be after `as_of`, `from` not after `to` (422)." + TRACK_1_NOTE,
)
async def progress_report(
    track_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    from_on: Annotated[
        IsoDate | None,
        Query(alias="from", description="First day of the period (default: 27 days before `to`)."),
    ] = None,
    to_on: Annotated[
        IsoDate | None, Query(alias="to", description="Last day of the period (default: as_of).")
    ] = None,
    as_of: AsOfQuery = None,
) -> Any:
    day = as_of or today()
    data = await service.load_track_2(session, principal.tenant_id, track_id, day, horizon_days(request))
    start, end = service.progress_period(day, from_on, to_on)
    report = service.track_2_report(data, "progress", start, end)
    if wants_html(request):
        return _page(html.render_track_2(report))
    return report


@router.get(
    "/tracks/{track_id}/reports/final",
    response_model=Track2Report,
    responses=_html_or_json("The final report as JSON, or with `Accept: text/html` a printable page."),
    summary="Track 2 final report",
    description="The whole track up to its end (or `as_of`): activities by phase, applications and their "
    "results, placements, training and the outcome. P5 needs a `final_report` activity before the track "
    "closes, so this report can be drawn up while the track is open: it is then marked `draft`."
    + TRACK_1_NOTE,
)
async def final_report(
    track_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    as_of: AsOfQuery = None,
) -> Any:
    data = await service.load_track_2(
        session, principal.tenant_id, track_id, as_of or today(), horizon_days(request)
    )
    start, end = service.final_period(data)
    report = service.track_2_report(data, "final", start, end)
    if wants_html(request):
        return _page(html.render_track_2(report))
    return report


@router.get(
    "/cases/{case_id}/timeline.svg",
    response_class=Response,
    responses={
        200: {"description": "An SVG picture of the case.", "content": {SVG: {"schema": {"type": "string"}}}},
        **problem_responses(401, 404, 422),
    },
    summary="The case's timeline as a picture (SVG)",
    description="The sick-day axis in weeks with calendar dates, the sickness periods, Track 1 and Track 2 "
    "as parallel lanes with their phases, the deadlines as markers coloured by status (with a legend), "
    "and the `as_of` line. Static SVG: no scripts, every text escaped; hover a marker for its details.",
)
async def timeline_svg(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    as_of: AsOfQuery = None,
) -> Response:
    data = await service.load_case(
        session,
        principal.tenant_id,
        case_id,
        as_of or today(),
        horizon_days(request),
        with_periods=True,
        with_activities=False,
    )
    headers = {k: v for k, v in SAFE_HEADERS.items() if k != "Vary"}
    return Response(svg.render_timeline_svg(data), media_type=SVG, headers=headers)
