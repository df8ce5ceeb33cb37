"""The sick-day clock (T0) and Dutch working days.

Day 1 is the first sick day; week N covers sick days 7(N-1)+1 … 7N. A case has one or more sickness
periods; a later period joins the case (samentelling, BW 7:629 lid 10) when fewer than 28 healthy days
separate it from the previous one, and the healthy days do not count. Across pregnancy or maternity
leave the periods join only when flagged "same cause, not the pregnancy"; the leave days do not count
towards the 28 (and, not being sick days, do not count on the clock either).

Internally everything is a date ordinal (`date.toordinal()`), so the timeline engine does int
arithmetic only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

import holidays

from app.domain.catalogue import DAYS_PER_WEEK, RELAPSE_JOIN_GAP_DAYS
from app.domain.errors import InvalidInput, RuleViolation

OPEN: Final = 1 << 40  # ordinal sentinel for "no end yet", beyond any real date


@dataclass(frozen=True, slots=True)
class SicknessPeriod:
    """An interval of (full or partial) sickness. `end` is the last sick day, None while still sick.

    For a period after the first: `pregnancy_leave_in_gap` says the healthy gap before it contained
    pregnancy or maternity leave of `pregnancy_leave_days` days, and `same_cause_not_pregnancy` is the
    flag that lets the period join the case across that leave.
    """

    start: date
    end: date | None = None
    pregnancy_leave_in_gap: bool = False
    pregnancy_leave_days: int = 0
    same_cause_not_pregnancy: bool = False


class SickClock:
    """Maps sick-day numbers to dates and back across a case's sickness periods.

    `starts[i]`/`ends[i]` are the ordinals of period i (`ends[-1]` is OPEN while sick), `firsts[i]` the
    sick-day number of its first day.
    """

    __slots__ = ("ends", "first", "firsts", "last_end", "n", "starts", "total")

    def __init__(self, starts: list[int], ends: list[int]) -> None:
        self.starts = starts
        self.ends = ends
        self.n = len(starts)
        self.first = starts[0]
        firsts = [1]
        for i in range(self.n - 1):
            firsts.append(firsts[i] + ends[i] - starts[i] + 1)
        self.firsts = firsts
        last_end = ends[-1]
        #: ordinal of the last sick day, or None while the last period is open
        self.last_end: int | None = None if last_end == OPEN else last_end
        #: number of sick days in the case, or None while the last period is open
        self.total: int | None = None if last_end == OPEN else firsts[-1] + last_end - starts[-1]

    def date_of(self, k: int) -> int:
        """Ordinal of sick-day `k`. Beyond the end of a closed last period the date is projected as if
        the employee had stayed sick (callers decide whether such a date is suspended)."""
        if self.n == 1:
            return self.first + k - 1
        firsts = self.firsts
        i = self.n - 1
        while i > 0 and k < firsts[i]:
            i -= 1
        return self.starts[i] + k - firsts[i]

    def count_upto(self, d: int) -> int:
        """Number of sick days on or before ordinal `d` (0 before the first sick day). For a day in a
        healthy gap this is the number of the last sick day before it."""
        starts = self.starts
        i = self.n - 1
        while i >= 0 and d < starts[i]:
            i -= 1
        if i < 0:
            return 0
        end = self.ends[i]
        if d > end:
            d = end
        return self.firsts[i] + d - starts[i]

    def sick_day_of(self, d: int) -> int | None:
        """Sick-day number of ordinal `d`, or None when `d` is not a sick day."""
        starts = self.starts
        i = self.n - 1
        while i >= 0 and d < starts[i]:
            i -= 1
        if i < 0 or d > self.ends[i]:
            return None
        return self.firsts[i] + d - starts[i]

    def after(self, d: int, days: int) -> int:
        """Sick-day number `days` sick days after ordinal `d` (0 days: the sick day of `d`, or the last
        one before it)."""
        return self.count_upto(d) + days


def build_clock(
    first_sick_day: date,
    periods: tuple[SicknessPeriod, ...] | list[SicknessPeriod],
    as_of: date | None = None,
) -> SickClock:
    """Validate the periods (T0) and build the clock.

    An empty `periods` means one open period from the first sick day. With `as_of`, the clock shows the
    case as known on that day: periods starting after it are left out and a period ending after it is
    still open. Raises RuleViolation(rule="T0") for periods that cannot form one case: unsorted or
    overlapping periods, a period without end before the last one, a gap of 28 healthy days or more, or
    a gap with pregnancy leave not flagged "same cause, not the pregnancy".
    """
    f = first_sick_day.toordinal()
    if not periods:
        return SickClock([f], [OPEN])
    p0 = periods[0]
    if p0.start != first_sick_day:
        raise InvalidInput(
            f"the first sickness period starts on {p0.start}, not on the first sick day {first_sick_day}"
        )
    if p0.pregnancy_leave_in_gap or p0.pregnancy_leave_days or p0.same_cause_not_pregnancy:
        raise InvalidInput(
            "the first sickness period has no gap before it: pregnancy leave flags are meaningless"
        )
    cut = OPEN if as_of is None else as_of.toordinal()
    starts: list[int] = []
    ends: list[int] = []
    prev_end = -1
    for i, p in enumerate(periods):
        s = p.start.toordinal()
        e = OPEN if p.end is None else p.end.toordinal()
        if e < s:
            raise InvalidInput(f"sickness period {i + 1} ends ({p.end}) before it starts ({p.start})")
        if i:
            if prev_end == OPEN:
                raise RuleViolation(
                    f"sickness period {i} has no end but another period follows it", rule="T0"
                )
            if s <= prev_end:
                raise RuleViolation(
                    f"sickness period {i + 1} (from {p.start}) overlaps or precedes the previous one",
                    rule="T0",
                )
            gap = s - prev_end - 1
            leave = p.pregnancy_leave_days
            if p.pregnancy_leave_in_gap:
                if leave <= 0 or leave > gap:
                    raise InvalidInput(
                        f"sickness period {i + 1}: {leave} pregnancy leave days do not fit the {gap}-day gap"
                    )
                if not p.same_cause_not_pregnancy:
                    raise RuleViolation(
                        f"sickness period {i + 1} follows pregnancy or maternity leave and is not flagged "
                        "'same cause, not the pregnancy': it does not join this case",
                        rule="T0",
                    )
            elif leave or p.same_cause_not_pregnancy:
                raise InvalidInput(
                    f"sickness period {i + 1}: leave details given without pregnancy leave in the gap"
                )
            if gap - leave >= RELAPSE_JOIN_GAP_DAYS:
                raise RuleViolation(
                    f"sickness period {i + 1} starts after {gap - leave} healthy days "
                    f"(>= {RELAPSE_JOIN_GAP_DAYS}): a new case",
                    rule="T0",
                )
        prev_end = e
        if i and s > cut:
            continue  # not yet known as of `as_of`; validated above all the same
        starts.append(s)
        ends.append(OPEN if e > cut else e)
    return SickClock(starts, ends)


def week_of(sick_day: int) -> int:
    """Week number of sick-day `sick_day` (>= 1)."""
    if sick_day < 1:
        raise InvalidInput(f"sick day {sick_day} is before day 1")
    return (sick_day - 1) // DAYS_PER_WEEK + 1


def date_of_sick_day(first_sick_day: date, periods: tuple[SicknessPeriod, ...], sick_day: int) -> date:
    """Date of sick-day `sick_day` across the periods (projected beyond a closed last period)."""
    return date.fromordinal(build_clock(first_sick_day, periods).date_of(sick_day))


def sick_day_of_date(first_sick_day: date, periods: tuple[SicknessPeriod, ...], d: date) -> int | None:
    """Sick-day number of `d`, or None when `d` is not a sick day of the case."""
    return build_clock(first_sick_day, periods).sick_day_of(d.toordinal())


# --- Working days -----------------------------------------------------------------------------------
#
# A working day is Monday to Friday and not a Dutch public holiday. We take the `holidays` library's
# NL public holidays — New Year's Day, Easter Sunday and Monday, King's Day (27 April, 26 April when the
# 27th is a Sunday), Ascension Day, Whit Sunday and Monday, Christmas Day and Boxing Day, and Liberation
# Day (5 May) in lustrum years only (2025, 2030, …) — minus Good Friday, which the library lists but
# which is not a generally recognised day off in the Netherlands (the Algemene termijnenwet does not name
# it and most employers work). Dropping it is also the cautious choice for a deadline: it can only make a
# due date earlier, never later.

_holiday_cache: dict[int, frozenset[int]] = {}


def _easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def holiday_ordinals(year: int) -> frozenset[int]:
    """Ordinals of the public holidays (as defined above) in `year`; cached per year."""
    cached = _holiday_cache.get(year)
    if cached is None:
        good_friday = _easter_sunday(year).toordinal() - 2
        days = holidays.country_holidays("NL", years=year)
        cached = frozenset(d.toordinal() for d in days if d.toordinal() != good_friday)
        _holiday_cache[year] = cached
    return cached


def is_working_day_ordinal(o: int) -> bool:
    if o % 7 in (6, 0):  # date.fromordinal(1) is a Monday: ordinal % 7 == 6 is Saturday, 0 Sunday
        return False
    return o not in holiday_ordinals(date.fromordinal(o).year)


def is_working_day(d: date) -> bool:
    """Monday to Friday and not a Dutch public holiday (see above)."""
    return is_working_day_ordinal(d.toordinal())


def next_working_day_after_ordinal(o: int) -> int:
    o += 1
    while not is_working_day_ordinal(o):
        o += 1
    return o


def next_working_day_after(d: date) -> date:
    """The first working day strictly after `d`."""
    return date.fromordinal(next_working_day_after_ordinal(d.toordinal()))
