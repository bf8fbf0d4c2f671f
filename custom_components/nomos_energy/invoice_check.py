"""Does an invoice match the meter? Pure logic, no Home Assistant imports.

An invoice's kWh are compared with the imported 15-minute data of its period.
They may differ a little (rounding, a late correction by the metering
operator); beyond the tolerance the integration raises a repair issue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from .daily_totals import DayTotal, quarters_in_day
from .price_schedule import local_date

# The kWh may differ by this share, and at least by this much, before it is reported.
TOLERANCE_SHARE = 0.02
TOLERANCE_KWH = 1.0


@dataclass(frozen=True, slots=True)
class InvoiceCheck:
    """The invoice's kWh next to the metered ones, and the energy cost we computed."""

    invoice_kwh: float
    metered_kwh: float
    energy_cost_eur: float | None

    @property
    def difference_kwh(self) -> float:
        """Return invoiced minus metered kWh."""
        return self.invoice_kwh - self.metered_kwh

    @property
    def matches(self) -> bool:
        """Return whether the difference is within the tolerance."""
        allowed = max(TOLERANCE_KWH, TOLERANCE_SHARE * max(self.metered_kwh, self.invoice_kwh))
        return abs(self.difference_kwh) <= allowed

    def summary(self) -> dict[str, Any]:
        """Return the check as automations and the invoice sensor show it."""
        return {
            "metered_kwh": round(self.metered_kwh, 3),
            "kwh_difference": round(self.difference_kwh, 3),
            "energy_cost": None if self.energy_cost_eur is None else round(self.energy_cost_eur, 2),
            "matches_meter": self.matches,
        }


def check_invoice(
    period_start: datetime,
    period_end: datetime,
    invoice_kwh: float | None,
    totals: Mapping[date, DayTotal],
) -> InvoiceCheck | None:
    """Compare an invoice with the day totals; None when its period is not fully imported."""
    if invoice_kwh is None:
        return None
    first, end = local_date(period_start), local_date(period_end)
    days = [first + timedelta(days=offset) for offset in range((end - first).days)]
    if not days or any(
        day not in totals or totals[day].quarters < quarters_in_day(day) for day in days
    ):
        return None
    costs = [totals[day].cost_eur for day in days]
    return InvoiceCheck(
        invoice_kwh=invoice_kwh,
        metered_kwh=sum(totals[day].kwh for day in days),
        energy_cost_eur=None if any(cost is None for cost in costs) else sum(c or 0 for c in costs),
    )
