"""Cheap and expensive periods: runs of quarter-hours clearly below or above the day's average.

The rule, as the README tells it: a quarter-hour is *cheap* when its price is at
least `margin` (default 10 %) below the average of its Berlin day's known prices,
*expensive* when at least `margin` above. Neighbouring cheap quarter-hours form a
period; one stray quarter-hour between two of them (a brief blip) does not break
it, and periods shorter than `min_length` (default one hour) are left out. The
day's average is taken per day, so a period can run across midnight, over every
known price (today and tomorrow). Unknown prices never belong to a period.

No Home Assistant imports: tested directly, and against brute force.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from .price_schedule import PriceInterval, local_date

DEFAULT_MARGIN = 0.10
DEFAULT_MIN_LENGTH = timedelta(hours=1)
# Stray quarter-hours a period may bridge (they must have a known price).
BRIDGE = 1


class PeriodKind(StrEnum):
    """Which side of the day's average a period is on."""

    CHEAP = "cheap"
    EXPENSIVE = "expensive"


@dataclass(frozen=True, slots=True)
class PeriodRule:
    """What counts as a period (from the options)."""

    margin: float = DEFAULT_MARGIN
    min_length: timedelta = DEFAULT_MIN_LENGTH


@dataclass(frozen=True, slots=True)
class Period:
    """A run of quarter-hours, with the average of their prices (ct/kWh)."""

    kind: PeriodKind
    start: datetime
    end: datetime
    average_ct: float
    intervals: int

    def contains(self, moment: datetime) -> bool:
        """Return whether `moment` lies inside the period."""
        return self.start <= moment < self.end


def day_averages(intervals: Iterable[PriceInterval]) -> dict[date, float]:
    """Return the average known price (ct/kWh) of each Berlin day."""
    sums: dict[date, list[float]] = {}
    for interval in intervals:
        if interval.price_ct is not None:
            sums.setdefault(local_date(interval.start), []).append(interval.price_ct)
    return {day: sum(values) / len(values) for day, values in sums.items()}


def _qualifies(price: float, average: float, kind: PeriodKind, margin: float) -> bool:
    # |average| keeps the rule meaningful when a day averages below zero.
    if kind is PeriodKind.CHEAP:
        return price <= average - margin * abs(average)
    return price >= average + margin * abs(average)


def find_periods(
    intervals: Sequence[PriceInterval], kind: PeriodKind, rule: PeriodRule = PeriodRule()
) -> list[Period]:
    """Return the periods of one kind, in time order."""
    ordered = sorted(intervals, key=lambda interval: interval.start)
    averages = day_averages(ordered)
    flags = [
        interval.price_ct is not None
        and _qualifies(interval.price_ct, averages[local_date(interval.start)], kind, rule.margin)
        for interval in ordered
    ]
    periods: list[Period] = []
    run: list[PriceInterval] = []
    pending: list[PriceInterval] = []  # stray quarter-hours after the run, not yet bridged

    def close() -> None:
        if run and run[-1].end - run[0].start >= rule.min_length:
            prices = [interval.price_ct for interval in run if interval.price_ct is not None]
            periods.append(
                Period(kind, run[0].start, run[-1].end, sum(prices) / len(prices), len(run))
            )

    for interval, flagged in zip(ordered, flags, strict=True):
        contiguous = bool(run) and (pending[-1] if pending else run[-1]).end == interval.start
        if flagged:
            if run and contiguous:
                run.extend(pending)
            else:
                close()
                run = []
            run.append(interval)
            pending = []
        elif run and contiguous and interval.price_ct is not None and len(pending) < BRIDGE:
            pending.append(interval)
        else:
            close()
            run, pending = [], []
    close()
    return periods


def current_or_next(periods: Sequence[Period], now: datetime) -> Period | None:
    """Return the period running at `now`, or else the next one to start."""
    for period in periods:
        if period.end > now:
            return period
    return None


def next_start(periods: Sequence[Period], now: datetime) -> datetime | None:
    """Return when the next period starts after `now` (not the one running now)."""
    return next((period.start for period in periods if period.start > now), None)
