"""Sensors: contract details, 15-minute prices, consumption, cost and invoices.

Longer than most modules because the entity descriptions are written out one
by one, as Home Assistant core prefers, so each sensor reads in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .appliance_plan import Plan
from .const import (
    CONF_CREATE_CT_SENSORS,
    CONF_LEVEL_THRESHOLDS,
    DEFAULT_LEVEL_THRESHOLDS,
)
from .coordinator import (
    NomosConfigEntry,
    PriceCoordinator,
    SubscriptionCoordinator,
)
from .daily_totals import (
    DayTotal,
    PeriodFigure,
    last_month_figure,
    month_figure,
    with_fixed_charges,
    yesterday_figure,
)
from .energy_coordinator import EnergyCoordinator, EnergyData
from .entity import (
    NomosEntity,
    PlannerEntity,
    add_planner_entities,
    is_active,
    shifts_load,
    track_subscriptions,
)
from .nomos_client import Subscription
from .nomos_client.models import INVOICE_STATUSES, METER_TYPES, SUBSCRIPTION_STATUSES
from .periods import Period, PeriodKind, current_or_next, next_start
from .planners import Planner
from .price_schedule import (
    CT_PER_EUR,
    PriceInterval,
    PriceLevel,
    PriceSchedule,
    day_start,
    local_date,
)

# Read-only entities fed by coordinators: no limit on parallel updates.
PARALLEL_UPDATES = 0

# The Energy dashboard accepts any "<currency>/kWh"; Nomos bills in euros.
EUR_PER_KWH = f"EUR/{UnitOfEnergy.KILO_WATT_HOUR}"
CT_PER_KWH = f"ct/{UnitOfEnergy.KILO_WATT_HOUR}"


@dataclass(frozen=True, kw_only=True)
class NomosContractSensorDescription(SensorEntityDescription):
    """Describes a sensor computed from a subscription's contract data."""

    value_fn: Callable[[Subscription], str | float | datetime | None]


CONTRACT_SENSORS: tuple[NomosContractSensorDescription, ...] = (
    NomosContractSensorDescription(
        key="contract_status",
        translation_key="contract_status",
        device_class=SensorDeviceClass.ENUM,
        options=list(SUBSCRIPTION_STATUSES),
        value_fn=lambda subscription: subscription.status,
    ),
    NomosContractSensorDescription(
        key="supply_start",
        translation_key="supply_start",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda subscription: subscription.start_at,
    ),
    NomosContractSensorDescription(
        key="supply_end",
        translation_key="supply_end",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda subscription: subscription.end_at,
    ),
    NomosContractSensorDescription(
        key="meter_type",
        translation_key="meter_type",
        device_class=SensorDeviceClass.ENUM,
        options=list(METER_TYPES),
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda subscription: subscription.meter.type if subscription.meter else None,
    ),
    NomosContractSensorDescription(
        key="estimated_annual_usage",
        translation_key="estimated_annual_usage",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda subscription: subscription.estimated_usage,
    ),
)

type PriceValue = float | str | datetime | None


@dataclass(frozen=True, kw_only=True)
class NomosPriceSensorDescription(SensorEntityDescription):
    """Describes a sensor computed from the price schedule at a moment."""

    value_fn: Callable[[PriceSchedule, datetime], PriceValue]


def _eur(price_ct: float | None) -> float | None:
    """Nomos sends ct/kWh; the sensors the Energy dashboard may pick show EUR/kWh.

    Rounded to what a price means (a millionth of a euro), so no float noise
    such as 0.31070000000000003 reaches a state.
    """
    return None if price_ct is None else round(price_ct / CT_PER_EUR, 6)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _kwh(value: float | None) -> float | None:
    """Energy to the Wh."""
    return _round(value, 3)


def _money(value: float | None) -> float | None:
    """Money to the cent."""
    return _round(value, 2)


def _current_ct(schedule: PriceSchedule, now: datetime) -> float | None:
    interval = schedule.at(now)
    return interval.price_ct if interval else None


def _next_ct(schedule: PriceSchedule, now: datetime) -> float | None:
    interval = schedule.next_after(now)
    return interval.price_ct if interval else None


def _component_eur(name: str) -> Callable[[PriceSchedule, datetime], float | None]:
    def value(schedule: PriceSchedule, now: datetime) -> float | None:
        interval = schedule.at(now)
        return _eur(interval.components_ct.get(name)) if interval else None

    return value


