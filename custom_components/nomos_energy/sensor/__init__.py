"""Sensors: prices, periods, consumption and cost, the contract, appliance plans, cost trackers.

A homeowner sees a few of them by default (the price now, its level, the
day's range, the next cheap period, the latest day's and the month's usage
and cost, the invoice, the month's expected invoice); the rest start
disabled, one click away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any, Final

from homeassistant.components.sensor import SensorEntity, SensorEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..const import CONF_LEVEL_THRESHOLDS, DEFAULT_LEVEL_THRESHOLDS
from ..coordinator import NomosConfigEntry
from ..energy_coordinator import EnergyCoordinator
from ..entity import add_planner_entities, is_active, shifts_load, track_subscriptions
from ..nomos_client import Subscription
from ..price_schedule import PriceLevel, PriceSchedule
from .common import DisplayUnit
from .companion import add_companion_sensors
from .contract import (
    CONTRACT_SENSORS,
    ENERGY_SENSORS,
    NomosContractSensor,
    NomosEnergySensor,
    NomosEnergySensorDescription,
)
from .feed import NomosPriceFeedSensor
from .grid_fee import add_grid_fee_sensors
from .invoice import ExpectedInvoiceSensor, has_expected_invoice
from .outlook import AnnualUsageSensor
from .periods import PERIOD_TIME_SENSORS, NomosPeriodTimeSensor
from .planner import planner_sensors
from .prices import (
    NOT_FOR_FEED_IN,
    PRICE_SENSORS,
    NomosPriceSensor,
    NomosPriceSensorDescription,
    PriceValue,
)
from .tracker import add_tracker_sensors
from .usage import PERIOD_SENSORS, NomosPeriodSensor, NomosPeriodSensorDescription

# Read-only entities fed by coordinators: no limit on parallel updates.
PARALLEL_UPDATES = 0

# A feed-in contract's price is what Nomos pays: the same sensors under payout
# names, and its level reads from "very low" to "very high" (high is good).
FEED_IN_KEYS: Final = {
    "current_price": "current_payout",
    "current_price_ct": "current_payout_ct",
    "next_price": "next_payout",
    "current_hour_average": "current_hour_average_payout",
    "today_range": "today_payout_range",
    "tomorrow_range": "tomorrow_payout_range",
    "today_min": "today_min_payout",
    "today_max": "today_max_payout",
    "today_average": "today_average_payout",
    "tomorrow_min": "tomorrow_min_payout",
    "tomorrow_max": "tomorrow_max_payout",
    "tomorrow_average": "tomorrow_average_payout",
    "today_min_time": "today_min_payout_time",
    "today_max_time": "today_max_payout_time",
    "price_level": "payout_level",
    "latest_day_consumption": "latest_day_feed_in",
    "latest_day_cost": "latest_day_payout",
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
    """Return the price sensors with the price level's thresholds from the options."""
    thresholds = [
        value / 100 for value in entry.options.get(CONF_LEVEL_THRESHOLDS, DEFAULT_LEVEL_THRESHOLDS)
    ]
    return [
        replace(description, value_fn=lambda schedule, now: schedule.level(now, thresholds))
        if description.key == "price_level"
        else description
        for description in PRICE_SENSORS
    ]


def _smart(subscription: Subscription) -> bool:
    return subscription.start_at is not None and subscription.has_smart_meter


def _consumption_metered(subscription: Subscription) -> bool:
    # A running smart-meter contract that buys (a feed-in contract has no estimate).
    return subscription.is_active and subscription.has_smart_meter and not subscription.is_feed_in


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NomosConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add contract sensors per subscription and price sensors per active one."""
    runtime = entry.runtime_data
    display = DisplayUnit(entry)
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
    track_subscriptions(
        entry,
        async_add_entities,
        lambda subscription: (
            NomosPriceSensor(
                runtime.prices, subscription, for_subscription(description, subscription), display
            )
            for description in price_sensors
            if not (subscription.is_feed_in and description.key in NOT_FOR_FEED_IN)
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
    add_grid_fee_sensors(entry, async_add_entities)
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
    add_companion_sensors(entry, async_add_entities)
    add_tracker_sensors(entry, async_add_entities)
    add_planner_entities(
        entry,
        async_add_entities,
        lambda planner: planner_sensors(entry, planner),
    )
    track_subscriptions(
        entry,
        async_add_entities,
        lambda subscription: [AnnualUsageSensor(runtime.energy, subscription)],
        _consumption_metered,
    )
    track_subscriptions(
        entry,
        async_add_entities,
        lambda subscription: [
            ExpectedInvoiceSensor(runtime.energy, subscription, last_month=last_month)
            for last_month in (False, True)
        ],
        has_expected_invoice,
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
