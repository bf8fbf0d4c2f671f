"""Find the cheapest (or most expensive) window of intervals: pure logic, no Home Assistant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import heapq
import math

from .price_schedule import PriceInterval


@dataclass(frozen=True, slots=True)
class Window:
    """The chosen intervals, in time order, and their average price (ct/kWh)."""

    intervals: tuple[PriceInterval, ...]
    average_ct: float

    @property
    def start(self) -> datetime:
        """Return the start of the first chosen interval."""
        return self.intervals[0].start

    @property
    def end(self) -> datetime:
        """Return the end of the last chosen interval."""
        return self.intervals[-1].end

    @property
    def segments(self) -> list[tuple[datetime, datetime]]:
        """Return the chosen intervals merged into gap-free runs (start, end).

        An appliance switched on at each segment's start and off at its end
        runs exactly in the chosen quarter-hours, never through the gaps.
        """
        runs: list[tuple[datetime, datetime]] = []
        for interval in self.intervals:
            if runs and runs[-1][1] == interval.start:
                runs[-1] = (runs[-1][0], interval.end)
            else:
                runs.append((interval.start, interval.end))
        return runs


class WindowError(ValueError):
    """The window cannot be placed; `reason` is a translation key."""

    def __init__(self, reason: str, needed: int, available: int) -> None:
        """Store why, how many intervals were needed and how many were usable."""
        super().__init__(f"{reason}: need {needed} intervals, {available} usable")
        self.reason = reason
        self.needed = needed
        self.available = available


def intervals_needed(duration: timedelta, interval: timedelta) -> int:
    """Return how many intervals cover `duration` (a started interval counts)."""
    return max(1, math.ceil(duration / interval))


def find_window(
    intervals: Sequence[PriceInterval],
    duration: timedelta,
    *,
    contiguous: bool = True,
    most_expensive: bool = False,
) -> Window:
    """Return the best window among `intervals` (time-ordered, already range-filtered).

    Intervals with unknown prices are never chosen. A contiguous window must
    be gap-free in time. The contiguous search is linear; the other one is
    O(n log k) with heapq, which `script/bench` shows is far below a millisecond
    at our sizes (a month of quarter-hours).
    """
    if not intervals:
        raise WindowError("no_prices", 0, 0)
    needed = intervals_needed(duration, intervals[0].end - intervals[0].start)
    sign = -1.0 if most_expensive else 1.0
    if contiguous:
        return _contiguous(intervals, needed, sign)
    return _any(intervals, needed, sign)


def _contiguous(intervals: Sequence[PriceInterval], needed: int, sign: float) -> Window:
    """Slide a window of `needed` gap-free known intervals; keep the best sum."""
    best_sum = math.inf
    best_end = -1
    run_start = 0  # first index of the current gap-free run of known prices
    running = 0.0  # signed sum of the last `needed` prices of the run
    longest = 0
    for index, interval in enumerate(intervals):
        if interval.price_ct is None:
            run_start, running = index + 1, 0.0
            continue
        if index > run_start and intervals[index - 1].end != interval.start:
            run_start, running = index, 0.0
        running += sign * interval.price_ct
        run_length = index - run_start + 1
        if run_length > needed:
            dropped = intervals[index - needed].price_ct
            assert dropped is not None
            running -= sign * dropped
        longest = max(longest, run_length)
        # Strictly better only, so the earliest of equal windows wins.
        if run_length >= needed and running < best_sum - 1e-9:
            best_sum, best_end = running, index
    if best_end < 0:
        raise WindowError("window_does_not_fit", needed, longest)
    chosen = tuple(intervals[best_end - needed + 1 : best_end + 1])
    return Window(chosen, _average(chosen))


def _any(intervals: Sequence[PriceInterval], needed: int, sign: float) -> Window:
    """Pick the `needed` best known intervals anywhere in the range (the earliest of ties)."""
    known = [
        (sign * interval.price_ct, index, interval)
        for index, interval in enumerate(intervals)
        if interval.price_ct is not None
    ]
    if len(known) < needed:
        raise WindowError("not_enough_prices", needed, len(known))
    best = heapq.nsmallest(needed, known, key=lambda item: (item[0], item[1]))
    chosen = tuple(interval for _, _, interval in sorted(best, key=lambda item: item[1]))
    return Window(chosen, _average(chosen))


def _average(intervals: Sequence[PriceInterval]) -> float:
    prices = [interval.price_ct for interval in intervals if interval.price_ct is not None]
    return sum(prices) / len(prices)
