"""Repair issues the coordinators raise and clear from what Nomos answers.

Text from Nomos is made literal here before it reaches a repair's Markdown (contract
numbers, invoice numbers, and the reasons Nomos gives for a blocked or cancelled
smart-meter order).
The repairs platform (fix flows, issues about the entry's devices) is repairs.py.
"""

from __future__ import annotations

from collections.abc import Mapping
import re
import unicodedata

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .companion_state import CompanionState, latest_per_module
from .const import CREDENTIALS_CONTACT, DOMAIN
from .invoice_check import InvoiceCheck
from .nomos_client import Invoice, NomosError

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
    _warn(
        hass,
        issue_id,
        "invoice_mismatch",
        {
            "number": markdown_safe(number),
            "invoice": markdown_safe(invoice.number),
            "invoice_kwh": f"{check.invoice_kwh:.1f}",
            "metered_kwh": f"{check.metered_kwh:.1f}",
            "difference": f"{check.difference_kwh:+.1f}",
            "contact": CREDENTIALS_CONTACT,
        },
    )


@callback
def _warn(hass: HomeAssistant, issue_id: str, key: str, placeholders: dict[str, str]) -> None:
    """Raise a warning the homeowner can act on (raised again after a restart when it holds)."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=key,
        translation_placeholders=placeholders,
    )


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


# The companion's repairs: a rejected §14a module, a blocked or cancelled smart-meter order.
MODULE_REJECTED = "grid_fee_module_rejected"
ORDER_BLOCKED = "smart_meter_order_blocked"
ORDER_CANCELLED = "smart_meter_order_cancelled"
# The metering operators by the name they sign their letters with.
PROVIDERS = {"energy-metering": "Energy Metering", "metrify": "metrify", "inexogy": "inexogy"}


@callback
def async_update_companion_issues(
    hass: HomeAssistant, contracts: Mapping[str, str], state: CompanionState
) -> None:
    """Raise what asks the homeowner to act; clear what no longer does.

    `contracts` maps the entry's subscription ids to their numbers. A module
    counts while its newest reduction is rejected (it may be ordered again); an
    order while the newest one is blocked or cancelled.
    """
    wanted: dict[str, tuple[str, dict[str, str]]] = {}
    for sub_id, number in contracts.items():
        contract = {"number": markdown_safe(number), "contact": CREDENTIALS_CONTACT}
        for module, item in latest_per_module(state.reductions_of(sub_id)).items():
            if item.status == "rejected":
                wanted[f"{MODULE_REJECTED}_{sub_id}_{module}"] = (
                    MODULE_REJECTED,
                    {**contract, "module": str(module)},
                )
        orders = state.orders_of(sub_id)
        if orders and (orders[0].is_blocked or orders[0].status == "cancelled"):
            order = orders[0]
            blocked = order.is_blocked
            reason = order.blocked_reason if blocked else order.cancelled_reason
            wanted[f"{ORDER_BLOCKED if blocked else ORDER_CANCELLED}_{sub_id}"] = (
                ORDER_BLOCKED if blocked else ORDER_CANCELLED,
                {
                    **contract,
                    "provider": markdown_safe(PROVIDERS.get(order.provider, order.provider)),
                    "reason": markdown_safe(reason or "-"),
                },
            )
    for issue_id, (key, placeholders) in wanted.items():
        _warn(hass, issue_id, key, placeholders)
    for domain, issue_id in list(ir.async_get(hass).issues):
        if (
            domain == DOMAIN
            and issue_id not in wanted
            and issue_id.startswith((MODULE_REJECTED, ORDER_BLOCKED, ORDER_CANCELLED))
            and any(sub_id in issue_id for sub_id in contracts)
        ):
            ir.async_delete_issue(hass, DOMAIN, issue_id)
