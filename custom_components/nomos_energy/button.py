"""Buttons of an appliance planner: plan (again) now, skip the next run.

The plan button is named for what it does in the planner's mode: a daily planner
plans its next run again ("Plan again"); a "within N hours" planner plans a run
from now on ("Plan a run now"). Its unique id is the same in both modes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import NomosConfigEntry
from .entity import PlannerEntity, add_planner_entities
from .planner_state import Planner
from .planners import PlannerManager

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PlannerButtonDescription(ButtonEntityDescription):
    """Describes what a planner button does."""

    press_fn: Callable[[PlannerManager, str], None]
    # The name of the button on a planner that plans on a trigger ("within N hours").
    within_translation_key: str | None = None


BUTTONS: tuple[PlannerButtonDescription, ...] = (
    PlannerButtonDescription(
        key="replan",
        translation_key="replan",
        within_translation_key="plan_now",
        press_fn=PlannerManager.replan,
    ),
    PlannerButtonDescription(
        key="skip",
        translation_key="skip",
        press_fn=PlannerManager.skip,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NomosConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the buttons of every appliance planner."""
    add_planner_entities(
        entry,
        async_add_entities,
        lambda planner: [PlannerButton(entry, planner, description) for description in BUTTONS],
    )


class PlannerButton(PlannerEntity, ButtonEntity):
    """Plan now (again), or skip the next run."""

    entity_description: PlannerButtonDescription

    def __init__(
        self, entry: NomosConfigEntry, planner: Planner, description: PlannerButtonDescription
    ) -> None:
        """Create the button."""
        super().__init__(entry, planner, description.key)
        if description.within_translation_key and planner.spec.within is not None:
            description = replace(description, translation_key=description.within_translation_key)
        self.entity_description = description

    def written_state(self) -> tuple[Any, ...] | None:
        """Return nothing that changes: a button's state is when it was pressed."""
        return ()

    async def async_press(self) -> None:
        """Act on the planner; its entities update at once."""
        self.entity_description.press_fn(self.manager, self.subentry_id)
