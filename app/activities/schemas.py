"""Activities: the logged efforts and statutory documents (A1, A2). `details` are validated per kind;
free text is non-medical by contract (A4)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.domain.activity_kinds import ActivityKind
from app.schemas import IsoDate, IsoDateTime, ReadModel, StrictModel

NON_MEDICAL = "Non-medical (A4): never a diagnosis, complaint or treatment."


MEDICAL = "Medical (A3): stored apart and only ever shown to the occupational physician."


class MedicalPart(StrictModel):
    """The physician's medical notes on their own activity. Never part of `details`, never sent to any
    role but the occupational physician, never in a report, export, webhook or log for anyone else."""

    diagnosis: str | None = Field(default=None, max_length=4000, description=MEDICAL)
    complaints: str | None = Field(default=None, max_length=4000, description=MEDICAL)
    treatment: str | None = Field(default=None, max_length=4000, description=MEDICAL)
    prognosis: str | None = Field(default=None, max_length=4000, description=MEDICAL)
    notes: str | None = Field(default=None, max_length=8000, description=MEDICAL)


class ActivityCreate(StrictModel):
    kind: ActivityKind
    occurred_on: IsoDate = Field(
        description="Within the track's dates for track activities; never in the future (P6)."
    )
    track_id: uuid.UUID | None = Field(
        default=None, description="Required for track kinds; absent for case kinds."
    )
    summary: str | None = Field(default=None, max_length=4000, description=NON_MEDICAL)
    outcome: str | None = Field(default=None, max_length=4000, description=NON_MEDICAL)
    details: dict[str, Any] = Field(
        default_factory=dict, description="Validated per kind; see the ActivityDetails schemas."
    )
    medical: MedicalPart | None = Field(
        default=None,
        description="Occupational physician only, on the physician's own document kinds (A3).",
    )
    external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Your id for the record (unique per tenant): sending it again stores nothing new (A5).",
    )

    model_config = {
        **StrictModel.model_config,
        "json_schema_extra": {
            "examples": [
                {
                    "kind": "job_application",
                    "occurred_on": "2027-02-03",
                    "track_id": "6f1c2a8e-8a57-4d0e-9b7e-1d5c0b6f3a21",
                    "summary": "Applied for warehouse coordinator",
                    "details": {
                        "employer": "Logistiek Noord BV",
                        "vacancy": "Coordinator magazijn",
                        "result": "pending",
                    },
                    "external_id": "agency-42-app-1001",
                }
            ]
        },
    }


class RecordedBy(ReadModel):
    key_id: uuid.UUID | None
    role: str


class ActivityRead(ReadModel):
    id: uuid.UUID
    case_id: uuid.UUID
    track_id: uuid.UUID | None
    kind: ActivityKind
    occurred_on: IsoDate
    summary: str | None
    outcome: str | None
    details: dict[str, Any]
    medical: MedicalPart | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="Present only in responses to the occupational physician, and only when recorded.",
    )
    counts_for_deadline: bool = Field(
        description="Whether this record meets its deadline's requirements (e.g. a signed action plan, T3)."
    )
    external_id: str | None
    recorded_by: RecordedBy
    version: int
    created_at: IsoDateTime
    updated_at: IsoDateTime


class ActivityKindRead(ReadModel):
    kind: ActivityKind
    title: str
    statutory_document: bool
    physician_only: bool
    scope: Literal["case", "track_1", "track_2", "any_track"]
    satisfies: list[str]


class ActivityBatchItem(ActivityCreate):
    """One item of a batch: an activity and the case it belongs to."""

    case_id: uuid.UUID


def _item_schema() -> dict[str, Any]:
    schema = ActivityBatchItem.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


class ActivityBatch(StrictModel):
    """Items are validated one by one, so one bad item never loses the good ones."""

    items: list[dict[str, Any]] = Field(
        min_length=1,
        description="Activities across cases, each an ActivityBatchItem; at most BATCH_MAX_ITEMS "
        "(default 10,000; 413 beyond).",
        json_schema_extra={"items": _item_schema()},
    )


class BatchItemResult(BaseModel):
    index: int = Field(description="Position of the item in the request.")
    status: Literal["created", "duplicate", "error"]
    activity_id: uuid.UUID | None = Field(description="The stored activity (created or duplicate).")
    problem: dict[str, Any] | None = Field(
        description="For errors: the RFC 9457 problem a single POST would have answered (code, rule, errors)."
    )


class ActivityBatchResult(BaseModel):
    results: list[BatchItemResult] = Field(description="One per item, in input order.")
    created: int
    duplicates: int
    errors: int
