"""Consumption and cost per Berlin day, and the day and month figures: pure logic.

The daily import keeps one total per day; the "yesterday" and "this month"
sensors read them against today's date at every moment, so they move at
midnight and on the 1st without asking Nomos anything.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
import math
from typing import Protocol

from .price_schedule import day_bounds, local_date

QUARTER = timedelta(minutes=15)


class CostedQuarter(Protocol):
    """A metered interval with its cost (usage_statistics.QuarterUsage fits)."""

    @property
    def start(self) -> datetime:
        """Start of the interval (UTC)."""

    @property
    def kwh(self) -> float:
        """Energy in kWh."""

    @property
    def cost_eur(self) -> float | None:
        """Cost in EUR; None while the price is unknown."""


@dataclass(frozen=True, slots=True)
class DayTotal:
    """One Berlin day: kWh, cost (None if any quarter's price is unknown), quarters metered."""

    kwh: float
    cost_eur: float | None
    quarters: int

    def to_json(self) -> list[float | int | None]:
        """Return the compact form kept in the cache."""
        return [self.kwh, self.cost_eur, self.quarters]

    @classmethod
    def from_json(cls, data: list[float | int | None]) -> DayTotal:
        """Rebuild a total from `to_json`."""
        kwh, cost, quarters = data
        return cls(float(kwh or 0.0), None if cost is None else float(cost), int(quarters or 0))


def quarters_in_day(day: date) -> int:
    """Return how many quarter-hours a Berlin day has (92, 96 or 100)."""
    start, end = day_bounds(day)
    return int((end - start) / QUARTER)


def day_totals(quarters: Iterable[CostedQuarter]) -> dict[date, DayTotal]:
    """Sum costed quarters into Berlin days."""
    by_day: dict[date, list[CostedQuarter]] = {}
    for quarter in quarters:
        by_day.setdefault(local_date(quarter.start), []).append(quarter)
    totals: dict[date, DayTotal] = {}
    for day, items in by_day.items():
        costs = [item.cost_eur for item in items]
        totals[day] = DayTotal(
            kwh=math.fsum(item.kwh for item in items),
            cost_eur=None
            if any(cost is None for cost in costs)
            else math.fsum(cost for cost in costs if cost is not None),
            quarters=len(items),
        )
    return totals


@dataclass(frozen=True, slots=True)
class PeriodFigure:
    """A day or the month so far: totals when known, and whether every quarter-hour is in."""

    first_day: date
    last_day: date
    kwh: float | None
    cost_eur: float | None
    days_imported: int
    complete: bool
    fixed_charges_eur: float = 0.0


def _is_full(total: DayTotal | None, day: date) -> bool:
    return total is not None and total.quarters >= quarters_in_day(day)


def yesterday_figure(totals: Mapping[date, DayTotal], today: date) -> PeriodFigure:
    """Return yesterday's figure; unknown (None values) until the whole day is imported."""
    day = today - timedelta(days=1)
    total = totals.get(day)
    if total is None or not _is_full(total, day):
        return PeriodFigure(day, day, None, None, 0 if total is None else 1, complete=False)
    return PeriodFigure(day, day, total.kwh, total.cost_eur, 1, complete=True)


def month_figure(totals: Mapping[date, DayTotal], today: date) -> PeriodFigure:
    """Return the figure of this month's days that have ended (none yet on the 1st).

    The values are the sum of the imported days (unknown while none is);
    `complete` says whether every quarter-hour of every ended day is in.
    """
    first, last = today.replace(day=1), today - timedelta(days=1)
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    imported = [(day, totals[day]) for day in days if day in totals]
    if not imported:
        return PeriodFigure(first, last, None, None, 0, complete=False)
    costs = [total.cost_eur for _, total in imported]
    return PeriodFigure(
        first,
        last,
        math.fsum(total.kwh for _, total in imported),
        None
        if any(cost is None for cost in costs)
        else math.fsum(cost for cost in costs if cost is not None),
        len(imported),
        complete=all(_is_full(totals.get(day), day) for day in days),
    )


def with_fixed_charges(figure: PeriodFigure, monthly_eur: float) -> PeriodFigure:
    """Add the monthly fixed charges pro rata for each imported day of the figure.

    A day's share is the monthly amount divided by the days of its month, so a
    whole month adds exactly the monthly amount. Unknown costs stay unknown.
    """
    if monthly_eur <= 0 or figure.cost_eur is None:
        return figure
    days_in_month = calendar.monthrange(figure.first_day.year, figure.first_day.month)[1]
    fixed = monthly_eur / days_in_month * figure.days_imported
    return replace(figure, cost_eur=figure.cost_eur + fixed, fixed_charges_eur=fixed)