def _day_stat(day_offset: int, field: str) -> Callable[[PriceSchedule, datetime], PriceValue]:
    """Return a value function for one field of today's (0) or tomorrow's (1) statistics."""

    def value(schedule: PriceSchedule, now: datetime) -> PriceValue:
        stats = schedule.day_stats(local_date(now) + timedelta(days=day_offset))
        if stats is None:
            return None
        found: float | datetime = getattr(stats, field)
        return _eur(found) if isinstance(found, float) else found

    return value


def _ahead(schedule: PriceSchedule, now: datetime, span: timedelta) -> list[PriceInterval]:
    """Return the known-price intervals from the one in progress to `now + span`."""
    current = schedule.at(now)
    start = current.start if current else now
    return [
        interval
        for interval in schedule.between(start, now + span)
        if interval.price_ct is not None
    ]


def _extreme_ahead(
    schedule: PriceSchedule, now: datetime, pick: Callable[..., PriceInterval]
) -> PriceInterval | None:
    """Return the quarter-hour with the lowest (min) or highest (max) price of the next day.

    Only known prices count; ties go to the earliest quarter-hour.
    """
    intervals = _ahead(schedule, now, timedelta(hours=24))
    return pick(intervals, key=lambda interval: interval.price_ct) if intervals else None


def _extreme_price(
    pick: Callable[..., PriceInterval],
) -> Callable[[PriceSchedule, datetime], float | None]:
    def value(schedule: PriceSchedule, now: datetime) -> float | None:
        found = _extreme_ahead(schedule, now, pick)
        return _eur(found.price_ct) if found else None

    return value


def _extreme_start(
    pick: Callable[..., PriceInterval],
) -> Callable[[PriceSchedule, datetime], datetime | None]:
    def value(schedule: PriceSchedule, now: datetime) -> datetime | None:
        found = _extreme_ahead(schedule, now, pick)
        return found.start if found else None

    return value


def _average_ahead(schedule: PriceSchedule, now: datetime, span: timedelta) -> float | None:
    """Return the plain average of the known prices from now over `span`."""
    prices = [
        interval.price_ct
        for interval in _ahead(schedule, now, span)
        if interval.price_ct is not None
    ]
    return sum(prices) / len(prices) if prices else None


# Written on every quarter-hour even when the value repeats (their "last reported" counts).
ALWAYS_REPORTED: Final = {"current_price", "current_price_ct"}

