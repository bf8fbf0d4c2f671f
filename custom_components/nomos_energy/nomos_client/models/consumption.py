"""Metered consumption: the usage series and submitted meter readings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from .fields import Fields
from .subscriptions import METER_TYPES, MeterType

USAGE_RESOLUTIONS: Final = ("15min", "hour", "day", "week", "month")


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
