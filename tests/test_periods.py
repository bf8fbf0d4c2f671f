"""Cheap and expensive periods: the rule, checked against brute force on random prices."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import itertools

from hypothesis import given, settings, strategies as st

from custom_components.nomos_energy.periods import (
    Period,
    PeriodKind,
    PeriodRule,
    current_or_next,
    day_averages,
    find_periods,
    next_start,
)
from custom_components.nomos_energy.price_schedule import PriceInterval, day_bounds, local_date

QUARTER = timedelta(minutes=15)


def quarters(day: date, prices: list[float | None]) -> list[PriceInterval]:
    start, _ = day_bounds(day)
    return [
        PriceInterval(start + i * QUARTER, start + (i + 1) * QUARTER, price)
        for i, price in enumerate(prices)
    ]


def brute_force(
    intervals: list[PriceInterval], kind: PeriodKind, rule: PeriodRule
) -> set[tuple[datetime, datetime]]:
    """Every maximal run [i, j] that starts and ends on a qualifying quarter-hour, is
    contiguous and known throughout, and never has two non-qualifying ones in a row."""
    averages = day_averages(intervals)

    def qualifies(interval: PriceInterval) -> bool:
        if interval.price_ct is None:
            return False
        average = averages[local_date(interval.start)]
        if kind is PeriodKind.CHEAP:
            return interval.price_ct <= average - rule.margin * abs(average)
        return interval.price_ct >= average + rule.margin * abs(average)

    def valid(i: int, j: int) -> bool:
        run = intervals[i : j + 1]
        if not (qualifies(run[0]) and qualifies(run[-1])):
            return False
        if any(interval.price_ct is None for interval in run):
            return False
        if any(a.end != b.start for a, b in itertools.pairwise(run)):
            return False
        return not any(not qualifies(a) and not qualifies(b) for a, b in itertools.pairwise(run))

    n = len(intervals)
    runs = {(i, j) for i in range(n) for j in range(i, n) if valid(i, j)}
    maximal = {
        (i, j) for i, j in runs if not any((a, b) != (i, j) and a <= i and j <= b for a, b in runs)
    }
    return {
        (intervals[i].start, intervals[j].end)
        for i, j in maximal
        if intervals[j].end - intervals[i].start >= rule.min_length
    }


prices = st.one_of(st.none(), st.floats(min_value=-20, max_value=60, allow_nan=False))


@settings(max_examples=150, deadline=None)
@given(
    day=st.sampled_from([date(2026, 3, 29), date(2026, 10, 25), date(2026, 12, 1)]),
    first=st.lists(prices, min_size=0, max_size=100),
    margin=st.sampled_from([0.05, 0.1, 0.3]),
    min_quarters=st.integers(min_value=1, max_value=8),
    kind=st.sampled_from(list(PeriodKind)),
)
def test_periods_match_brute_force(
    day: date, first: list[float | None], margin: float, min_quarters: int, kind: PeriodKind
) -> None:
    """Random days (DST ones included), nulls and negative prices: the same periods."""
    count = (day_bounds(day)[1] - day_bounds(day)[0]) // QUARTER
    intervals = quarters(day, (first + [25.0] * count)[:count])
    rule = PeriodRule(margin=margin, min_length=min_quarters * QUARTER)
    found = find_periods(intervals, kind, rule)
    assert {(period.start, period.end) for period in found} == brute_force(intervals, kind, rule)
    for period in found:
        inside = [i for i in intervals if period.start <= i.start < period.end]
        assert period.intervals == len(inside)
        assert abs(period.average_ct - sum(i.price_ct or 0 for i in inside) / len(inside)) < 1e-9
    assert [period.start for period in found] == sorted(period.start for period in found)


def test_a_typical_day() -> None:
    """Night and noon cheap, evening expensive; one stray quarter-hour is bridged."""
    day = date(2026, 12, 1)
    hourly = [20] * 6 + [30] * 4 + [20] * 4 + [30] * 3 + [40] * 4 + [30] * 3
    prices: list[float | None] = [float(price) for price in hourly for _ in range(4)]
    prices[2] = 30.0  # a stray quarter-hour in the night
    intervals = quarters(day, prices)
    cheap = find_periods(intervals, PeriodKind.CHEAP)
    start, _ = day_bounds(day)
    assert [(p.start - start, p.end - start) for p in cheap] == [
        (timedelta(0), timedelta(hours=6)),
        (timedelta(hours=10), timedelta(hours=14)),
    ]
    assert cheap[0].average_ct == (23 * 20 + 30) / 24
    expensive = find_periods(intervals, PeriodKind.EXPENSIVE)
    assert [(p.start - start, p.end - start) for p in expensive] == [
        (timedelta(hours=17), timedelta(hours=21))
    ]
    # Two stray quarter-hours in a row break a period; an unknown price always does.
    prices[3] = 30.0
    prices[40] = None
    split = find_periods(quarters(day, prices), PeriodKind.CHEAP)
    assert [(p.start - start, p.end - start) for p in split] == [
        (timedelta(hours=1), timedelta(hours=6)),
        (timedelta(hours=10, minutes=15), timedelta(hours=14)),
    ]


def test_periods_run_across_midnight_and_short_runs_are_left_out() -> None:
    """Each quarter-hour is judged against its own day; a period may span midnight."""
    first, second = date(2026, 12, 1), date(2026, 12, 2)
    evening = [30.0] * 88 + [20.0] * 8
    morning = [20.0] * 4 + [30.0] * 92
    intervals = quarters(first, evening) + quarters(second, morning)
    cheap = find_periods(intervals, PeriodKind.CHEAP)
    assert [(p.start, p.end) for p in cheap] == [
        (day_bounds(first)[0] + 88 * QUARTER, day_bounds(second)[0] + 4 * QUARTER)
    ]
    assert (
        find_periods(intervals, PeriodKind.CHEAP, PeriodRule(min_length=timedelta(hours=4))) == []
    )


def test_negative_prices_count_as_cheap() -> None:
    """A day averaging below zero still has cheap and expensive quarter-hours."""
    day = date(2026, 5, 10)
    prices: list[float | None] = [-5.0] * 48 + [-1.0] * 48
    cheap = find_periods(quarters(day, prices), PeriodKind.CHEAP)
    expensive = find_periods(quarters(day, prices), PeriodKind.EXPENSIVE)
    start, end = day_bounds(day)
    assert [(p.start, p.end) for p in cheap] == [(start, start + 48 * QUARTER)]
    assert [(p.start, p.end) for p in expensive] == [(start + 48 * QUARTER, end)]


def test_current_next_and_next_start() -> None:
    base = datetime(2026, 12, 1, tzinfo=UTC)
    periods = [
        Period(PeriodKind.CHEAP, base, base + timedelta(hours=2), 20.0, 8),
        Period(PeriodKind.CHEAP, base + timedelta(hours=5), base + timedelta(hours=6), 19.0, 4),
    ]
    inside = base + timedelta(hours=1)
    assert current_or_next(periods, inside) is periods[0]
    assert next_start(periods, inside) == periods[1].start
    between = base + timedelta(hours=3)
    assert current_or_next(periods, between) is periods[1]
    assert next_start(periods, between) == periods[1].start
    assert current_or_next(periods, base + timedelta(hours=7)) is None
    assert next_start(periods, base + timedelta(hours=7)) is None
    assert periods[0].contains(base)
    assert not periods[0].contains(periods[0].end)
