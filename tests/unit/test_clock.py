"""The sick-day clock (T0) and Dutch working days. Expected values are hand-checked literals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.domain.clock import (
    SicknessPeriod,
    _easter_sunday,
    build_clock,
    date_of_sick_day,
    is_working_day,
    next_working_day_after,
    sick_day_of_date,
    week_of,
)
from app.domain.errors import InvalidInput, RuleViolation

F = date(2026, 1, 5)


def d(s: str) -> date:
    return date.fromisoformat(s)


@pytest.mark.parametrize(
    ("sick_day", "week"), [(1, 1), (7, 1), (8, 2), (42, 6), (294, 42), (295, 43), (728, 104), (729, 105)]
)
def test_week_of(sick_day: int, week: int) -> None:
    assert week_of(sick_day) == week


def test_week_of_rejects_day_zero() -> None:
    with pytest.raises(InvalidInput):
        week_of(0)


@pytest.mark.parametrize(
    ("sick_day", "expected"),
    [(1, "2026-01-05"), (42, "2026-02-15"), (56, "2026-03-01"), (294, "2026-10-25"), (728, "2028-01-02")],
)
def test_single_period_dates(sick_day: int, expected: str) -> None:
    assert date_of_sick_day(F, (), sick_day) == d(expected)


def test_gap_moves_later_sick_days_only() -> None:
    # 16 sick days (5–20 Jan), 21 healthy days, sick from 11 Feb
    periods = (SicknessPeriod(F, d("2026-01-20")), SicknessPeriod(d("2026-02-11")))
    assert date_of_sick_day(F, periods, 16) == d("2026-01-20")
    assert date_of_sick_day(F, periods, 17) == d("2026-02-11")
    assert date_of_sick_day(F, periods, 42) == d("2026-03-08")
    assert sick_day_of_date(F, periods, d("2026-01-20")) == 16
    assert sick_day_of_date(F, periods, d("2026-01-21")) is None  # healthy
    assert sick_day_of_date(F, periods, d("2026-02-11")) == 17
    assert sick_day_of_date(F, periods, d("2026-01-04")) is None


def test_count_upto_and_projection() -> None:
    clock = build_clock(
        F, (SicknessPeriod(F, d("2026-01-20")), SicknessPeriod(d("2026-02-11"), d("2026-02-20")))
    )
    assert clock.total == 26 and clock.last_end == d("2026-02-20").toordinal()
    assert clock.count_upto(d("2026-01-01").toordinal()) == 0
    assert clock.count_upto(d("2026-02-01").toordinal()) == 16  # in the gap: last sick day before it
    assert clock.count_upto(d("2026-03-31").toordinal()) == 26
    # beyond a closed last period, dates are projected as if still sick
    assert clock.date_of(27) == d("2026-02-21").toordinal()


def test_as_of_view_drops_later_periods_and_reopens_later_ends() -> None:
    periods = (SicknessPeriod(F, d("2026-01-20")), SicknessPeriod(d("2026-02-11"), d("2026-03-01")))
    assert build_clock(F, periods, d("2026-02-01")).total == 16
    assert build_clock(F, periods, d("2026-02-15")).total is None  # second period still open then


@pytest.mark.parametrize(
    ("periods", "exc"),
    [
        ((SicknessPeriod(F, d("2026-01-20")), SicknessPeriod(d("2026-02-18"))), RuleViolation),  # 28 days
        ((SicknessPeriod(F, d("2026-01-20")), SicknessPeriod(d("2026-01-15"))), RuleViolation),  # unsorted
        ((SicknessPeriod(F), SicknessPeriod(d("2026-03-01"))), RuleViolation),  # open before the last
        ((SicknessPeriod(F, d("2026-01-04")),), InvalidInput),  # ends before it starts
        ((SicknessPeriod(d("2026-01-06")),), InvalidInput),  # not on the first sick day
        ((SicknessPeriod(F, pregnancy_leave_in_gap=True, pregnancy_leave_days=3),), InvalidInput),
        (
            (SicknessPeriod(F, d("2026-01-20")), SicknessPeriod(d("2026-02-01"), pregnancy_leave_days=3)),
            InvalidInput,  # leave days without leave in the gap
        ),
        (
            (
                SicknessPeriod(F, d("2026-01-20")),
                SicknessPeriod(
                    d("2026-02-01"),
                    pregnancy_leave_in_gap=True,
                    pregnancy_leave_days=12,  # the gap is only 11 days
                    same_cause_not_pregnancy=True,
                ),
            ),
            InvalidInput,
        ),
    ],
    ids=[
        "gap-28",
        "unsorted",
        "open-before-last",
        "end-before-start",
        "not-first-day",
        "leave-on-first",
        "leave-days-no-flag",
        "leave-longer-than-gap",
    ],
)
def test_refused_periods(periods: tuple[SicknessPeriod, ...], exc: type[Exception]) -> None:
    with pytest.raises(exc) as info:
        build_clock(F, periods)
    if exc is RuleViolation:
        assert info.value.rule == "T0"  # type: ignore[attr-defined]


def test_gap_27_joins_and_adjacent_periods_join() -> None:
    build_clock(F, (SicknessPeriod(F, d("2026-01-20")), SicknessPeriod(d("2026-02-17"))))
    clock = build_clock(F, (SicknessPeriod(F, d("2026-01-20")), SicknessPeriod(d("2026-01-21"))))
    assert clock.date_of(42) == d("2026-02-15").toordinal()


def test_pregnancy_leave_does_not_count_towards_28() -> None:
    # gap 1 Feb – 31 Mar = 59 days, 32 of them leave: 27 healthy days count -> joins
    periods = (
        SicknessPeriod(F, d("2026-01-31")),
        SicknessPeriod(
            d("2026-04-01"),
            pregnancy_leave_in_gap=True,
            pregnancy_leave_days=32,
            same_cause_not_pregnancy=True,
        ),
    )
    assert date_of_sick_day(F, periods, 28) == d("2026-04-01")


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2024, "2024-03-31"), (2025, "2025-04-20"), (2026, "2026-04-05"), (2027, "2027-03-28")],
)
def test_easter(year: int, easter: str) -> None:
    assert _easter_sunday(year) == d(easter)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-01-01", False),  # New Year's Day (Thu)
        ("2026-01-02", True),
        ("2026-04-03", True),  # Good Friday: not a general day off
        ("2026-04-06", False),  # Easter Monday
        ("2026-04-27", False),  # King's Day (Mon)
        ("2025-04-26", False),  # King's Day moved to Saturday 26 April (27th a Sunday)
        ("2025-04-28", True),
        ("2025-05-05", False),  # Liberation Day, lustrum year
        ("2026-05-05", True),  # Liberation Day, not a lustrum year
        ("2026-05-14", False),  # Ascension Day
        ("2026-05-25", False),  # Whit Monday
        ("2026-12-25", False),  # Christmas Day
        ("2026-12-26", False),  # Boxing Day (Saturday anyway)
        ("2028-12-26", False),  # Boxing Day (Tuesday)
        ("2026-10-24", False),  # Saturday
        ("2026-10-25", False),  # Sunday
        ("2026-10-26", True),  # Monday
    ],
)
def test_working_days(day: str, working: bool) -> None:
    assert is_working_day(d(day)) is working


@pytest.mark.parametrize(
    ("day", "next_"),
    [
        ("2026-10-23", "2026-10-26"),  # Friday -> Monday
        ("2026-12-24", "2026-12-28"),  # Christmas on Friday
        ("2028-12-24", "2028-12-27"),  # Christmas on Monday, Boxing Day Tuesday
        ("2027-04-26", "2027-04-28"),  # King's Day on Tuesday
        ("2025-05-04", "2025-05-06"),  # Liberation Day 2025 on Monday
        ("2026-12-31", "2027-01-04"),  # New Year on Friday, then the weekend
        ("2026-05-13", "2026-05-15"),  # Ascension Day on Thursday
    ],
)
def test_next_working_day_after(day: str, next_: str) -> None:
    assert next_working_day_after(d(day)) == d(next_)


def test_ordinal_weekday_convention() -> None:
    # the working-day test relies on ordinal % 7: 6 = Saturday, 0 = Sunday
    for i in range(14):
        day = F + timedelta(days=i)
        assert (day.toordinal() % 7 in (6, 0)) == (day.weekday() >= 5)
