"""Base entity of the Nomos Energy integration."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator

from .const import DOMAIN, MANUFACTURER
from .nomos_client import Subscription

if TYPE_CHECKING:
    from .coordinator import NomosConfigEntry

METER_MODELS = {"smart": "Dynamic tariff, smart meter", "analog": "Dynamic tariff, analog meter"}


def subscription_device_info(subscription: Subscription) -> DeviceInfo:
    """Describe the device that stands for one subscription."""
    meter = subscription.meter
    return DeviceInfo(
        identifiers={(DOMAIN, subscription.id)},
        entry_type=DeviceEntryType.SERVICE,
        manufacturer=MANUFACTURER,
        model=METER_MODELS.get(meter.type, "Dynamic tariff") if meter else "Dynamic tariff",
        name=f"Nomos {subscription.display_number}",
        serial_number=subscription.display_number,
        configuration_url="https://nomos.customerportal.energy",
    )


def is_active(subscription: Subscription) -> bool:
    """Return whether the subscription is supplied now (it has prices)."""
    return subscription.is_active


def shifts_load(subscription: Subscription) -> bool:
    """Return whether cheap and expensive periods help this subscription (it buys power)."""
    return subscription.is_active and not subscription.is_feed_in


class NomosEntity[CoordinatorT: DataUpdateCoordinator[Any]](CoordinatorEntity[CoordinatorT]):
    """An entity on one subscription's device, fed by one coordinator."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: CoordinatorT, subscription: Subscription, key: str) -> None:
        """Attach the entity to its subscription's device."""
        super().__init__(coordinator)
        self.subscription_id = subscription.id
        self._attr_unique_id = f"{subscription.id}-{key}"
        self._attr_device_info = subscription_device_info(subscription)


def track_subscriptions(
    entry: NomosConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    create: Callable[[Subscription], Iterable[Entity]],
    include: Callable[[Subscription], bool] = lambda subscription: True,
) -> None:
    """Add entities for each subscription once `include` accepts it, now or later."""
    coordinator = entry.runtime_data.subscriptions
    hidden = entry.runtime_data.cache.hidden
    added: set[str] = set()

    @callback
    def add_new() -> None:
        new = [
            subscription
            for sub_id, subscription in coordinator.data.subscriptions.items()
            if sub_id not in added and sub_id not in hidden and include(subscription)
        ]
        added.update(subscription.id for subscription in new)
        async_add_entities(entity for subscription in new for entity in create(subscription))

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))


def track_active_subscriptions[CoordinatorT: DataUpdateCoordinator[Any]](
    entry: NomosConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entity_class: Callable[[CoordinatorT, Subscription], Entity],
    coordinator: CoordinatorT,
) -> None:
    """Add one `entity_class` entity per active subscription, now and later."""
    track_subscriptions(
        entry,
        async_add_entities,
        lambda subscription: [entity_class(coordinator, subscription)],
        is_active,
    )
