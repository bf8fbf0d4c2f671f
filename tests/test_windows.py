"""The window finder against a brute-force search on random series (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import itertools

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.nomos_energy.price_schedule import PriceInterval
from custom_components.nomos_energy.windows import (
    WindowError,
    find_window,
    intervals_needed,
)

QUARTER = timedelta(minutes=15)
# Around the autumn DST change in Berlin, so series cross it.
ORIGIN = datetime(2026, 10, 24, 22, tzinfo=UTC)

price = st.one_of(
    st.none(),
    st.integers(min_value=-500, max_value=6000).map(lambda cents: cents / 100),
)


@st.composite
def series(draw: st.DrawFn) -> list[PriceInterval]:
    """A time-ordered series of quarter-hours with unknown prices and gaps."""
    prices = draw(st.lists(price, min_size=0, max_size=60))
    gaps = draw(st.lists(st.booleans(), min_size=len(prices), max_size=len(prices)))
    result = []
    start = ORIGIN
    for amount, gap in zip(prices, gaps, strict=True):
        if gap and draw(st.integers(0, 9)) == 0:
            start += QUARTER  # a missing interval
        result.append(PriceInterval(start, start + QUARTER, amount))
        start += QUARTER
    return result


def brute_contiguous(intervals: list[PriceInterval], needed: int, sign: float) -> float | None:
    best = None
    for first in range(len(intervals) - needed + 1):
        chunk = intervals[first : first + needed]
        if any(interval.price_ct is None for interval in chunk):
            continue
        if any(a.end != b.start for a, b in itertools.pairwise(chunk)):
            continue
        average = sum(sign * interval.price_ct for interval in chunk) / needed
        best = average if best is None else min(best, average)
    return best


def brute_any(intervals: list[PriceInterval], needed: int, sign: float) -> float | None:
    known = sorted(
        sign * interval.price_ct for interval in intervals if interval.price_ct is not None
    )
    if len(known) < needed:
        return None
    return sum(known[:needed]) / needed


@settings(max_examples=400, deadline=None)
@given(series(), st.integers(min_value=1, max_value=12), st.booleans(), st.booleans())
def test_window_matches_brute_force(
    intervals: list[PriceInterval], needed: int, contiguous: bool, most_expensive: bool
) -> None:
    """The linear search finds exactly the optimum a brute-force search finds."""
    sign = -1.0 if most_expensive else 1.0
    expected = (brute_contiguous if contiguous else brute_any)(intervals, needed, sign)
    duration = needed * QUARTER
    if expected is None:
        with pytest.raises(WindowError):
            find_window(intervals, duration, contiguous=contiguous, most_expensive=most_expensive)
        return
    window = find_window(intervals, duration, contiguous=contiguous, most_expensive=most_expensive)
    assert len(window.intervals) == needed
    assert all(interval.price_ct is not None for interval in window.intervals)
    assert sign * window.average_ct == pytest.approx(expected, abs=1e-6)
    assert list(window.intervals) == sorted(window.intervals, key=lambda i: i.start)
    if contiguous:
        assert all(a.end == b.start for a, b in itertools.pairwise(window.intervals))
        assert window.end - window.start == needed * QUARTER


def make(prices: list[float | None], start: datetime = ORIGIN) -> list[PriceInterval]:
    return [
        PriceInterval(start + index * QUARTER, start + (index + 1) * QUARTER, amount)
        for index, amount in enumerate(prices)
    ]


def test_earliest_of_equal_windows_wins() -> None:
    window = find_window(make([5, 1, 1, 5, 1, 1]), 2 * QUARTER)
    assert window.start == ORIGIN + QUARTER
    window = find_window(make([1, 5, 1]), QUARTER, contiguous=False)
    assert window.start == ORIGIN


def test_unknown_prices_break_windows() -> None:
    with pytest.raises(WindowError) as err:
        find_window(make([1, None, 1, None, 1]), 2 * QUARTER)
    assert err.value.reason == "window_does_not_fit"
    assert err.value.needed == 2
    assert err.value.available == 1
    with pytest.raises(WindowError) as err:
        find_window(make([1, None]), 2 * QUARTER, contiguous=False)
    assert err.value.reason == "not_enough_prices"
    with pytest.raises(WindowError) as err:
        find_window([], QUARTER)
    assert err.value.reason == "no_prices"


def test_zero_and_negative_prices_are_real() -> None:
    window = find_window(make([3, 0, -2, 4]), 2 * QUARTER)
    assert window.average_ct == -1
    assert window.start == ORIGIN + QUARTER


def test_intervals_needed_rounds_up() -> None:
    assert intervals_needed(timedelta(minutes=1), QUARTER) == 1
    assert intervals_needed(timedelta(minutes=90), QUARTER) == 6
    assert intervals_needed(timedelta(minutes=91), QUARTER) == 7
    assert intervals_needed(timedelta(0), QUARTER) == 1
    assert intervals_needed(timedelta(hours=2), timedelta(hours=1)) == 2
