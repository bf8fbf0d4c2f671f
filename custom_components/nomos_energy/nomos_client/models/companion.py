"""The contract companion: §14a EnWG grid-fee reductions, smart-meter orders and quotes.

Statuses, types, providers and reasons are kept as Nomos sends them: a value a
newer API version adds is shown as unknown by the integration, never a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from .fields import Fields

GRID_FEE_REDUCTION_TYPES: Final = ("enwg-14a-module-1", "enwg-14a-module-2", "enwg-14a-module-3")
GRID_FEE_REDUCTION_STATUSES: Final = ("intended", "ordered", "rejected", "activated", "ended")
METER_ORDER_PROVIDERS: Final = ("energy-metering", "metrify", "inexogy")
# The order's milestones in the order they are reached; `cancelled` ends an order.
METER_ORDER_STATUSES: Final = (
    "created",
    "placed",
    "check_submitted",
    "check_reviewed",
    "scheduled",
    "installed",
    "activated",
    "cancelled",
)


def _stamp(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@dataclass(frozen=True, slots=True)
class GridFeeReduction:
    """A §14a EnWG module (grid-fee reduction) of one subscription."""

    id: str
    subscription_id: str
    type: str
    status: str
    valid_from: datetime | None
    valid_until: datetime | None
    created_at: datetime | None

    @property
    def module(self) -> int | None:
        """Return the module number (1, 2 or 3), None for a type this version does not know."""
        prefix = "enwg-14a-module-"
        number = self.type.removeprefix(prefix)
        return int(number) if self.type.startswith(prefix) and number.isdigit() else None

    def to_json(self) -> dict[str, Any]:
        """Return the API shape, so cached reductions parse like fresh ones."""
        return {
            "id": self.id,
            "subscription": self.subscription_id,
            "type": self.type,
            "status": self.status,
            "valid_from": _stamp(self.valid_from),
            "valid_until": _stamp(self.valid_until),
            "created_at": _stamp(self.created_at),
        }

    @classmethod
    def from_fields(cls, fields: Fields) -> GridFeeReduction:
        """Parse a grid-fee reduction."""
        return cls(
            id=fields.string("id"),
            subscription_id=fields.id_or_object("subscription"),
            type=fields.string("type"),
            status=fields.string("status"),
            valid_from=fields.opt_timestamp("valid_from"),
            valid_until=fields.opt_timestamp("valid_until"),
            created_at=fields.opt_timestamp("created_at"),
        )


@dataclass(frozen=True, slots=True)
class MeterOrder:
    """A smart-meter order of one subscription: who installs it and where it stands."""

    id: str
    subscription_id: str
    provider: str
    status: str
    created_at: datetime | None
    appointment_at: datetime | None
    installed_at: datetime | None
    activated_at: datetime | None
    cancelled_at: datetime | None
    cancelled_reason: str | None
    blocked_at: datetime | None
    blocked_reason: str | None

    @property
    def is_blocked(self) -> bool:
        """Return whether the order waits on something before it can go on."""
        return self.status != "cancelled" and (
            self.blocked_at is not None or self.blocked_reason is not None
        )

    def to_json(self) -> dict[str, Any]:
        """Return the API shape."""
        return {
            "id": self.id,
            "subscription": self.subscription_id,
            "provider": self.provider,
            "status": self.status,
            "created_at": _stamp(self.created_at),
            "appointment_at": _stamp(self.appointment_at),
            "installed_at": _stamp(self.installed_at),
            "activated_at": _stamp(self.activated_at),
            "cancelled_at": _stamp(self.cancelled_at),
            "cancelled_reason": self.cancelled_reason,
            "blocked_at": _stamp(self.blocked_at),
            "blocked_reason": self.blocked_reason,
        }

    @classmethod
    def from_fields(cls, fields: Fields) -> MeterOrder:
        """Parse a meter order."""
        return cls(
            id=fields.string("id"),
            subscription_id=fields.id_or_object("subscription"),
            provider=fields.string("provider"),
            status=fields.string("status"),
            created_at=fields.opt_timestamp("created_at"),
            appointment_at=fields.opt_timestamp("appointment_at"),
            installed_at=fields.opt_timestamp("installed_at"),
            activated_at=fields.opt_timestamp("activated_at"),
            cancelled_at=fields.opt_timestamp("cancelled_at"),
            cancelled_reason=fields.opt_string("cancelled_reason"),
            blocked_at=fields.opt_timestamp("blocked_at"),
            blocked_reason=fields.opt_string("blocked_reason"),
        )


@dataclass(frozen=True, slots=True)
class QuoteComponent:
    """One group of a quote: the monthly base (`month`) or the energy used (`kWh`)."""

    group: str
    amount: float
    quantity: float
    quantity_unit: str
    unit_amount: float

    @classmethod
    def from_fields(cls, fields: Fields) -> QuoteComponent:
        """Parse a quote component (its named subcomponents are not needed)."""
        return cls(
            group=fields.string("group"),
            amount=fields.number("amount"),
            quantity=fields.number("quantity"),
            quantity_unit=fields.string("quantity_unit"),
            unit_amount=fields.number("unit_amount"),
        )


@dataclass(frozen=True, slots=True)
class Quote:
    """What a plan costs a month (EUR incl. VAT) at a zip code and an annual usage."""

    amount: float
    currency: str
    components: tuple[QuoteComponent, ...]
    quoted_at: datetime | None

    @classmethod
    def from_fields(cls, fields: Fields) -> Quote:
        """Parse a quote."""
        return cls(
            amount=fields.number("amount"),
            currency=fields.opt_string("currency") or "EUR",
            components=tuple(
                QuoteComponent.from_fields(item) for item in fields.objects("components")
            ),
            quoted_at=fields.opt_timestamp("quoted_at"),
        )
