"""The price feed: today's and tomorrow's prices in the shape Nord Pool's integration has."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from homeassistant.components.sensor import SensorEntity, SensorStateClass
from homeassistant.const import UnitOfEnergy
from homeassistant.util import dt as dt_util

from ..coordinator import PriceCoordinator
from ..entity import NomosEntity
from ..nomos_client import Subscription
from ..price_schedule import PriceInterval, PriceSchedule, local_date
from .common import EUR_PER_KWH, eur


class NomosPriceFeedSensor(NomosEntity[PriceCoordinator], SensorEntity):
    """The current price, with today's and tomorrow's as lists.

    evcc, EV Smart Charging and chart cards read `raw_today`, `raw_tomorrow`
    and `tomorrow_valid`; off by default, enabled by whoever uses one of them.
    The lists stay out of the recorder: with both days they are larger than
    its 16 KiB limit for attributes.
    """

    _attr_translation_key = "price_feed"
    _attr_entity_registry_enabled_default = False
    _attr_native_unit_of_measurement = EUR_PER_KWH
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_suggested_display_precision = 4
    _unrecorded_attributes = frozenset({"raw_today", "raw_tomorrow", "today", "tomorrow"})

    def __init__(self, coordinator: PriceCoordinator, subscription: Subscription) -> None:
        """Create the sensor."""
        super().__init__(coordinator, subscription, "price_feed")
        # The lists change when prices arrive or the day turns, not on each tick.
        self._feed: tuple[PriceSchedule, date, dict[str, Any]] | None = None

    @property
    def native_value(self) -> float | None:
        """Return the current price in EUR/kWh."""
        interval = self.coordinator.schedule(self.subscription_id).at(dt_util.utcnow())
        return eur(interval.price_ct) if interval else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return today's and tomorrow's prices (Berlin days), local times, EUR/kWh."""
        schedule = self.coordinator.schedule(self.subscription_id)
        today = local_date(dt_util.utcnow())
        if self._feed is not None and self._feed[0] is schedule and self._feed[1] == today:
            return self._feed[2]
        tomorrow = today + timedelta(days=1)
        raw_today = _raw_prices(schedule.day(today))
        raw_tomorrow = _raw_prices(schedule.day(tomorrow))
        attributes = {
            # As Nord Pool's integration says it: prices in EUR per kWh.
            "currency": "EUR",
            "unit": UnitOfEnergy.KILO_WATT_HOUR.value,
            "today": [item["value"] for item in raw_today],
            "tomorrow": [item["value"] for item in raw_tomorrow],
            "raw_today": raw_today,
            "raw_tomorrow": raw_tomorrow,
            "tomorrow_valid": schedule.is_day_complete(tomorrow),
        }
        self._feed = (schedule, today, attributes)
        return attributes


def _raw_prices(intervals: list[PriceInterval]) -> list[dict[str, Any]]:
    return [
        {
            "start": dt_util.as_local(interval.start).isoformat(),
            "end": dt_util.as_local(interval.end).isoformat(),
            "value": eur(interval.price_ct),
        }
        for interval in intervals
    ]
