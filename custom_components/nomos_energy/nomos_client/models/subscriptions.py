"""Subscriptions (supply contracts) with their customer, address, meter and plan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from .fields import Fields

SubscriptionStatus = Literal["pending", "active", "ended"]
MeterType = Literal["smart", "analog"]
SUBSCRIPTION_STATUSES: Final = ("pending", "active", "ended")
METER_TYPES: Final = ("smart", "analog")


@dataclass(frozen=True, slots=True)
class Customer:
    """A Nomos customer (person or company)."""

    id: str
    type: str
    first_name: str
    last_name: str
    company_name: str | None
    email: str

    @property
    def display_name(self) -> str:
        """Return the name a person would recognise."""
        if self.company_name:
            return self.company_name
        return f"{self.first_name} {self.last_name}".strip()

    def to_json(self) -> dict[str, Any]:
        """Return the API shape, so cached data parses like fresh data."""
        return {
            "id": self.id,
            "type": self.type,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "company_name": self.company_name,
            "email": self.email,
        }

    @classmethod
    def from_fields(cls, fields: Fields) -> Customer:
        """Parse a customer object."""
        return cls(
            id=fields.string("id"),
            type=fields.opt_string("type") or "person",
            first_name=fields.string("first_name"),
            last_name=fields.string("last_name"),
            company_name=fields.opt_string("company_name"),
            email=fields.string("email"),
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """A tariff plan; `price` is its monthly base fee (EUR incl. VAT, grid and metering fees excluded)."""

    id: str
    name: str
    price: float | None
    currency: str
    type: str

    @classmethod
    def from_fields(cls, fields: Fields) -> Plan:
        """Parse a plan object."""
        return cls(
            id=fields.string("id"),
            name=fields.string("name"),
            price=fields.opt_number("price"),
            currency=fields.opt_string("currency") or "EUR",
            type=fields.opt_string("type") or "consumption",
        )


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address."""

    id: str
    street: str
    house_number: str
    zip: str
    city: str

    def to_json(self) -> dict[str, Any]:
        """Return the API shape."""
        return {
            "id": self.id,
            "street": self.street,
            "house_number": self.house_number,
            "zip": self.zip,
            "city": self.city,
        }

    @classmethod
    def from_fields(cls, fields: Fields) -> Address:
        """Parse an address object."""
        return cls(
            id=fields.string("id"),
            street=fields.string("street"),
            house_number=fields.string("house_number"),
            zip=fields.string("zip"),
            city=fields.string("city"),
        )


@dataclass(frozen=True, slots=True)
class Meter:
    """The electricity meter of a subscription."""

    id: str
    number: str
    type: MeterType
    melo: str | None
    malo: str | None

    def to_json(self) -> dict[str, Any]:
        """Return the API shape."""
        return {
            "id": self.id,
            "number": self.number,
            "type": self.type,
            "melo": self.melo,
            "malo": self.malo,
        }

    @classmethod
    def from_fields(cls, fields: Fields) -> Meter:
        """Parse a meter object."""
        return cls(
            id=fields.string("id"),
            number=fields.string("number"),
            type=fields.enum("type", METER_TYPES),
            melo=fields.opt_string("melo"),
            malo=fields.opt_string("malo"),
        )


@dataclass(frozen=True, slots=True)
class Subscription:
    """A supply contract; `customer`, `address` and `meter` only when retrieved."""

    id: str
    number: str | None
    status: SubscriptionStatus
    plan_id: str
    customer_id: str
    type: str
    estimated_usage: float | None
    start_at: datetime | None
    end_at: datetime | None
    terminated_at: datetime | None
    updated_at: datetime | None
    customer: Customer | None = None
    address: Address | None = None
    meter: Meter | None = None

    @property
    def display_number(self) -> str:
        """Return the human-readable number, or the id when there is none."""
        return self.number or self.id

    @property
    def is_active(self) -> bool:
        """Return whether the contract supplies power now."""
        return self.status == "active"

    @property
    def is_pending(self) -> bool:
        """Return whether the contract is still being set up."""
        return self.status == "pending"

    @property
    def is_ended(self) -> bool:
        """Return whether supply has ended."""
        return self.status == "ended"

    @property
    def is_feed_in(self) -> bool:
        """Return whether this contract pays for energy sent to the grid (`type: feed_in`)."""
        return self.type == "feed_in"

    @property
    def is_analog(self) -> bool:
        """Return whether the meter is read by hand (monthly values only)."""
        return self.meter is not None and self.meter.type == "analog"

    @property
    def has_smart_meter(self) -> bool:
        """Return whether 15-minute usage is expected (a smart meter, or none known yet)."""
        return self.meter is None or self.meter.type == "smart"

    def to_json(self) -> dict[str, Any]:
        """Return the API shape (expanded where the details are known)."""

        def stamp(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "id": self.id,
            "number": self.number,
            "status": self.status,
            "plan": self.plan_id,
            "customer": self.customer.to_json() if self.customer else self.customer_id,
            "address": self.address.to_json() if self.address else None,
            "meter": self.meter.to_json() if self.meter else None,
            "type": self.type,
            "estimated_usage": self.estimated_usage,
            "start_at": stamp(self.start_at),
            "end_at": stamp(self.end_at),
            "terminated_at": stamp(self.terminated_at),
            "updated_at": stamp(self.updated_at),
        }

    @classmethod
    def from_fields(cls, fields: Fields) -> Subscription:
        """Parse a subscription from a list (ids) or a retrieve (expanded)."""
        customer = address = meter = None
        if isinstance(fields.raw("customer"), Mapping):
            customer = Customer.from_fields(fields.obj("customer"))
        if isinstance(fields.raw("address"), Mapping):
            address = Address.from_fields(fields.obj("address"))
        if isinstance(fields.raw("meter"), Mapping):
            meter = Meter.from_fields(fields.obj("meter"))
        return cls(
            id=fields.string("id"),
            number=fields.opt_string("number"),
            status=fields.enum("status", SUBSCRIPTION_STATUSES),
            plan_id=fields.id_or_object("plan"),
            customer_id=fields.id_or_object("customer"),
            type=fields.opt_string("type") or "consumption",
            estimated_usage=fields.opt_number("estimated_usage"),
            start_at=fields.opt_timestamp("start_at"),
            end_at=fields.opt_timestamp("end_at"),
            terminated_at=fields.opt_timestamp("terminated_at"),
            updated_at=fields.opt_timestamp("updated_at"),
            customer=customer,
            address=address,
            meter=meter,
        )
