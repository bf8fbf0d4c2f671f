"""Everyday settings of a daily appliance planner: when the run must be done, when it may begin.

Changed here (a dashboard's time row, or the `time.set_value` action), the planner
plans again at once, without reloading the entry; the appliance's subentry keeps
the value, so its form shows it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from typing import Any

from homeassistant.components.time import TimeEntity, TimeEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .appliance_plan import ApplianceSpec
from .coordinator import NomosConfigEntry
from .entity import PlannerEntity, add_planner_entities
from .planner_config import (
    CONF_DEADLINE,
    CONF_EARLIEST_START,
    CONF_WEEKEND_DEADLINE,
    CONF_WEEKEND_EARLIEST_START,
)
from .planner_state import Planner

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PlannerTimeDescription(TimeEntityDescription):
    """Describes one time setting of a daily planner."""

    value_fn: Callable[[ApplianceSpec], time | None]


TIMES: tuple[PlannerTimeDescription, ...] = (
    PlannerTimeDescription(
        key=CONF_DEADLINE,
        translation_key=CONF_DEADLINE,
        value_fn=lambda spec: spec.deadline,
    ),
    # Until set, the weekday deadline holds on weekends as well.
    PlannerTimeDescription(
        key=CONF_WEEKEND_DEADLINE,
        translation_key=CONF_WEEKEND_DEADLINE,
        value_fn=lambda spec: spec.weekend_deadline or spec.deadline,
    ),
    # Until set, the deadline's time: any time in the day before the deadline.
    PlannerTimeDescription(
        key=CONF_EARLIEST_START,
        translation_key=CONF_EARLIEST_START,
        value_fn=lambda spec: spec.earliest_start or spec.deadline,
    ),
    # Until set, the weekday's earliest start holds on weekends as well.
    PlannerTimeDescription(
        key=CONF_WEEKEND_EARLIEST_START,
        translation_key=CONF_WEEKEND_EARLIEST_START,
        value_fn=lambda spec: spec.weekend_earliest_start or spec.earliest_start or spec.deadline,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NomosConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the time settings of every daily planner."""
    add_planner_entities(
        entry,
        async_add_entities,
        lambda planner: [
            PlannerTime(entry, planner, description)
            for description in TIMES
            if planner.spec.deadline is not None
        ],
    )


class PlannerTime(PlannerEntity, TimeEntity):
    """A time of day the planner plans with."""

    _attr_entity_category = EntityCategory.CONFIG
    entity_description: PlannerTimeDescription

    def __init__(
        self, entry: NomosConfigEntry, planner: Planner, description: PlannerTimeDescription
    ) -> None:
        """Create the setting."""
        super().__init__(entry, planner, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> time | None:
        """Return the time the planner plans with now."""
        return self.entity_description.value_fn(self.planner.spec)

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes only with the setting."""
        return (self.native_value,)

    async def async_set_value(self, value: time) -> None:
        """Keep the new time in the subentry; the planner plans again with it."""
        self.manager.change(self.subentry_id, self.entity_description.key, value.isoformat())
