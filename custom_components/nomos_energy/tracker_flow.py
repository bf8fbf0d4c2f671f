"""The cost tracker subentry flow: a name, an energy sensor and, with several, the contract.

The tracker prices the sensor's energy at the contract's quarter-hour prices
(tracker_manager.py); this flow checks that the sensor counts energy (kWh, Wh,
MWh; `total_increasing` or `total`) and gives the tracker its statistic id.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import CONF_ENTITY_ID, CONF_NAME
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
)
from homeassistant.util import slugify
import voluptuous as vol

from .const import DOMAIN
from .coordinator import NomosRuntimeData
from .cost_trackers import STATE_CLASSES, UNIT_FACTORS
from .entity import shifts_load
from .tracker_manager import CONF_STATISTIC_ID, CONF_SUBSCRIPTION_ID, tracker_subentries


class CostTrackerFlow(ConfigSubentryFlow):
    """Add a cost tracker for an energy sensor."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Ask for the name, the sensor and (with several) the contract."""
        entry = self._get_entry()
        if entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        runtime: NomosRuntimeData = entry.runtime_data
        choices = {
            subscription.id: f"Nomos {subscription.display_number}"
            for subscription in runtime.subscriptions.data.subscriptions.values()
            if shifts_load(subscription)
        }
        if not choices:
            return self.async_abort(reason="no_active_subscription")
        errors: dict[str, str] = {}
        if user_input is not None:
            name = str(user_input.get(CONF_NAME, "")).strip()
            entity_id = str(user_input[CONF_ENTITY_ID])
            trackers = tracker_subentries(entry.subentries).values()
            if not name:
                errors["base"] = "name_missing"
            elif any(t.data[CONF_ENTITY_ID] == entity_id for t in trackers):
                errors[CONF_ENTITY_ID] = "already_tracked"
            elif (error := self._meter_error(entity_id)) is not None:
                errors[CONF_ENTITY_ID] = error
            else:
                taken = {t.data[CONF_STATISTIC_ID] for t in trackers}
                return self.async_create_entry(
                    title=name,
                    data={
                        CONF_ENTITY_ID: entity_id,
                        CONF_SUBSCRIPTION_ID: user_input.get(CONF_SUBSCRIPTION_ID)
                        or next(iter(choices)),
                        CONF_STATISTIC_ID: statistic_id(name, taken),
                    },
                )
        fields: dict[vol.Marker, Any] = {
            vol.Required(CONF_NAME): TextSelector(),
            vol.Required(CONF_ENTITY_ID): EntitySelector(
                EntitySelectorConfig(domain="sensor", device_class=SensorDeviceClass.ENERGY)
            ),
        }
        if len(choices) > 1:
            fields[vol.Required(CONF_SUBSCRIPTION_ID)] = SelectSelector(
                SelectSelectorConfig(
                    options=[SelectOptionDict(value=k, label=v) for k, v in choices.items()]
                )
            )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(vol.Schema(fields), user_input or {}),
            errors=errors,
        )

    def _meter_error(self, entity_id: str) -> str | None:
        """Return why the sensor cannot be tracked (a translation key), None if it can."""
        state = self.hass.states.get(entity_id)
        if state is None:
            return "not_found"
        if state.attributes.get("unit_of_measurement") not in UNIT_FACTORS:
            return "not_energy"
        if state.attributes.get("state_class") not in STATE_CLASSES:
            return "not_a_meter"
        return None


def statistic_id(name: str, taken: set[str]) -> str:
    """Return `nomos_energy:<name>_cost`, numbered when another tracker has it."""
    slug = slugify(name) or "tracker"
    candidate, number = f"{DOMAIN}:{slug}_cost", 1
    while candidate in taken:
        number += 1
        candidate = f"{DOMAIN}:{slug}_{number}_cost"
    return candidate
