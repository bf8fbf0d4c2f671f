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
import functools
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

    @property
    def price_ct(self) -> float | None:
        """The interval's all-in price in ct/kWh; None while unknown."""


@dataclass(frozen=True, slots=True)
class DayTotal:
    """One Berlin day: kWh, cost, quarters metered, and the known quarter-hour prices.

    The cost is None if any quarter's price is unknown; the price sum and count
    give the day's plain average.
    """

    kwh: float
    cost_eur: float | None
    quarters: int
    price_sum_ct: float = 0.0
    priced: int = 0

    def to_json(self) -> list[float | int | None]:
        """Return the compact form kept in the cache."""
        return [self.kwh, self.cost_eur, self.quarters, self.price_sum_ct, self.priced]

    @classmethod
    def from_json(cls, data: list[float | int | None]) -> DayTotal:
        """Rebuild a total from `to_json` (older caches lack the price sums)."""
        kwh, cost, quarters, *prices = data
        price_sum, priced = prices if len(prices) == 2 else (0.0, 0)
        return cls(
            float(kwh or 0.0),
            None if cost is None else float(cost),
            int(quarters or 0),
            float(price_sum or 0.0),
            int(priced or 0),
        )


@functools.lru_cache(maxsize=4096)
def quarters_in_day(day: date) -> int:
    """Return how many quarter-hours a Berlin day has (92, 96 or 100).

    Cached: sensors ask for every imported day at each quarter-hour.
    """
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
            price_sum_ct=math.fsum(item.price_ct for item in items if item.price_ct is not None),
            priced=sum(1 for item in items if item.price_ct is not None),
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
    price_sum_ct: float = 0.0
    priced: int = 0
    # What the same consumption would have cost on the comparison tariff (EUR).
    comparison_eur: float | None = None

    @property
    def saved_versus_comparison(self) -> float | None:
        """Return the comparison tariff's cost minus ours: positive when the dynamic one won."""
        if self.comparison_eur is None or self.cost_eur is None:
            return None
        return self.comparison_eur - self.cost_eur

    @property
    def price_paid(self) -> float | None:
        """Return the consumption-weighted all-in price (EUR/kWh, energy only)."""
        energy_cost = None if self.cost_eur is None else self.cost_eur - self.fixed_charges_eur
        if energy_cost is None or not self.kwh:
            return None
        return energy_cost / self.kwh

    @property
    def market_average(self) -> float | None:
        """Return the plain average of the period's quarter-hour prices (EUR/kWh)."""
        return self.price_sum_ct / self.priced / 100 if self.priced else None

    @property
    def shifting_benefit(self) -> float | None:
        """Return (plain average - price paid) x kWh in EUR.

        Positive when power was used at cheaper than average times.
        """
        paid, average = self.price_paid, self.market_average
        if paid is None or average is None or self.kwh is None:
            return None
        return (average - paid) * self.kwh


def _is_full(total: DayTotal | None, day: date) -> bool:
    return total is not None and total.quarters >= quarters_in_day(day)


def yesterday_figure(totals: Mapping[date, DayTotal], today: date) -> PeriodFigure:
    """Return yesterday's figure; unknown (None values) until the whole day is imported."""
    day = today - timedelta(days=1)
    total = totals.get(day)
    if total is None or not _is_full(total, day):
        return PeriodFigure(day, day, None, None, 0 if total is None else 1, complete=False)
    return PeriodFigure(
        day,
        day,
        total.kwh,
        total.cost_eur,
        1,
        complete=True,
        price_sum_ct=total.price_sum_ct,
        priced=total.priced,
    )


def latest_full_day(totals: Mapping[date, DayTotal], today: date) -> date | None:
    """Return the latest day before today whose every quarter-hour is imported."""
    # Newest first: the answer is among the last few of up to years of days.
    return next(
        (day for day in sorted(totals, reverse=True) if day < today and _is_full(totals[day], day)),
        None,
    )


def latest_day_figure(totals: Mapping[date, DayTotal], today: date) -> PeriodFigure:
    """Return the latest complete day's figure (its date in `first_day`).

    Nomos publishes a day's usage the next afternoon, so "yesterday" would be
    unknown most of the day; this shows the newest day that is complete.
    Unknown, dated yesterday, while no day is.
    """
    day = latest_full_day(totals, today)
    return yesterday_figure(totals, today if day is None else day + timedelta(days=1))


