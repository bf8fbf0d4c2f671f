"""Actions with response data: prices and the cheapest window for automations."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, datetime, timedelta
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

from .const import BACKFILL_DAYS, DOMAIN
from .coordinator import NomosConfigEntry, schedule_from_series
from .nomos_client import (
    NomosApiError,
    NomosAuthError,
    NomosError,
    NomosForbiddenError,
    Subscription,
)
from .price_schedule import (
    CT_PER_EUR,
    PriceInterval,
    PriceSchedule,
    day_start,
    local_date,
    resample_hourly,
)
from .usage_statistics import HourlyUsage, hourly_usage, period_total
from .windows import WindowError, find_window

SERVICE_GET_PRICES = "get_prices"
SERVICE_FIND_CHEAPEST_WINDOW = "find_cheapest_window"
SERVICE_GET_CONSUMPTION = "get_consumption"
SERVICE_GET_INVOICES = "get_invoices"
SERVICE_IMPORT_STATISTICS = "import_statistics"
SERVICE_SUBMIT_METER_READING = "submit_meter_reading"
# Nomos's plausibility errors and the translation keys that explain them.
METER_READING_ERRORS = {
    "implausible_meter_reading": "meter_reading_implausible",
    "duplicate_meter_reading": "meter_reading_duplicate",
    "out_of_period_meter_reading": "meter_reading_out_of_period",
    "unsupported_meter_reading": "meter_reading_unsupported",
}
MAX_CONSUMPTION_RANGE = timedelta(days=366)
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


GET_CONSUMPTION_SCHEMA = vol.Schema(
    {
        **_TARGET,
        vol.Required("start"): cv.date,
        vol.Required("end"): cv.date,
        vol.Optional("resolution", default="day"): vol.In(["15min", "hour", "day", "month"]),
    }
)
GET_INVOICES_SCHEMA = vol.Schema(_TARGET)
SUBMIT_METER_READING_SCHEMA = vol.Schema(
    {
        **_TARGET,
        vol.Required("value"): vol.All(vol.Coerce(float), vol.Range(min=0, min_included=False)),
        vol.Optional("date"): cv.date,
        vol.Optional("message"): vol.All(cv.string, vol.Length(max=500)),
    }
)
IMPORT_STATISTICS_SCHEMA = vol.Schema(
    {
        **_TARGET,
        vol.Required("start"): cv.date,
        vol.Optional("end"): cv.date,
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
        series = await _nomos_call(
            entry,
            call,
            runtime.client.get_prices(
                sub_id, local_date(start), local_date(end - timedelta(microseconds=1))
            ),
        )
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


def resolve_any_subscription(
    hass: HomeAssistant, call: ServiceCall
) -> tuple[NomosConfigEntry, Subscription]:
    """Like resolve_subscription, but ended subscriptions count too (history, invoices)."""
    if call.data.get(ATTR_DEVICE_ID):
        entry, sub_id = resolve_subscription(hass, call)
        return entry, entry.runtime_data.subscriptions.data.subscriptions[sub_id]
    entries = _loaded_entries(hass)
    if entry_id := call.data.get(ATTR_CONFIG_ENTRY_ID):
        entries = [entry for entry in entries if entry.entry_id == entry_id]
        if not entries:
            raise _error("entry_not_loaded", config_entry_id=entry_id)
    candidates = [
        (entry, subscription)
        for entry in entries
        for subscription in entry.runtime_data.subscriptions.data.subscriptions.values()
        if subscription.start_at is not None
    ]
    if not candidates:
        raise _error("no_active_subscription")
    if len(candidates) > 1:
        raise _error("choose_subscription", count=str(len(candidates)))
    return candidates[0]


async def _nomos_call[T](entry: NomosConfigEntry, call: ServiceCall, request: Awaitable[T]) -> T:
    """Await a request to Nomos; turn its failure into a translated error."""
    try:
        return await request
    except NomosAuthError as err:
        entry.async_start_reauth(call.hass)
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="auth_failed") from err
    except NomosError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="cannot_reach_nomos",
            translation_placeholders={"error": str(err)},
        ) from err


def _check_range(start: date, end: date, longest: timedelta) -> None:
    if end <= start:
        raise _error("end_before_start")
    if end - start > longest:
        raise _error("range_too_long", days=str(longest.days))


async def _async_get_consumption(call: ServiceCall) -> ServiceResponse:
    """Return metered usage of Berlin days [start, end), with cost where prices are known."""
    entry, subscription = resolve_any_subscription(call.hass, call)
    start: date = call.data["start"]
    end: date = call.data["end"]
    _check_range(start, end, MAX_CONSUMPTION_RANGE)
    resolution = call.data["resolution"]
    client = entry.runtime_data.client
    analog = subscription.meter is not None and subscription.meter.type == "analog"
    periods: list[Any] = []
    if analog:
        usage = await _nomos_call(
            entry, call, client.get_usage(subscription.id, start, end, "month")
        )
        for item in usage.items:
            periods.append(
                {"start": item.start.isoformat(), "kwh": round(item.usage, 3), "cost": None}
            )
        return {
            "subscription_number": subscription.display_number,
            "resolution": "month",
            "unit": "kWh",
            "periods": periods,
        }
    energy = entry.runtime_data.energy
    hours: list[HourlyUsage] = []
    quarters: list[tuple[datetime, float, float | None]] = []
    chunk = start
    while chunk < end:
        chunk_end = min(chunk + timedelta(days=31), end)
        usage = await _nomos_call(
            entry, call, client.get_usage(subscription.id, chunk, chunk_end, "15min")
        )
        prices = await _nomos_call(
            entry, call, energy.async_prices(subscription.id, chunk, chunk_end)
        )
        hours.extend(hourly_usage(usage.items, prices))
        for item in usage.items:
            interval = prices.at(item.start)
            price = None if interval is None or interval.price_ct is None else interval.price_ct
            quarters.append(
                (item.start, item.usage, None if price is None else item.usage * price / CT_PER_EUR)
            )
        chunk = chunk_end
    if resolution == "15min":
        periods = [
            {"start": moment.isoformat(), "kwh": round(kwh, 4), "cost": _money(cost)}
            for moment, kwh, cost in quarters
        ]
    elif resolution == "hour":
        periods = [
            {
                "start": hour.start.isoformat(),
                "kwh": round(hour.kwh, 4),
                "cost": _money(hour.cost_eur),
            }
            for hour in hours
        ]
    else:
        for first, last in _calendar_periods(start, end, resolution):
            total = period_total(hours, first, last)
            if total is not None:
                periods.append(
                    {
                        "start": day_start(first).isoformat(),
                        "kwh": round(total.kwh, 4),
                        "cost": _money(total.cost_eur),
                    }
                )
    return {
        "subscription_number": subscription.display_number,
        "resolution": resolution,
        "unit": "kWh",
        "currency": "EUR",
        "periods": periods,
    }


def _money(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _calendar_periods(start: date, end: date, resolution: str) -> list[tuple[date, date]]:
    """Split Berlin days [start, end) into days or calendar months (first, last day)."""
    periods = []
    day = start
    while day < end:
        if resolution == "day":
            following = day + timedelta(days=1)
        else:
            following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        periods.append((day, min(following, end) - timedelta(days=1)))
        day = following
    return periods


async def _async_get_invoices(call: ServiceCall) -> ServiceResponse:
    """Return the subscription's invoices, newest first."""
    entry, subscription = resolve_any_subscription(call.hass, call)
    invoices = await _nomos_call(
        entry, call, entry.runtime_data.client.list_invoices(subscription.id)
    )
    ordered = sorted(
        invoices, key=lambda invoice: invoice.issued_at or invoice.period_end, reverse=True
    )
    return {
        "subscription_number": subscription.display_number,
        "currency": "EUR",
        "invoices": [
            {
                "id": invoice.id,
                "number": invoice.number,
                "type": invoice.type,
                "status": invoice.status,
                "total": invoice.total,
                "usage_kwh": invoice.usage,
                "period_start": invoice.period_start.isoformat(),
                "period_end": invoice.period_end.isoformat(),
                "issued_at": invoice.issued_at.isoformat() if invoice.issued_at else None,
                "paid_at": invoice.paid_at.isoformat() if invoice.paid_at else None,
                "voids": invoice.voids,
            }
            for invoice in ordered
        ],
    }


