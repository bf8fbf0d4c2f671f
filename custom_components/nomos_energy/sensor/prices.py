"""Price sensors: the price now and next, its level, the day's range and the outlook."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.util import dt as dt_util

from ..coordinator import PriceCoordinator
from ..entity import NomosEntity
from ..nomos_client import Subscription
from ..price_schedule import DayStats, PriceInterval, PriceLevel, PriceSchedule, local_date
from .common import EUR_PER_KWH, DisplayUnit, PriceConverter, eur

type PriceValue = float | str | datetime | None


@dataclass(frozen=True, kw_only=True)
class NomosPriceSensorDescription(SensorEntityDescription):
    """Describes a sensor computed from the price schedule at a moment."""

    value_fn: Callable[[PriceSchedule, datetime], PriceValue]
    # A price in ct/kWh that shows in the entry's unit (ct/kWh or EUR/kWh). These
    # have no state class: the Energy dashboard takes any unit ending in "/kWh"
    # as its price and would count ct as EUR, 100 times too high.
    displays_price: bool = False
    attributes_fn: Callable[[PriceSchedule, datetime, PriceConverter], dict[str, Any] | None] = (
        lambda schedule, now, convert: None
    )


def _current_ct(schedule: PriceSchedule, now: datetime) -> float | None:
    interval = schedule.at(now)
    return interval.price_ct if interval else None


def _next_ct(schedule: PriceSchedule, now: datetime) -> float | None:
    interval = schedule.next_after(now)
    return interval.price_ct if interval else None


def _component(name: str) -> Callable[[PriceSchedule, datetime], float | None]:
    def value(schedule: PriceSchedule, now: datetime) -> float | None:
        interval = schedule.at(now)
        return interval.components_ct.get(name) if interval else None

    return value


def _stats(schedule: PriceSchedule, now: datetime, day_offset: int) -> DayStats | None:
    return schedule.day_stats(local_date(now) + timedelta(days=day_offset))


def _day_stat(day_offset: int, field: str) -> Callable[[PriceSchedule, datetime], PriceValue]:
    """Return a value function for one field of today's (0) or tomorrow's (1) statistics."""

    def value(schedule: PriceSchedule, now: datetime) -> PriceValue:
        stats = _stats(schedule, now, day_offset)
        return None if stats is None else getattr(stats, field)

    return value


def _spread(day_offset: int) -> Callable[[PriceSchedule, datetime], float | None]:
    """Return how far the day's highest price is above its lowest."""

    def value(schedule: PriceSchedule, now: datetime) -> float | None:
        stats = _stats(schedule, now, day_offset)
        return None if stats is None else stats.maximum - stats.minimum

    return value


def _range_attributes(
    day_offset: int,
) -> Callable[[PriceSchedule, datetime, PriceConverter], dict[str, Any] | None]:
    """Return the lowest and highest price with their local times, and the average."""

    def attributes(
        schedule: PriceSchedule, now: datetime, convert: PriceConverter
    ) -> dict[str, Any] | None:
        stats = _stats(schedule, now, day_offset)
        if stats is None:
            return None
        return {
            "lowest": convert(stats.minimum),
            "lowest_at": dt_util.as_local(stats.minimum_at).isoformat(),
            "highest": convert(stats.maximum),
            "highest_at": dt_util.as_local(stats.maximum_at).isoformat(),
            "average": convert(stats.average),
        }

    return attributes


def _ahead(schedule: PriceSchedule, now: datetime, span: timedelta) -> list[PriceInterval]:
    """Return the known-price intervals from the one in progress to `now + span`."""
    current = schedule.at(now)
    start = current.start if current else now
    return [
        interval
        for interval in schedule.between(start, now + span)
        if interval.price_ct is not None
    ]


def _extreme_ahead(
    schedule: PriceSchedule, now: datetime, pick: Callable[..., PriceInterval]
) -> PriceInterval | None:
    """Return the quarter-hour with the lowest (min) or highest (max) price of the next day.

    Only known prices count; ties go to the earliest quarter-hour.
    """
    intervals = _ahead(schedule, now, timedelta(hours=24))
    return pick(intervals, key=lambda interval: interval.price_ct) if intervals else None


def _extreme_price(
    pick: Callable[..., PriceInterval],
) -> Callable[[PriceSchedule, datetime], float | None]:
    def value(schedule: PriceSchedule, now: datetime) -> float | None:
        found = _extreme_ahead(schedule, now, pick)
        return found.price_ct if found else None

    return value


def _extreme_start(
    pick: Callable[..., PriceInterval],
) -> Callable[[PriceSchedule, datetime], datetime | None]:
    def value(schedule: PriceSchedule, now: datetime) -> datetime | None:
        found = _extreme_ahead(schedule, now, pick)
        return found.start if found else None

    return value


def _average_ahead(schedule: PriceSchedule, now: datetime, span: timedelta) -> float | None:
    """Return the plain average of the known prices from now over `span`."""
    prices = [
        interval.price_ct
        for interval in _ahead(schedule, now, span)
        if interval.price_ct is not None
    ]
    return sum(prices) / len(prices) if prices else None


