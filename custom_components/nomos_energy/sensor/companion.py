"""The §14a module and the smart-meter order of a contract that has one (disabled by default)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity
from homeassistant.core import callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from ..companion import ContractCompanion
from ..companion_state import latest_per_module, shown_reduction
from ..coordinator import NomosConfigEntry
from ..entity import NomosEntity
from ..issues import PROVIDERS
from ..nomos_client import GridFeeReduction, MeterOrder, Subscription
from ..nomos_client.models import GRID_FEE_REDUCTION_STATUSES, METER_ORDER_STATUSES


def _local(moment: datetime | None) -> str | None:
    """Return an instant as people read it: ISO text in Home Assistant's time zone."""
    return None if moment is None else dt_util.as_local(moment).isoformat()


class _CompanionSensor(NomosEntity[ContractCompanion], SensorEntity):
    """A contract's module or order: a state from a few statuses, not a daily question."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_entity_registry_enabled_default = False
    key: str

    def __init__(self, coordinator: ContractCompanion, subscription: Subscription) -> None:
        """Attach the sensor to the contract's device."""
        super().__init__(coordinator, subscription, self.key)
        self._attr_translation_key = self.key

    def _status(self, status: str | None) -> str | None:
        """Return a status this version knows; a newer one shows as unknown."""
        return status if self.options and status in self.options else None

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes with a daily answer."""
        return (self.native_value, self.extra_state_attributes)


class GridFeeModuleSensor(_CompanionSensor):
    """The contract's §14a EnWG module and its status."""

    key = "grid_fee_module"
    _attr_options = list(GRID_FEE_REDUCTION_STATUSES)

    @property
    def _shown(self) -> GridFeeReduction | None:
        return shown_reduction(self.coordinator.data.reductions_of(self.subscription_id))

    @property
    def native_value(self) -> str | None:
        """Return the status of the module that matters most now."""
        shown = self._shown
        return None if shown is None else self._status(shown.status)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the module, its validity and the status of each module of the contract."""
        shown = self._shown
        if shown is None:
            return None
        every = latest_per_module(self.coordinator.data.reductions_of(self.subscription_id))
        return {
            "module": shown.module,
            "type": shown.type,
            "valid_from": _local(shown.valid_from),
            "valid_until": _local(shown.valid_until),
            "modules": {str(module): item.status for module, item in sorted(every.items())},
        }


class SmartMeterOrderSensor(_CompanionSensor):
    """Where the contract's newest smart-meter order stands."""

    key = "smart_meter_order"
    _attr_options = list(METER_ORDER_STATUSES)

    @property
    def _order(self) -> MeterOrder | None:
        orders = self.coordinator.data.orders_of(self.subscription_id)
        return orders[0] if orders else None

    @property
    def native_value(self) -> str | None:
        """Return the order's milestone."""
        order = self._order
        return None if order is None else self._status(order.status)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return who installs the meter, when, and what holds the order up."""
        order = self._order
        if order is None:
            return None
        return {
            "provider": PROVIDERS.get(order.provider, order.provider),
            "appointment": _local(order.appointment_at),
            "installed": _local(order.installed_at),
            "activated": _local(order.activated_at),
            "blocked": _local(order.blocked_at) if order.is_blocked else None,
            "blocked_reason": order.blocked_reason if order.is_blocked else None,
            "cancelled": _local(order.cancelled_at),
            "cancelled_reason": order.cancelled_reason,
        }


def add_companion_sensors(
    entry: NomosConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add a contract's module and order sensors once Nomos lists one for it (none otherwise)."""
    runtime = entry.runtime_data
    companion = runtime.energy.companion
    added: set[tuple[str, str]] = set()

    @callback
    def add_new() -> None:
        new: list[_CompanionSensor] = []
        for sub_id, subscription in runtime.subscriptions.data.subscriptions.items():
            if sub_id in runtime.cache.hidden:
                continue
            for kind, listed in (
                (GridFeeModuleSensor, companion.data.reductions_of(sub_id)),
                (SmartMeterOrderSensor, companion.data.orders_of(sub_id)),
            ):
                if listed and (sub_id, kind.key) not in added:
                    added.add((sub_id, kind.key))
                    new.append(kind(companion, subscription))
        if new:
            async_add_entities(new)

    add_new()
    entry.async_on_unload(companion.async_add_listener(add_new))
    entry.async_on_unload(runtime.subscriptions.async_add_listener(add_new))
