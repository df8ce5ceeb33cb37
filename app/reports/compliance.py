"""The compliance report: UWV's order of checks (1 documents complete, 2 result satisfactory (P9),
3 efforts sufficient) as findings, one per rule, each with its evidence and source, and the overall
wage-sanction risk. Built from a loaded `CaseData`, without further queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from app.domain import catalogue
from app.domain import timeline as tl
from app.domain import tracks as track_rules
from app.reports.schemas import ComplianceReport, Evidence, Finding, FindingStatus, MissingPart, Risk
from app.reports.service import (
    EMPLOYEE_VIEW_SOURCE,
    NOT_YET_DUE,
    PROGRESS_PERIOD_DAYS,
    RECURRING,
    ActivityRow,
    CaseData,
    completeness,
    deadlines_of,
    missed_intervals,
    report_case,
    timeline_interval,
)

DOCUMENTS = "documents_complete"
RESULT = "result_satisfactory"
EFFORTS = "efforts_sufficient"

# Overdue is a violation for the statutory documents and T7, a warning for practice rules.
PRACTICE_RULES = frozenset({"T1", "T8"})
# Wage-sanction grounds: a violation of one of these makes the risk high (T4 only when missed repeatedly).
SANCTION_RULES = frozenset({"T2", "T3", "T6", "T7", "T9", "T10", "P8"})
RULE_SOURCES = {
    "P8": "UWV Werkwijzer Poortwachter",
    "P9": "UWV Werkwijzer Poortwachter (as summarised by practitioners)",
    "P10": "practice (advice, not law)",
    "P11": "UWV Werkwijzer Poortwachter (both tracks in parallel)",
    "A2": EMPLOYEE_VIEW_SOURCE,
}
# (check, deadline code), in UWV's order of checks.
DEADLINE_CHECKS = (
    (DOCUMENTS, "occupational_health_notified"),
    (DOCUMENTS, "problem_analysis"),
    (DOCUMENTS, "action_plan"),
    (DOCUMENTS, "action_plan_evaluation"),
    (DOCUMENTS, "uwv_sick_notification"),
    (DOCUMENTS, "first_year_evaluation"),
    (DOCUMENTS, "current_assessment"),
    (DOCUMENTS, "final_evaluation"),
    (DOCUMENTS, "wia_application"),
    (DOCUMENTS, "riv_submission"),
    (EFFORTS, "track_2_start"),
    (EFFORTS, "track_2_progress_report"),
)
_SEVERITY = {"ok": 0, "warning": 1, "violation": 2}


class _Evidence:
    """Turns a deadline's `satisfied_by` into evidence: an activity, a track or a waiver."""

    def __init__(self, data: CaseData) -> None:
        self.activities = {str(a.id): a for a in data.activities}
        self.tracks = {str(t.id): t for t in data.tracks}
        self.result = satisfactory_result(data)

    def activity(self, activity: ActivityRow, note: str) -> Evidence:
        return Evidence(
            type="activity",
            id=str(activity.id),
            activity_kind=activity.kind,
            on=activity.occurred_on,
            note=note,
        )

    def satisfied(self, deadline: tl.Deadline) -> Evidence | None:
        ref, on = deadline.satisfied_by, deadline.satisfied_on
        if on is None:
            return None
        if ref in self.activities:
            return self.activity(self.activities[ref], f"{self.activities[ref].kind} recorded")
        if ref in self.tracks:
            return Evidence(type="track", id=ref, on=on, note="Track 2 started")
        if ref is not None:
            return Evidence(type="waiver", id=ref, on=on, note="Track 2 waiver recorded (P7)")
        if self.result is not None:
            return self.activity(self.result, "satisfactory result (P9)")
        return None

    @staticmethod
    def due(deadline: tl.Deadline, note: str = "due") -> Evidence | None:
        if deadline.due_on is None:
            return None
        return Evidence(type="due_date", id=None, on=deadline.due_on, note=f"{deadline.code} {note}")