PRICE_SENSORS: tuple[NomosPriceSensorDescription, ...] = (
    NomosPriceSensorDescription(
        key="current_price",
        translation_key="current_price",
        native_unit_of_measurement=EUR_PER_KWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value_fn=lambda schedule, now: _eur(_current_ct(schedule, now)),
    ),
    NomosPriceSensorDescription(
        key="current_price_ct",
        translation_key="current_price_ct",
        native_unit_of_measurement=CT_PER_KWH,
        # For display only. HA's Energy dashboard accepts any price unit ending
        # in "/kWh" and would then compute costs 100 times too high; so the
        # twin starts disabled and has no state class (no long-term statistics).
        suggested_display_precision=2,
        entity_registry_enabled_default=False,
        value_fn=lambda schedule, now: _round(_current_ct(schedule, now), 4),
    ),
    NomosPriceSensorDescription(
        key="next_price",
        translation_key="next_price",
        native_unit_of_measurement=EUR_PER_KWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value_fn=lambda schedule, now: _eur(_next_ct(schedule, now)),
    ),
    NomosPriceSensorDescription(
        key="current_hour_average",
        translation_key="current_hour_average",
        native_unit_of_measurement=EUR_PER_KWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value_fn=lambda schedule, now: _eur(schedule.hour_average(now)),
    ),
    NomosPriceSensorDescription(
        key="today_min",
        translation_key="today_min",
        native_unit_of_measurement=EUR_PER_KWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value_fn=_day_stat(0, "minimum"),
    ),
    NomosPriceSensorDescription(
        key="today_max",
        translation_key="today_max",
        native_unit_of_measurement=EUR_PER_KWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value_fn=_day_stat(0, "maximum"),
    ),
    NomosPriceSensorDescription(
        key="today_average",
        translation_key="today_average",
        native_unit_of_measurement=EUR_PER_KWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value_fn=_day_stat(0, "average"),
    ),
    NomosPriceSensorDescription(
        key="tomorrow_min",
        translation_key="tomorrow_min",
        native_unit_of_measurement=EUR_PER_KWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value_fn=_day_stat(1, "minimum"),
    ),
    NomosPriceSensorDescription(
        key="tomorrow_max",
        translation_key="tomorrow_max",
        native_unit_of_measurement=EUR_PER_KWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value_fn=_day_stat(1, "maximum"),
    ),
    NomosPriceSensorDescription(
        key="tomorrow_average",
        translation_key="tomorrow_average",
        native_unit_of_measurement=EUR_PER_KWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value_fn=_day_stat(1, "average"),
    ),
    NomosPriceSensorDescription(
        key="today_min_time",
        translation_key="today_min_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_day_stat(0, "minimum_at"),
    ),
    NomosPriceSensorDescription(
        key="today_max_time",
        translation_key="today_max_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_day_stat(0, "maximum_at"),
    ),
    NomosPriceSensorDescription(
        key="tomorrow_min_time",
        translation_key="tomorrow_min_time",
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_day_stat(1, "minimum_at"),
    ),
    NomosPriceSensorDescription(
        key="tomorrow_max_time",
        translation_key="tomorrow_max_time",
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_day_stat(1, "maximum_at"),
    ),
    NomosPriceSensorDescription(
        key="lowest_next_24h",
        translation_key="lowest_next_24h",
        native_unit_of_measurement=EUR_PER_KWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value_fn=_extreme_price(min),
    ),
    NomosPriceSensorDescription(
        key="lowest_next_24h_time",
        translation_key="lowest_next_24h_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_extreme_start(min),
    ),
    NomosPriceSensorDescription(
        key="highest_next_24h",
        translation_key="highest_next_24h",
        native_unit_of_measurement=EUR_PER_KWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value_fn=_extreme_price(max),
    ),
    NomosPriceSensorDescription(
        key="highest_next_24h_time",
        translation_key="highest_next_24h_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_extreme_start(max),
    ),
    NomosPriceSensorDescription(
        key="average_next_3h",
        translation_key="average_next_3h",
        native_unit_of_measurement=EUR_PER_KWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value_fn=lambda schedule, now: _eur(_average_ahead(schedule, now, timedelta(hours=3))),
    ),
    NomosPriceSensorDescription(
        key="price_level",
        translation_key="price_level",
        device_class=SensorDeviceClass.ENUM,
        options=[level.value for level in PriceLevel],
        # Replaced per entry by the thresholds from the options (see async_setup_entry).
        value_fn=lambda schedule, now: schedule.level(now),
    ),
    NomosPriceSensorDescription(
        key="current_electricity_price",
        translation_key="current_electricity_price",
        native_unit_of_measurement=EUR_PER_KWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        entity_registry_enabled_default=False,
        value_fn=_component_eur("electricity"),
    ),
    NomosPriceSensorDescription(
        key="current_grid_price",
        translation_key="current_grid_price",
        native_unit_of_measurement=EUR_PER_KWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        entity_registry_enabled_default=False,
        value_fn=_component_eur("grid"),
    ),
    NomosPriceSensorDescription(
        key="current_levies_price",
        translation_key="current_levies_price",
        native_unit_of_measurement=EUR_PER_KWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        entity_registry_enabled_default=False,
        value_fn=_component_eur("levies"),
    ),
)


@dataclass(frozen=True, kw_only=True)
class NomosPeriodTimeDescription(SensorEntityDescription):
    """Describes when the next cheap or expensive period starts or ends."""

    kind: PeriodKind
    value_fn: Callable[[list[Period], datetime], datetime | None]


def _end_of_current_or_next(periods: list[Period], now: datetime) -> datetime | None:
    period = current_or_next(periods, now)
    return period.end if period else None


PERIOD_TIME_SENSORS: tuple[NomosPeriodTimeDescription, ...] = tuple(
    NomosPeriodTimeDescription(
        key=f"next_{kind}_{edge}",
        translation_key=f"next_{kind}_{edge}",
        device_class=SensorDeviceClass.TIMESTAMP,
        kind=kind,
        value_fn=next_start if edge == "start" else _end_of_current_or_next,
    )
    for kind in PeriodKind
    for edge in ("start", "end")
)


@dataclass(frozen=True, kw_only=True)
class PlannerSensorDescription(SensorEntityDescription):
    """Describes a figure of an appliance plan."""

    value_fn: Callable[[Plan], datetime | float | None]
    needs_power: bool = False


PLANNER_SENSORS: tuple[PlannerSensorDescription, ...] = (
    PlannerSensorDescription(
        key="planned_start",
        translation_key="planned_start",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda plan: plan.start,
    ),
    PlannerSensorDescription(
        key="planned_end",
        translation_key="planned_end",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda plan: plan.end,
    ),
    PlannerSensorDescription(
        key="estimated_cost",
        translation_key="estimated_cost",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="EUR",
        suggested_display_precision=2,
        needs_power=True,
        value_fn=lambda plan: _money(plan.cost_eur),
    ),
    PlannerSensorDescription(
        key="saving",
        translation_key="saving",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="EUR",
        suggested_display_precision=2,
        needs_power=True,
        value_fn=lambda plan: _money(plan.saving_eur),
    ),
)


