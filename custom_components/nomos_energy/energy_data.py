"""What the daily energy import keeps per subscription (served from the cache)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .nomos_client import Invoice
from .nomos_client.models import Fields


@dataclass(frozen=True)
class EnergyData:
    """What the daily import learned about one subscription."""

    # Analog meters: the latest monthly value (first day of the month, kWh).
    latest_month: tuple[date, float] | None = None
    invoices: tuple[Invoice, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the cache's shape."""
        return {
            "latest_month": [self.latest_month[0].isoformat(), self.latest_month[1]]
            if self.latest_month
            else None,
            "invoices": [invoice.to_json() for invoice in self.invoices],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EnergyData:
        """Read what to_json wrote."""
        month = data.get("latest_month")
        return cls(
            latest_month=(date.fromisoformat(month[0]), float(month[1])) if month else None,
            invoices=tuple(Invoice.from_fields(Fields(item)) for item in data["invoices"]),
        )

    @property
    def latest_usage_invoice(self) -> Invoice | None:
        """Return the most recently issued invoice for consumption (not a prepayment)."""
        usage = [invoice for invoice in self.invoices if invoice.type == "usage"]
        return max(
            usage,
            key=lambda invoice: (invoice.issued_at or invoice.period_end, invoice.id),
            default=None,
        )

    @property
    def latest_invoice(self) -> Invoice | None:
        """Return the most recently issued invoice."""
        return max(
            self.invoices,
            key=lambda invoice: (invoice.issued_at or invoice.period_end, invoice.id),
            default=None,
        )
