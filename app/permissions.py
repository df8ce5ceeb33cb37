"""The one permission table: for each operation (the route's operationId), the roles that may call it.

An operation missing from the table is refused for every role (fail closed); a test generated from the
route table checks that every operation is listed and that each role gets exactly what it says.
Coach keys are further scoped to cases with a track of their provider (see `app/access.py`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from app.models.tenants import Role

ADMIN = Role.admin
MANAGER = Role.case_manager
PHYSICIAN = Role.occupational_physician
COACH = Role.coach
VIEWER = Role.viewer
INTEGRATION = Role.integration

EVERYONE = frozenset(Role)
CASE_READERS = EVERYONE
CASE_WRITERS = frozenset({ADMIN, MANAGER})
PERIOD_WRITERS = frozenset({ADMIN, MANAGER, PHYSICIAN})
ACTIVITY_WRITERS = frozenset({ADMIN, MANAGER, PHYSICIAN, COACH, INTEGRATION})
ADMINS = frozenset({ADMIN})


def _table(entries: Iterable[tuple[str, frozenset[Role]]]) -> Mapping[str, frozenset[Role]]:
    table: dict[str, frozenset[Role]] = {}
    for operation, roles in entries:
        assert operation not in table, f"{operation} listed twice"
        table[operation] = roles
    return MappingProxyType(table)


PERMISSIONS: Mapping[str, frozenset[Role]] = _table(
    [
        # cases and their clock
        ("open_case", CASE_WRITERS),
        ("list_cases", CASE_READERS),
        ("read_case", CASE_READERS),
        ("update_case", CASE_WRITERS),
        ("list_periods", CASE_READERS),
        ("add_period", PERIOD_WRITERS),
        ("update_period", PERIOD_WRITERS),
        ("case_timeline", CASE_READERS),
        ("preview", EVERYONE),
        ("list_deadlines", CASE_READERS),
        # tracks
        ("start_track", CASE_WRITERS),
        ("list_tracks", CASE_READERS),
        ("read_track", CASE_READERS),
        ("transition", CASE_WRITERS),
        ("close_track", CASE_WRITERS),
        ("put_waiver", CASE_WRITERS),
        ("get_waiver", CASE_READERS),
        ("withdraw_waiver", CASE_WRITERS),
        # activities
        ("record_activity", ACTIVITY_WRITERS),
        ("record_batch", frozenset({ADMIN, MANAGER, PHYSICIAN, INTEGRATION})),
        ("list_activities", CASE_READERS),
        ("read_activity", CASE_READERS),
        ("activity_kinds", EVERYONE),
        # reports (coach keys: the Track 2 reports of their provider's tracks)
        ("reintegration_report", frozenset(CASE_READERS - {COACH})),
        ("compliance_report", frozenset(CASE_READERS - {COACH})),
        ("progress_report", CASE_READERS),
        ("final_report", CASE_READERS),
        ("timeline_svg", CASE_READERS),
        # administration
        ("list_api_keys", ADMINS),
        ("create_api_key", ADMINS),
        ("rotate_api_key", ADMINS),
        ("revoke_api_key", ADMINS),
        ("list_audit_events", ADMINS),
        ("export_employee", ADMINS),
        ("erase_employee", ADMINS),
        # webhooks
        ("create_webhook_endpoint", ADMINS),
        ("list_webhook_endpoints", ADMINS),
        ("read_webhook_endpoint", ADMINS),
        ("delete_webhook_endpoint", ADMINS),
        ("reactivate_webhook_endpoint", ADMINS),
        ("list_webhook_deliveries", ADMINS),
        ("redeliver_webhook_event", ADMINS),
        # calendar feeds (the feed itself is read by its secret token, outside /api/v1)
        ("create_calendar_feed", CASE_WRITERS),
        ("list_calendar_feeds", CASE_WRITERS),
        ("delete_calendar_feed", CASE_WRITERS),
    ]
)


def allowed(operation: str, role: Role) -> bool:
    return role in PERMISSIONS.get(operation, frozenset())


def markdown_table() -> str:
    """The table as the README shows it (a test keeps the README in step)."""
    roles = list(Role)
    lines = [
        "| operation | " + " | ".join(role.value for role in roles) + " |",
        "| --- | " + " | ".join("---" for _ in roles) + " |",
    ]
    for operation, permitted in PERMISSIONS.items():
        marks = " | ".join("yes" if role in permitted else "" for role in roles)
        lines.append(f"| `{operation}` | {marks} |")
    return "\n".join(lines)