def month_to_date_figure(totals: Mapping[date, DayTotal], today: date) -> PeriodFigure:
    """Return the figure of the latest complete day's month, from the 1st through that day.

    On the 1st (and until the month's last day is imported) that is last month.
    """
    last = latest_full_day(totals, today) or today - timedelta(days=1)
    return days_figure(totals, last.replace(day=1), last)


def month_figure(totals: Mapping[date, DayTotal], today: date) -> PeriodFigure:
    """Return the figure of this month's days that have ended (none yet on the 1st).

    The values are the sum of the imported days (unknown while none is);
    `complete` says whether every quarter-hour of every ended day is in.
    """
    return days_figure(totals, today.replace(day=1), today - timedelta(days=1))


def last_month_figure(totals: Mapping[date, DayTotal], today: date) -> PeriodFigure:
    """Return the figure of the whole previous calendar month."""
    last = today.replace(day=1) - timedelta(days=1)
    return days_figure(totals, last.replace(day=1), last)


def days_figure(totals: Mapping[date, DayTotal], first: date, last: date) -> PeriodFigure:
    """Return the sums of the imported days from `first` to `last` (inclusive)."""
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
        price_sum_ct=math.fsum(total.price_sum_ct for _, total in imported),
        priced=sum(total.priced for _, total in imported),
    )


def _pro_rata(monthly_eur: float, figure: PeriodFigure) -> float:
    """Return a monthly amount's share for the figure's imported days (by its month's days)."""
    days_in_month = calendar.monthrange(figure.first_day.year, figure.first_day.month)[1]
    return monthly_eur / days_in_month * figure.days_imported


def with_comparison(figure: PeriodFigure, price_ct: float, base_fee_month: float) -> PeriodFigure:
    """Add what the figure's consumption would have cost on a fixed-price tariff.

    Its working price for every kWh, and its monthly base fee pro rata for each
    imported day (as the fixed charges are added to our own cost).
    """
    if price_ct <= 0 or figure.kwh is None:
        return figure
    base = _pro_rata(base_fee_month, figure)
    return replace(figure, comparison_eur=figure.kwh * price_ct / 100 + base)


def with_fixed_charges(figure: PeriodFigure, monthly_eur: float) -> PeriodFigure:
    """Add the monthly fixed charges pro rata for each imported day of the figure.

    A day's share is the monthly amount divided by the days of its month, so a
    whole month adds exactly the monthly amount. Unknown costs stay unknown.
    """
    if monthly_eur <= 0 or figure.cost_eur is None:
        return figure
    fixed = _pro_rata(monthly_eur, figure)
    return replace(figure, cost_eur=figure.cost_eur + fixed, fixed_charges_eur=fixed)


@dataclass(frozen=True, slots=True)
class ComparisonTariff:
    """A fixed-price tariff to compare with, and the fixed charges added to our cost."""

    price_ct: float
    base_fee_month: float
    fixed_charges_month: float = 0.0

    @property
    def enabled(self) -> bool:
        """Return whether a comparison is configured (a working price above zero)."""
        return self.price_ct > 0

    @property
    def fingerprint(self) -> tuple[float, float, float] | None:
        """Return what a day's saving depends on; None while no comparison is set."""
        if not self.enabled:
            return None
        return (self.price_ct, self.base_fee_month, self.fixed_charges_month)

    def apply(self, figure: PeriodFigure) -> PeriodFigure:
        """Return the figure with the comparison's cost and our fixed charges added."""
        compared = with_comparison(figure, self.price_ct, self.base_fee_month)
        return with_fixed_charges(compared, self.fixed_charges_month)


def daily_benefits(totals: Mapping[date, DayTotal]) -> dict[date, float]:
    """Return each complete day's shifting benefit (EUR)."""
    return {
        day: benefit
        for day in totals
        if (figure := days_figure(totals, day, day)).complete
        and (benefit := figure.shifting_benefit) is not None
    }


def daily_savings(totals: Mapping[date, DayTotal], tariff: ComparisonTariff) -> dict[date, float]:
    """Return what each complete day saved against the comparison tariff (EUR).

    The same arithmetic as the day and month sensors, so the days of a month
    add up to its "saved versus comparison" figure.
    """
    if not tariff.enabled:
        return {}
    return {
        day: saved
        for day in totals
        if (figure := days_figure(totals, day, day)).complete
        and (saved := tariff.apply(figure).saved_versus_comparison) is not None
    }
