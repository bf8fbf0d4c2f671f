"""Diagnostics: what support needs, without tokens or personal data."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .coordinator import NomosConfigEntry

TO_REDACT = {
    "access_token",
    "refresh_token",
    "id_token",
    "client_id",
    "client_secret",
    "code_verifier",
    "first_name",
    "last_name",
    "company_name",
    "email",
    "street",
    "house_number",
    "zip",
    "city",
    "iban",
    "account_holder",
    "melo",
    "malo",
    "meter_number",
    "meter_id",
    "address",
    "title",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: NomosConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    coordinator = entry.runtime_data.subscriptions
    prices = entry.runtime_data.prices
    subscriptions = []
    for subscription in coordinator.data.subscriptions.values():
        data = asdict(subscription)
        if data.get("meter"):
            # The meter number identifies a household's meter: redact it by name.
            data["meter"]["meter_number"] = data["meter"].pop("number")
            data["meter"]["meter_id"] = data["meter"].pop("id")
        subscriptions.append(data)
    return {
        "entry": async_redact_data(
            {
                "title": entry.title,
                "unique_id": entry.unique_id,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            TO_REDACT,
        ),
        "subscriptions": async_redact_data(subscriptions, TO_REDACT),
        "coordinator": {
            "last_update_success": coordinator.last_update_success,
            "last_exception": repr(coordinator.last_exception)
            if coordinator.last_exception
            else None,
            "update_interval": str(coordinator.update_interval),
        },
        "prices": {
            "last_update_success": prices.last_update_success,
            "next_check_in": str(prices.update_interval),
            "publication_offset": str(prices.publication_offset),
            "failures": prices.outage.failures,
            "published": {sub_id: day.isoformat() for sub_id, day in prices.published.items()},
            "schedules": {
                sub_id: {
                    "intervals": len(schedule),
                    "unknown": sum(1 for i in schedule.intervals if i.price_ct is None),
                    "first": schedule.intervals[0].start.isoformat() if len(schedule) else None,
                    "end": schedule.end.isoformat() if schedule.end else None,
                }
                for sub_id, schedule in prices.data.items()
            },
        },
    }
