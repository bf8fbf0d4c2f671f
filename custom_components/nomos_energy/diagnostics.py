"""Diagnostics: what support needs, without tokens or personal data.

People attach diagnostics to public issues. They keep what explains how the
integration behaves: each contract's status, type, tariff and supply dates, the
meter type, the token's scope and expiry, the options, and the state and counts
of the coordinators and caches. They leave out whatever identifies the customer,
the household or the contract: names, e-mail, address, meter and market location
ids, customer and subscription ids, and contract numbers (they are on every
invoice and letter). Subscriptions are numbered instead, in the same order
everywhere, so the sections still refer to each other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .coordinator import NomosConfigEntry
from .nomos_client import NomosError, Subscription

TO_REDACT = {
    # Secrets.
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code_verifier",
    # The client id of personal credentials belongs to one customer, and application
    # credentials added in the UI are named after theirs: `nomos_energy_<client id>`.
    "client_id",
    "auth_implementation",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: NomosConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    coordinator = entry.runtime_data.subscriptions
    prices = entry.runtime_data.prices
    known = coordinator.data.subscriptions
    # Numbered in Nomos's order, then any that only the price cache still knows.
    cached = (set(prices.data) | set(prices.published)) - set(known)
    aliases = {
        sub_id: f"subscription_{number}"
        for number, sub_id in enumerate([*known, *sorted(cached)], start=1)
    }
    return {
        "entry": {
            "title": "**REDACTED**",  # the customer's name
            "unique_id": "**REDACTED**",  # the customer's id at Nomos
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
            "planners": len(entry.runtime_data.planners.planners),
            # How each cost tracker follows its sensor; no names or entity ids.
            "cost_trackers": [
                {
                    "backfill": tracker.backfill,
                    "state_class": tracker.meter.state_class,
                    "quarters": len(tracker.quarters),
                    "written_until": tracker.written_until,
                }
                for tracker in entry.runtime_data.trackers.trackers.values()
            ],
        },
        "subscriptions": [
            _subscription(aliases[sub_id], subscription) for sub_id, subscription in known.items()
        ],
        "coordinator": {
            "last_update_success": coordinator.last_update_success,
            "last_exception": _failure(coordinator.last_exception),
            "update_interval": str(coordinator.update_interval),
        },
        "prices": {
            "last_update_success": prices.last_update_success,
            "last_exception": _failure(prices.last_exception),
            "next_check_in": str(prices.update_interval),
            "publication_offset": str(prices.publication_offset),
            "failures": prices.outage.failures,
            "published": {
                aliases[sub_id]: day.isoformat() for sub_id, day in prices.published.items()
            },
            "schedules": {
                aliases[sub_id]: {
                    "intervals": len(schedule),
                    "unknown": sum(1 for i in schedule.intervals if i.price_ct is None),
                    "first": schedule.intervals[0].start.isoformat() if len(schedule) else None,
                    "end": schedule.end.isoformat() if schedule.end else None,
                }
                for sub_id, schedule in prices.data.items()
            },
        },
        # §14a modules and smart-meter orders: `refused` is the HTTP status of an
        # endpoint this sign-in may not read (the feature is off for the entry).
        "companion": entry.runtime_data.energy.companion.diagnostics(),
    }


def _subscription(alias: str, subscription: Subscription) -> dict[str, Any]:
    """Return what explains a contract's entities, and nothing that identifies it."""
    return {
        "subscription": alias,
        "status": subscription.status,
        "type": subscription.type,  # consumption or feed-in
        # The tariff: one plan serves many customers.
        "plan_id": subscription.plan_id,
        # Not an identifier; explains the estimates before the first invoice.
        "estimated_usage": subscription.estimated_usage,
        "start_at": _iso(subscription.start_at),
        "end_at": _iso(subscription.end_at),
        "terminated_at": _iso(subscription.terminated_at),
        "updated_at": _iso(subscription.updated_at),
        "meter_type": subscription.meter.type if subscription.meter else None,
        # Person or company: which fields Nomos sends.
        "customer_type": subscription.customer.type if subscription.customer else None,
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _failure(error: BaseException | None) -> dict[str, Any] | None:
    """Return the kind of the last failure and Nomos's request id, not its text.

    The text names the request, and with it subscription ids.
    """
    if error is None:
        return None
    cause = error.__cause__ if isinstance(error.__cause__, NomosError) else error
    return {
        "type": type(cause).__name__,
        "status": getattr(cause, "status", None),
        "code": getattr(cause, "code", None),
        "request_id": getattr(cause, "request_id", None),
    }
