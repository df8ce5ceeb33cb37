"""The timeline picture (`GET /cases/{id}/timeline.svg`): the sick-day axis in weeks with calendar dates,
the sickness periods, Track 1 and Track 2 as parallel lanes with their phases, the deadlines as markers
coloured by status, the as_of line and a legend.

Built as a string in Python: every text node and attribute value goes through `xml.sax.saxutils`
escaping (`_text`, `_attrs`), and nothing here emits a script or an event attribute."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from xml.sax.saxutils import escape, quoteattr

from app.domain import catalogue
from app.domain import timeline as tl
from app.domain.clock import SickClock, SicknessPeriod, build_clock
from app.reports.service import CaseData, TrackView

WIDTH = 1200
LEFT = 156  # lane labels
RIGHT = 40
PLOT = WIDTH - LEFT - RIGHT
FONT = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"
CHAR_WIDTH = 6.3  # rough width of one character at 11px, to fit labels
INK = "#263238"
MUTED = "#607d8b"
GRID = "#e3e8eb"

SICK_FILL = "#ef9a9a"
HEALTHY_FILL = "#f5f5f5"

# status -> (label, colour, shape)
STATUS_STYLE = {
    "met": ("met", "#2e7d32", "circle"),
    "met_late": ("met late", "#f9a825", "circle"),
    "overdue": ("overdue", "#c62828", "diamond"),
    "due_soon": ("due soon", "#ef6c00", "ring"),
    "upcoming": ("upcoming", "#1565c0", "ring"),
    "waived": ("waived", "#6a1b9a", "square"),
    "suspended": ("suspended", "#9e9e9e", "square"),
    "not_applicable": ("not applicable", "#9e9e9e", "square"),
}
PHASE_FILL = {
    ("track_1", "assessment"): "#bbdefb",
    ("track_1", "resumption"): "#64b5f6",
    ("track_1", "completion"): "#1e88e5",
    ("track_2", "orientation"): "#e1bee7",
    ("track_2", "active_search"): "#ba68c8",
    ("track_2", "completion"): "#8e24aa",
}
DARK_FILLS = frozenset({"#1e88e5", "#8e24aa", "#ba68c8", "#64b5f6"})
RECURRING = frozenset({"action_plan_evaluation", "track_2_progress_report"})
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _attrs(attrs: dict[str, object]) -> str:
    return "".join(f" {name.replace('_', '-')}={quoteattr(str(value))}" for name, value in attrs.items())


def _text(value: str) -> str:
    return escape(value)


def el(tag: str, body: str = "", **attrs: object) -> str:
    """An element; `body` must already be markup (escape text with `_text`)."""
    if body:
        return f"<{tag}{_attrs(attrs)}>{body}</{tag}>"
    return f"<{tag}{_attrs(attrs)}/>"


def text(x: float, y: float, value: str, **attrs: object) -> str:
    return el("text", _text(value), x=f"{x:.1f}", y=f"{y:.1f}", **attrs)


def title(value: str) -> str:
    """A tooltip (SVG <title>): plain text, escaped."""
    return el("title", _text(value))


def short_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


@dataclass(frozen=True, slots=True)
class Scale:
    start: date
    days: int

    def x(self, day: date) -> float:
        return LEFT + (day - self.start).days / self.days * PLOT


@dataclass(slots=True)
class Lane:
    label: str
    top: float
    height: float

    @property
    def middle(self) -> float:
        return self.top + self.height / 2


def render_timeline_svg(data: CaseData) -> str:
    timeline, case, as_of = data.timeline, data.case, data.as_of
    end = max(
        [timeline.waiting_period.ends_on, as_of]
        + [d.due_on for d in timeline.deadlines if d.due_on is not None]
    ) + timedelta(days=14)
    scale = Scale(case.first_sick_day, max((end - case.first_sick_day).days, 1))
    clock = build_clock(case.first_sick_day, tuple(data.periods), as_of)

    axis_top = 96
    lanes = {
        "sickness": Lane("Sickness", axis_top + 42, 26),
        "track_1": Lane("Track 1", axis_top + 82, 34),
        "track_2": Lane("Track 2", axis_top + 128, 34),
        "deadlines": Lane("Deadlines", axis_top + 196, 30),
        "recurring": Lane("Evaluations (T4)", axis_top + 262, 22),
        "reports": Lane("Track 2 reports (T8)", axis_top + 296, 22),
    }
    bottom = lanes["reports"].top + lanes["reports"].height + 12
    legend_top = bottom + 22
    height = legend_top + 72

    parts: list[str] = [
        el("rect", x=0, y=0, width=WIDTH, height=height, fill="#ffffff"),
        *_heading(data),
        *_axis(scale, clock, case.first_sick_day, end, axis_top, bottom),
    ]
    for lane in lanes.values():
        parts.append(text(LEFT - 10, lane.middle + 4, lane.label, text_anchor="end", font_size=12, fill=INK))
        parts.append(
            el(
                "line",
                x1=LEFT,
                x2=WIDTH - RIGHT,
                y1=f"{lane.middle:.1f}",
                y2=f"{lane.middle:.1f}",
                stroke=GRID,
            )
        )
    parts += _sickness(scale, data.periods, case.first_sick_day, as_of, lanes["sickness"])
    for kind in ("track_1", "track_2"):
        for track in data.tracks_of(kind):
            parts += _track(scale, track, as_of, lanes[kind])
        if not data.tracks_of(kind):
            parts.append(text(LEFT + 8, lanes[kind].middle + 4, "not started", font_size=11, fill=MUTED))
    parts += _waiting_period_end(scale, timeline, axis_top, bottom)
    parts += _deadlines(scale, timeline, lanes)
    parts += _as_of_line(scale, timeline, as_of, axis_top, bottom)
    parts += _legend(legend_top)
    body = "".join(parts)
    label = f"Timeline of case {case.employee_ref} as of {as_of.isoformat()}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0f}" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-label={quoteattr(label)} '
        f"font-family={quoteattr(FONT)}>"
        f"{title(label)}{body}</svg>\n"
    )


def _heading(data: CaseData) -> list[str]:
    case, timeline = data.case, data.timeline
    name = case.employee_display_name or case.employee_ref
    who = f"{name} ({case.employee_ref})" if case.employee_display_name else name
    week = f"week {timeline.week}" if timeline.week is not None else f"{timeline.sick_days_counted} sick days"
    line_2 = [
        f"First sick day {short_date(case.first_sick_day)}",
        f"{week} on {short_date(data.as_of)}",
        f"waiting period ends {short_date(timeline.waiting_period.ends_on)}",
    ]
    if case.case_manager:
        line_2.append(f"case manager {case.case_manager}")
    return [
        text(LEFT, 30, who, font_size=18, font_weight="bold", fill=INK),
        text(LEFT, 52, " · ".join(line_2), font_size=12, fill=MUTED),
    ]


def _axis(scale: Scale, clock: SickClock, first: date, end: date, top: float, bottom: float) -> list[str]:
    """Sick weeks along the top: a short tick per week, a labelled line per quarter (13 weeks, so weeks
    52, 91 and 104 are among them) with the calendar date that week ends on."""
    parts = [el("line", x1=LEFT, x2=WIDTH - RIGHT, y1=top + 20, y2=top + 20, stroke=MUTED)]
    last_week = (end - first).days // 7 + 1
    for week in range(0, last_week + 1):
        day = first if week == 0 else date.fromordinal(clock.date_of(7 * week))
        if day > end:
            break
        x = scale.x(day)
        if week % 13:
            parts.append(el("line", x1=f"{x:.1f}", x2=f"{x:.1f}", y1=top + 17, y2=top + 20, stroke=MUTED))
            continue
        parts.append(el("line", x1=f"{x:.1f}", x2=f"{x:.1f}", y1=top + 14, y2=bottom, stroke=GRID))
        label = "day 1" if week == 0 else f"week {week}"
        weight = "bold" if week in (52, 104) else "normal"
        parts.append(
            text(x, top + 2, label, font_size=11, text_anchor="middle", fill=INK, font_weight=weight)
        )
        near_edge = x > WIDTH - RIGHT - 30
        anchor = "end" if near_edge else "middle"
        parts.append(
            text(
                x + (8 if near_edge else 0),
                top + 34,
                short_date(day),
                font_size=9,
                text_anchor=anchor,
                fill=MUTED,
            )
        )
    return parts


def _sickness(scale: Scale, periods: list[SicknessPeriod], first: date, as_of: date, lane: Lane) -> list[str]:
    spans = [(p.start, p.end) for p in periods] or [(first, None)]
    parts = [
        el(
            "rect",
            title("Not yet known: after the report's day"),
            x=f"{scale.x(as_of):.1f}",
            y=lane.top + 8,
            width=f"{max(WIDTH - RIGHT - scale.x(as_of), 0):.1f}",
            height=lane.height - 16,
            fill=HEALTHY_FILL,
        )
    ]
    for start, stop in spans:
        until = min(stop or as_of, as_of)
        width = max(scale.x(until + timedelta(days=1)) - scale.x(start), 1.5)
        tip = f"Sick from {start.isoformat()}" + (f" to {stop.isoformat()}" if stop else " (still sick)")
        parts.append(
            el(
                "rect",
                title(tip),
                x=f"{scale.x(start):.1f}",
                y=lane.top,
                width=f"{width:.1f}",
                height=lane.height,
                fill=SICK_FILL,
                rx=3,
            )
        )
    for (_, stop), (start, _) in itertools.pairwise(spans):
        if stop is not None:
            gap_x = scale.x(stop + timedelta(days=1))
            parts.append(
                el(
                    "rect",
                    title(
                        f"Healthy from {(stop + timedelta(days=1)).isoformat()} to "
                        f"{(start - timedelta(days=1)).isoformat()} ({(start - stop).days - 1} days; "
                        "the relapse joins the case)"
                    ),
                    x=f"{gap_x:.1f}",
                    y=lane.top + 8,
                    width=f"{max(scale.x(start) - gap_x, 1):.1f}",
                    height=lane.height - 16,
                    fill="#c8e6c9",
                )
            )
    return parts


def _track(scale: Scale, track: TrackView, as_of: date, lane: Lane) -> list[str]:
    parts: list[str] = []
    last = track.ended_on or as_of
    for index, phase in enumerate(track.phases):
        stop = phase.left_on or (
            track.phases[index + 1].entered_on if index + 1 < len(track.phases) else last
        )
        x0, x1 = scale.x(phase.entered_on), scale.x(stop)
        if index + 1 == len(track.phases) and track.ended_on is None:
            x1 = scale.x(as_of)
        width = max(x1 - x0, 2)
        fill = PHASE_FILL.get((track.kind, phase.phase), "#cfd8dc")
        name = phase.phase.replace("_", " ")
        tip = f"{track.kind.replace('_', ' ').title()}: {name} from {phase.entered_on.isoformat()}" + (
            f" to {phase.left_on.isoformat()}" if phase.left_on else ""
        )
        parts.append(
            el(
                "rect",
                title(tip),
                x=f"{x0:.1f}",
                y=lane.top,
                width=f"{width:.1f}",
                height=lane.height,
                fill=fill,
                stroke="#ffffff",
                stroke_width=1,
            )
        )
        colour = "#ffffff" if fill in DARK_FILLS else INK
        for size in (11, 9.5):  # the phase name inside its bar, smaller when tight, left out when too long
            if width > len(name) * CHAR_WIDTH * size / 11 + 8:
                parts.append(text(x0 + 4, lane.middle + size / 3, name, font_size=size, fill=colour))
                break
    if track.ended_on is not None:
        x = scale.x(track.ended_on)
        parts.append(
            el(
                "line",
                x1=f"{x:.1f}",
                x2=f"{x:.1f}",
                y1=lane.top - 3,
                y2=lane.top + lane.height + 3,
                stroke=INK,
                stroke_width=2,
            )
        )
        outcome = (track.outcome or "closed").replace("_", " ")
        parts.append(text(x + 4, lane.top - 4, f"closed: {outcome}", font_size=10, fill=INK))
    return parts


def _marker(x: float, y: float, status: str, size: float, tip: str) -> str:
    _, colour, shape = STATUS_STYLE.get(status, ("", "#9e9e9e", "square"))
    tooltip = title(tip)
    if shape == "circle":
        return el("circle", tooltip, cx=f"{x:.1f}", cy=f"{y:.1f}", r=size, fill=colour, stroke="#ffffff")
    if shape == "ring":
        return el(
            "circle",
            tooltip,
            cx=f"{x:.1f}",
            cy=f"{y:.1f}",
            r=size - 1,
            fill="#ffffff",
            stroke=colour,
            stroke_width=2.5,
        )
    if shape == "diamond":
        s = size + 1.5
        points = f"{x:.1f},{y - s:.1f} {x + s:.1f},{y:.1f} {x:.1f},{y + s:.1f} {x - s:.1f},{y:.1f}"
        return el("polygon", tooltip, points=points, fill=colour, stroke="#ffffff")
    return el(
        "rect",
        tooltip,
        x=f"{x - size:.1f}",
        y=f"{y - size:.1f}",
        width=2 * size,
        height=2 * size,
        fill=colour,
        stroke="#ffffff",
    )


def _deadline_tip(deadline: tl.Deadline) -> str:
    label = STATUS_STYLE.get(deadline.status, (deadline.status,))[0]
    occurrence = f" #{deadline.occurrence}" if deadline.occurrence else ""
    tip = f"{deadline.rule} {deadline.title}{occurrence}: {label}, due {deadline.due_on}"
    if deadline.satisfied_on is not None:
        tip += f", done {deadline.satisfied_on}"
    if deadline.waived_reason:
        tip += f" ({deadline.waived_reason})"
    return tip


def _deadlines(scale: Scale, timeline: tl.Timeline, lanes: dict[str, Lane]) -> list[str]:
    parts: list[str] = []
    lane = lanes["deadlines"]
    single = sorted(
        (d for d in timeline.deadlines if d.code not in RECURRING and d.due_on is not None),
        key=lambda d: d.due_on or date.min,
    )
    # Markers within a few pixels share one label ("T9·T10"); labels that would touch go up a row.
    clusters: list[list[tuple[float, tl.Deadline]]] = []
    for deadline in single:
        assert deadline.due_on is not None
        x = scale.x(deadline.due_on)
        parts.append(_marker(x, lane.middle, deadline.status, 6, _deadline_tip(deadline)))
        if clusters and x - clusters[-1][0][0] < 10:
            clusters[-1].append((x, deadline))
        else:
            clusters.append([(x, deadline)])
    rows_end = [-1e9, -1e9, -1e9]
    for cluster in clusters:
        x = sum(position for position, _ in cluster) / len(cluster)
        label = "·".join(dict.fromkeys(d.rule for _, d in cluster))
        width = len(label) * CHAR_WIDTH + 6
        row = next((i for i, right in enumerate(rows_end) if x - width / 2 > right), len(rows_end) - 1)
        rows_end[row] = x + width / 2
        y = lane.top - 6 - row * 12 if row < 2 else lane.top + lane.height + 14
        parts.append(text(x, y, label, font_size=10, text_anchor="middle", fill=INK))
    for code, key in (("action_plan_evaluation", "recurring"), ("track_2_progress_report", "reports")):
        for deadline in timeline.deadlines:
            if deadline.code == code and deadline.due_on is not None:
                x = scale.x(deadline.due_on)
                parts.append(_marker(x, lanes[key].middle, deadline.status, 4.5, _deadline_tip(deadline)))
    return parts


def _waiting_period_end(scale: Scale, timeline: tl.Timeline, top: float, bottom: float) -> list[str]:
    x = scale.x(timeline.waiting_period.ends_on)
    return [
        el(
            "line",
            x1=f"{x:.1f}",
            x2=f"{x:.1f}",
            y1=top + 20,
            y2=bottom,
            stroke=INK,
            stroke_width=1.5,
            stroke_dasharray="2 3",
        ),
        text(x - 4, bottom + 12, "end of waiting period", font_size=10, text_anchor="end", fill=INK),
    ]


def _as_of_line(scale: Scale, timeline: tl.Timeline, as_of: date, top: float, bottom: float) -> list[str]:
    x = scale.x(as_of)
    week = f" · week {timeline.week}" if timeline.week is not None else ""
    label = f"as of {short_date(as_of)}{week}"
    anchor = "end" if x > WIDTH - RIGHT - len(label) * CHAR_WIDTH else "start"
    offset = -5 if anchor == "end" else 5
    return [
        el(
            "line",
            x1=f"{x:.1f}",
            x2=f"{x:.1f}",
            y1=top - 14,
            y2=bottom,
            stroke="#d81b60",
            stroke_width=2,
            stroke_dasharray="6 4",
        ),
        el(
            "rect",
            x=f"{x + (offset - len(label) * 6.6 if anchor == 'end' else offset - 3):.1f}",
            y=top - 28,
            width=f"{len(label) * 6.6 + 6:.1f}",
            height=16,
            fill="#ffffff",
        ),
        text(
            x + offset, top - 16, label, font_size=11, font_weight="bold", text_anchor=anchor, fill="#d81b60"
        ),
    ]


def _legend(top: float) -> list[str]:
    parts = [text(LEFT, top, "Deadlines", font_size=11, font_weight="bold", fill=INK)]
    x: float = LEFT + 70
    shown = ("met", "met_late", "overdue", "due_soon", "upcoming", "waived", "not_applicable")
    for status in shown:
        label = STATUS_STYLE[status][0] + (" / suspended" if status == "not_applicable" else "")
        parts.append(_marker(x, top - 4, status, 5, label))
        parts.append(text(x + 9, top, label, font_size=11, fill=INK))
        x += len(label) * CHAR_WIDTH + 30
    y = top + 24
    parts.append(text(LEFT, y, "Phases", font_size=11, font_weight="bold", fill=INK))
    x = LEFT + 70
    for (kind, phase), fill in PHASE_FILL.items():
        label = f"{'T1' if kind == 'track_1' else 'T2'} {phase.replace('_', ' ')}"
        parts.append(el("rect", x=f"{x:.1f}", y=y - 10, width=14, height=12, fill=fill))
        parts.append(text(x + 18, y, label, font_size=11, fill=INK))
        x += len(label) * CHAR_WIDTH + 32
    y += 24
    parts.append(text(LEFT, y, "Other", font_size=11, font_weight="bold", fill=INK))
    x = LEFT + 70
    parts.append(el("rect", x=f"{x:.1f}", y=y - 10, width=14, height=12, fill=SICK_FILL))
    parts.append(text(x + 18, y, "sick", font_size=11, fill=INK))
    x += 60
    parts.append(el("rect", x=f"{x:.1f}", y=y - 10, width=14, height=12, fill="#c8e6c9"))
    parts.append(text(x + 18, y, "recovered (gap)", font_size=11, fill=INK))
    x += 130
    parts.append(
        el(
            "line",
            x1=f"{x:.1f}",
            x2=f"{x + 18:.1f}",
            y1=y - 4,
            y2=y - 4,
            stroke="#d81b60",
            stroke_width=2,
            stroke_dasharray="6 4",
        )
    )
    parts.append(text(x + 24, y, "report day (as_of)", font_size=11, fill=INK))
    x += 150
    parts.append(
        el(
            "line",
            x1=f"{x:.1f}",
            x2=f"{x + 18:.1f}",
            y1=y - 4,
            y2=y - 4,
            stroke=INK,
            stroke_width=1.5,
            stroke_dasharray="2 3",
        )
    )
    parts.append(
        text(
            x + 24,
            y,
            f"end of waiting period (week {catalogue.WAITING_PERIOD_WEEKS} + extensions)",
            font_size=11,
            fill=INK,
        )
    )
    return parts