def _deadline_status(deadline: tl.Deadline) -> FindingStatus:
    if deadline.status == "met_late":
        return "warning"
    if deadline.status == "overdue":
        return "warning" if deadline.rule in PRACTICE_RULES else "violation"
    return "ok"


def _describe(deadline: tl.Deadline, as_of: date) -> str:
    status = deadline.status
    if status == "met":
        return f"met on {deadline.satisfied_on} (due {deadline.due_on})"
    if status == "met_late":
        assert deadline.satisfied_on is not None and deadline.due_on is not None
        late = (deadline.satisfied_on - deadline.due_on).days
        return f"met late on {deadline.satisfied_on}, {late} days after its due date {deadline.due_on}"
    if status == "overdue":
        assert deadline.due_on is not None
        return f"overdue since {deadline.due_on} ({(as_of - deadline.due_on).days} days by {as_of})"
    if status == "waived":
        return f"waived: {deadline.waived_reason}"
    if status in ("suspended", "not_applicable"):
        return f"{status.replace('_', ' ')}: the case recovered or closed before it fell due"
    return f"not due yet: due on {deadline.due_on}" + (" (soon)" if status == "due_soon" else "")


def _deadline_finding(check: str, code: str, data: CaseData, evidence: _Evidence) -> tuple[Finding, int]:
    """One finding per rule; recurring rules (T4, T8) fold their occurrences together. Also returns the
    number of missed occurrences (late or overdue), which T4's risk reads."""
    entry = catalogue.BY_CODE[code]
    deadlines = deadlines_of(data.timeline, code)
    items: list[Evidence] = []
    if not deadlines:
        reason = "no Track 2 has started" if code == "track_2_progress_report" else "nothing falls due"
        return _finding(check, entry, "ok", f"{entry.title}: not applicable, {reason}.", []), 0
    status: FindingStatus = "ok"
    for deadline in deadlines:
        if _SEVERITY[_deadline_status(deadline)] > _SEVERITY[status]:
            status = _deadline_status(deadline)
        hit = evidence.satisfied(deadline)
        if hit is not None:
            items.append(hit)
        if deadline.status in ("overdue", "met_late"):
            due = evidence.due(deadline)
            if due is not None:
                items.append(due)
    if code in RECURRING:
        interval = timeline_interval(data) if code == "action_plan_evaluation" else PROGRESS_PERIOD_DAYS
        late = [d for d in deadlines if d.status == "met_late"]
        overdue = [d for d in deadlines if d.status == "overdue"]
        met = [d for d in deadlines if d.status == "met"]
        missed = len(late) + sum(missed_intervals(d, data.as_of, interval) for d in overdue)
        parts = [f"{len(met)} on time", f"{len(late)} late"]
        if overdue:
            parts.append(
                f"overdue since {overdue[0].due_on}: about {missed - len(late)} missed by {data.as_of}"
            )
        upcoming = [d for d in deadlines if d.status in NOT_YET_DUE]
        if upcoming:
            parts.append(f"next due on {upcoming[0].due_on}")
        detail = f"{entry.title}: " + "; ".join(parts) + "."
        if code == "action_plan_evaluation" and not data.by_kind("action_plan"):
            detail += " There is no action plan to evaluate yet (T3)."
        return _finding(check, entry, status, detail, items), missed
    deadline = deadlines[0]
    detail = f"{entry.title}: {_describe(deadline, data.as_of)}."
    if code == "track_2_start" and deadline.status in ("met", "met_late"):
        what = items[0].note if items else "satisfied"
        detail = f"{entry.title}: {what} on {deadline.satisfied_on} (due {deadline.due_on})."
    if deadline.status == "overdue":
        detail += f" If missed: {entry.consequence}."
    missed = int(deadline.status in ("overdue", "met_late"))
    return _finding(check, entry, status, detail, items), missed


