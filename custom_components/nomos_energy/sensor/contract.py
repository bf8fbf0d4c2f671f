"""What the contract says and what it bills: status, supply dates, meter, invoices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import EntityCategory, UnitOfEnergy

from ..coordinator import SubscriptionCoordinator
from ..energy_coordinator import EnergyCoordinator
from ..energy_data import EnergyData
from ..entity import NomosEntity
from ..nomos_client import Subscription
from ..nomos_client.models import INVOICE_STATUSES, METER_TYPES, SUBSCRIPTION_STATUSES
from .common import kwh


@dataclass(frozen=True, kw_only=True)
class NomosContractSensorDescription(SensorEntityDescription):
    """Describes a sensor computed from a subscription's contract data."""

    value_fn: Callable[[Subscription], str | float | datetime | None]


# Facts that rarely change: one click away, on the device page.
CONTRACT_SENSORS: tuple[NomosContractSensorDescription, ...] = (
    NomosContractSensorDescription(
        key="contract_status",
        translation_key="contract_status",
        device_class=SensorDeviceClass.ENUM,
        options=list(SUBSCRIPTION_STATUSES),
        entity_registry_enabled_default=False,
        value_fn=lambda subscription: subscription.status,
    ),
    NomosContractSensorDescription(
        key="supply_start",
        translation_key="supply_start",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda subscription: subscription.start_at,
    ),
    NomosContractSensorDescription(
        key="supply_end",
        translation_key="supply_end",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda subscription: subscription.end_at,
    ),
    NomosContractSensorDescription(
        key="meter_type",
        translation_key="meter_type",
        device_class=SensorDeviceClass.ENUM,
        options=list(METER_TYPES),
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda subscription: subscription.meter.type if subscription.meter else None,
    ),
    NomosContractSensorDescription(
        key="estimated_annual_usage",
        translation_key="estimated_annual_usage",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda subscription: subscription.estimated_usage,
    ),
)


@dataclass(frozen=True, kw_only=True)
class NomosEnergySensorDescription(SensorEntityDescription):
    """Describes a sensor computed from the daily import."""

    value_fn: Callable[[EnergyData], float | str | None]
    attributes_fn: Callable[[EnergyData], dict[str, Any] | None] = lambda data: None
    include: Callable[[Subscription], bool]


def _analog(subscription: Subscription) -> bool:
    return subscription.is_analog


def _supplied(subscription: Subscription) -> bool:
    return subscription.start_at is not None


def _invoice_attributes(data: EnergyData) -> dict[str, Any] | None:
    invoice = data.latest_invoice
    return None if invoice is None else invoice.summary()


ENERGY_SENSORS: tuple[NomosEnergySensorDescription, ...] = (
    # An analog meter's only usage figure: its monthly reading, so on by default.
    NomosEnergySensorDescription(
        key="latest_monthly_consumption",
        translation_key="latest_monthly_consumption",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=0,
        value_fn=lambda data: kwh(data.latest_month[1]) if data.latest_month else None,
        attributes_fn=lambda data: (
            {"month": data.latest_month[0].strftime("%Y-%m")} if data.latest_month else None
        ),
        include=_analog,
    ),
    NomosEnergySensorDescription(
        key="latest_invoice",
        translation_key="latest_invoice",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="EUR",
        suggested_display_precision=2,
        entity_registry_enabled_default=False,
        value_fn=lambda data: data.latest_invoice.total if data.latest_invoice else None,
        attributes_fn=_invoice_attributes,
        include=_supplied,
    ),
    NomosEnergySensorDescription(
        key="invoice_status",
        translation_key="invoice_status",
        device_class=SensorDeviceClass.ENUM,
        options=list(INVOICE_STATUSES),
        value_fn=lambda data: data.latest_invoice.status if data.latest_invoice else None,
        # The invoice's amount and number, so the status answers "what do I owe?".
        attributes_fn=_invoice_attributes,
        include=_supplied,
    ),
)


class NomosContractSensor(NomosEntity[SubscriptionCoordinator], SensorEntity):
    """A sensor showing one contract detail of a subscription."""

    entity_description: NomosContractSensorDescription

    def __init__(
        self,
        coordinator: SubscriptionCoordinator,
        subscription: Subscription,
        description: NomosContractSensorDescription,
    ) -> None:
        """Create the sensor."""
        super().__init__(coordinator, subscription, description.key)
        self.entity_description = description

    @property
    def available(self) -> bool:
        """Unavailable when updates fail or the subscription disappeared."""
        return super().available and self.subscription_id in self.coordinator.data.subscriptions

    @property
    def native_value(self) -> str | float | datetime | None:
        """Return the contract detail."""
        return self.entity_description.value_fn(
            self.coordinator.data.subscriptions[self.subscription_id]
        )


class NomosEnergySensor(NomosEntity[EnergyCoordinator], SensorEntity):
    """A sensor fed by the daily usage and invoice import.

    Unknown, not unavailable, until the first import is in: just after signing
    in, nothing is wrong, the figures are on their way.
    """

    entity_description: NomosEnergySensorDescription

    def __init__(
        self,
        coordinator: EnergyCoordinator,
        subscription: Subscription,
        description: NomosEnergySensorDescription,
    ) -> None:
        """Create the sensor."""
        super().__init__(coordinator, subscription, description.key)
        self.entity_description = description

    @property
    def _data(self) -> EnergyData | None:
        return (self.coordinator.data or {}).get(self.subscription_id)

    @property
    def native_value(self) -> float | str | None:
        """Return the value from the last import."""
        data = self._data
        return None if data is None else self.entity_description.value_fn(data)

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes with an import."""
        return (self.native_value, self.extra_state_attributes)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the few details that belong to the value (never lists)."""
        data = self._data
        if data is None:
            return None
        attributes = self.entity_description.attributes_fn(data)
        if self.entity_description.key == "latest_invoice" and attributes is not None:
            # Does the invoice match the meter? (usage invoices whose month is imported)
            check = self.coordinator.invoice_check(self.subscription_id, data.latest_invoice)
            if check is not None:
                attributes = {**attributes, **check.summary()}
        return attributes
