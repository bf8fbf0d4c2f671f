"""Sensors of the Nomos Energy integration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import NomosConfigEntry, SubscriptionCoordinator
from .entity import NomosSubscriptionEntity
from .nomos_client import Subscription
from .nomos_client.models import SUBSCRIPTION_STATUSES

# Read-only entities fed by coordinators: no limit on parallel updates.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class NomosContractSensorDescription(SensorEntityDescription):
    """Describes a sensor computed from a subscription's contract data."""

    value_fn: Callable[[Subscription], str | datetime | None]


CONTRACT_SENSORS: tuple[NomosContractSensorDescription, ...] = (
    NomosContractSensorDescription(
        key="contract_status",
        translation_key="contract_status",
        device_class=SensorDeviceClass.ENUM,
        options=list(SUBSCRIPTION_STATUSES),
        value_fn=lambda subscription: subscription.status,
    ),
    NomosContractSensorDescription(
        key="supply_start",
        translation_key="supply_start",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda subscription: subscription.start_at,
    ),
    NomosContractSensorDescription(
        key="supply_end",
        translation_key="supply_end",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda subscription: subscription.end_at,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NomosConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add sensors for every subscription, and for new ones as they appear."""
    coordinator = entry.runtime_data.subscriptions
    added: set[str] = set()

    @callback
    def add_new_subscriptions() -> None:
        new = [sub_id for sub_id in coordinator.data.subscriptions if sub_id not in added]
        added.update(new)
        async_add_entities(
            NomosContractSensor(coordinator, sub_id, description)
            for sub_id in new
            for description in CONTRACT_SENSORS
        )

    add_new_subscriptions()
    entry.async_on_unload(coordinator.async_add_listener(add_new_subscriptions))


class NomosContractSensor(NomosSubscriptionEntity, SensorEntity):
    """A sensor showing one contract detail of a subscription."""

    entity_description: NomosContractSensorDescription

    def __init__(
        self,
        coordinator: SubscriptionCoordinator,
        subscription_id: str,
        description: NomosContractSensorDescription,
    ) -> None:
        """Create the sensor."""
        super().__init__(coordinator, subscription_id, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> str | datetime | None:
        """Return the contract detail."""
        return self.entity_description.value_fn(self.subscription)
