"""Actions about energy and contracts: consumption, invoices, statistics, meter readings."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from homeassistant.core import ServiceCall, ServiceResponse
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..const import BACKFILL_DAYS
from ..daily_totals import day_totals, days_figure
from ..energy_data import EnergyData
from ..invoice_check import check_invoice
from ..nomos_client import NomosApiError, NomosForbiddenError
from ..price_schedule import day_start, local_date
from ..usage_statistics import hourly_from_quarters, period_total
from .common import (
    TARGET,
    local_iso,
    money,
    nomos_call,
    positive_number,
    resolve_target,
    service_error,
)

MAX_CONSUMPTION_RANGE = timedelta(days=366)
# kWh: a meter shows at most 8 digits; a larger reading is a typo.
MAX_METER_READING = 99_999_999.0
# Nomos's plausibility errors and the translation keys that explain them.
METER_READING_ERRORS = {
    "implausible_meter_reading": "meter_reading_implausible",
    "duplicate_meter_reading": "meter_reading_duplicate",
    "out_of_period_meter_reading": "meter_reading_out_of_period",
    "unsupported_meter_reading": "meter_reading_unsupported",
}

GET_CONSUMPTION_SCHEMA = vol.Schema(
    {
        **TARGET,
        vol.Required("start"): cv.date,
        vol.Required("end"): cv.date,
        vol.Optional("resolution", default="day"): vol.In(["15min", "hour", "day", "month"]),
    }
)
GET_INVOICES_SCHEMA = vol.Schema(TARGET)
SUBMIT_METER_READING_SCHEMA = vol.Schema(
    {
        **TARGET,
        vol.Required("value"): positive_number("value", MAX_METER_READING),
        vol.Optional("date"): cv.date,
        vol.Optional("message"): vol.All(cv.string, vol.Length(max=500)),
    }
)


def _first_of_month(month: str) -> date:
    return date(int(month[:4]), int(month[5:]), 1)


GET_COST_REPORT_SCHEMA = vol.Schema(
    {
        **TARGET,
        # As its first day, so that the day checks of every action apply to it.
        vol.Exclusive("month", "range"): vol.All(
            vol.Match(r"^[1-9]\d{3}-(0[1-9]|1[0-2])$"), _first_of_month
        ),
        vol.Exclusive("start", "range"): cv.date,
        vol.Optional("end"): cv.date,
    }
)
IMPORT_STATISTICS_SCHEMA = vol.Schema(
    {
        **TARGET,
        vol.Required("start"): cv.date,
        vol.Optional("end"): cv.date,
    }
)


def _check_range(start: date, end: date, longest: timedelta) -> None:
    if end <= start:
        raise service_error("end_before_start")
    if end - start > longest:
        raise service_error("range_too_long", days=str(longest.days))


async def async_get_consumption(call: ServiceCall) -> ServiceResponse:
    """Return metered usage of Berlin days [start, end), with cost where prices are known."""
    entry, subscription = resolve_target(call.hass, call, started=True)
    start: date = call.data["start"]
    end: date = call.data["end"]
    _check_range(start, end, MAX_CONSUMPTION_RANGE)
    resolution = call.data["resolution"]
    client = entry.runtime_data.client
    analog = subscription.is_analog
    periods: list[Any] = []
    if analog:
        usage = await nomos_call(
            entry, call, client.get_usage(subscription.id, start, end, "month")
        )
        for item in usage.items:
            periods.append(
                {"start": local_iso(item.start), "kwh": round(item.usage, 3), "cost": None}
            )
        return {
            "subscription_number": subscription.display_number,
            "resolution": "month",
            "unit": "kWh",
            "periods": periods,
        }
    quarters = await nomos_call(
        entry, call, entry.runtime_data.energy.async_quarters(subscription.id, start, end)
    )
    if resolution in ("15min", "hour"):
        rows = quarters if resolution == "15min" else hourly_from_quarters(quarters)
        periods = [
            {"start": local_iso(row.start), "kwh": round(row.kwh, 4), "cost": money(row.cost_eur)}
            for row in rows
        ]
    else:
        days = day_totals(quarters)
        for first, last in _calendar_periods(start, end, resolution):
            figure = days_figure(days, first, last)
            if figure.kwh is not None:
                periods.append(
                    {
                        "start": local_iso(day_start(first)),
                        "kwh": round(figure.kwh, 4),
                        "cost": money(figure.cost_eur),
                        # EUR/kWh, weighted by consumption; the plain average of the
                        # quarter-hours; and what using power at cheaper times saved.
                        "price_paid": _price(figure.price_paid),
                        "market_average": _price(figure.market_average),
                        "shifting_benefit": money(figure.shifting_benefit),
                    }
                )
    return {
        "subscription_number": subscription.display_number,
        "resolution": resolution,
        "unit": "kWh",
        "currency": "EUR",
        "periods": periods,
    }


def _report_range(call: ServiceCall) -> tuple[date, date]:
    """Return the Berlin days [start, end) of a report: a month, a range, or last month."""
    first: date | None = call.data.get("month")  # the month's first day
    if first is None and (start := call.data.get("start")):
        end: date = call.data.get("end") or local_date(dt_util.utcnow())
        return start, end
    if first is None:
        first = (local_date(dt_util.utcnow()).replace(day=1) - timedelta(days=1)).replace(day=1)
    return first, _next_month(first)


async def async_get_cost_report(call: ServiceCall) -> ServiceResponse:
    """Return a month (or a range) in one object: what it cost and how it compares."""
    entry, subscription = resolve_target(call.hass, call, started=True)
    if subscription.is_analog:
        raise service_error("analog_meter_no_statistics")
    start, end = _report_range(call)
    _check_range(start, end, MAX_CONSUMPTION_RANGE)
    energy = entry.runtime_data.energy
    quarters = await nomos_call(entry, call, energy.async_quarters(subscription.id, start, end))
    days = day_totals(quarters)
    figure = days_figure(days, start, end - timedelta(days=1))
    charged = energy.comparison.apply(figure)
    invoice = next(
        (
            invoice
            for invoice in (energy.data or {}).get(subscription.id, EnergyData()).invoices
            if invoice.type == "usage"
            and local_date(invoice.period_start) == start
            and local_date(invoice.period_end) == end
        ),
        None,
    )
    check = (
        check_invoice(invoice.period_start, invoice.period_end, invoice.usage, days)
        if invoice
        else None
    )
    return {
        "subscription_number": subscription.display_number,
        "start": start.isoformat(),
        "end": (end - timedelta(days=1)).isoformat(),
        "days_imported": figure.days_imported,
        "complete": figure.complete,
        "currency": "EUR",
        "kwh": None if figure.kwh is None else round(figure.kwh, 3),
        "cost": money(figure.cost_eur),
        "fixed_charges": money(charged.fixed_charges_eur),
        "price_paid": _price(figure.price_paid),
        "market_average": _price(figure.market_average),
        "shifting_benefit": money(figure.shifting_benefit),
        "comparison_cost": money(charged.comparison_eur),
        "saved_versus_comparison": money(charged.saved_versus_comparison),
        "invoice": None
        if invoice is None
        else {
            "number": invoice.number,
            "total": invoice.total,
            "usage_kwh": invoice.usage,
            **(check.summary() if check else {}),
        },
    }


def _price(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _next_month(day: date) -> date:
    """Return the first day of the month after `day`'s."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _calendar_periods(start: date, end: date, resolution: str) -> list[tuple[date, date]]:
    """Split Berlin days [start, end) into days or calendar months (first, last day)."""
    periods = []
    day = start
    while day < end:
        following = day + timedelta(days=1) if resolution == "day" else _next_month(day)
        periods.append((day, min(following, end) - timedelta(days=1)))
        day = following
    return periods


