"""The price schedule of one subscription: pure logic, no Home Assistant imports.

Intervals are kept in UTC and looked up by time. Days are Europe/Berlin days,
so a day has 92, 96 or 100 quarter-hours; nothing here assumes 96. A price of
None means "unknown" and is never treated as zero.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
CT_PER_EUR = 100


def local_date(moment: datetime) -> date:
    """Return the Berlin calendar date of an instant."""
    return moment.astimezone(BERLIN).date()


def day_start(day: date) -> datetime:
    """Return the UTC instant of 00:00 Berlin time on `day`."""
    return datetime.combine(day, time(0), BERLIN).astimezone(UTC)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Return the UTC start and end of a Berlin day."""
    return day_start(day), day_start(day + timedelta(days=1))


@dataclass(frozen=True, slots=True)
class PriceInterval:
    """One billing interval; prices in ct/kWh as Nomos sends them."""

    start: datetime
    end: datetime
    price_ct: float | None
    components_ct: Mapping[str, float | None] = field(default_factory=dict)

    @property
    def price_eur(self) -> float | None:
        """Return the price in EUR/kWh."""
        return None if self.price_ct is None else self.price_ct / CT_PER_EUR

    def to_json(self) -> list[Any]:
        """Return a compact JSON form for the persistent cache."""
        return [
            self.start.isoformat(),
            int((self.end - self.start).total_seconds()),
            self.price_ct,
            dict(self.components_ct),
        ]

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> PriceInterval:
        """Rebuild an interval from `to_json`."""
        start = datetime.fromisoformat(data[0])
        if start.tzinfo is not UTC:  # the cache writes UTC; older files may not
            start = start.astimezone(UTC)
        return cls(
            start=start,
            end=start + timedelta(seconds=int(data[1])),
            price_ct=None if data[2] is None else float(data[2]),
            components_ct=data[3],
        )


class PriceItemLike(Protocol):
    """One interval of a price series (the client's PriceItem fits)."""

    @property
    def start(self) -> datetime:
        """Start of the interval (UTC)."""

    @property
    def amount(self) -> float | None:
        """All-in price in ct/kWh; None while unknown."""

    @property
    def components(self) -> Mapping[str, float | None]:
        """The price's parts in ct/kWh."""


class PriceSeriesLike(Protocol):
    """A price series (the client's PriceSeries fits)."""

    @property
    def interval(self) -> timedelta:
        """Length of each interval."""

    @property
    def items(self) -> Sequence[PriceItemLike] | None:
        """The intervals; None when the subscription has no prices (yet)."""


def intervals_from_series(series: PriceSeriesLike) -> list[PriceInterval]:
    """Turn a price series from Nomos into schedule intervals."""
    return [
        PriceInterval(item.start, item.start + series.interval, item.amount, item.components)
        for item in series.items or ()
    ]


@dataclass(frozen=True, slots=True)
class HourlyPrice:
    """Mean, minimum and maximum of an hour's known prices, in EUR/kWh."""

    start: datetime
    mean: float
    minimum: float
    maximum: float


def hourly_prices(intervals: Iterable[PriceInterval]) -> list[HourlyPrice]:
    """Aggregate intervals into clock hours (UTC); unknown prices are left out.

    An hour whose prices are all unknown has no row: a gap, never a zero.
    """
    hours: dict[datetime, list[float]] = {}
    for interval in intervals:
        if interval.price_ct is not None:
            hour = interval.start.replace(minute=0, second=0, microsecond=0)
            hours.setdefault(hour, []).append(interval.price_ct / CT_PER_EUR)
    return [
        HourlyPrice(hour, sum(values) / len(values), min(values), max(values))
        for hour, values in sorted(hours.items())
    ]


@dataclass(frozen=True, slots=True)
class DayStats:
    """Minimum, maximum and average of a day's known prices (ct/kWh)."""

    minimum: float
    maximum: float
    average: float
    minimum_at: datetime
    maximum_at: datetime
    known: int