async def _async_import_statistics(call: ServiceCall) -> ServiceResponse:
    """Re-import usage statistics from `start` to the newest data.

    The import always reaches the newest imported day, so the running sums of
    later hours stay consistent with a corrected range.
    """
    entry, subscription = resolve_any_subscription(call.hass, call)
    if subscription.meter is not None and subscription.meter.type == "analog":
        raise _error("analog_meter_no_statistics")
    today = local_date(dt_util.utcnow())
    start: date = call.data["start"]
    end: date = call.data.get("end") or today
    _check_range(start, end, timedelta(days=BACKFILL_DAYS + 1))
    energy = entry.runtime_data.energy
    first = energy.first_import_day(subscription, today)
    imported = entry.runtime_data.cache.imported_until.get(subscription.id)
    until = min(max(end, imported or end), today)
    begin = max(start, first)
    if until <= begin:
        raise _error("nothing_to_import")
    hours = await _nomos_call(entry, call, energy.async_import(subscription, begin, until))
    total = period_total(hours, begin, until - timedelta(days=1))
    return {
        "subscription_number": subscription.display_number,
        "start": begin.isoformat(),
        "end": until.isoformat(),
        "hours": len(hours),
        "consumption_kwh": round(total.kwh, 3) if total else 0.0,
        "cost_eur": _money(total.cost_eur) if total else None,
    }


