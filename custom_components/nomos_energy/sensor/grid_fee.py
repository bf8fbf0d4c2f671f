"""Grid fee now: the level of this quarter-hour's grid fee (§14a module 3) and the day's windows."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Final

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from ..coordinator import NomosConfigEntry, PriceCoordinator
from ..entity import NomosEntity, shifts_load, track_subscriptions
from ..grid_fee import (
    GridFeeDay,
    GridFeeDays,
    GridFeeLevel,
    GridFeeWindow,
    grid_fee_ct,
    next_start,
)
from ..nomos_client import Subscription
from ..price_schedule import local_date

# The state on a day whose grid fee is the same all day.
FLAT: Final = "flat"


def local_iso(moment: datetime | None) -> str | None:
    """Return a moment in Home Assistant's time zone, as the attributes show times."""
    return None if moment is None else dt_util.as_local(moment).isoformat()


def windows_attribute(day: GridFeeDay) -> list[dict[str, Any]] | None:
    """Return a day's windows for an attribute: None before its prices are known."""
    if not day.known:
        return None
    return [
        {
            "start": local_iso(window.start),
            "end": local_iso(window.end),
            "level": window.level.value,
            "grid_fee_ct": window.grid_fee_ct,
        }
        for window in day.windows
    ]


def add_grid_fee_sensors(
    entry: NomosConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add "Grid fee now" to every active contract that buys power (feed-in has no grid fee)."""
    prices = entry.runtime_data.prices
    track_subscriptions(
        entry,
        async_add_entities,
        lambda subscription: [GridFeeSensor(prices, subscription)],
        shifts_load,
    )


class GridFeeEntity(NomosEntity[PriceCoordinator]):
    """An entity reading the grid-fee windows of its contract's prices."""

    def __init__(self, coordinator: PriceCoordinator, subscription: Subscription, key: str) -> None:
        """Attach the entity; its days are classified once per price update."""
        super().__init__(coordinator, subscription, key)
        self._days = GridFeeDays()

    def grid_fee_day(self, offset: int = 0) -> GridFeeDay:
        """Return today's (0), tomorrow's (1) or yesterday's (-1) grid-fee levels."""
        day: date = local_date(dt_util.utcnow()) + timedelta(days=offset)
        return self._days.day(self.coordinator.schedule(self.subscription_id), day)

    def shows_variable_fees(self) -> bool:
        """Return whether today's or tomorrow's known prices have time-variable grid fees."""
        return self.grid_fee_day(0).variable or self.grid_fee_day(1).variable

    def windows_around_now(self) -> list[GridFeeWindow]:
        """Return the windows from yesterday to tomorrow (a low night runs across midnight)."""
        yesterday = local_date(dt_util.utcnow()) - timedelta(days=1)
        return self._days.windows(self.coordinator.schedule(self.subscription_id), yesterday, 3)


class GridFeeSensor(GridFeeEntity, SensorEntity):
    """Low, standard or high now, or "flat" on a day without time-variable grid fees.

    On by default only where the prices show time-variable grid fees when it is first
    added; everyone else has no use for it.
    """

    _attr_translation_key = "grid_fee_level"
    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = [*(level.value for level in GridFeeLevel), FLAT]
    # The windows change once a day; history keeps the level.
    _unrecorded_attributes = frozenset({"today", "tomorrow"})

    def __init__(self, coordinator: PriceCoordinator, subscription: Subscription) -> None:
        """Create the sensor."""
        super().__init__(coordinator, subscription, "grid_fee_level")
        self._attr_entity_registry_enabled_default = self.shows_variable_fees()

    @property
    def native_value(self) -> str | None:
        """Return this quarter-hour's level; unknown while its price or grid fee is."""
        now = dt_util.utcnow()
        interval = self.coordinator.schedule(self.subscription_id).at(now)
        if interval is None or grid_fee_ct(interval) is None:
            return None
        today = self._days.day(self.coordinator.schedule(self.subscription_id), local_date(now))
        if len(today.fees) == 1:
            return FLAT
        level = today.level_at(now)
        return None if level is None else level.value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return this quarter-hour's grid fee, today's and tomorrow's windows, the next low."""
        now = dt_util.utcnow()
        interval = self.coordinator.schedule(self.subscription_id).at(now)
        return {
            "grid_fee_ct": None if interval is None else grid_fee_ct(interval),
            "today": windows_attribute(self.grid_fee_day(0)),
            "tomorrow": windows_attribute(self.grid_fee_day(1)),
            "next_low_start": local_iso(next_start(self.windows_around_now(), now)),
        }

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes at a window's edge, a new grid fee or new prices."""
        return (self.native_value, self.extra_state_attributes)
