"""Event entity: fires once a day when tomorrow's prices arrive."""

from __future__ import annotations

from datetime import date
from typing import Any

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .coordinator import NomosConfigEntry, PriceCoordinator
from .entity import NomosEntity, track_active_subscriptions
from .nomos_client import Subscription
from .price_schedule import CT_PER_EUR

PARALLEL_UPDATES = 0
EVENT_PUBLISHED = "published"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NomosConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the event entity for every active subscription, also later ones."""
    track_active_subscriptions(
        entry, async_add_entities, TomorrowPricesEvent, entry.runtime_data.prices
    )


class TomorrowPricesEvent(NomosEntity[PriceCoordinator], EventEntity):
    """Triggers `published` with a summary when tomorrow's prices arrive."""

    _attr_translation_key = "tomorrow_prices"
    _attr_event_types = [EVENT_PUBLISHED]
    # For automations; "Prices for tomorrow available" answers the same on a dashboard.
    _attr_entity_registry_enabled_default = False

    def __init__(self, coordinator: PriceCoordinator, subscription: Subscription) -> None:
        """Create the entity."""
        super().__init__(coordinator, subscription, "tomorrow_prices")
        self._announced: date | None = coordinator.published.get(subscription.id)

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes only with a new event."""
        return (self._announced,)

    @callback
    def _handle_coordinator_update(self) -> None:
        """Trigger once for each day whose prices newly arrived."""
        day = self.coordinator.published.get(self.subscription_id)
        schedule = self.coordinator.data.get(self.subscription_id)
        if day is not None and day != self._announced and schedule is not None:
            self._announced = day
            stats = schedule.day_stats(day)
            if stats is not None:
                self._trigger_event(
                    EVENT_PUBLISHED,
                    {
                        "date": day.isoformat(),
                        "min_price": round(stats.minimum / CT_PER_EUR, 5),
                        "max_price": round(stats.maximum / CT_PER_EUR, 5),
                        "average_price": round(stats.average / CT_PER_EUR, 5),
                        # The same in ct/kWh, as the price sensors show it.
                        "min_price_ct": round(stats.minimum, 4),
                        "max_price_ct": round(stats.maximum, 4),
                        "average_price_ct": round(stats.average, 4),
                        # In Home Assistant's time zone, as every time we show.
                        "min_price_at": dt_util.as_local(stats.minimum_at).isoformat(),
                        "max_price_at": dt_util.as_local(stats.maximum_at).isoformat(),
                    },
                )
        super()._handle_coordinator_update()
