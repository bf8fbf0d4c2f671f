"""The action `compare_grid_fee_options`: what a §14a module or a smart meter would save.

Only on request, never on a timer: Nomos's quote endpoint prices the contract's
plan at its zip code and the household's annual usage, as it is and with each
option. The answer is kept in the cache for the rest of the Berlin day (asked
again, also after a restart, nothing is requested).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from homeassistant.core import ServiceCall, ServiceResponse
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..annual_usage import YEAR, annual_outlook
from ..companion_state import latest_per_module
from ..coordinator import NomosConfigEntry
from ..nomos_client import Subscription
from ..price_schedule import local_date
from .common import TARGET, nomos_call, resolve_target, service_error

COMPARE_GRID_FEE_OPTIONS_SCHEMA = vol.Schema(TARGET)
# What Nomos quotes for (kWh a year).
USAGE_RANGE = (100.0, 50000.0)

# A quote's parameters: meter type, module 1, module 2.
type Variant = tuple[str, bool, bool]


def annual_usage(
    entry: NomosConfigEntry, subscription: Subscription, today: date
) -> tuple[float, str, int | None]:
    """Return the household's annual kWh, where it comes from, and the metered days.

    The metered days of the last 365 when they span a year; the contract's
    estimate otherwise.
    """
    totals = entry.runtime_data.cache.day_totals.get(subscription.id, {})
    outlook = annual_outlook(totals, today, subscription.estimated_usage)
    if outlook is not None and (outlook.last_day - outlook.first_day).days >= YEAR - 1:
        return outlook.projected_kwh, "metered", outlook.days
    if not subscription.estimated_usage:
        raise service_error("no_usage_to_quote", number=subscription.display_number)
    return subscription.estimated_usage, "estimated_usage", None


async def async_compare_grid_fee_options(call: ServiceCall) -> ServiceResponse:
    """Return the yearly cost as it is, with module 1, module 2, and a smart meter."""
    entry, subscription = resolve_target(call.hass, call)
    cache = entry.runtime_data.cache
    today = local_date(dt_util.utcnow())
    day, cached = cache.quotes.get(subscription.id, (None, None))
    if day == today and cached is not None:
        return cached
    if subscription.is_feed_in or subscription.address is None:
        raise service_error("no_plan_to_quote", number=subscription.display_number)
    usage, source, days = annual_usage(entry, subscription, today)
    usage = min(max(usage, USAGE_RANGE[0]), USAGE_RANGE[1])
    meter = "analog" if subscription.is_analog else "smart"
    active = {
        module
        for module, item in latest_per_module(
            entry.runtime_data.energy.companion.data.reductions_of(subscription.id)
        ).items()
        if item.status == "activated"
    }
    now: Variant = (meter, 1 in active, 2 in active)
    options: dict[str, Variant] = {
        "module_1": (meter, True, False),
        "module_2": (meter, False, True),
    }
    if meter == "analog":
        options["smart_meter"] = ("smart", now[1], now[2])
    yearly: dict[Variant, float] = {}
    for variant in dict.fromkeys([now, *options.values()]):
        quote = await nomos_call(
            entry,
            call,
            entry.runtime_data.client.get_quote(
                subscription.plan_id,
                subscription.address.zip,
                usage,
                meter_type=variant[0],
                module_1=variant[1],
                module_2=variant[2],
            ),
            failure="quote_failed",
        )
        yearly[variant] = round(quote.amount * 12, 2)  # a quote prices one month
    response: dict[str, Any] = {
        "contract": subscription.display_number,
        "annual_usage_kwh": round(usage),
        "usage_source": source,
        "metered_days": days,
        "meter_type": meter,
        "currency": "EUR",
        "active_modules": sorted(active),
        "today": {"yearly_eur": yearly[now]},
        "options": {
            name: {
                "yearly_eur": yearly[variant],
                "difference_eur": round(yearly[variant] - yearly[now], 2),
            }
            for name, variant in options.items()
        },
        "quoted_on": today.isoformat(),
    }
    cache.set_quote(subscription.id, today, response)
    return response