async def _async_submit_meter_reading(call: ServiceCall) -> ServiceResponse:
    """Submit an analog meter reading (needs personal API credentials that may write)."""
    entry, sub_id = resolve_subscription(call.hass, call)
    subscription = entry.runtime_data.subscriptions.data.subscriptions[sub_id]
    if subscription.meter is None or subscription.meter.type != "analog":
        raise _error("meter_reading_smart_meter")
    if not any(scope.startswith("write") for scope in entry.runtime_data.tokens.scopes):
        raise _error("meter_reading_not_allowed")
    day: date = call.data.get("date") or local_date(dt_util.utcnow())
    submit = entry.runtime_data.client.submit_meter_reading(
        sub_id, call.data["value"], day_start(day), call.data.get("message")
    )
    try:
        reading = await _nomos_call(entry, call, submit)
    except HomeAssistantError as err:
        cause = err.__cause__
        if isinstance(cause, NomosForbiddenError):
            raise _error("meter_reading_not_allowed") from cause
        for code in cause.detail_codes if isinstance(cause, NomosApiError) else ():
            if code in METER_READING_ERRORS:
                raise _error(
                    METER_READING_ERRORS[code], value=str(call.data["value"]), date=day.isoformat()
                ) from cause
        raise
    return {
        "id": reading.id,
        "subscription_number": subscription.display_number,
        "value": reading.value,
        "date": day.isoformat(),
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
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_CONSUMPTION,
        _async_get_consumption,
        schema=GET_CONSUMPTION_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_INVOICES,
        _async_get_invoices,
        schema=GET_INVOICES_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_SUBMIT_METER_READING,
        _async_submit_meter_reading,
        schema=SUBMIT_METER_READING_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_IMPORT_STATISTICS,
        _async_import_statistics,
        schema=IMPORT_STATISTICS_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
