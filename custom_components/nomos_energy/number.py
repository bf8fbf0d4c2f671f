"""Everyday numbers of a planner: an appliance's run time, a charger's target state of charge.

Changed here (a dashboard's number row, or the `number.set_value` action), the
planner plans again at once, without reloading the entry; the appliance's
subentry keeps the value, so its form shows it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .appliance_plan import ApplianceSpec
from .coordinator import NomosConfigEntry
from .entity import PlannerEntity, add_planner_entities
from .planner_config import CONF_DURATION_MINUTES, CONF_TARGET_SOC
from .planner_state import Planner

PARALLEL_UPDATES = 0
# The longest run the appliance form accepts (12 hours).
MAX_RUN_MINUTES = 720


@dataclass(frozen=True, kw_only=True)
class PlannerNumberDescription(NumberEntityDescription):
    """Describes one number setting of a planner."""

    value_fn: Callable[[ApplianceSpec], float]
    applies_fn: Callable[[ApplianceSpec], bool]
    # The highest value for this planner (a "within" run fits its hours).
    max_fn: Callable[[ApplianceSpec], float] | None = None


def _max_run(spec: ApplianceSpec) -> float:
    if spec.within is not None:
        return min(MAX_RUN_MINUTES, spec.within / timedelta(minutes=1))
    return MAX_RUN_MINUTES


NUMBERS: tuple[PlannerNumberDescription, ...] = (
    # A program's run time is its profile's; a charger's follows the state of charge.
    PlannerNumberDescription(
        key=CONF_DURATION_MINUTES,
        translation_key="run_time",
        device_class=NumberDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        native_min_value=15,
        native_step=15,
        mode=NumberMode.BOX,
        value_fn=lambda spec: spec.duration / timedelta(minutes=1),
        applies_fn=lambda spec: spec.profile is None and spec.charge is None,
        max_fn=_max_run,
    ),
    PlannerNumberDescription(
        key=CONF_TARGET_SOC,
        translation_key=CONF_TARGET_SOC,
        native_unit_of_measurement=PERCENTAGE,
        native_min_value=5,
        native_max_value=100,
        native_step=5,
        mode=NumberMode.SLIDER,
        value_fn=lambda spec: spec.charge.target_pct if spec.charge else 0.0,
        applies_fn=lambda spec: spec.charge is not None,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NomosConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the number settings of every planner they apply to."""
    add_planner_entities(
        entry,
        async_add_entities,
        lambda planner: [
            PlannerNumber(entry, planner, description)
            for description in NUMBERS
            if description.applies_fn(planner.spec)
        ],
    )


class PlannerNumber(PlannerEntity, NumberEntity):
    """A number the planner plans with."""

    _attr_entity_category = EntityCategory.CONFIG
    entity_description: PlannerNumberDescription

    def __init__(
        self, entry: NomosConfigEntry, planner: Planner, description: PlannerNumberDescription
    ) -> None:
        """Create the setting."""
        super().__init__(entry, planner, description.key)
        self.entity_description = description
        if description.max_fn is not None:
            self._attr_native_max_value = description.max_fn(planner.spec)

    @property
    def native_value(self) -> float:
        """Return the value the planner plans with now."""
        return self.entity_description.value_fn(self.planner.spec)

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes only with the setting."""
        return (self.native_value,)

    async def async_set_native_value(self, value: float) -> None:
        """Keep the new value in the subentry; the planner plans again with it."""
        self.manager.change(self.subentry_id, self.entity_description.key, round(value))