@dataclass(frozen=True, kw_only=True)
class NomosEnergySensorDescription(SensorEntityDescription):
    """Describes a sensor computed from the daily import."""

    value_fn: Callable[[EnergyData], float | str | None]
    attributes_fn: Callable[[EnergyData], dict[str, Any] | None] = lambda data: None
    include: Callable[[Subscription], bool]


def _smart(subscription: Subscription) -> bool:
    return subscription.start_at is not None and (subscription.has_smart_meter)


def _analog(subscription: Subscription) -> bool:
    return subscription.is_analog


def _supplied(subscription: Subscription) -> bool:
    return subscription.start_at is not None


def _invoice_attributes(data: EnergyData) -> dict[str, Any] | None:
    invoice = data.latest_invoice
    if invoice is None:
        return None
    return invoice.summary()


@dataclass(frozen=True, kw_only=True)
class NomosPeriodSensorDescription(SensorEntityDescription):
    """Describes a day or month sensor, read from the day totals against today's date."""

    figure_fn: Callable[[Mapping[date, DayTotal], date], PeriodFigure]
    value_fn: Callable[[PeriodFigure], float | None]
    attributes_fn: Callable[[PeriodFigure], dict[str, Any]]
    # Cost sensors add the fixed charges from the options (pro rata per day).
    adds_fixed_charges: bool = False
    # Only with a comparison tariff in the options.
    needs_comparison: bool = False


def _fixed(figure: PeriodFigure) -> dict[str, Any]:
    if not figure.fixed_charges_eur:
        return {}
    return {"fixed_charges_included": round(figure.fixed_charges_eur, 2)}


def _day_attributes(figure: PeriodFigure) -> dict[str, Any]:
    return {"date": figure.first_day.isoformat(), "complete": figure.complete, **_fixed(figure)}


def _month_attributes(figure: PeriodFigure) -> dict[str, Any]:
    return {
        "month": figure.first_day.strftime("%Y-%m"),
        "first_day": figure.first_day.isoformat(),
        "last_day": figure.last_day.isoformat(),
        "days_imported": figure.days_imported,
        "complete": figure.complete,
        **_fixed(figure),
    }


def _eur_per_kwh(value: float | None) -> float | None:
    return _round(value, 6)


def _insight_sensors(
    period: str, figure_fn: Callable[[Mapping[date, DayTotal], date], PeriodFigure]
) -> tuple[NomosPeriodSensorDescription, ...]:
    """Price paid, market average, shifting benefit and the comparison of one period."""
    attributes = _day_attributes if period == "yesterday" else _month_attributes
    return (
        NomosPeriodSensorDescription(
            key=f"{period}_price_paid",
            translation_key=f"{period}_price_paid",
            state_class=SensorStateClass.MEASUREMENT,
            # The benefit says it in one number; the two averages behind it are extras.
            entity_registry_enabled_default=False,
            native_unit_of_measurement=EUR_PER_KWH,
            suggested_display_precision=4,
            figure_fn=figure_fn,
            value_fn=lambda figure: _eur_per_kwh(figure.price_paid),
            attributes_fn=attributes,
        ),
        NomosPeriodSensorDescription(
            key=f"{period}_market_average",
            translation_key=f"{period}_market_average",
            state_class=SensorStateClass.MEASUREMENT,
            entity_registry_enabled_default=False,
            native_unit_of_measurement=EUR_PER_KWH,
            suggested_display_precision=4,
            figure_fn=figure_fn,
            value_fn=lambda figure: _eur_per_kwh(figure.market_average),
            attributes_fn=attributes,
        ),
        NomosPeriodSensorDescription(
            key=f"{period}_shifting_benefit",
            translation_key=f"{period}_shifting_benefit",
            device_class=SensorDeviceClass.MONETARY,
            state_class=SensorStateClass.TOTAL,
            native_unit_of_measurement="EUR",
            suggested_display_precision=2,
            figure_fn=figure_fn,
            value_fn=lambda figure: _money(figure.shifting_benefit),
            attributes_fn=attributes,
        ),
        NomosPeriodSensorDescription(
            key=f"{period}_saved_versus_comparison",
            translation_key=f"{period}_saved_versus_comparison",
            device_class=SensorDeviceClass.MONETARY,
            state_class=SensorStateClass.TOTAL,
            native_unit_of_measurement="EUR",
            suggested_display_precision=2,
            figure_fn=figure_fn,
            value_fn=lambda figure: _money(figure.saved_versus_comparison),
            attributes_fn=lambda figure: {
                **attributes(figure),
                "comparison_cost": _money(figure.comparison_eur),
            },
            adds_fixed_charges=True,
            needs_comparison=True,
        ),
    )