def _display(
    key: str,
    value_fn: Callable[[PriceSchedule, datetime], PriceValue],
    *,
    enabled: bool = False,
    **extra: Any,
) -> NomosPriceSensorDescription:
    """Describe a price people read, in the entry's unit; most start disabled."""
    return NomosPriceSensorDescription(
        key=key,
        translation_key=key,
        displays_price=True,
        entity_registry_enabled_default=enabled,
        value_fn=value_fn,
        **extra,
    )


def _time(
    key: str, value_fn: Callable[[PriceSchedule, datetime], PriceValue]
) -> NomosPriceSensorDescription:
    """Describe when a day's or the next 24 hours' extreme price is (off by default)."""
    return NomosPriceSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_registry_enabled_default=False,
        value_fn=value_fn,
    )


# Written on every quarter-hour even when the value repeats (their "last reported" counts).
ALWAYS_REPORTED: Final = {"current_price", "current_price_ct"}

PRICE_SENSORS: tuple[NomosPriceSensorDescription, ...] = (
    # The price people read, in ct/kWh unless the options say EUR/kWh.
    _display("current_price_ct", _current_ct, enabled=True),
    # The Energy dashboard's price: EUR/kWh whatever the options say, with
    # long-term statistics.
    NomosPriceSensorDescription(
        key="current_price",
        translation_key="current_price",
        native_unit_of_measurement=EUR_PER_KWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value_fn=lambda schedule, now: eur(_current_ct(schedule, now)),
    ),
    NomosPriceSensorDescription(
        key="price_level",
        translation_key="price_level",
        device_class=SensorDeviceClass.ENUM,
        options=[level.value for level in PriceLevel],
        # Replaced per entry by the thresholds from the options (see price_sensor_descriptions).
        value_fn=lambda schedule, now: schedule.level(now),
    ),
    # One entity per day answers "how cheap, how dear, and when" (as Nord Pool's does).
    _display("today_range", _spread(0), enabled=True, attributes_fn=_range_attributes(0)),
    _display("tomorrow_range", _spread(1), enabled=True, attributes_fn=_range_attributes(1)),
    _display("next_price", _next_ct),
    _display("current_hour_average", lambda schedule, now: schedule.hour_average(now)),
    _display("today_min", _day_stat(0, "minimum")),
    _display("today_max", _day_stat(0, "maximum")),
    _display("today_average", _day_stat(0, "average")),
    _display("tomorrow_min", _day_stat(1, "minimum")),
    _display("tomorrow_max", _day_stat(1, "maximum")),
    _display("tomorrow_average", _day_stat(1, "average")),
    _time("today_min_time", _day_stat(0, "minimum_at")),
    _time("today_max_time", _day_stat(0, "maximum_at")),
    _time("tomorrow_min_time", _day_stat(1, "minimum_at")),
    _time("tomorrow_max_time", _day_stat(1, "maximum_at")),
    _display("lowest_next_24h", _extreme_price(min)),
    _time("lowest_next_24h_time", _extreme_start(min)),
    _display("highest_next_24h", _extreme_price(max)),
    _time("highest_next_24h_time", _extreme_start(max)),
    _display(
        "average_next_3h",
        lambda schedule, now: _average_ahead(schedule, now, timedelta(hours=3)),
    ),
    _display("current_electricity_price", _component("electricity")),
    _display("current_grid_price", _component("grid")),
    _display("current_levies_price", _component("levies")),
)

# Feed-in has no grid fees or levies to show, and no load to shift.
NOT_FOR_FEED_IN: Final = {
    "current_grid_price",
    "current_levies_price",
    "tomorrow_min_time",
    "tomorrow_max_time",
    "lowest_next_24h",
    "lowest_next_24h_time",
    "highest_next_24h",
    "highest_next_24h_time",
    "average_next_3h",
}


class NomosPriceSensor(NomosEntity[PriceCoordinator], SensorEntity):
    """A price sensor; its state changes on each quarter-hour from the cache."""

    entity_description: NomosPriceSensorDescription

    def __init__(
        self,
        coordinator: PriceCoordinator,
        subscription: Subscription,
        description: NomosPriceSensorDescription,
        display: DisplayUnit,
    ) -> None:
        """Create the sensor."""
        super().__init__(coordinator, subscription, description.key)
        self.entity_description = description
        self._convert = display.convert
        if description.displays_price:
            self._attr_native_unit_of_measurement = display.unit
            self._attr_suggested_display_precision = display.precision

    @property
    def _schedule(self) -> PriceSchedule:
        return self.coordinator.data.get(self.subscription_id) or PriceSchedule()

    @property
    def native_value(self) -> PriceValue:
        """Return the value for this moment."""
        value = self.entity_description.value_fn(self._schedule, dt_util.utcnow())
        if self.entity_description.displays_price and not isinstance(value, str | datetime):
            return self._convert(value)
        return value

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the details that belong to the value (the range's extremes)."""
        return self.entity_description.attributes_fn(
            self._schedule, dt_util.utcnow(), self._convert
        )

    def written_state(self) -> tuple[Any, ...] | None:
        """Skip unchanged writes, except for the current price (reported every quarter-hour)."""
        if self.entity_description.key in ALWAYS_REPORTED:
            return None
        return (self.native_value, self.extra_state_attributes)
