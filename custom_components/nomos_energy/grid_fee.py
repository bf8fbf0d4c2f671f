"""Grid-fee windows (§14a EnWG, module 3) read from the prices themselves.

Under module 3 the grid operator sets up to three grid-fee levels a day in fixed
windows: low, standard and high. Nomos sends each quarter-hour's price with its
parts, the grid fee among them (`components_ct["grid"]`), so the windows need
no typing in: the distinct grid fees of a Berlin day are its levels.

- Three distinct fees: the lowest is *low*, the middle *standard*, the highest *high*.
- Two: the lower is *low*, the higher *standard* (an operator with two levels
  names its cheap hours; the rest of the day is its normal fee).
- One, or none known: no time-variable grid fee that day, no windows.
- More than three: not a module-3 day; nothing is classified (never guessed).

A quarter-hour whose price is unknown (None) or that has no grid part is not
classified, and windows end and start around it. Fees are rounded to four
decimals (what Nomos sends) before they are compared, so float noise never makes
a level. A day has the quarter-hours its prices have (92, 96 or 100): nothing
here assumes 96.

No Home Assistant imports: tested directly, and against brute force.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

from .price_schedule import CT_PER_EUR, PriceInterval, PriceSchedule, local_date

GRID: Final = "grid"
DIGITS: Final = 4
MAX_LEVELS: Final = 3


class GridFeeLevel(StrEnum):
    """The level of a quarter-hour's grid fee within its day."""

    LOW = "low"
    STANDARD = "standard"
    HIGH = "high"


# The names of a day's fees, lowest first, by how many distinct fees it has.
LEVEL_NAMES: Final[dict[int, tuple[GridFeeLevel, ...]]] = {
    2: (GridFeeLevel.LOW, GridFeeLevel.STANDARD),
    3: (GridFeeLevel.LOW, GridFeeLevel.STANDARD, GridFeeLevel.HIGH),
}


def grid_fee_ct(interval: PriceInterval) -> float | None:
    """Return the quarter-hour's grid fee (ct/kWh, 4 decimals); None when it is not known."""
    if interval.price_ct is None:
        return None
    fee = interval.components_ct.get(GRID)
    return None if fee is None else round(float(fee), DIGITS)


@dataclass(frozen=True, slots=True)
class GridFeeWindow:
    """A run of quarter-hours with one grid-fee level."""

    start: datetime
    end: datetime
    level: GridFeeLevel
    grid_fee_ct: float

    def contains(self, moment: datetime) -> bool:
        """Return whether `moment` lies inside the window."""
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class GridFeeDay:
    """One Berlin day's grid-fee levels, each quarter-hour's level and the windows."""

    day: date
    # The day's distinct known fees, lowest first.
    fees: tuple[float, ...]
    # Each interval of the day with its level (None: not classified).
    quarters: tuple[tuple[PriceInterval, GridFeeLevel | None], ...]
    windows: tuple[GridFeeWindow, ...]

    @property
    def variable(self) -> bool:
        """Return whether the day has time-variable grid fees (two or three levels)."""
        return len(self.fees) in LEVEL_NAMES

    @property
    def known(self) -> bool:
        """Return whether any of the day's prices is there."""
        return bool(self.quarters)

    def fee_of(self, level: GridFeeLevel) -> float | None:
        """Return the fee (ct/kWh) of a level that day; None when it has no such level."""
        names = LEVEL_NAMES.get(len(self.fees), ())
        return self.fees[names.index(level)] if level in names else None

    def level_at(self, moment: datetime) -> GridFeeLevel | None:
        """Return the level of the quarter-hour containing `moment` (None: not classified)."""
        return next(
            (level for interval, level in self.quarters if interval.start <= moment < interval.end),
            None,
        )


def _day_intervals(
    prices: PriceSchedule | Iterable[PriceInterval], day: date
) -> list[PriceInterval]:
    if isinstance(prices, PriceSchedule):
        return prices.day(day)
    return sorted(
        (interval for interval in prices if local_date(interval.start) == day),
        key=lambda interval: interval.start,
    )


def classify_day(prices: PriceSchedule | Iterable[PriceInterval], day: date) -> GridFeeDay:
    """Return the grid-fee levels and windows of a Berlin day from its quarter-hours."""
    intervals = _day_intervals(prices, day)
    fees = [grid_fee_ct(interval) for interval in intervals]
    distinct = tuple(sorted({fee for fee in fees if fee is not None}))
    names = LEVEL_NAMES.get(len(distinct), ())
    level_of = dict(zip(distinct, names, strict=True)) if names else {}
    quarters = tuple(
        (interval, None if fee is None else level_of.get(fee))
        for interval, fee in zip(intervals, fees, strict=True)
    )
    fee_of = {level: fee for fee, level in level_of.items()}
    return GridFeeDay(day, distinct, quarters, tuple(_windows(quarters, fee_of)))