def _usage_sensors(
    period: str, figure_fn: Callable[[Mapping[date, DayTotal], date], PeriodFigure]
) -> tuple[NomosPeriodSensorDescription, ...]:
    """Consumption and cost of one period (the cost with the fixed charges of the options)."""
    attributes = _day_attributes if period == "yesterday" else _month_attributes
    return (
        # No state class: the Energy dashboard would offer these kWh, recorded a
        # day late, as a consumption source next to the hourly statistic.
        NomosPeriodSensorDescription(
            key=f"{period}_consumption",
            translation_key=f"{period}_consumption",
            device_class=SensorDeviceClass.ENERGY,
            native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
            suggested_display_precision=2,
            figure_fn=figure_fn,
            value_fn=lambda figure: _kwh(figure.kwh),
            attributes_fn=attributes,
        ),
        NomosPeriodSensorDescription(
            key=f"{period}_cost",
            translation_key=f"{period}_cost",
            device_class=SensorDeviceClass.MONETARY,
            state_class=SensorStateClass.TOTAL,
            native_unit_of_measurement="EUR",
            suggested_display_precision=2,
            figure_fn=figure_fn,
            value_fn=lambda figure: _money(figure.cost_eur),
            attributes_fn=attributes,
            adds_fixed_charges=True,
        ),
    )


PERIOD_SENSORS: tuple[NomosPeriodSensorDescription, ...] = (
    *_usage_sensors("yesterday", yesterday_figure),
    *_usage_sensors("month", month_figure),
    *_usage_sensors("last_month", last_month_figure),
    *_insight_sensors("yesterday", yesterday_figure),
    *_insight_sensors("month", month_figure),
    *_insight_sensors("last_month", last_month_figure),
)


ENERGY_SENSORS: tuple[NomosEnergySensorDescription, ...] = (
    NomosEnergySensorDescription(
        key="latest_monthly_consumption",
        translation_key="latest_monthly_consumption",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=0,
        value_fn=lambda data: _kwh(data.latest_month[1]) if data.latest_month else None,
        attributes_fn=lambda data: (
            {"month": data.latest_month[0].strftime("%Y-%m")} if data.latest_month else None
        ),
        include=_analog,
    ),
    NomosEnergySensorDescription(
        key="latest_invoice",
        translation_key="latest_invoice",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="EUR",
        suggested_display_precision=2,
        value_fn=lambda data: data.latest_invoice.total if data.latest_invoice else None,
        attributes_fn=_invoice_attributes,
        include=_supplied,
    ),
    NomosEnergySensorDescription(
        key="invoice_status",
        translation_key="invoice_status",
        device_class=SensorDeviceClass.ENUM,
        options=list(INVOICE_STATUSES),
        value_fn=lambda data: data.latest_invoice.status if data.latest_invoice else None,
        include=_supplied,
    ),
)


# A feed-in contract's price is what Nomos pays: the same sensors under payout
# names, and its level reads from "very low" to "very high" (high is good).
FEED_IN_KEYS: Final = {
    "current_price": "current_payout",
    "current_price_ct": "current_payout_ct",
    "next_price": "next_payout",
    "current_hour_average": "current_hour_average_payout",
    "today_min": "today_min_payout",
    "today_max": "today_max_payout",
    "today_average": "today_average_payout",
    "tomorrow_min": "tomorrow_min_payout",
    "tomorrow_max": "tomorrow_max_payout",
    "tomorrow_average": "tomorrow_average_payout",
    "today_min_time": "today_min_payout_time",
    "today_max_time": "today_max_payout_time",
    "price_level": "payout_level",
    "yesterday_consumption": "yesterday_feed_in",
    "yesterday_cost": "yesterday_payout",
    "month_consumption": "month_feed_in",
    "month_cost": "month_payout",
}
PAYOUT_LEVELS: Final = {
    PriceLevel.VERY_CHEAP: "very_low",
    PriceLevel.CHEAP: "low",
    PriceLevel.NORMAL: "normal",
    PriceLevel.EXPENSIVE: "high",
    PriceLevel.VERY_EXPENSIVE: "very_high",
}
# Feed-in has no grid fees or levies to show, and no load to shift.
_NOT_FOR_FEED_IN: Final = {
    "current_grid_price",
    "current_levies_price",
    "tomorrow_min_time",
    "tomorrow_max_time",
    "lowest_next_24h",
    "lowest_next_24h_time",
    "highest_next_24h",
    "highest_next_24h_time",
    "average_next_3h",
}


