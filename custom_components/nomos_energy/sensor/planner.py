"""An appliance plan's start, end, cost and saving, and a heat pump's SG Ready mode."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfPower
from homeassistant.util import dt as dt_util

from ..appliance_plan import Plan
from ..coordinator import NomosConfigEntry
from ..entity import PlannerEntity
from ..periods import PeriodKind
from ..planner_state import Planner
from ..sg_ready import SgReadyMode, sg_ready_mode
from .common import money


@dataclass(frozen=True, kw_only=True)
class PlannerSensorDescription(SensorEntityDescription):
    """Describes a figure of an appliance plan."""

    value_fn: Callable[[Plan], datetime | float | None]
    needs_power: bool = False


PLANNER_SENSORS: tuple[PlannerSensorDescription, ...] = (
    PlannerSensorDescription(
        key="planned_start",
        translation_key="planned_start",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda plan: plan.start,
    ),
    PlannerSensorDescription(
        key="planned_end",
        translation_key="planned_end",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda plan: plan.end,
    ),
    PlannerSensorDescription(
        key="estimated_cost",
        translation_key="estimated_cost",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="EUR",
        suggested_display_precision=2,
        needs_power=True,
        value_fn=lambda plan: money(plan.cost_eur),
    ),
    PlannerSensorDescription(
        key="saving",
        translation_key="saving",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="EUR",
        suggested_display_precision=2,
        needs_power=True,
        value_fn=lambda plan: money(plan.saving_eur),
    ),
)


class PlannerSensor(PlannerEntity, SensorEntity):
    """When the planned run starts and ends, what it costs and what it saves."""

    entity_description: PlannerSensorDescription

    def __init__(
        self, entry: NomosConfigEntry, planner: Planner, description: PlannerSensorDescription
    ) -> None:
        """Create the sensor."""
        super().__init__(entry, planner, description.key)
        self.entity_description = description

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes when the plan does."""
        return (self.native_value,)

    @property
    def native_value(self) -> datetime | float | None:
        """Return the figure of the current plan; unknown while nothing is planned."""
        plan = self.planner.plan
        return None if plan is None else self.entity_description.value_fn(plan)


class SgReadySensor(PlannerEntity, SensorEntity):
    """A heat pump's recommendation: boost in planned runs, block in expensive periods."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = [mode.value for mode in SgReadyMode]
    _attr_translation_key = "sg_ready_mode"

    def __init__(self, entry: NomosConfigEntry, planner: Planner) -> None:
        """Create the sensor."""
        super().__init__(entry, planner, "sg_ready_mode")

    def _mode(self) -> tuple[SgReadyMode, datetime | None]:
        expensive = self.coordinator.periods(self.planner.subscription_id)[PeriodKind.EXPENSIVE]
        return sg_ready_mode(self.planner.plan, expensive, dt_util.utcnow())

    @property
    def native_value(self) -> str:
        """Return the mode now."""
        return self._mode()[0].value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return until when the mode holds."""
        until = self._mode()[1]
        return {"until": None if until is None else dt_util.as_local(until).isoformat()}

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes at a run's or a period's edge."""
        return (self.native_value, self.extra_state_attributes)


class ChargingPowerSensor(PlannerEntity, SensorEntity):
    """A charger's power to draw now (kW): full in planned quarter-hours, the remainder in one."""

    _attr_device_class = SensorDeviceClass.POWER
    _attr_native_unit_of_measurement = UnitOfPower.KILO_WATT
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_suggested_display_precision = 2
    _attr_translation_key = "charging_power"

    def __init__(self, entry: NomosConfigEntry, planner: Planner) -> None:
        """Create the sensor."""
        super().__init__(entry, planner, "charging_power")

    @property
    def native_value(self) -> float:
        """Return the power to draw now (0 outside the plan)."""
        return round(self.manager.power_now(self.planner, dt_util.utcnow()), 3)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the state of charge the plan rests on and the energy still to charge."""
        charge = self.planner.spec.charge
        assert charge is not None
        soc = self.manager.state_of_charge(self.planner)
        return {
            "state_of_charge": soc,
            "target_state_of_charge": charge.target_pct,
            "energy_to_charge": None if soc is None else round(charge.energy_kwh(soc), 3),
            "charging_now_below": charge.floor_pct,
            "below_floor": None if soc is None else charge.below_floor(soc),
        }

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes with the plan or the state of charge."""
        return (self.native_value, self.extra_state_attributes)


def planner_sensors(entry: NomosConfigEntry, planner: Planner) -> list[SensorEntity]:
    """Return an appliance planner's sensors (the figures that need a power only with one)."""
    sensors: list[SensorEntity] = [
        PlannerSensor(entry, planner, description)
        for description in PLANNER_SENSORS
        if description.needs_power is False or planner.spec.power_kw is not None
    ]
    if planner.spec.sg_ready:
        sensors.append(SgReadySensor(entry, planner))
    if planner.spec.charge is not None:
        sensors.append(ChargingPowerSensor(entry, planner))
    return sensors
