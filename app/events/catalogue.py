"""Every event type the service emits, with what it means. Payloads are thin: ids, codes and dates, never
names, free text or medical data (A3), so a webhook receiver learns *that* something changed and reads
the details through the API with its own key."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    case_opened = "case.opened"
    case_updated = "case.updated"
    case_closed = "case.closed"
    sickness_period_changed = "sickness_period.changed"
    track_started = "track.started"
    track_phase_changed = "track.phase_changed"
    track_closed = "track.closed"
    activity_recorded = "activity.recorded"
    deadline_met = "deadline.met"
    deadline_due_soon = "deadline.due_soon"
    deadline_overdue = "deadline.overdue"
    webhook_endpoint_disabled = "webhook_endpoint.disabled"


# What each event's `data` holds; the README's table is generated from this.
EVENT_DATA: dict[EventType, tuple[str, str]] = {
    EventType.case_opened: ("a case was opened", "case_id, first_sick_day"),
    EventType.case_updated: (
        "a case's editable fields changed",
        "case_id, version, changed_fields (names only)",
    ),
    EventType.case_closed: ("a case closed (recovery, end of employment, …)", "case_id, closed_on, reason"),
    EventType.sickness_period_changed: (
        "a sickness period was added (relapse) or its recovery recorded",
        "case_id, sickness_period_id, started_on, ended_on, change (added / updated)",
    ),
    EventType.track_started: ("a track started", "case_id, track_id, kind, started_on, phase"),
    EventType.track_phase_changed: (
        "a track moved to its next phase",
        "case_id, track_id, kind, from_phase, phase, entered_on",
    ),
    EventType.track_closed: ("a track closed", "case_id, track_id, kind, ended_on, outcome"),
    EventType.activity_recorded: (
        "an activity was recorded (not on a duplicate)",
        "case_id, activity_id, track_id, kind, occurred_on",
    ),
    EventType.deadline_met: (
        "a deadline became met or met_late",
        "case_id, code, rule, occurrence, track_id, due_on, status, satisfied_on, satisfied_by",
    ),
    EventType.deadline_due_soon: (
        "an open deadline came within DUE_SOON_DAYS (once per deadline)",
        "case_id, code, rule, occurrence, track_id, due_on",
    ),
    EventType.deadline_overdue: (
        "an open deadline passed its due date (once per deadline)",
        "case_id, code, rule, occurrence, track_id, due_on",
    ),
    EventType.webhook_endpoint_disabled: (
        "an endpoint was disabled: it answered 410 Gone, or failed every retry",
        "endpoint_id, reason (gone / failing)",
    ),
}


def markdown_table() -> str:
    """The README's copy of the catalogue."""
    lines = ["| type | when | `data` |", "| --- | --- | --- |"]
    lines += [f"| `{event.value}` | {when} | {data} |" for event, (when, data) in EVENT_DATA.items()]
    return "\n".join(lines)