def _payout_level(
    level_fn: Callable[[PriceSchedule, datetime], PriceValue],
) -> Callable[[PriceSchedule, datetime], PriceValue]:
    def value(schedule: PriceSchedule, now: datetime) -> PriceValue:
        level = level_fn(schedule, now)
        return None if level is None else PAYOUT_LEVELS[PriceLevel(str(level))]

    return value


def for_subscription[D: SensorEntityDescription](description: D, subscription: Subscription) -> D:
    """Return the description as this subscription shows it (payout names for feed-in)."""
    if not subscription.is_feed_in or description.key not in FEED_IN_KEYS:
        return description
    changes: dict[str, Any] = {"translation_key": FEED_IN_KEYS[description.key]}
    if isinstance(description, NomosPriceSensorDescription) and description.key == "price_level":
        changes["options"] = list(PAYOUT_LEVELS.values())
        changes["value_fn"] = _payout_level(description.value_fn)
    if isinstance(description, NomosPeriodSensorDescription):
        changes["adds_fixed_charges"] = False
    return replace(description, **changes)


def price_sensor_descriptions(entry: NomosConfigEntry) -> list[NomosPriceSensorDescription]:
    """Return the price sensors as the entry's options want them."""
    thresholds = [
        value / 100 for value in entry.options.get(CONF_LEVEL_THRESHOLDS, DEFAULT_LEVEL_THRESHOLDS)
    ]
    create_ct = entry.options.get(CONF_CREATE_CT_SENSORS, True)
    return [
        replace(description, value_fn=lambda schedule, now: schedule.level(now, thresholds))
        if description.key == "price_level"
        else description
        for description in PRICE_SENSORS
        if create_ct or description.key != "current_price_ct"
    ]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NomosConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add contract sensors per subscription and price sensors per active one."""
    runtime = entry.runtime_data
    track_subscriptions(
        entry,
        async_add_entities,
        lambda subscription: (
            NomosContractSensor(runtime.subscriptions, subscription, description)
            for description in CONTRACT_SENSORS
        ),
    )
    price_sensors = price_sensor_descriptions(entry)
    comparing = runtime.energy.comparison.enabled
    if not entry.options.get(CONF_CREATE_CT_SENSORS, True):
        # Turned off in the options: take the ct/kWh twins out of the registry too.
        registry = er.async_get(hass)
        for registered in er.async_entries_for_config_entry(registry, entry.entry_id):
            if registered.unique_id.endswith("-current_price_ct"):
                registry.async_remove(registered.entity_id)
    track_subscriptions(
        entry,
        async_add_entities,
        lambda subscription: (
            NomosPriceSensor(
                runtime.prices, subscription, for_subscription(description, subscription)
            )
            for description in price_sensors
            if not (subscription.is_feed_in and description.key in _NOT_FOR_FEED_IN)
        ),
        is_active,
    )
    track_subscriptions(
        entry,
        async_add_entities,
        lambda subscription: [
            NomosPriceFeedSensor(runtime.prices, subscription),
            *(
                NomosPeriodTimeSensor(runtime.prices, subscription, description)
                for description in PERIOD_TIME_SENSORS
            ),
        ],
        shifts_load,
    )
    track_subscriptions(
        entry,
        async_add_entities,
        lambda subscription: (
            NomosPeriodSensor(
                runtime.energy, subscription, for_subscription(description, subscription)
            )
            for description in PERIOD_SENSORS
            if not (subscription.is_feed_in and description.key not in FEED_IN_KEYS)
            and (not description.needs_comparison or comparing)
        ),
        _smart,
    )
    add_planner_entities(
        entry,
        async_add_entities,
        lambda planner: [
            PlannerSensor(entry, planner, description)
            for description in PLANNER_SENSORS
            if description.needs_power is False or planner.spec.power_kw is not None
        ],
    )
    for description in ENERGY_SENSORS:
        track_subscriptions(
            entry,
            async_add_entities,
            partial(_energy_sensor, runtime.energy, description),
            description.include,
        )


def _energy_sensor(
    coordinator: EnergyCoordinator,
    description: NomosEnergySensorDescription,
    subscription: Subscription,
) -> list[SensorEntity]:
    return [NomosEnergySensor(coordinator, subscription, description)]


class NomosContractSensor(NomosEntity[SubscriptionCoordinator], SensorEntity):
    """A sensor showing one contract detail of a subscription."""

    entity_description: NomosContractSensorDescription

    def __init__(
        self,
        coordinator: SubscriptionCoordinator,
        subscription: Subscription,
        description: NomosContractSensorDescription,
    ) -> None:
        """Create the sensor."""
        super().__init__(coordinator, subscription, description.key)
        self.entity_description = description

    @property
    def available(self) -> bool:
        """Unavailable when updates fail or the subscription disappeared."""
        return super().available and self.subscription_id in self.coordinator.data.subscriptions

    @property
    def native_value(self) -> str | float | datetime | None:
        """Return the contract detail."""
        return self.entity_description.value_fn(
            self.coordinator.data.subscriptions[self.subscription_id]
        )


class NomosPriceSensor(NomosEntity[PriceCoordinator], SensorEntity):
    """A price sensor; its state changes on each quarter-hour from the cache."""

    entity_description: NomosPriceSensorDescription

    def __init__(
        self,
        coordinator: PriceCoordinator,
        subscription: Subscription,
        description: NomosPriceSensorDescription,
    ) -> None:
        """Create the sensor."""
        super().__init__(coordinator, subscription, description.key)
        self.entity_description = description

    @property
    def _schedule(self) -> PriceSchedule:
        return self.coordinator.data.get(self.subscription_id) or PriceSchedule()

    @property
    def native_value(self) -> PriceValue:
        """Return the value for this moment."""
        return self.entity_description.value_fn(self._schedule, dt_util.utcnow())

    def written_state(self) -> tuple[Any, ...] | None:
        """Skip unchanged writes, except for the current price (reported every quarter-hour)."""
        if self.entity_description.key in ALWAYS_REPORTED:
            return None
        return (self.native_value,)


class NomosPeriodTimeSensor(NomosEntity[PriceCoordinator], SensorEntity):
    """When the next period starts (after the running one), or when the current or next ends.

    Timestamps, so a time trigger fires at the moment and survives a restart.
    """

    entity_description: NomosPeriodTimeDescription

    def __init__(
        self,
        coordinator: PriceCoordinator,
        subscription: Subscription,
        description: NomosPeriodTimeDescription,
    ) -> None:
        """Create the sensor."""
        super().__init__(coordinator, subscription, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> datetime | None:
        """Return the moment, unknown when no such period is among the known prices."""
        periods = self.coordinator.periods(self.subscription_id)[self.entity_description.kind]
        return self.entity_description.value_fn(periods, dt_util.utcnow())

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes when a period begins or ends."""
        return (self.native_value,)


