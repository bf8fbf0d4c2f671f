"""Binary sensors: whether tomorrow's prices are known."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .coordinator import NomosConfigEntry, PriceCoordinator
from .entity import NomosEntity, track_active_subscriptions
from .nomos_client import Subscription
from .price_schedule import PriceSchedule, local_date

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NomosConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensor for every active subscription, also later ones."""
    track_active_subscriptions(
        entry, async_add_entities, TomorrowPricesAvailableSensor, entry.runtime_data.prices
    )


class TomorrowPricesAvailableSensor(NomosEntity[PriceCoordinator], BinarySensorEntity):
    """On once every price of tomorrow (Berlin) is known."""

    _attr_translation_key = "tomorrow_available"

    def __init__(self, coordinator: PriceCoordinator, subscription: Subscription) -> None:
        """Create the sensor."""
        super().__init__(coordinator, subscription, "tomorrow_available")

    @property
    def is_on(self) -> bool:
        """Return whether tomorrow is complete."""
        schedule = self.coordinator.data.get(self.subscription_id) or PriceSchedule()
        return schedule.is_day_complete(local_date(dt_util.utcnow()) + timedelta(days=1))
