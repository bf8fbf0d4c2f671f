"""The planner's own switch: plan runs automatically, or not at all for a while.

Off, the planner keeps its settings but plans nothing (a run in progress ends, so
"Run now" turns off); on again, it plans the next run at once.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import NomosConfigEntry
from .entity import PlannerEntity, add_planner_entities
from .planner_config import CONF_ENABLED
from .planner_state import Planner

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NomosConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the switch of every planner."""
    add_planner_entities(
        entry, async_add_entities, lambda planner: [PlanningSwitch(entry, planner)]
    )


class PlanningSwitch(PlannerEntity, SwitchEntity):
    """On: the planner plans each run; off: it plans none."""

    _attr_entity_category = EntityCategory.CONFIG
    _attr_translation_key = "planning"

    def __init__(self, entry: NomosConfigEntry, planner: Planner) -> None:
        """Create the switch."""
        super().__init__(entry, planner, "planning")

    @property
    def is_on(self) -> bool:
        """Return whether the planner plans runs."""
        return self.planner.spec.enabled

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes only with the switch."""
        return (self.is_on,)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Plan runs again, starting with the next one."""
        self.manager.change(self.subentry_id, CONF_ENABLED, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Plan no runs (one in progress ends)."""
        self.manager.change(self.subentry_id, CONF_ENABLED, False)
