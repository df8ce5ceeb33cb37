"""Printable HTML pages of the reports: Jinja2 templates with autoescaping on, inline CSS only (no
external assets), XHTML-compatible markup so that the pages parse as XML too."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from app.reports.schemas import ReintegrationReport, Track2Report

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(value: date | None) -> str:
    if value is None:
        return "–"
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def filled(details: dict[str, Any]) -> list[tuple[str, Any]]:
    """The detail fields that say something: no empty lists, texts or nulls."""
    return [(name, value) for name, value in details.items() if value not in (None, "", [], {})]


def label(name: str) -> str:
    """`functional_limitations` -> `Functional limitations`."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def show(value: Any) -> str:
    """A detail value as plain text (escaped by the template)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(show(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{label(k)}: {show(v)}" for k, v in value.items())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value.replace("_", " ") if value.isidentifier() and value.islower() else value
    return str(value)


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("app.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["d"] = format_date
    env.filters["label"] = label
    env.filters["show"] = show
    env.filters["filled"] = filled
    return env


def render_reintegration(report: ReintegrationReport) -> str:
    return environment().get_template("reintegration.html").render(report=report)


def render_track_2(report: Track2Report) -> str:
    heading = "Track 2 final report" if report.report == "final" else "Track 2 progress report"
    return environment().get_template("track_2.html").render(report=report, heading=heading)
