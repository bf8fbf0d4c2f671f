"""Where the year's consumption is heading, against the contract's estimate: pure logic.

The contract's `estimated_usage` sets the advance payments; a household that uses
more than it finds out with the annual bill. With a year of metered days the
answer is their sum. With less, the metered days are scaled up by how much of a
typical German household's year they stand for: winter days count for more than
summer days, so a projection made in January is not twice one made in July.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
import math
from typing import Final, Literal

from .daily_totals import DayTotal, latest_full_day, quarters_in_day

# Each month's share of a household's year, after the BDEW standard load profile H0
# (approximate, normalised below): December uses a third more than June.
_H0_MONTH_WEIGHTS: Final = (9.2, 8.3, 8.6, 7.8, 7.6, 7.1, 7.3, 7.4, 7.6, 8.4, 9.0, 9.7)
MONTH_SHARES: Final = tuple(weight / math.fsum(_H0_MONTH_WEIGHTS) for weight in _H0_MONTH_WEIGHTS)
YEAR: Final = 365
# Fewer metered days say too little about a whole year.
MIN_DAYS: Final = 14

type Basis = Literal["last_365_days", "scaled_by_season"]


@dataclass(frozen=True, slots=True)
class AnnualOutlook:
    """The year's projected consumption and what it rests on."""

    projected_kwh: float
    basis: Basis
    first_day: date
    last_day: date
    days: int
    metered_kwh: float
    estimate_kwh: float | None

    @property
    def versus_estimate_percent(self) -> float | None:
        """Return how far the projection is above (+) or below (-) the estimate."""
        if not self.estimate_kwh:
            return None
        return (self.projected_kwh / self.estimate_kwh - 1) * 100


def day_share(day: date) -> float:
    """Return the share of a typical household's year that falls on `day`."""
    return MONTH_SHARES[day.month - 1] / calendar.monthrange(day.year, day.month)[1]


def annual_outlook(
    totals: Mapping[date, DayTotal], today: date, estimate_kwh: float | None
) -> AnnualOutlook | None:
    """Project a year's consumption from the complete days of the last 365 before today.

    A day counts when every quarter-hour of it is metered; a missing day is
    left out, not taken for zero. None while fewer than MIN_DAYS days count.
    """
    last = latest_full_day(totals, today)
    if last is None:
        return None
    first = last - timedelta(days=YEAR - 1)
    days = {
        day: total.kwh
        for day, total in totals.items()
        if first <= day <= last and total.quarters >= quarters_in_day(day)
    }
    if len(days) < MIN_DAYS:
        return None
    metered = math.fsum(days.values())
    basis: Basis
    if len(days) == YEAR:
        projected, basis = metered, "last_365_days"
    else:
        projected = metered / math.fsum(day_share(day) for day in days)
        basis = "scaled_by_season"
    return AnnualOutlook(
        projected_kwh=projected,
        basis=basis,
        first_day=min(days),
        last_day=last,
        days=len(days),
        metered_kwh=metered,
        estimate_kwh=estimate_kwh,
    )