def _finding(
    check: str, entry: catalogue.CatalogueEntry, status: FindingStatus, detail: str, evidence: list[Evidence]
) -> Finding:
    return Finding(
        check=check,
        rule=entry.rule,
        title=entry.title,
        status=status,
        detail=detail,
        evidence=evidence,
        source=entry.source,
    )


def _rule_finding(
    check: str, rule: str, title: str, status: FindingStatus, detail: str, evidence: list[Evidence]
) -> Finding:
    return Finding(
        check=check,
        rule=rule,
        title=title,
        status=status,
        detail=detail,
        evidence=evidence,
        source=RULE_SOURCES[rule],
    )


def satisfactory_result(data: CaseData) -> ActivityRow | None:
    """P9: the first structural work resumption at 65% of the wage value or more, as the timeline reads it."""
    for activity in data.by_kind("work_resumption"):
        percentage = activity.details.get("wage_value_percentage")
        if (
            activity.details.get("structural") is True
            and isinstance(percentage, int | float)
            and track_rules.is_satisfactory_result(percentage)
        ):
            return activity
    return None


def _track_warnings(data: CaseData) -> dict[str, track_rules.TrackWarning]:
    """P8, P10, P11 as the case's warnings compute them (app/cases/overview.py), from loaded data."""
    track_1 = data.tracks_of("track_1")
    track_2 = data.tracks_of("track_2")
    latest_2 = track_2[-1] if track_2 else None
    track_1_ids = {t.id for t in track_1}
    last_track_1 = max((a.occurred_on for a in data.activities if a.track_id in track_1_ids), default=None)
    first_on = {
        kind: min((a.occurred_on for a in data.by_kind(kind)), default=None)
        for kind in ("action_plan", "labour_expert_assessment")
    }
    t7 = deadlines_of(data.timeline, "track_2_start")
    warnings = track_rules.track_warnings(
        as_of=data.as_of,
        track_2_started_on=latest_2.started_on if latest_2 else None,
        track_2_open=latest_2 is not None and latest_2.is_open,
        track_2_due_on=t7[0].due_on if t7 else None,
        action_plan_on=first_on["action_plan"],
        labour_expert_assessment_on=first_on["labour_expert_assessment"],
        track_1_closed=bool(track_1) and all(not t.is_open for t in track_1),
        last_track_1_activity_on=last_track_1,
    )
    return {w.rule: w for w in warnings}


