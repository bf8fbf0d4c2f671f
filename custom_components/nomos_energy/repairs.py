"""Repair issues: raised and cleared by real conditions, one fixable by a flow."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
import unicodedata

from homeassistant.components.repairs import RepairsFlow
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResult
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import voluptuous as vol

from .const import CREDENTIALS_CONTACT, DOMAIN
from .invoice_check import InvoiceCheck
from .nomos_client import Invoice, NomosError

if TYPE_CHECKING:
    from .coordinator import NomosConfigEntry

ISSUE_UPGRADE_API_VERSION = "upgrade_api_version"

# What starts Markdown (or HTML) inside a line: emphasis, code, links and images,
# tags and entities, strikethrough, tables, and the autolinks of `http:` and `www.`.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#!|~&:.])")


def markdown_safe(text: str, limit: int = 80) -> str:
    """Return text from Nomos as literal text for a repair's Markdown: one short line.

    Repairs render their placeholders as Markdown: text from the API must not
    become a link, an image or a heading there. Whitespace (newlines too)
    becomes single spaces, control and format characters go, the rest is cut
    to `limit` characters and every Markdown character is backslash-escaped.
    """
    words = " ".join(text.split())  # before dropping control characters: \n is one
    line = "".join(char for char in words if not unicodedata.category(char).startswith("C"))
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return _MARKDOWN_SPECIAL.sub(r"\\\1", line)


def error_reference(error: NomosError) -> str:
    """Return what support needs of a failed request, never Nomos's free text.

    The HTTP status, Nomos's error code and its request id (the exception's class
    for a failure without an answer: a timeout, a broken connection), as literal
    text for a repair: the message is free text from whoever answered (Nomos, a
    proxy) and is left out.
    """
    parts = [f"HTTP {error.status}"] if error.status is not None else []
    if error.code:
        parts.append(error.code)
    text = " ".join(parts) or type(error).__name__
    if error.request_id:  # in brackets: the repair's text is English or German
        text += f" ({error.request_id})"
    return markdown_safe(text)


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
def async_update_invoice_issue(
    hass: HomeAssistant,
    subscription_id: str,
    number: str,
    invoice: Invoice | None,
    check: InvoiceCheck | None,
) -> None:
    """Raise an issue when the latest usage invoice's kWh differ from the meter's.

    Only the latest invoice counts: an older one was either fine or already
    reported; a new one that matches clears the issue.
    """
    issue_id = f"invoice_mismatch_{subscription_id}"
    if invoice is None or check is None or check.matches:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="invoice_mismatch",
        translation_placeholders={
            "number": markdown_safe(number),
            "invoice": markdown_safe(invoice.number),
            "invoice_kwh": f"{check.invoice_kwh:.1f}",
            "metered_kwh": f"{check.metered_kwh:.1f}",
            "difference": f"{check.difference_kwh:+.1f}",
            "contact": CREDENTIALS_CONTACT,
        },
    )


@callback
def async_remove_notices(hass: HomeAssistant, entry_id: str) -> None:
    """Remove the notices of older releases that asked the user to do nothing.

    "Contract being set up" and "tomorrow's prices are late" are shown by
    entities (contract status, prices for tomorrow available) and the log now.
    """
    for legacy in ("contract_being_set_up", "tomorrow_prices_missing"):
        ir.async_delete_issue(hass, DOMAIN, f"{legacy}_{entry_id}")


@callback
def async_check_api_version(hass: HomeAssistant, error: NomosError | None) -> None:
    """Raise the issue when Nomos says our API version must be upgraded; clear it on success."""
    if error is not None and "upgrade_api_version" in error.detail_codes:
        ir.async_create_issue(
            hass,
            DOMAIN,
            ISSUE_UPGRADE_API_VERSION,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_UPGRADE_API_VERSION,
        )
    elif error is None:
        ir.async_delete_issue(hass, DOMAIN, ISSUE_UPGRADE_API_VERSION)


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
