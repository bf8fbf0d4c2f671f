"""Actions about prices: get_prices and find_cheapest_window (from the cache)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from homeassistant.core import ServiceCall, ServiceResponse
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..price_schedule import (
    CT_PER_EUR,
    PriceInterval,
    PriceSchedule,
    day_start,
    intervals_from_series,
    local_date,
    resample_hourly,
)
from ..windows import WindowError, find_window
from .common import (
    TARGET,
    aware,
    local_iso,
    nomos_call,
    positive_number,
    resolve_target,
    service_error,
)

MAX_PRICE_RANGE = timedelta(days=93)
# An interval that began this little before the window may start still counts.
CURRENT_INTERVAL_GRACE = timedelta(minutes=1)
# kW: more than any home's connection; a larger power is a typo.
MAX_POWER = 1000.0

GET_PRICES_SCHEMA = vol.Schema(
    {
        **TARGET,
        vol.Optional("start"): cv.datetime,
        vol.Optional("end"): cv.datetime,
        vol.Optional("resolution", default="15min"): vol.In(["15min", "hour"]),
        vol.Optional("components", default=False): cv.boolean,
    }
)
FIND_WINDOW_SCHEMA = vol.Schema(
    {
        **TARGET,
        vol.Required("duration"): cv.positive_time_period,
        vol.Optional("earliest_start"): cv.datetime,
        vol.Optional("latest_end"): cv.datetime,
        vol.Optional("contiguous", default=True): cv.boolean,
        vol.Optional("mode", default="cheapest"): vol.In(["cheapest", "most_expensive"]),
        vol.Optional("include_current", default=False): cv.boolean,
        vol.Optional("power"): positive_number("power", MAX_POWER),
    }
)


def _interval_json(interval: PriceInterval, components: bool) -> dict[str, Any]:
    price = interval.price_eur
    item: dict[str, Any] = {
        "start": local_iso(interval.start),
        "end": local_iso(interval.end),
        "price": None if price is None else round(price, 6),
        "price_ct": None if interval.price_ct is None else round(interval.price_ct, 4),
    }
    if components:
        item["components"] = {
            name: None if value is None else round(value / CT_PER_EUR, 6)
            for name, value in interval.components_ct.items()
        }
    return item


async def async_get_prices(call: ServiceCall) -> ServiceResponse:
    """Return the prices of a range, from the cache where it covers the range."""
    entry, subscription = resolve_target(call.hass, call)
    sub_id = subscription.id
    runtime = entry.runtime_data
    schedule = runtime.prices.data.get(sub_id) or PriceSchedule()
    now = dt_util.utcnow()
    start = aware(call.data.get("start")) or day_start(local_date(now))
    end = aware(call.data.get("end")) or schedule.end or start + timedelta(days=1)
    if end <= start:
        raise service_error("end_before_start")
    if end - start > MAX_PRICE_RANGE:
        raise service_error("range_too_long", days=str(MAX_PRICE_RANGE.days))
    # Include the interval the start falls into.
    first = schedule.at(start)
    lookup_start = first.start if first else start
    if not schedule.covers(lookup_start, end):
        series = await nomos_call(
            entry,
            call,
            runtime.client.get_prices(
                sub_id, local_date(start), local_date(end - timedelta(microseconds=1))
            ),
        )
        schedule = schedule.merge(intervals_from_series(series))
        first = schedule.at(start)
        lookup_start = first.start if first else start
    intervals = schedule.between(lookup_start, end)
    if call.data["resolution"] == "hour":
        intervals = resample_hourly(intervals)
    return {
        "subscription_id": sub_id,
        "subscription_number": subscription.display_number,
        "unit": "EUR/kWh",
        "resolution": call.data["resolution"],
        "prices": [_interval_json(interval, call.data["components"]) for interval in intervals],
    }


async def async_find_cheapest_window(call: ServiceCall) -> ServiceResponse:
    """Return the cheapest (or most expensive) window among the known prices.

    A window that the known prices cannot hold is an answer (`found: false`,
    with the reason and the range of known prices), not a failure: only
    invalid input fails the automation.
    """
    entry, subscription = resolve_target(call.hass, call)
    schedule = entry.runtime_data.prices.data.get(subscription.id) or PriceSchedule()
    earliest = aware(call.data.get("earliest_start")) or dt_util.utcnow()
    latest = aware(call.data.get("latest_end")) or schedule.end or earliest
    duration: timedelta = call.data["duration"]
    if latest <= earliest:
        raise service_error("end_before_start")
    if duration > latest - earliest:
        raise service_error("window_longer_than_range")
    # A time trigger at 22:00:00 runs a moment after 22:00: the quarter-hour
    # that began less than a minute ago still counts (or any, when asked).
    current = schedule.at(earliest)
    if current is not None and (
        call.data["include_current"] or earliest - current.start < CURRENT_INTERVAL_GRACE
    ):
        earliest = current.start
    candidates = [
        interval for interval in schedule.between(earliest, latest) if interval.end <= latest
    ]
    response: dict[str, Any] = {"subscription_id": subscription.id, "unit": "EUR/kWh"}
    try:
        window = find_window(
            candidates,
            duration,
            contiguous=call.data["contiguous"],
            most_expensive=call.data["mode"] == "most_expensive",
        )
    except WindowError as err:
        known = [interval for interval in candidates if interval.price_ct is not None]
        return {
            **response,
            "found": False,
            "reason": err.reason,
            "intervals_needed": err.needed,
            "intervals_usable": err.available,
            "known_start": local_iso(known[0].start) if known else None,
            "known_end": local_iso(known[-1].end) if known else None,
        }
    response |= {
        "found": True,
        "start": local_iso(window.start),
        "end": local_iso(window.end),
        "segments": [
            {"start": local_iso(start), "end": local_iso(end)} for start, end in window.segments
        ],
        "average_price": round(window.average_ct / CT_PER_EUR, 6),
        "average_price_ct": round(window.average_ct, 4),
        "intervals": [_interval_json(interval, False) for interval in window.intervals],
    }
    if (power := call.data.get("power")) is not None:
        response |= _run_estimate(power, window.intervals, candidates)
    return response


def _run_estimate(
    power_kw: float, chosen: Sequence[PriceInterval], candidates: Sequence[PriceInterval]
) -> dict[str, Any]:
    """Energy and cost of running at `power_kw` in the chosen intervals, against the average."""
    hours = sum((interval.end - interval.start).total_seconds() for interval in chosen) / 3600
    energy = power_kw * hours
    cost = (
        sum(
            power_kw * (interval.end - interval.start).total_seconds() / 3600 * interval.price_ct
            for interval in chosen
            if interval.price_ct is not None
        )
        / CT_PER_EUR
    )
    known = [interval.price_ct for interval in candidates if interval.price_ct is not None]
    average_eur = sum(known) / len(known) / CT_PER_EUR
    return {
        "energy_kwh": round(energy, 3),
        "cost": round(cost, 2),
        "cost_at_average_price": round(energy * average_eur, 2),
        "saving": round(energy * average_eur - cost, 2),
        "currency": "EUR",
    }