def _track_rule_findings(data: CaseData, evidence: _Evidence) -> list[Finding]:
    warnings = _track_warnings(data)
    track_2 = data.tracks_of("track_2")
    latest_2 = track_2[-1] if track_2 else None
    track_evidence = (
        [Evidence(type="track", id=str(latest_2.id), on=latest_2.started_on, note="Track 2 started")]
        if latest_2
        else []
    )
    findings = []

    t7 = deadlines_of(data.timeline, "track_2_start")
    due_evidence = [e for e in (evidence.due(t7[0], "due (T7)"),) if e is not None] if t7 else []
    if "P8" in warnings:
        assert latest_2 is not None and t7 and t7[0].due_on is not None
        late = (latest_2.started_on - t7[0].due_on).days
        findings.append(
            _rule_finding(
                EFFORTS,
                "P8",
                "Track 2 started in time",
                "violation",
                f"Track 2 started on {latest_2.started_on}, {late} days after T7's due date {t7[0].due_on}: "
                "a common wage-sanction ground.",
                track_evidence + due_evidence,
            )
        )
    elif latest_2 is not None:
        findings.append(
            _rule_finding(
                EFFORTS,
                "P8",
                "Track 2 started in time",
                "ok",
                f"Track 2 started on {latest_2.started_on}, on or before T7's due date.",
                track_evidence + due_evidence,
            )
        )
    else:
        findings.append(
            _rule_finding(
                EFFORTS, "P8", "Track 2 started in time", "ok", "No Track 2 has started (see T7).", []
            )
        )

    p10 = warnings.get("P10")
    if p10 is not None:
        items = list(track_evidence)
        for kind in ("action_plan", "labour_expert_assessment"):
            rows = data.by_kind(kind)
            if rows:
                items.append(evidence.activity(rows[0], f"{kind} recorded"))
        findings.append(
            _rule_finding(
                EFFORTS,
                "P10",
                "Track 2 prepared",
                "warning",
                p10.detail[0].upper() + p10.detail[1:] + ".",
                items,
            )
        )
    else:
        detail = (
            "Track 2 started after the action plan and a labour expert assessment."
            if latest_2
            else "No Track 2 has started."
        )
        findings.append(_rule_finding(EFFORTS, "P10", "Track 2 prepared", "ok", detail, track_evidence))

    p11 = warnings.get("P11")
    track_1_ids = {t.id for t in data.tracks_of("track_1")}
    last_1 = next((a for a in reversed(data.activities) if a.track_id in track_1_ids), None)
    items = [evidence.activity(last_1, "latest Track 1 activity")] if last_1 else []
    if p11 is not None:
        items.append(Evidence(type="as_of", id=None, on=data.as_of, note="report day"))
        findings.append(
            _rule_finding(
                EFFORTS,
                "P11",
                "Track 1 continues beside Track 2",
                "warning",
                p11.detail[0].upper() + p11.detail[1:] + ".",
                track_evidence + items,
            )
        )
    else:
        detail = (
            "Track 1 has activity within the last "
            f"{track_rules.TRACK_1_NEGLECT_DAYS} days, or is closed, while Track 2 runs."
            if latest_2 is not None and latest_2.is_open
            else "No Track 2 is open."
        )
        findings.append(
            _rule_finding(EFFORTS, "P11", "Track 1 continues beside Track 2", "ok", detail, items)
        )
    return findings


def _employee_view_finding(data: CaseData, missing: list[MissingPart], evidence: _Evidence) -> Finding:
    views = data.by_kind("employee_view")
    gap = next((m for m in missing if m.part == "employee_view"), None)
    if gap is not None:
        return _rule_finding(
            DOCUMENTS,
            "A2",
            "The employee's view",
            "violation",
            gap.detail,
            [
                e
                for e in (Evidence(type="due_date", id=None, on=gap.due_on, note="employee_view due"),)
                if gap.due_on
            ],
        )
    if views:
        return _rule_finding(
            DOCUMENTS,
            "A2",
            "The employee's view",
            "ok",
            f"The employee's view is on file ({views[-1].occurred_on}).",
            [evidence.activity(v, "employee_view recorded") for v in views],
        )
    return _rule_finding(
        DOCUMENTS,
        "A2",
        "The employee's view",
        "ok",
        "Not due yet: the employee's view accompanies the final evaluation.",
        [],
    )


def _p9_finding(data: CaseData, evidence: _Evidence) -> Finding:
    result = satisfactory_result(data)
    threshold = track_rules.SATISFACTORY_RESULT_THRESHOLD_PERCENT
    if result is not None:
        return _rule_finding(
            RESULT,
            "P9",
            "Result satisfactory",
            "ok",
            f"Work resumed structurally on {result.occurred_on} at "
            f"{result.details.get('wage_value_percentage')}% "
            f"of the wage value (>= {threshold}%): UWV normally considers the result satisfactory and does "
            "not judge the efforts.",
            [evidence.activity(result, "structural work resumption")],
        )
    resumptions = data.by_kind("work_resumption")
    detail = (
        f"No structural work at {threshold}% of the wage value or more: UWV goes on to judge the efforts."
    )
    return _rule_finding(
        RESULT,
        "P9",
        "Result satisfactory",
        "ok",
        detail,
        [evidence.activity(r, "work resumption (not satisfactory)") for r in resumptions[-3:]],
    )


