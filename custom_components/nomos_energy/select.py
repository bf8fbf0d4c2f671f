"""An appliance's program from the dashboard: constant power, a typical program, or its own.

Choosing a typical program (dishwasher, washing machine, dryer) gives the planner
that program's power profile; the appliance is planned again at once (from or to
constant power its entry reloads: the run time setting and the cost sensors come
or go). An own profile is typed in the appliance's form ("Advanced").
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.select import SelectEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import NomosConfigEntry
from .entity import PlannerEntity, add_planner_entities
from .load_profiles import PRESETS, preset_of
from .planner_config import CONF_PROFILE
from .planner_state import Planner

PARALLEL_UPDATES = 0
CONSTANT = "none"
OWN = "custom"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NomosConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the program select of every planner."""
    add_planner_entities(
        entry,
        async_add_entities,
        # A charger's power follows its charging, not a program.
        lambda planner: [] if planner.spec.charge else [ProgramSelect(entry, planner)],
    )


class ProgramSelect(PlannerEntity, SelectEntity):
    """The appliance's program: what it draws in each quarter-hour of a run."""

    _attr_entity_category = EntityCategory.CONFIG
    _attr_translation_key = "program"

    def __init__(self, entry: NomosConfigEntry, planner: Planner) -> None:
        """Create the select."""
        super().__init__(entry, planner, "program")
        self._entry = entry

    @property
    def _profile_text(self) -> Any:
        """Return the program the appliance's subentry keeps (a change needs no reload)."""
        return self._entry.subentries[self.subentry_id].data.get(CONF_PROFILE)

    @property
    def options(self) -> list[str]:
        """Return constant power, the typical programs, and the own profile if there is one."""
        own = [OWN] if preset_of(self._profile_text) == OWN else []
        return [CONSTANT, *PRESETS, *own]

    @property
    def current_option(self) -> str:
        """Return the program the planner plans with."""
        return preset_of(self._profile_text)

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes only with the choice."""
        return (self.current_option,)

    async def async_select_option(self, option: str) -> None:
        """Plan with the chosen program (the own profile stays as it is)."""
        if option == OWN:
            return
        self.manager.change(self.subentry_id, CONF_PROFILE, PRESETS.get(option))
