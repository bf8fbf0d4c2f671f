"""Cost tracker sensors: a device's cost today, yesterday and this month, and its price.

Each tracker has its own device under its contract; the figures move every
quarter-hour (and once its history is backfilled). Per contract with trackers,
the rest of the house: the household's cost (from Nomos's metered usage, so up
to the latest day Nomos has) minus the trackers' over the same days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, MANUFACTURER
from ..coordinator import NomosConfigEntry
from ..cost_trackers import PeriodCost, rest_of_house
from ..daily_totals import PeriodFigure, latest_day_figure, month_to_date_figure
from ..energy_coordinator import EnergyCoordinator
from ..entity import NomosEntity, track_subscriptions
from ..nomos_client import Subscription
from ..price_schedule import local_date
from ..tracker_manager import FigureFn, Tracker, TrackerManager
from .common import EUR_PER_KWH, kwh, money, rounded

MODEL = {"en": "Cost tracker", "de": "Kostenerfassung"}

type Shown = tuple[float | None, dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class TrackerSensorDescription(SensorEntityDescription):
    """A tracker's figure: its value and attributes from the manager, today's date and the day."""

    value_fn: Callable[[TrackerManager, Tracker, date], Shown]


def _cost(figure: PeriodCost, **attributes: Any) -> Shown:
    extra = {"unpriced_energy": kwh(figure.unpriced_kwh)} if figure.unpriced_kwh else {}
    return money(figure.cost_eur), {"energy": kwh(figure.kwh), **attributes, **extra}


def _today(manager: TrackerManager, tracker: Tracker, today: date) -> Shown:
    return _cost(manager.days(tracker, today, today, today), date=today.isoformat())


def _last_day(manager: TrackerManager, tracker: Tracker, today: date) -> Shown:
    day = today - timedelta(days=1)
    return _cost(manager.days(tracker, day, day, today), date=day.isoformat())


def _month(manager: TrackerManager, tracker: Tracker, today: date) -> Shown:
    return _cost(
        manager.days(tracker, today.replace(day=1), today, today),
        month=today.strftime("%Y-%m"),
        backfill=tracker.backfill,
        hours_at_hourly_mean_price=tracker.hourly_hours,
    )


def _average(manager: TrackerManager, tracker: Tracker, today: date) -> Shown:
    figure = manager.days(tracker, today.replace(day=1), today, today)
    household = manager.household(tracker.subscription_id, month_to_date_figure, today).price_paid
    paid = figure.average_price
    return rounded(paid, 6), {
        "month": today.strftime("%Y-%m"),
        "energy": kwh(figure.kwh),
        "household_average": rounded(household, 6),
        "difference_to_household": None
        if paid is None or household is None
        else rounded(paid - household, 6),
        "market_average": rounded(figure.market_average, 6),
    }


TRACKER_SENSORS: tuple[TrackerSensorDescription, ...] = (
    TrackerSensorDescription(
        key="today_cost",
        translation_key="tracker_today_cost",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="EUR",
        suggested_display_precision=2,
        value_fn=_today,
    ),
    TrackerSensorDescription(
        key="last_day_cost",
        translation_key="tracker_last_day_cost",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="EUR",
        suggested_display_precision=2,
        value_fn=_last_day,
    ),
    TrackerSensorDescription(
        key="month_cost",
        translation_key="tracker_month_cost",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="EUR",
        suggested_display_precision=2,
        value_fn=_month,
    ),
    TrackerSensorDescription(
        key="average_price",
        translation_key="tracker_average_price",
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=EUR_PER_KWH,
        suggested_display_precision=4,
        value_fn=_average,
    ),
)


class TrackerSensor(SensorEntity):
    """One figure of a cost tracker, on the tracker's own device."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: TrackerSensorDescription

    def __init__(
        self, entry: NomosConfigEntry, tracker: Tracker, description: TrackerSensorDescription
    ) -> None:
        """Attach the sensor to the tracker's own device (like an appliance's)."""
        self.manager = entry.runtime_data.trackers
        self.tracker = tracker
        self.entity_description = description
        self._attr_unique_id = f"{tracker.subentry_id}-{description.key}"
        language = entry.runtime_data.prices.hass.config.language
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, tracker.subentry_id)},
            entry_type=DeviceEntryType.SERVICE,
            manufacturer=MANUFACTURER,
            model=MODEL["de" if language.startswith("de") else "en"],
            name=tracker.name,
        )
        self._shown: Shown | None = None
        self._show()

    def _show(self) -> bool:
        today = local_date(dt_util.utcnow())
        shown = self.entity_description.value_fn(self.manager, self.tracker, today)
        if shown == self._shown:
            return False
        self._shown = shown
        self._attr_native_value, self._attr_extra_state_attributes = shown
        return True

    async def async_added_to_hass(self) -> None:
        """Move with the tracker's figures."""
        self.async_on_remove(self.manager.async_add_listener(self._updated))

    @callback
    def _updated(self) -> None:
        if self._show():
            self.async_write_ha_state()


