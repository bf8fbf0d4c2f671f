"""An appliance plan's start, end, cost and saving."""

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

from ..appliance_plan import Plan
from ..coordinator import NomosConfigEntry
from ..entity import PlannerEntity
from ..planners import Planner
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