class NomosPriceFeedSensor(NomosEntity[PriceCoordinator], SensorEntity):
    """The current price, with today's and tomorrow's in the shape Nord Pool's integration has.

    evcc, EV Smart Charging and chart cards read `raw_today`, `raw_tomorrow`
    and `tomorrow_valid`. The lists stay out of the recorder: with both days
    they are larger than its 16 KiB limit for attributes.
    """

    _attr_translation_key = "price_feed"
    _attr_native_unit_of_measurement = EUR_PER_KWH
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_suggested_display_precision = 4
    _unrecorded_attributes = frozenset({"raw_today", "raw_tomorrow", "today", "tomorrow"})

    def __init__(self, coordinator: PriceCoordinator, subscription: Subscription) -> None:
        """Create the sensor."""
        super().__init__(coordinator, subscription, "price_feed")
        # The lists change when prices arrive or the day turns, not on each tick.
        self._feed: tuple[PriceSchedule, date, dict[str, Any]] | None = None

    @property
    def native_value(self) -> float | None:
        """Return the current price in EUR/kWh."""
        return _eur(_current_ct(self.coordinator.schedule(self.subscription_id), dt_util.utcnow()))

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return today's and tomorrow's prices (Berlin days), local times, EUR/kWh."""
        schedule = self.coordinator.schedule(self.subscription_id)
        today = local_date(dt_util.utcnow())
        if self._feed is not None and self._feed[0] is schedule and self._feed[1] == today:
            return self._feed[2]
        tomorrow = today + timedelta(days=1)
        raw_today = _raw_prices(schedule.day(today))
        raw_tomorrow = _raw_prices(schedule.day(tomorrow))
        attributes = {
            # As Nord Pool's integration says it: prices in EUR per kWh.
            "currency": "EUR",
            "unit": UnitOfEnergy.KILO_WATT_HOUR.value,
            "today": [item["value"] for item in raw_today],
            "tomorrow": [item["value"] for item in raw_tomorrow],
            "raw_today": raw_today,
            "raw_tomorrow": raw_tomorrow,
            "tomorrow_valid": schedule.is_day_complete(tomorrow),
        }
        self._feed = (schedule, today, attributes)
        return attributes


def _raw_prices(intervals: list[PriceInterval]) -> list[dict[str, Any]]:
    return [
        {
            "start": dt_util.as_local(interval.start).isoformat(),
            "end": dt_util.as_local(interval.end).isoformat(),
            "value": _eur(interval.price_ct),
        }
        for interval in intervals
    ]


class PlannerSensor(PlannerEntity, SensorEntity):
    """When the planned run starts and ends, what it costs and what it saves."""

    entity_description: PlannerSensorDescription

    def __init__(
        self, entry: NomosConfigEntry, planner: Planner, description: PlannerSensorDescription
    ) -> None:
        """Create the sensor."""
        super().__init__(entry, planner, description.key)
        self.entity_description = description

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes when the plan does."""
        return (self.native_value,)

    @property
    def native_value(self) -> datetime | float | None:
        """Return the figure of the current plan; unknown while nothing is planned."""
        plan = self.planner.plan
        return None if plan is None else self.entity_description.value_fn(plan)


