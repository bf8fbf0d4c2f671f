"""Invoices (usage, prepayment or void)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from .fields import Fields

INVOICE_STATUSES: Final = ("open", "paid", "voided", "uncollectible")
INVOICE_TYPES: Final = ("usage", "prepayment", "void")


@dataclass(frozen=True, slots=True)
class Invoice:
    """An invoice (usage, prepayment or void)."""

    id: str
    subscription_id: str
    number: str
    type: str
    status: str
    year: int
    month: int
    period_number: int
    period_start: datetime
    period_end: datetime
    usage: float | None
    total: float
    issued_at: datetime | None
    paid_at: datetime | None
    voids: str | None

    def summary(self) -> dict[str, Any]:
        """Return what a person reads on an invoice, with ISO times (JSON-ready)."""

        def stamp(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "number": self.number,
            "type": self.type,
            "status": self.status,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "issued_at": stamp(self.issued_at),
            "paid_at": stamp(self.paid_at),
            "usage_kwh": self.usage,
        }

    def to_json(self) -> dict[str, Any]:
        """Return the API shape, so cached invoices parse like fresh ones."""

        def stamp(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "id": self.id,
            "subscription": self.subscription_id,
            "invoice_number": self.number,
            "type": self.type,
            "status": self.status,
            "year": self.year,
            "month": self.month,
            "period_number": self.period_number,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "usage": self.usage,
            "total": self.total,
            "issued_at": stamp(self.issued_at),
            "paid_at": stamp(self.paid_at),
            "voids": self.voids,
        }

    @classmethod
    def from_fields(cls, fields: Fields) -> Invoice:
        """Parse one invoice of any type."""
        return cls(
            id=fields.string("id"),
            subscription_id=fields.string("subscription"),
            number=fields.string("invoice_number"),
            type=fields.enum("type", INVOICE_TYPES),
            status=fields.enum("status", INVOICE_STATUSES),
            year=int(fields.number("year")),
            month=int(fields.number("month")),
            period_number=int(fields.number("period_number")),
            period_start=fields.timestamp("period_start"),
            period_end=fields.timestamp("period_end"),
            usage=fields.opt_number("usage"),
            total=fields.number("total"),
            issued_at=fields.opt_timestamp("issued_at"),
            paid_at=fields.opt_timestamp("paid_at"),
            voids=fields.opt_string("voids"),
        )
