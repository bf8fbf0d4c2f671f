"""Actions with response data: prices and the cheapest window for automations."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import DOMAIN
from .coordinator import NomosConfigEntry, schedule_from_series
from .nomos_client import NomosAuthError, NomosError
from .price_schedule import (
    CT_PER_EUR,
    PriceInterval,
    PriceSchedule,
    day_start,
    local_date,
    resample_hourly,
)
from .windows import WindowError, find_window

SERVICE_GET_PRICES = "get_prices"
SERVICE_FIND_CHEAPEST_WINDOW = "find_cheapest_window"
ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_DEVICE_ID = "device_id"
MAX_PRICE_RANGE = timedelta(days=93)

_TARGET: dict[vol.Marker, Any] = {
    vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    vol.Optional(ATTR_DEVICE_ID): cv.string,
}
GET_PRICES_SCHEMA = vol.Schema(
    {
        **_TARGET,
        vol.Optional("start"): cv.datetime,
        vol.Optional("end"): cv.datetime,
        vol.Optional("resolution", default="15min"): vol.In(["15min", "hour"]),
        vol.Optional("components", default=False): cv.boolean,
    }
)
FIND_WINDOW_SCHEMA = vol.Schema(
    {
        **_TARGET,
        vol.Required("duration"): cv.positive_time_period,
        vol.Optional("earliest_start"): cv.datetime,
        vol.Optional("latest_end"): cv.datetime,
        vol.Optional("contiguous", default=True): cv.boolean,
        vol.Optional("mode", default="cheapest"): vol.In(["cheapest", "most_expensive"]),
    }
)


def _error(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _aware(moment: datetime | None) -> datetime | None:
    """Read naive times (as the UI sends them) in Home Assistant's time zone."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt_util.get_default_time_zone())
    return dt_util.as_utc(moment)


def _loaded_entries(hass: HomeAssistant) -> list[NomosConfigEntry]:
    return [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]


def resolve_subscription(hass: HomeAssistant, call: ServiceCall) -> tuple[NomosConfigEntry, str]:
    """Return the entry and subscription an action is about.

    A device names one subscription. Without one, the config entry (or the
    only loaded entry) must have exactly one active subscription.
    """
    entries = _loaded_entries(hass)
    if device_id := call.data.get(ATTR_DEVICE_ID):
        device = dr.async_get(hass).async_get(device_id)
        if device is not None:
            for domain, sub_id in device.identifiers:
                for entry in entries:
                    if domain == DOMAIN and entry.entry_id in device.config_entries:
                        return entry, sub_id
        raise _error("unknown_device", device_id=device_id)
    if entry_id := call.data.get(ATTR_CONFIG_ENTRY_ID):
        entries = [entry for entry in entries if entry.entry_id == entry_id]
        if not entries:
            raise _error("entry_not_loaded", config_entry_id=entry_id)
    candidates = [
        (entry, sub_id)
        for entry in entries
        for sub_id in entry.runtime_data.subscriptions.data.active_ids
    ]
    if not candidates:
        raise _error("no_active_subscription")
    if len(candidates) > 1:
        raise _error("choose_subscription", count=str(len(candidates)))
    return candidates[0]


def _interval_json(interval: PriceInterval, components: bool) -> dict[str, Any]:
    price = interval.price_eur
    item: dict[str, Any] = {
        "start": interval.start.isoformat(),
        "end": interval.end.isoformat(),
        "price": None if price is None else round(price, 6),
        "price_ct": None if interval.price_ct is None else round(interval.price_ct, 4),
    }
    if components:
        item["components"] = {
            name: None if value is None else round(value / CT_PER_EUR, 6)
            for name, value in interval.components_ct.items()
        }
    return item


async def _async_get_prices(call: ServiceCall) -> ServiceResponse:
    """Return the prices of a range, from the cache where it covers the range."""
    entry, sub_id = resolve_subscription(call.hass, call)
    runtime = entry.runtime_data
    schedule = runtime.prices.data.get(sub_id) or PriceSchedule()
    now = dt_util.utcnow()
    start = _aware(call.data.get("start")) or day_start(local_date(now))
    end = _aware(call.data.get("end")) or schedule.end or start + timedelta(days=1)
    if end <= start:
        raise _error("end_before_start")
    if end - start > MAX_PRICE_RANGE:
        raise _error("range_too_long", days=str(MAX_PRICE_RANGE.days))
    # Include the interval the start falls into.
    first = schedule.at(start)
    lookup_start = first.start if first else start
    if not schedule.covers(lookup_start, end):
        try:
            series = await runtime.client.get_prices(
                sub_id, local_date(start), local_date(end - timedelta(microseconds=1))
            )
        except NomosAuthError as err:
            entry.async_start_reauth(call.hass)
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        except NomosError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="cannot_fetch_prices",
                translation_placeholders={"error": str(err)},
            ) from err
        schedule = schedule.merge(schedule_from_series(series))
        first = schedule.at(start)
        lookup_start = first.start if first else start
    intervals = schedule.between(lookup_start, end)
    if call.data["resolution"] == "hour":
        intervals = resample_hourly(intervals)
    subscription = runtime.subscriptions.data.subscriptions.get(sub_id)
    return {
        "subscription_id": sub_id,
        "subscription_number": subscription.display_number if subscription else sub_id,
        "unit": "EUR/kWh",
        "resolution": call.data["resolution"],
        "prices": [_interval_json(interval, call.data["components"]) for interval in intervals],
    }


async def _async_find_cheapest_window(call: ServiceCall) -> ServiceResponse:
    """Return the cheapest (or most expensive) window among the known prices."""
    entry, sub_id = resolve_subscription(call.hass, call)
    schedule = entry.runtime_data.prices.data.get(sub_id) or PriceSchedule()
    earliest = _aware(call.data.get("earliest_start")) or dt_util.utcnow()
    latest = _aware(call.data.get("latest_end")) or schedule.end or earliest
    duration: timedelta = call.data["duration"]
    if latest <= earliest:
        raise _error("end_before_start")
    if duration > latest - earliest:
        raise _error("window_longer_than_range")
    candidates = [
        interval for interval in schedule.between(earliest, latest) if interval.end <= latest
    ]
    try:
        window = find_window(
            candidates,
            duration,
            contiguous=call.data["contiguous"],
            most_expensive=call.data["mode"] == "most_expensive",
        )
    except WindowError as err:
        raise _error(
            err.reason,
            needed=str(err.needed),
            available=str(err.available),
            latest_end=latest.isoformat(),
        ) from err
    return {
        "subscription_id": sub_id,
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
        "average_price": round(window.average_ct / CT_PER_EUR, 6),
        "average_price_ct": round(window.average_ct, 4),
        "unit": "EUR/kWh",
        "intervals": [_interval_json(interval, False) for interval in window.intervals],
    }


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (once, from async_setup)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_PRICES,
        _async_get_prices,
        schema=GET_PRICES_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_FIND_CHEAPEST_WINDOW,
        _async_find_cheapest_window,
        schema=FIND_WINDOW_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
