"""Cost trackers: a meter's readings to energy per quarter-hour, and its cost. Pure logic.

A cost tracker follows any energy sensor (a heat pump's meter, a wallbox, a smart
plug) and prices its energy at each quarter-hour's all-in price. The rules, in
the order a reading meets them:

- Units: Wh, kWh, MWh (and MJ, GJ) are converted to kWh; any other unit is refused.
- The first reading is the baseline: it counts nothing.
- `total_increasing`: a reading below 90 % of the last one is a meter reset
  (Home Assistant's own rule): the new value counts from 0. A smaller dip is
  the meter's jitter: it counts nothing and the higher reading stays the
  baseline, so the energy is counted once when the meter climbs back.
- `total`: a changed `last_reset` is a reset (the new value counts from 0);
  otherwise a negative delta counts as it is (energy given back, e.g. by a
  battery), at the price of its quarter-hours.
- Gaps (unavailable, a restart): the energy between two readings is spread
  evenly over the time between them, so a gap's energy lands in the gap's
  quarter-hours, none is lost and none is counted twice. The live tracker reads
  the meter at every quarter-hour boundary as well, so a quiet meter's next
  change is never spread back over hours in which it stood still.

Quarter-hours are keyed by their UTC start in epoch seconds: German offsets are
whole hours, so UTC and Berlin quarter-hours and hours coincide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
import math
from typing import Any, Protocol

from .price_schedule import CT_PER_EUR, day_bounds
from .usage_statistics import StatisticRow

QUARTER_SECONDS = 900
HOUR_SECONDS = 3600
# kWh per unit of the meter.
UNIT_FACTORS: Mapping[str, float] = {
    "Wh": 0.001,
    "kWh": 1.0,
    "MWh": 1000.0,
    "MJ": 1 / 3.6,
    "GJ": 1000 / 3.6,
}
TOTAL = "total"
TOTAL_INCREASING = "total_increasing"
STATE_CLASSES = (TOTAL, TOTAL_INCREASING)
# A total_increasing reading below this share of the last one is a reset.
RESET_BELOW = 0.9


def to_kwh(value: float, unit: str | None) -> float | None:
    """Return a reading in kWh; None for a unit that is not energy (or not a number)."""
    factor = UNIT_FACTORS.get(unit or "")
    if factor is None or not math.isfinite(value):
        return None
    return value * factor


def quarter_of(moment: float) -> int:
    """Return the start (epoch seconds) of the quarter-hour containing `moment`."""
    return int(moment // QUARTER_SECONDS) * QUARTER_SECONDS


def hour_of(moment: float) -> int:
    """Return the start (epoch seconds) of the hour containing `moment`."""
    return int(moment // HOUR_SECONDS) * HOUR_SECONDS


def spread(quarters: MutableMapping[int, float], start: float, end: float, kwh: float) -> None:
    """Add `kwh` to the quarter-hours of [start, end), in proportion to their share of it.

    Energy of an instant (start >= end) lands in the quarter-hour that ends with it.
    """
    if kwh == 0:
        return
    if start >= end:
        key = quarter_of(math.nextafter(end, -math.inf))
        quarters[key] = quarters.get(key, 0.0) + kwh
        return
    length = end - start
    cursor = start
    while cursor < end:
        key = quarter_of(cursor)
        stop = min(key + QUARTER_SECONDS, end)
        quarters[key] = quarters.get(key, 0.0) + kwh * (stop - cursor) / length
        cursor = stop


@dataclass(slots=True)
class Meter:
    """What a tracker knows of its meter: the baseline reading (kWh), when, its last reset."""

    state_class: str = TOTAL_INCREASING
    value: float | None = None
    at: float | None = None
    last_reset: str | None = None

    def delta(self, value: float, last_reset: str | None) -> float:
        """Return the energy a new reading (kWh) adds, and move the baseline by the rules."""
        previous = self.value
        if previous is None:
            energy = 0.0
        elif self.state_class == TOTAL:
            reset = last_reset is not None and last_reset != self.last_reset
            energy = value if reset else value - previous
        elif value >= previous:
            energy = value - previous
        elif value < RESET_BELOW * previous:
            energy = max(value, 0.0)  # counted from 0
        else:
            return 0.0  # jitter: the higher reading stays the baseline
        self.value = value
        self.last_reset = last_reset
        return energy

    def read(
        self,
        quarters: MutableMapping[int, float],
        at: float,
        value: float,
        last_reset: str | None = None,
    ) -> float:
        """Take a reading at `at` (epoch seconds): spread its energy since the last one.

        A reading older than the baseline is ignored. Returns the energy added.
        """
        if self.at is not None and at < self.at:
            return 0.0
        start = self.at
        energy = self.delta(value, last_reset)
        if start is not None:
            spread(quarters, start, at, energy)
        self.at = at
        return energy

    def to_json(self) -> list[Any]:
        """Return the stored form."""
        return [self.state_class, self.value, self.at, self.last_reset]

    @classmethod
    def from_json(cls, data: list[Any]) -> Meter:
        """Rebuild a meter from `to_json`."""
        state_class, value, at, last_reset = data
        if state_class not in STATE_CLASSES:
            raise ValueError("state class")
        return cls(
            str(state_class),
            None if value is None else float(value),
            None if at is None else float(at),
            None if last_reset is None else str(last_reset),
        )


@dataclass(frozen=True, slots=True)
class StatisticChange:
    """One row of the recorder's statistics of the meter: its period and energy (kWh)."""

    start: float
    end: float
    kwh: float


