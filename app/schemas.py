"""Schema building blocks shared by the features."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

T = TypeVar("T")


def nul_path(value: Any, path: str = "") -> str | None:
    """Where a NUL character hides in a JSON-like value (PostgreSQL stores no NUL in text or JSONB)."""
    if isinstance(value, str):
        return path or "/" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = nul_path(str(key), f"{path}/{key}") or nul_path(item, f"{path}/{key}")
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_path(item, f"{path}/{index}")
            if found:
                return found
    return None


class StrictModel(BaseModel):
    """Request bodies: unknown fields are refused (422), never silently dropped; text with a NUL
    character is refused (422) rather than failing in the database."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def no_nul_characters(cls, data: Any) -> Any:
        where = nul_path(data)
        if where is not None:
            raise ValueError(f"text may not contain the NUL character (\\u0000), found at {where}")
        return data


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page.")