@dataclass(frozen=True, kw_only=True)
class RestSensorDescription(SensorEntityDescription):
    """The rest of the house over the household's latest day or its month so far."""

    figure_fn: FigureFn


REST_SENSORS = (
    RestSensorDescription(
        key="rest_of_house_latest_day_cost",
        translation_key="rest_of_house_latest_day_cost",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="EUR",
        suggested_display_precision=2,
        entity_registry_enabled_default=False,
        figure_fn=latest_day_figure,
    ),
    RestSensorDescription(
        key="rest_of_house_month_cost",
        translation_key="rest_of_house_month_cost",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="EUR",
        suggested_display_precision=2,
        entity_registry_enabled_default=False,
        figure_fn=month_to_date_figure,
    ),
)


class RestOfHouseSensor(NomosEntity[EnergyCoordinator], SensorEntity):
    """The household's cost minus the trackers' (never below zero)."""

    entity_description: RestSensorDescription
    _moved: tuple[Any, ...] | None = None

    def __init__(
        self,
        entry: NomosConfigEntry,
        subscription: Subscription,
        description: RestSensorDescription,
    ) -> None:
        """Create the sensor on the contract's device."""
        super().__init__(entry.runtime_data.energy, subscription, description.key)
        self.entity_description = description
        self.manager = entry.runtime_data.trackers

    async def async_added_to_hass(self) -> None:
        """Move with the trackers as well as with the daily import."""
        await super().async_added_to_hass()
        self.async_on_remove(self.manager.async_add_listener(self._trackers_moved))

    @callback
    def _trackers_moved(self) -> None:
        shown = (self.native_value, self.extra_state_attributes)
        if shown != self._moved:
            self._moved = shown
            self.async_write_ha_state()

    def _figures(self) -> tuple[PeriodFigure, float]:
        today = local_date(dt_util.utcnow())
        figure = self.manager.household(
            self.subscription_id, self.entity_description.figure_fn, today
        )
        trackers = sum(
            self.manager.days(tracker, figure.first_day, figure.last_day, today).cost_eur
            for tracker in self.manager.of_subscription(self.subscription_id)
        )
        return figure, trackers

    @property
    def native_value(self) -> float | None:
        """Return the household's cost minus the trackers'."""
        figure, trackers = self._figures()
        return money(rest_of_house(figure.cost_eur, [trackers]))

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the days and both costs it is made of."""
        figure, trackers = self._figures()
        return {
            "first_day": figure.first_day.isoformat(),
            "last_day": figure.last_day.isoformat(),
            "household_cost": money(figure.cost_eur),
            "trackers_cost": money(trackers),
        }


def add_tracker_sensors(
    entry: NomosConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add each tracker's sensors to its subentry, and the rest of the house per contract."""
    manager = entry.runtime_data.trackers
    for tracker in manager.trackers.values():
        async_add_entities(
            (TrackerSensor(entry, tracker, description) for description in TRACKER_SENSORS),
            config_subentry_id=tracker.subentry_id,
        )
    track_subscriptions(
        entry,
        async_add_entities,
        lambda subscription: (
            RestOfHouseSensor(entry, subscription, description) for description in REST_SENSORS
        ),
        lambda subscription: bool(manager.of_subscription(subscription.id)),
    )