def _timeline_warning_findings(data: CaseData, findings: list[Finding]) -> list[Finding]:
    """Timeline warnings (e.g. a document before its window, a lapsed waiver) fold into their rule's
    finding; a rule without a finding (T13, P7) gets one of its own."""
    by_rule = {f.rule: f for f in findings}
    extra: list[Finding] = []
    for warning in data.timeline.warnings:
        finding = by_rule.get(warning.rule)
        text = warning.detail[0].upper() + warning.detail[1:] + "."
        if finding is not None:
            if finding.status == "ok":
                finding.status = "warning"
            finding.detail += " " + text
        else:
            source = (
                catalogue.EARLY_IVA_WINDOW.source if warning.rule == "T13" else "UWV Werkwijzer Poortwachter"
            )
            extra.append(
                Finding(
                    check=DOCUMENTS if warning.rule.startswith("T") else EFFORTS,
                    rule=warning.rule,
                    title=warning.code.replace("_", " ").capitalize(),
                    status="warning",
                    detail=text,
                    evidence=[],
                    source=source,
                )
            )
    return extra


def compliance_report(data: CaseData) -> ComplianceReport:
    evidence = _Evidence(data)
    findings: list[Finding] = []
    missed_evaluations = 0
    missing, _ = completeness(data)
    for check, code in DEADLINE_CHECKS:
        finding, missed = _deadline_finding(check, code, data, evidence)
        if code == "action_plan_evaluation":
            missed_evaluations = missed
        findings.append(finding)
        if code == "final_evaluation":  # the employee's view goes with the final evaluation
            findings.append(_employee_view_finding(data, missing, evidence))
    findings.append(_p9_finding(data, evidence))
    findings.extend(_track_rule_findings(data, evidence))
    findings.extend(_timeline_warning_findings(data, findings))
    order = {DOCUMENTS: 0, RESULT: 1, EFFORTS: 2}
    findings.sort(key=lambda f: order[f.check])  # stable: rule order within a check
    risk, reason, rules = wage_sanction_risk(
        findings, missed_evaluations, satisfactory_result(data) is not None
    )
    return ComplianceReport(
        as_of=data.as_of,
        case=report_case(data),
        findings=findings,
        risk=risk,
        risk_reason=reason,
        risk_rules=rules,
    )


def wage_sanction_risk(
    findings: Sequence[Finding], missed_evaluations: int, result_satisfactory: bool
) -> tuple[Risk, str, list[str]]:
    """high: a violation of a wage-sanction rule, or T4 missed more than once; medium: any other
    violation or warning; low: none. With a satisfactory result (P9) UWV does not judge the efforts, so
    efforts findings do not raise the risk."""
    counted = [f for f in findings if not (result_satisfactory and f.check == EFFORTS)]
    violations = [f for f in counted if f.status == "violation"]
    high = [
        f.rule for f in violations if f.rule in SANCTION_RULES or (f.rule == "T4" and missed_evaluations >= 2)
    ]
    if high:
        names = ", ".join(_unique(high))
        repeated = f" (T4: about {missed_evaluations} evaluations missed)" if "T4" in high else ""
        return (
            "high",
            f"Wage-sanction grounds violated: {names}{repeated}. UWV may extend the wage payment by up to "
            f"{catalogue.WAGE_SANCTION_MAX_WEEKS} weeks.",
            _unique(high),
        )
    warnings = [f for f in counted if f.status == "warning"]
    if violations or warnings:
        parts = []
        if violations:
            parts.append("violations of " + ", ".join(_unique(f.rule for f in violations)))
        if warnings:
            parts.append("warnings on " + ", ".join(_unique(f.rule for f in warnings)))
        return (
            "medium",
            "No wage-sanction ground is violated, but there are "
            + " and ".join(parts)
            + ": a weaker dossier "
            "that UWV may question.",
            _unique(f.rule for f in violations + warnings),
        )
    note = " A satisfactory result (P9) means UWV does not judge the efforts." if result_satisfactory else ""
    return "low", f"Every check is ok as of the report's day.{note}", []


def _unique(rules: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(rules))
