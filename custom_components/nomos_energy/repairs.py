"""The repairs platform: issues about the entry's devices, and the flow that fixes one.

Issues raised from what Nomos answers (API version, invoice mismatch) are in issues.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.repairs import RepairsFlow
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResult
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import voluptuous as vol

from .const import DOMAIN
from .issues import markdown_safe

if TYPE_CHECKING:
    from .coordinator import NomosConfigEntry


def _ended_issue(subscription_id: str) -> str:
    return f"subscription_ended_{subscription_id}"


def device_for(hass: HomeAssistant, entry_id: str, subscription_id: str) -> dr.DeviceEntry | None:
    """Return the device of a subscription in this entry."""
    for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry_id):
        if (DOMAIN, subscription_id) in device.identifiers:
            return device
    return None


@callback
def async_update_subscription_issues(hass: HomeAssistant, entry: NomosConfigEntry) -> None:
    """Raise or clear the issues that depend on the subscriptions."""
    runtime = entry.runtime_data
    subscriptions = runtime.subscriptions.data.subscriptions
    for sub_id, subscription in subscriptions.items():
        issue_id = _ended_issue(sub_id)
        if subscription.is_ended and device_for(hass, entry.entry_id, sub_id):
            ir.async_create_issue(
                hass,
                DOMAIN,
                issue_id,
                is_fixable=True,
                is_persistent=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="subscription_ended",
                translation_placeholders={"number": markdown_safe(subscription.display_number)},
                data={"entry_id": entry.entry_id, "subscription_id": sub_id},
            )
        else:
            ir.async_delete_issue(hass, DOMAIN, issue_id)


@callback
def async_remove_notices(hass: HomeAssistant, entry_id: str) -> None:
    """Remove the notices of older releases that asked the user to do nothing.

    "Contract being set up" and "tomorrow's prices are late" are shown by
    entities (contract status, prices for tomorrow available) and the log now.
    """
    for legacy in ("contract_being_set_up", "tomorrow_prices_missing"):
        ir.async_delete_issue(hass, DOMAIN, f"{legacy}_{entry_id}")


class RemoveEndedSubscriptionFlow(RepairsFlow):
    """Remove the device of a subscription that has ended."""

    def __init__(self, entry_id: str, subscription_id: str) -> None:
        """Remember which device."""
        self._entry_id = entry_id
        self._subscription_id = subscription_id

    async def async_step_init(self, user_input: dict[str, str] | None = None) -> FlowResult:
        """Start with the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, str] | None = None) -> FlowResult:
        """Ask, then remove the device; its statistics stay."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if user_input is not None:
            device = device_for(self.hass, self._entry_id, self._subscription_id)
            if entry is not None and device is not None:
                entry.runtime_data.cache.hide(self._subscription_id)
                dr.async_get(self.hass).async_update_device(
                    device.id, remove_config_entry_id=self._entry_id
                )
            ir.async_delete_issue(self.hass, DOMAIN, _ended_issue(self._subscription_id))
            return self.async_create_entry(data={})
        number = self._subscription_id
        if entry is not None and (
            subscription := entry.runtime_data.subscriptions.data.subscriptions.get(
                self._subscription_id
            )
        ):
            number = subscription.display_number
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({}),
            description_placeholders={"number": markdown_safe(number)},
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """Create the flow that fixes an issue."""
    assert data is not None
    return RemoveEndedSubscriptionFlow(str(data["entry_id"]), str(data["subscription_id"]))
