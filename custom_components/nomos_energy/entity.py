"""Base entity of the Nomos Energy integration."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN, MANUFACTURER
from .coordinator import SubscriptionCoordinator
from .nomos_client import Subscription

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


class NomosSubscriptionEntity(CoordinatorEntity[SubscriptionCoordinator]):
    """An entity that belongs to one subscription's device."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: SubscriptionCoordinator, subscription_id: str, key: str
    ) -> None:
        """Attach the entity to its subscription."""
        super().__init__(coordinator)
        self.subscription_id = subscription_id
        self._attr_unique_id = f"{subscription_id}-{key}"
        self._attr_device_info = subscription_device_info(
            coordinator.data.subscriptions[subscription_id]
        )

    @property
    def subscription(self) -> Subscription:
        """Return the subscription's latest data."""
        return self.coordinator.data.subscriptions[self.subscription_id]

    @property
    def available(self) -> bool:
        """Unavailable when updates fail or the subscription disappeared."""
        return super().available and self.subscription_id in self.coordinator.data.subscriptions
