"""Where the year's consumption is heading against the contract's estimate."""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import SensorEntity, SensorStateClass
from homeassistant.const import UnitOfEnergy
from homeassistant.util import dt as dt_util

from ..annual_usage import AnnualOutlook, annual_outlook
from ..energy_coordinator import EnergyCoordinator
from ..entity import NomosEntity
from ..nomos_client import Subscription
from ..price_schedule import local_date


class AnnualUsageSensor(NomosEntity[EnergyCoordinator], SensorEntity):
    """The year's projected consumption (kWh), the contract's estimate beside it."""

    _attr_translation_key = "projected_annual_usage"
    # A projection, not a meter: it moves up and down. The energy device class allows only
    # totals, so none; as a measurement its history is kept as long-term statistics.
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_native_unit_of_measurement = UnitOfEnergy.KILO_WATT_HOUR
    _attr_suggested_display_precision = 0
    _attr_entity_registry_enabled_default = False

    def __init__(self, coordinator: EnergyCoordinator, subscription: Subscription) -> None:
        """Create the sensor."""
        super().__init__(coordinator, subscription, "projected_annual_usage")
        self._estimate = subscription.estimated_usage

    @property
    def _outlook(self) -> AnnualOutlook | None:
        contract = self.coordinator.subscriptions.data.subscriptions.get(self.subscription_id)
        if contract is not None:
            self._estimate = contract.estimated_usage
        return annual_outlook(
            self.coordinator.cache.day_totals.get(self.subscription_id, {}),
            local_date(dt_util.utcnow()),
            self._estimate,
        )

    @property
    def available(self) -> bool:
        """Always: the figure comes from the cache, whatever Nomos answers now."""
        return True

    @property
    def native_value(self) -> float | None:
        """Return the projection; unknown while fewer than two weeks are metered."""
        outlook = self._outlook
        return None if outlook is None else round(outlook.projected_kwh)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the estimate, the difference and the days the projection rests on."""
        outlook = self._outlook
        if outlook is None:
            return {"estimated_usage": self._estimate}
        percent = outlook.versus_estimate_percent
        return {
            "estimated_usage": outlook.estimate_kwh,
            "versus_estimate_percent": None if percent is None else round(percent, 1),
            "basis": outlook.basis,
            "first_day": outlook.first_day.isoformat(),
            "last_day": outlook.last_day.isoformat(),
            "days": outlook.days,
            "metered_kwh": round(outlook.metered_kwh, 1),
        }

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes with an import or at midnight."""
        return (self.native_value, self.extra_state_attributes)