class PriceLevel(StrEnum):
    """Where the current price ranks among the day's prices."""

    VERY_CHEAP = "very_cheap"
    CHEAP = "cheap"
    NORMAL = "normal"
    EXPENSIVE = "expensive"
    VERY_EXPENSIVE = "very_expensive"


# Percentile rank boundaries between the five levels (fractions of the day).
DEFAULT_LEVEL_THRESHOLDS: tuple[float, float, float, float] = (0.2, 0.4, 0.6, 0.8)


class PriceSchedule:
    """An immutable, time-ordered set of price intervals."""

    __slots__ = ("_day_stats", "_intervals", "_starts")

    def __init__(self, intervals: Iterable[PriceInterval] = ()) -> None:
        """Sort the intervals; later duplicates of a start replace earlier ones."""
        by_start = {interval.start: interval for interval in intervals}
        self._intervals: tuple[PriceInterval, ...] = tuple(
            by_start[start] for start in sorted(by_start)
        )
        self._starts = [interval.start for interval in self._intervals]
        # Immutable, so a day's statistics are computed once (sensors read them every tick).
        self._day_stats: dict[date, DayStats | None] = {}

    def __len__(self) -> int:
        """Return the number of intervals."""
        return len(self._intervals)

    def __eq__(self, other: object) -> bool:
        """Compare by intervals."""
        return isinstance(other, PriceSchedule) and self._intervals == other._intervals

    __hash__ = None  # type: ignore[assignment]

    @property
    def intervals(self) -> tuple[PriceInterval, ...]:
        """Return every interval in time order."""
        return self._intervals

    @property
    def end(self) -> datetime | None:
        """Return the end of the last interval."""
        return self._intervals[-1].end if self._intervals else None

    def merge(self, fresh: Iterable[PriceInterval]) -> PriceSchedule:
        """Return a schedule updated with fresh intervals.

        A fresh known price replaces what was cached; a fresh unknown (None)
        price never overwrites a known one, and nothing is ever dropped.
        """
        merged = {interval.start: interval for interval in self._intervals}
        for interval in fresh:
            cached = merged.get(interval.start)
            if interval.price_ct is None and cached is not None and cached.price_ct is not None:
                continue
            merged[interval.start] = interval
        return PriceSchedule(merged.values())

    def prune(self, before: datetime) -> PriceSchedule:
        """Return a schedule without intervals that ended before `before`."""
        return PriceSchedule(interval for interval in self._intervals if interval.end > before)

    def at(self, moment: datetime) -> PriceInterval | None:
        """Return the interval containing `moment`."""
        index = bisect.bisect_right(self._starts, moment) - 1
        if index >= 0 and self._intervals[index].end > moment:
            return self._intervals[index]
        return None

    def next_after(self, moment: datetime) -> PriceInterval | None:
        """Return the interval that follows the one containing `moment`."""
        current = self.at(moment)
        target = current.end if current else moment
        index = bisect.bisect_left(self._starts, target)
        if index < len(self._intervals) and self._intervals[index].start == target:
            return self._intervals[index]
        return None

    def between(self, start: datetime, end: datetime) -> list[PriceInterval]:
        """Return the intervals that start in [start, end)."""
        low = bisect.bisect_left(self._starts, start)
        high = bisect.bisect_left(self._starts, end)
        return list(self._intervals[low:high])

    def day(self, day: date) -> list[PriceInterval]:
        """Return a Berlin day's intervals."""
        return self.between(*day_bounds(day))

    def covers(self, start: datetime, end: datetime) -> bool:
        """Return whether [start, end) is covered without gaps (prices may be unknown)."""
        cursor = start
        for interval in self.between(start, end):
            if interval.start != cursor:
                return False
            cursor = interval.end
        first = self.at(start)
        return cursor >= end and first is not None

    def is_day_covered(self, day: date) -> bool:
        """Return whether every interval of the day is present (prices may be unknown)."""
        start, end = day_bounds(day)
        return self.covers(start, end)

    def is_day_complete(self, day: date) -> bool:
        """Return whether every interval of the day is present with a known price."""
        start, end = day_bounds(day)
        return self.covers(start, end) and all(
            interval.price_ct is not None for interval in self.day(day)
        )

    def day_stats(self, day: date) -> DayStats | None:
        """Return min/max/average of the day's known prices; None if none is known."""
        if day not in self._day_stats:
            self._day_stats[day] = self._compute_day_stats(day)
        return self._day_stats[day]

    def _compute_day_stats(self, day: date) -> DayStats | None:
        known = [interval for interval in self.day(day) if interval.price_ct is not None]
        if not known:
            return None
        low = min(known, key=lambda interval: (interval.price_ct, interval.start))
        high = max(known, key=lambda interval: (interval.price_ct, -interval.start.timestamp()))
        total = sum(float(interval.price_ct) for interval in known if interval.price_ct is not None)
        assert low.price_ct is not None
        assert high.price_ct is not None
        return DayStats(
            minimum=low.price_ct,
            maximum=high.price_ct,
            average=total / len(known),
            minimum_at=low.start,
            maximum_at=high.start,
            known=len(known),
        )

    def hour_average(self, moment: datetime) -> float | None:
        """Return the average known price of the clock hour containing `moment`.

        German offsets are whole hours, so UTC and Berlin hours coincide.
        """
        hour = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        known = [
            interval.price_ct
            for interval in self.between(hour, hour + timedelta(hours=1))
            if interval.price_ct is not None
        ]
        if not known:
            return None
        return sum(known) / len(known)

    def level(
        self,
        moment: datetime,
        thresholds: Sequence[float] = DEFAULT_LEVEL_THRESHOLDS,
    ) -> PriceLevel | None:
        """Return the level of the current price among the day's known prices.

        The percentile rank is the share of the day's prices below the current
        one, counting ties half. Thresholds split [0, 1] into five levels.
        """
        current = self.at(moment)
        if current is None or current.price_ct is None:
            return None
        prices = [
            interval.price_ct
            for interval in self.day(local_date(current.start))
            if interval.price_ct is not None
        ]
        below = sum(1 for price in prices if price < current.price_ct)
        equal = sum(1 for price in prices if price == current.price_ct)
        rank = (below + (equal - 1) / 2) / max(1, len(prices) - 1) if len(prices) > 1 else 0.5
        levels = list(PriceLevel)
        for index, threshold in enumerate(thresholds):
            if rank < threshold:
                return levels[index]
        return levels[len(thresholds)]

    def to_json(self) -> list[list[Any]]:
        """Return the JSON form for the persistent cache."""
        return [interval.to_json() for interval in self._intervals]

    @classmethod
    def from_json(cls, data: Iterable[Sequence[Any]]) -> PriceSchedule:
        """Rebuild a schedule from `to_json`."""
        return cls(PriceInterval.from_json(item) for item in data)


def resample_hourly(intervals: Sequence[PriceInterval]) -> list[PriceInterval]:
    """Average intervals into clock hours; an hour with any unknown price is unknown."""
    hours: dict[datetime, list[PriceInterval]] = {}
    for interval in intervals:
        hours.setdefault(interval.start.replace(minute=0, second=0, microsecond=0), []).append(
            interval
        )
    result = []
    for hour, members in hours.items():
        known = [member.price_ct for member in members if member.price_ct is not None]
        complete = len(known) == len(members) and (
            sum((m.end - m.start for m in members), timedelta()) == timedelta(hours=1)
        )
        components: dict[str, float | None] = {}
        for name in {name for member in members for name in member.components_ct}:
            values = [member.components_ct.get(name) for member in members]
            components[name] = (
                sum(v for v in values if v is not None) / len(values)
                if complete and all(v is not None for v in values)
                else None
            )
        result.append(
            PriceInterval(
                start=hour,
                end=hour + timedelta(hours=1),
                price_ct=sum(known) / len(known) if complete else None,
                components_ct=components,
            )
        )
    return result
