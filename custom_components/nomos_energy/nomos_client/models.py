"""Typed models of the Nomos API (curie shapes).

Parsing is strict about what the integration relies on and lenient about the
rest: unknown fields are ignored, and a missing or mistyped required field
raises `NomosResponseError` naming the field's path. One module on purpose:
a dataclass per API object with its parser and its cache form, side by side
with the strict field reader they share.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import itertools
import logging
import math
from typing import Any, Final, Literal

from .errors import NomosResponseError

_LOGGER = logging.getLogger(__name__)

SubscriptionStatus = Literal["pending", "active", "ended"]
MeterType = Literal["smart", "analog"]
SUBSCRIPTION_STATUSES: Final = ("pending", "active", "ended")
METER_TYPES: Final = ("smart", "analog")
INVOICE_STATUSES: Final = ("open", "paid", "voided", "uncollectible")
INVOICE_TYPES: Final = ("usage", "prepayment", "void")
PRICE_RESOLUTIONS: Final = {
    "15min": timedelta(minutes=15),
    "hourly": timedelta(hours=1),
    "60min": timedelta(hours=1),
}
USAGE_RESOLUTIONS: Final = ("15min", "hour", "day", "week", "month")


def finite_number(value: object) -> float | None:
    """Return a JSON number as a finite float, or None (booleans, NaN, inf, huge ints)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range
        return None
    return number if math.isfinite(number) else None


class TimestampOutOfRange(ValueError):
    """A well-formed timestamp that UTC cannot hold."""