class NomosEnergySensor(NomosEntity[EnergyCoordinator], SensorEntity):
    """A sensor fed by the daily usage and invoice import."""

    entity_description: NomosEnergySensorDescription

    def __init__(
        self,
        coordinator: EnergyCoordinator,
        subscription: Subscription,
        description: NomosEnergySensorDescription,
    ) -> None:
        """Create the sensor."""
        super().__init__(coordinator, subscription, description.key)
        self.entity_description = description

    @property
    def _data(self) -> EnergyData | None:
        return (self.coordinator.data or {}).get(self.subscription_id)

    @property
    def available(self) -> bool:
        """Available once the first import for this subscription is done."""
        return super().available and self._data is not None

    @property
    def native_value(self) -> float | str | None:
        """Return the value from the last import."""
        data = self._data
        return None if data is None else self.entity_description.value_fn(data)

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes with an import."""
        return (self.native_value, self.extra_state_attributes)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the few details that belong to the value (never lists)."""
        data = self._data
        if data is None:
            return None
        attributes = self.entity_description.attributes_fn(data)
        if self.entity_description.key == "latest_invoice" and attributes is not None:
            # Does the invoice match the meter? (usage invoices whose month is imported)
            check = self.coordinator.invoice_check(self.subscription_id, data.latest_invoice)
            if check is not None:
                attributes = {**attributes, **check.summary()}
        return attributes


class NomosPeriodSensor(NomosEntity[EnergyCoordinator], SensorEntity):
    """Yesterday's or this month's consumption or cost, right at every moment.

    Read from the day totals the import keeps in the cache, against today's
    Berlin date: it moves at midnight and on the 1st, and comes back at once
    after a restart, without asking Nomos.
    """

    entity_description: NomosPeriodSensorDescription

    def __init__(
        self,
        coordinator: EnergyCoordinator,
        subscription: Subscription,
        description: NomosPeriodSensorDescription,
    ) -> None:
        """Create the sensor."""
        super().__init__(coordinator, subscription, description.key)
        self.entity_description = description

    @property
    def _figure(self) -> PeriodFigure:
        totals = self.coordinator.cache.day_totals.get(self.subscription_id, {})
        figure = self.entity_description.figure_fn(totals, local_date(dt_util.utcnow()))
        tariff = self.coordinator.comparison
        if self.entity_description.needs_comparison:
            return tariff.apply(figure)
        if self.entity_description.adds_fixed_charges:
            return with_fixed_charges(figure, tariff.fixed_charges_month)
        return figure

    @property
    def available(self) -> bool:
        """Always: the figures come from the cache, whatever Nomos answers now."""
        return True

    @property
    def native_value(self) -> float | None:
        """Return the figure; unknown while its days are not imported."""
        return self.entity_description.value_fn(self._figure)

    @property
    def last_reset(self) -> datetime | None:
        """Return the start of the period a money figure adds up (Berlin midnight).

        With state class `total`, the long-term statistics then add each day's
        or month's figure once: their sum is the running total since install.
        """
        if self.entity_description.state_class is not SensorStateClass.TOTAL:
            return None
        return day_start(self._figure.first_day)

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes at midnight, on the 1st and with an import."""
        figure = self._figure
        return (
            self.entity_description.value_fn(figure),
            self.entity_description.attributes_fn(figure),
        )

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return which day or month the value covers and whether it is complete."""
        return self.entity_description.attributes_fn(self._figure)