def _windows(
    quarters: Sequence[tuple[PriceInterval, GridFeeLevel | None]],
    fee_of: Mapping[GridFeeLevel, float],
) -> list[GridFeeWindow]:
    """Merge neighbouring quarter-hours of one level into windows."""
    windows: list[GridFeeWindow] = []
    for interval, level in quarters:
        if level is None:
            continue
        last = windows[-1] if windows else None
        if last is not None and last.level is level and last.end == interval.start:
            windows[-1] = GridFeeWindow(last.start, interval.end, level, last.grid_fee_ct)
        else:
            windows.append(GridFeeWindow(interval.start, interval.end, level, fee_of[level]))
    return windows


def join(windows: Iterable[GridFeeWindow], *, same_fee: bool = True) -> list[GridFeeWindow]:
    """Join windows that touch and have one level (and fee): a low night across midnight."""
    joined: list[GridFeeWindow] = []
    for window in sorted(windows, key=lambda window: window.start):
        last = joined[-1] if joined else None
        if (
            last is not None
            and last.end == window.start
            and last.level is window.level
            and (not same_fee or last.grid_fee_ct == window.grid_fee_ct)
        ):
            joined[-1] = GridFeeWindow(last.start, window.end, last.level, last.grid_fee_ct)
        else:
            joined.append(window)
    return joined


def current_or_next(
    windows: Iterable[GridFeeWindow], now: datetime, level: GridFeeLevel = GridFeeLevel.LOW
) -> GridFeeWindow | None:
    """Return the window of `level` running at `now`, or else the next one (joined over days)."""
    return next(
        (
            window
            for window in join((w for w in windows if w.level is level), same_fee=False)
            if window.end > now
        ),
        None,
    )


def next_start(
    windows: Iterable[GridFeeWindow], now: datetime, level: GridFeeLevel = GridFeeLevel.LOW
) -> datetime | None:
    """Return when the next window of `level` starts after `now` (not the one running)."""
    return next(
        (
            window.start
            for window in join((w for w in windows if w.level is level), same_fee=False)
            if window.start > now
        ),
        None,
    )


class GridFeeDays:
    """The classified days of one schedule, each computed once (entities read them every tick)."""

    __slots__ = ("_days", "_schedule")

    def __init__(self) -> None:
        """Start empty."""
        self._schedule: PriceSchedule | None = None
        self._days: dict[date, GridFeeDay] = {}

    def day(self, schedule: PriceSchedule, day: date) -> GridFeeDay:
        """Return a Berlin day's levels and windows; new prices start afresh."""
        if schedule is not self._schedule:
            self._schedule, self._days = schedule, {}
        if day not in self._days:
            self._days[day] = classify_day(schedule, day)
        return self._days[day]

    def windows(self, schedule: PriceSchedule, first: date, days: int) -> list[GridFeeWindow]:
        """Return the windows of `days` days from `first` on, in time order."""
        return [
            window
            for offset in range(days)
            for window in self.day(schedule, first + timedelta(days=offset)).windows
        ]


def module3_saving_eur(
    prices: PriceSchedule | Iterable[PriceInterval], usage_kwh: Mapping[datetime, float]
) -> float:
    """Return what module 3 saved against the day's standard grid fee, in EUR.

    Each classified quarter-hour with usage counts (standard fee - its fee) x kWh: a low
    window saves, a high one costs extra. Days without time-variable fees, and quarter-hours
    not classified, count nothing. `usage_kwh` maps quarter-hour starts (UTC) to kWh.
    """
    intervals = list(prices.intervals if isinstance(prices, PriceSchedule) else prices)
    total_ct = 0.0
    for day in sorted({local_date(interval.start) for interval in intervals}):
        found = classify_day(intervals, day)
        standard = found.fee_of(GridFeeLevel.STANDARD)
        if standard is None:
            continue
        for interval, level in found.quarters:
            fee = found.fee_of(level) if level is not None else None
            if fee is not None:
                total_ct += (standard - fee) * usage_kwh.get(interval.start, 0.0)
    return total_ct / CT_PER_EUR