def parse_timestamp(value: str) -> datetime:
    """Parse an ISO-8601 timestamp or a plain date into an aware UTC datetime.

    Raises ValueError, also for a moment that UTC cannot hold (year 1 or 9999
    shifted across an offset overflows).
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise TimestampOutOfRange(f"{value!r} is out of range in UTC") from None


class _Skipped:
    """What one response's optional values lost to overflow (logged once per response)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class Fields:
    """Read typed fields of one JSON object, naming the path on failure.

    An optional number or timestamp that is a number or string but out of
    range (NaN, inf, 1e400, year 9999 shifted past UTC) is skipped as unknown,
    with one log line per response; a required one raises NomosResponseError.
    """

    __slots__ = ("_data", "_path", "_skipped")

    def __init__(
        self, data: object, path: str = "response", *, skipped: _Skipped | None = None
    ) -> None:
        """Wrap `data`, which must be a JSON object; `skipped` is shared with its parent."""
        if not isinstance(data, Mapping):
            raise NomosResponseError(f"Invalid response from Nomos: '{path}' must be an object")
        self._data: Mapping[str, Any] = data
        self._path = path
        self._skipped = skipped or _Skipped()

    def _child(self, data: object, path: str) -> Fields:
        return Fields(data, path, skipped=self._skipped)

    def _skip(self, key: str, what: str) -> None:
        """Log the first skipped value of a response; the rest at debug level."""
        self._skipped.count += 1
        log = _LOGGER.warning if self._skipped.count == 1 else _LOGGER.debug
        log(
            "Ignoring field '%s' of a Nomos response: %s out of range (treated as unknown)",
            self._where(key),
            what,
        )

    def _where(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path != "response" else key

    def _fail(self, key: str, expected: str) -> NomosResponseError:
        if key not in self._data:
            return NomosResponseError(
                f"Invalid response from Nomos: field '{self._where(key)}' is missing"
            )
        return NomosResponseError(
            f"Invalid response from Nomos: field '{self._where(key)}' must be {expected}"
        )

    def raw(self, key: str) -> Any:
        """Return the untyped value of a key (None when absent)."""
        return self._data.get(key)

    def has(self, key: str) -> bool:
        """Return whether the key is present and not null."""
        return self._data.get(key) is not None

    def string(self, key: str) -> str:
        """Return a required string."""
        value = self._data.get(key)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def opt_string(self, key: str) -> str | None:
        """Return an optional (nullable or absent) string."""
        if self._data.get(key) is None:
            return None
        return self.string(key)

    def number(self, key: str) -> float:
        """Return a required number (booleans are not numbers)."""
        value = self._data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(key, "a number")
        number = finite_number(value)
        if number is None:
            raise self._fail(key, "a finite number")
        return number

    def opt_number(self, key: str) -> float | None:
        """Return an optional number; null means unknown, never zero.

        A number out of range is unknown too (logged); any other type raises.
        """
        value = self._data.get(key)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = finite_number(value)
            if number is None:
                self._skip(key, "a number")
            return number
        return self.number(key)

    def timestamp(self, key: str) -> datetime:
        """Return a required timestamp as aware UTC datetime."""
        value = self.string(key)
        try:
            return parse_timestamp(value)
        except ValueError:
            raise self._fail(key, "an ISO-8601 timestamp") from None

    def opt_timestamp(self, key: str) -> datetime | None:
        """Return an optional timestamp.

        A well-formed one that UTC cannot hold is unknown (logged); garbage raises.
        """
        if self._data.get(key) is None:
            return None
        value = self.string(key)
        try:
            return parse_timestamp(value)
        except TimestampOutOfRange:
            self._skip(key, "a timestamp")
            return None
        except ValueError:
            raise self._fail(key, "an ISO-8601 timestamp") from None

    def enum[T: str](self, key: str, allowed: tuple[T, ...]) -> T:
        """Return a required string that must be one of `allowed`."""
        value = self.string(key)
        for option in allowed:
            if value == option:
                return option
        raise self._fail(key, "one of " + ", ".join(allowed) + f" (got '{value}')")

    def obj(self, key: str) -> Fields:
        """Return a required nested object."""
        value = self._data.get(key)
        if not isinstance(value, Mapping):
            raise self._fail(key, "an object")
        return self._child(value, self._where(key))

    def opt_obj(self, key: str) -> Fields | None:
        """Return an optional nested object."""
        if self._data.get(key) is None:
            return None
        return self.obj(key)

    def objects(self, key: str) -> Iterator[Fields]:
        """Yield the objects of a required list."""
        value = self._data.get(key)
        if not isinstance(value, list):
            raise self._fail(key, "a list")
        for index, item in enumerate(value):
            yield self._child(item, f"{self._where(key)}[{index}]")

    def opt_objects(self, key: str) -> list[Fields] | None:
        """Return the objects of an optional (nullable) list."""
        if self._data.get(key) is None:
            return None
        return list(self.objects(key))

    def id_or_object(self, key: str) -> str:
        """Return an id for a field that is either an id or an expanded object."""
        value = self._data.get(key)
        if isinstance(value, Mapping):
            return self.obj(key).string("id")
        return self.string(key)


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


@dataclass(frozen=True, slots=True)
class PriceItem:
    """One interval of the price series; amounts in ct/kWh, None when unknown."""

    start: datetime
    amount: float | None
    components: Mapping[str, float | None]


@dataclass(frozen=True, slots=True)
class PriceSeries:
    """The all-in price time series of a subscription."""

    subscription_id: str
    unit: str
    currency: str
    resolution: str
    interval: timedelta
    items: tuple[PriceItem, ...] | None

    @classmethod
    def from_fields(cls, fields: Fields) -> PriceSeries:
        """Parse `/subscriptions/{id}/prices`.

        The interval length comes from the `resolution` field and is checked
        against the spacing of the timestamps: the spacing wins, because the
        docs disagree on the resolution names.
        """
        resolution = fields.string("resolution")
        interval = PRICE_RESOLUTIONS.get(resolution)
        if interval is None:
            raise NomosResponseError(
                "Invalid response from Nomos: field 'resolution' must be one of "
                f"{', '.join(PRICE_RESOLUTIONS)} (got '{resolution}')"
            )
        raw_items = fields.opt_objects("items")
        items: tuple[PriceItem, ...] | None = None
        if raw_items is not None:
            parsed: list[PriceItem] = []
            for item in raw_items:
                components: dict[str, float | None] = {}
                for component in item.opt_objects("components") or ():
                    components[component.string("type")] = component.opt_number("amount")
                parsed.append(
                    PriceItem(
                        start=item.timestamp("timestamp"),
                        amount=item.opt_number("amount"),
                        components=components,
                    )
                )
            parsed.sort(key=lambda price: price.start)
            for earlier, later in itertools.pairwise(parsed):
                if earlier.start == later.start:
                    raise NomosResponseError(
                        "Invalid response from Nomos: field 'items' has two prices "
                        f"for {later.start.isoformat()}"
                    )
            spacing = min(
                (b.start - a.start for a, b in itertools.pairwise(parsed)),
                default=interval,
            )
            if spacing in (timedelta(minutes=15), timedelta(hours=1)):
                interval = spacing
            items = tuple(parsed)
        return cls(
            subscription_id=fields.string("subscription"),
            unit=fields.opt_string("unit") or "ct/kWh",
            currency=fields.opt_string("currency") or "EUR",
            resolution=resolution,
            interval=interval,
            items=items,
        )


@dataclass(frozen=True, slots=True)
class UsageItem:
    """Metered usage of one interval in kWh."""

    start: datetime
    usage: float
    final: bool


@dataclass(frozen=True, slots=True)
class Usage:
    """The usage series of a subscription."""

    meter_type: MeterType
    resolution: str
    items: tuple[UsageItem, ...]

    @classmethod
    def from_fields(cls, fields: Fields) -> Usage:
        """Parse `/subscriptions/{id}/usage`."""
        items = tuple(
            UsageItem(
                start=item.timestamp("start"),
                usage=item.number("usage"),
                final=item.enum("type", ("final", "preliminary")) == "final",
            )
            for item in fields.objects("data")
        )
        return cls(
            meter_type=fields.enum("meter_type", METER_TYPES),
            resolution=fields.enum("resolution", USAGE_RESOLUTIONS),
            items=tuple(sorted(items, key=lambda item: item.start)),
        )


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


@dataclass(frozen=True, slots=True)
class MeterReading:
    """A submitted meter reading (cumulative kWh)."""

    id: str
    subscription_id: str
    value: float
    timestamp: datetime
    type: str

    @classmethod
    def from_fields(cls, fields: Fields) -> MeterReading:
        """Parse a meter-reading object."""
        return cls(
            id=fields.string("id"),
            subscription_id=fields.string("subscription"),
            value=fields.number("value"),
            timestamp=fields.timestamp("timestamp"),
            type=fields.string("type"),
        )