async def async_get_invoices(call: ServiceCall) -> ServiceResponse:
    """Return the subscription's invoices, newest first."""
    entry, subscription = resolve_target(call.hass, call, started=True)
    invoices = await nomos_call(
        entry, call, entry.runtime_data.client.list_invoices(subscription.id)
    )
    ordered = sorted(
        invoices, key=lambda invoice: invoice.issued_at or invoice.period_end, reverse=True
    )
    energy = entry.runtime_data.energy
    return {
        "subscription_number": subscription.display_number,
        "currency": "EUR",
        "invoices": [
            {
                "id": invoice.id,
                **invoice.summary(),
                "total": invoice.total,
                "voids": invoice.voids,
                # kWh compared with the meter, while its month is among the imported days.
                "meter_check": check.summary()
                if (check := energy.invoice_check(subscription.id, invoice))
                else None,
            }
            for invoice in ordered
        ],
    }


async def async_import_statistics(call: ServiceCall) -> ServiceResponse:
    """Re-import usage statistics from `start` to the newest data.

    The import always reaches the newest imported day, so the running sums of
    later hours stay consistent with a corrected range.
    """
    entry, subscription = resolve_target(call.hass, call, started=True)
    if subscription.is_analog:
        raise service_error("analog_meter_no_statistics")
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
        raise service_error("nothing_to_import")
    hours = await nomos_call(entry, call, energy.async_import(subscription, begin, until))
    total = period_total(hours, begin, until - timedelta(days=1))
    return {
        "subscription_number": subscription.display_number,
        "start": begin.isoformat(),
        "end": until.isoformat(),
        "hours": len(hours),
        "consumption_kwh": round(total.kwh, 3) if total else 0.0,
        "cost_eur": money(total.cost_eur) if total else None,
    }


async def async_submit_meter_reading(call: ServiceCall) -> ServiceResponse:
    """Submit an analog meter reading (needs personal API credentials that may write)."""
    entry, subscription = resolve_target(call.hass, call)
    if not subscription.is_analog:
        raise service_error("meter_reading_smart_meter")
    if not any(scope.startswith("write") for scope in entry.runtime_data.tokens.scopes):
        raise service_error("meter_reading_not_allowed")
    day: date = call.data.get("date") or local_date(dt_util.utcnow())
    submit = entry.runtime_data.client.submit_meter_reading(
        subscription.id, call.data["value"], day_start(day), call.data.get("message")
    )
    try:
        reading = await nomos_call(entry, call, submit)
    except HomeAssistantError as err:
        cause = err.__cause__
        if isinstance(cause, NomosForbiddenError):
            raise service_error("meter_reading_not_allowed") from cause
        for code in cause.detail_codes if isinstance(cause, NomosApiError) else ():
            if code in METER_READING_ERRORS:
                raise service_error(
                    METER_READING_ERRORS[code], value=str(call.data["value"]), date=day.isoformat()
                ) from cause
        raise
    return {
        "id": reading.id,
        "subscription_number": subscription.display_number,
        "value": reading.value,
        "date": day.isoformat(),
    }
