"""Schema building blocks shared by the features."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

T = TypeVar("T")

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_RFC_3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}.*")


def _iso_date(value: Any) -> Any:
    """Dates arrive as YYYY-MM-DD: pydantic would also read 0 or "0.0" as 1970-01-01 (a Unix time)."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("a date is written YYYY-MM-DD")
    if not isinstance(value, str | date):
        raise ValueError("a date is a string, YYYY-MM-DD")
    return value


def _rfc_3339(value: Any) -> Any:
    if isinstance(value, str) and not _RFC_3339.fullmatch(value):
        raise ValueError("a timestamp is written as in RFC 3339, e.g. 2026-03-01T09:30:00Z")
    if not isinstance(value, str | datetime):
        raise ValueError("a timestamp is a string, RFC 3339")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A date in a request: only YYYY-MM-DD (the format the schema states)."""


def within_range_in_utc(value: datetime) -> datetime:
    """A far offset can push a timestamp out of range once in UTC (9999-12-31T23:59:59-23:59), which the
    database cannot take (found by the fuzzer: it answered 500). Raises ValueError then."""
    if value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError as exc:
            raise ValueError("the timestamp is out of range once in UTC") from exc
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_rfc_3339), AfterValidator(within_range_in_utc)]
"""A timestamp in a request: only RFC 3339 text, within range in UTC."""


def nul_path(value: Any, path: str = "") -> str | None:
    """Where a NUL character hides in a JSON-like value (PostgreSQL stores no NUL in text or JSONB)."""
    found = _nul_steps(value)
    if found is None:
        return None
    return path + "".join("/" + step for step in found) or "/"


def _nul_steps(value: Any) -> list[str] | None:
    """The keys and indexes down to a NUL character. The path is built only when one is found: every
    request body is walked, a batch's thousands of items twice."""
    if isinstance(value, str):
        return [] if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            if "\x00" in name:
                return [name]
            found = _nul_steps(item)
            if found is not None:
                return [name, *found]
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_steps(item)
            if found is not None:
                return [str(index), *found]
    return None


# One character Python's str.strip() keeps. Not `\S`: a JSON Schema (ECMA-262) \s lacks \x1c-\x1f and
# \x85, which Python strips, and has \ufeff, which Python keeps (found by the fuzzer).
_VISIBLE_CHARACTER = "[^" + "".join(f"\\u{c:04x}" for c in range(0x3001) if chr(c).isspace()) + "]"


def _stripped_text_needs_a_visible_character(schema: dict[str, Any]) -> None:
    """Text is stripped before its length is checked, so a required string of spaces is refused: say so in
    the schema (a `pattern` of one character that is not stripped), or clients read "\r" as valid."""
    for prop in schema.get("properties", {}).values():
        for variant in [prop, *prop.get("anyOf", [])]:
            if (
                variant.get("type") == "string"
                and variant.get("minLength", 0) >= 1
                and "pattern" not in variant
            ):
                variant["pattern"] = _VISIBLE_CHARACTER


# Validation context for data a StrictModel has already walked for NUL characters (a batch's items,
# walked with the batch): skips the second walk.
NUL_CHECKED: dict[str, bool] = {"nul_checked": True}


class StrictModel(BaseModel):
    """Request bodies: unknown fields are refused (422), never silently dropped; text with a NUL
    character is refused (422) rather than failing in the database; text is stripped."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=_stripped_text_needs_a_visible_character
    )

    @model_validator(mode="before")
    @classmethod
    def no_nul_characters(cls, data: Any, info: ValidationInfo) -> Any:
        if info.context is NUL_CHECKED:
            return data
        where = nul_path(data)
        if where is not None:
            raise ValueError(f"text may not contain the NUL character (\\u0000), found at {where}")
        return data


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page.")
