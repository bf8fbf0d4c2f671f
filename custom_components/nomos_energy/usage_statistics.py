"""Consumption and cost per hour, and running sums: pure logic, no Home Assistant imports.

Nomos measures 15-minute usage; Home Assistant's long-term statistics are
hourly. Each quarter's cost is its kWh times its all-in price; quarters add up
to hours. An hour without any usage is a gap, and stays one. An hour whose
usage is known but some price is not has a known consumption and an unknown
cost (a gap in the cost statistic only).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
import math
from typing import Protocol

from .price_schedule import CT_PER_EUR, PriceSchedule, local_date

HOUR = timedelta(hours=1)


class UsageLike(Protocol):
    """What a usage interval must offer (the client's UsageItem fits)."""

    @property
    def start(self) -> datetime:
        """Start of the interval (UTC)."""

    @property
    def usage(self) -> float:
        """Energy in kWh."""

    @property
    def final(self) -> bool:
        """Whether the value is final (not preliminary)."""


@dataclass(frozen=True, slots=True)
class QuarterUsage:
    """One metered interval and its cost (None while its price is unknown)."""

    start: datetime
    kwh: float
    cost_eur: float | None
    final: bool
    # The quarter-hour's all-in price (ct/kWh), for the plain average of a period.
    price_ct: float | None = None


def costed_quarters(usage: Iterable[UsageLike], prices: PriceSchedule) -> list[QuarterUsage]:
    """Cost each metered interval at its own all-in price."""
    quarters: list[QuarterUsage] = []
    for item in usage:
        interval = prices.at(item.start)
        price = None if interval is None else interval.price_ct
        cost = None if price is None else item.usage * price / CT_PER_EUR
        quarters.append(QuarterUsage(item.start, item.usage, cost, item.final, price))
    return quarters


@dataclass(frozen=True, slots=True)
class HourlyUsage:
    """One hour of metered consumption and its cost."""

    start: datetime
    kwh: float
    cost_eur: float | None
    final: bool


@dataclass(frozen=True, slots=True)
class StatisticRow:
    """One hourly statistic with its running sum."""

    start: datetime
    state: float
    sum: float


def hourly_usage(usage: Iterable[UsageLike], prices: PriceSchedule) -> list[HourlyUsage]:
    """Sum 15-minute usage into clock hours, costing each quarter at its own price."""
    return hourly_from_quarters(costed_quarters(usage, prices))


def hourly_from_quarters(quarters: Iterable[QuarterUsage]) -> list[HourlyUsage]:
    """Sum costed quarters into clock hours; an hour's cost is unknown if any quarter's is."""
    hours: dict[datetime, list[QuarterUsage]] = {}
    for quarter in quarters:
        hour = quarter.start.replace(minute=0, second=0, microsecond=0)
        hours.setdefault(hour, []).append(quarter)
    result: list[HourlyUsage] = []
    for hour in sorted(hours):
        items = hours[hour]
        costs = [item.cost_eur for item in items]
        cost = (
            None
            if any(value is None for value in costs)
            else math.fsum(value for value in costs if value is not None)
        )
        result.append(
            HourlyUsage(
                hour, math.fsum(item.kwh for item in items), cost, all(i.final for i in items)
            )
        )
    return result


def running_sums(
    hours: Sequence[HourlyUsage], base_kwh: float, base_eur: float
) -> tuple[list[StatisticRow], list[StatisticRow]]:
    """Return consumption and cost rows whose sums continue from the given bases."""
    consumption: list[StatisticRow] = []
    cost: list[StatisticRow] = []
    total_kwh, total_eur = base_kwh, base_eur
    for hour in hours:
        total_kwh += hour.kwh
        consumption.append(StatisticRow(hour.start, hour.kwh, total_kwh))
        if hour.cost_eur is not None:
            total_eur += hour.cost_eur
            cost.append(StatisticRow(hour.start, hour.cost_eur, total_eur))
    return consumption, cost


@dataclass(frozen=True, slots=True)
class PeriodTotal:
    """Consumption and cost of a period; cost is None if any hour's price is unknown."""

    kwh: float
    cost_eur: float | None
    hours: int


def period_total(
    hours: Iterable[HourlyUsage], first_day: date, last_day: date
) -> PeriodTotal | None:
    """Sum the hours of Berlin days first_day..last_day (inclusive); None without data."""
    selected = [hour for hour in hours if first_day <= local_date(hour.start) <= last_day]
    if not selected:
        return None
    costs = [hour.cost_eur for hour in selected]
    return PeriodTotal(
        kwh=math.fsum(hour.kwh for hour in selected),
        cost_eur=None
        if any(cost is None for cost in costs)
        else math.fsum(cost for cost in costs if cost is not None),
        hours=len(selected),
    )