def backfill_quarters(
    five_minute: Iterable[StatisticChange], hourly: Iterable[StatisticChange]
) -> tuple[dict[int, float], int]:
    """Return energy per quarter-hour from the meter's statistics, and the hours read hourly.

    5-minute rows fall into one quarter-hour each; an hour is read from the hourly
    row only before the first hour the 5-minute rows cover whole, its energy spread
    evenly over its four quarter-hours (so it is priced at the hour's mean price).
    """
    quarters: dict[int, float] = {}
    rows = sorted(five_minute, key=lambda row: row.start)
    first = -(-int(rows[0].start) // HOUR_SECONDS) * HOUR_SECONDS if rows else math.inf
    for row in rows:
        if row.start >= first:
            spread(quarters, row.start, row.end, row.kwh)
    hours = 0
    for row in hourly:
        if row.start < first:
            spread(quarters, row.start, row.end, row.kwh)
            hours += 1
    return quarters, hours


class PricesLike(Protocol):
    """What pricing needs of a schedule: the interval at a moment (PriceSchedule fits)."""

    def at(self, moment: datetime) -> Any:
        """Return the interval containing `moment` (with `price_ct`), or None."""


def price_at(prices: PricesLike, quarter: int) -> float | None:
    """Return the all-in price (ct/kWh) of a quarter-hour; None while unknown."""
    interval = prices.at(datetime.fromtimestamp(quarter, UTC))
    return None if interval is None else interval.price_ct


@dataclass(frozen=True, slots=True)
class CostHour:
    """One hour of a tracker: energy, cost and whether every quarter with energy has a price."""

    start: int
    kwh: float
    cost_eur: float
    priced: bool


def cost_hours(
    quarters: Mapping[int, float], prices: PricesLike, start: int, end: int
) -> list[CostHour]:
    """Return the hours of [start, end) (epoch seconds, whole hours), costed per quarter-hour.

    A quarter-hour without energy needs no price; one with energy and no known
    price leaves the hour unpriced (its cost counts only the known ones).
    """
    hours = []
    for hour in range(start, end, HOUR_SECONDS):
        kwh = 0.0
        cost = 0.0
        priced = True
        for quarter in range(hour, hour + HOUR_SECONDS, QUARTER_SECONDS):
            energy = quarters.get(quarter, 0.0)
            if energy == 0:
                continue
            kwh += energy
            price = price_at(prices, quarter)
            if price is None:
                priced = False
            else:
                cost += energy * price / CT_PER_EUR
        hours.append(CostHour(hour, kwh, cost, priced))
    return hours


def running_rows(hours: Iterable[CostHour], base: float) -> list[StatisticRow]:
    """Return the rows of the cost statistic, the running sum continuing from `base`."""
    rows = []
    total = base
    for hour in hours:
        total += hour.cost_eur
        rows.append(StatisticRow(datetime.fromtimestamp(hour.start, UTC), hour.cost_eur, total))
    return rows


@dataclass(frozen=True, slots=True)
class PeriodCost:
    """Energy, cost and prices of a period: what the device paid on average, and the market."""

    kwh: float
    cost_eur: float
    unpriced_kwh: float
    price_sum_ct: float
    priced_quarters: int

    @property
    def average_price(self) -> float | None:
        """Return what the device paid per kWh (EUR), None without priced energy."""
        priced = self.kwh - self.unpriced_kwh
        return self.cost_eur / priced if priced > 1e-9 else None

    @property
    def market_average(self) -> float | None:
        """Return the plain average of the period's known quarter-hour prices (EUR/kWh)."""
        if not self.priced_quarters:
            return None
        return self.price_sum_ct / self.priced_quarters / CT_PER_EUR


def combine(costs: Iterable[PeriodCost]) -> PeriodCost:
    """Return the cost of periods one after the other."""
    items = list(costs)
    return PeriodCost(
        math.fsum(item.kwh for item in items),
        math.fsum(item.cost_eur for item in items),
        math.fsum(item.unpriced_kwh for item in items),
        math.fsum(item.price_sum_ct for item in items),
        sum(item.priced_quarters for item in items),
    )


def period_cost(
    quarters: Mapping[int, float], prices: PricesLike, start: datetime, end: datetime
) -> PeriodCost:
    """Return the cost of [start, end) at the quarter-hour prices."""
    first, last = int(start.timestamp()), int(end.timestamp())
    known_prices = _prices_between(prices, start, end, first, last)
    kwh = cost = unpriced = 0.0
    for quarter in range(first, last, QUARTER_SECONDS):
        energy = quarters.get(quarter, 0.0)
        if energy == 0:
            continue
        kwh += energy
        price = known_prices.get(quarter)
        if price is None:
            unpriced += energy
        else:
            cost += energy * price / CT_PER_EUR
    return PeriodCost(kwh, cost, unpriced, math.fsum(known_prices.values()), len(known_prices))


def _prices_between(
    prices: PricesLike, start: datetime, end: datetime, first: int, last: int
) -> dict[int, float]:
    """Return the known quarter-hour prices of [start, end) by quarter (epoch seconds)."""
    between = getattr(prices, "between", None)
    if between is None:  # any schedule that can only look up one moment
        return {
            quarter: price
            for quarter in range(first, last, QUARTER_SECONDS)
            if (price := price_at(prices, quarter)) is not None
        }
    found: dict[int, float] = {}
    for interval in between(start, end):
        if interval.price_ct is None:
            continue
        # A longer interval (an hour) prices each of its quarter-hours.
        begin = int(interval.start.timestamp())
        for quarter in range(begin, int(interval.end.timestamp()), QUARTER_SECONDS):
            if first <= quarter < last:
                found[quarter] = interval.price_ct
    return found


def days_cost(
    quarters: Mapping[int, float], prices: PricesLike, first: date, last: date
) -> PeriodCost:
    """Return the cost of the Berlin days first..last (inclusive)."""
    return period_cost(quarters, prices, day_bounds(first)[0], day_bounds(last)[1])


def rest_of_house(household_eur: float | None, trackers_eur: Iterable[float]) -> float | None:
    """Return the household's cost minus the trackers', never below zero."""
    if household_eur is None:
        return None
    return max(0.0, household_eur - math.fsum(trackers_eur))


def prune(quarters: MutableMapping[int, float], before: float) -> None:
    """Drop the quarter-hours that began before `before`."""
    for key in [key for key in quarters if key < before]:
        del quarters[key]
