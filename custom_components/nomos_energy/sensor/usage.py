"""Consumption, cost and what it was worth: the latest day, the month so far, last month.

Read from the day totals the daily import keeps in the cache, against today's
Berlin date: they move when a day is complete and on the 1st, and come back at
once after a restart, without asking Nomos.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfEnergy
from homeassistant.util import dt as dt_util

from ..daily_totals import (
    DayTotal,
    PeriodFigure,
    last_month_figure,
    latest_day_figure,
    month_to_date_figure,
    with_fixed_charges,
)
from ..energy_coordinator import EnergyCoordinator
from ..entity import NomosEntity
from ..nomos_client import Subscription
from ..price_schedule import local_date
from .common import EUR_PER_KWH, kwh, money, rounded

type FigureFn = Callable[[Mapping[date, DayTotal], date], PeriodFigure]


@dataclass(frozen=True, kw_only=True)
class NomosPeriodSensorDescription(SensorEntityDescription):
    """Describes a day or month sensor, read from the day totals against today's date."""

    figure_fn: FigureFn
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


# The periods and whether their sensors start enabled: the latest day and the
# month so far answer the daily questions; last month is one click away.
PERIODS: dict[str, tuple[FigureFn, bool]] = {
    "latest_day": (latest_day_figure, True),
    "month": (month_to_date_figure, True),
    "last_month": (last_month_figure, False),
}


def _attributes(period: str) -> Callable[[PeriodFigure], dict[str, Any]]:
    return _day_attributes if period == "latest_day" else _month_attributes


# Money here has no state class: the Energy dashboard would offer these figures
# as a "total cost" entity, and they are a day's or a month's, not a running total.
def _usage_sensors(period: str) -> tuple[NomosPeriodSensorDescription, ...]:
    """Consumption and cost of one period (the cost with the fixed charges of the options)."""
    figure_fn, enabled = PERIODS[period]
    return (
        # No state class either: the Energy dashboard would offer these kWh,
        # recorded a day late, as a consumption source next to the hourly statistic.
        NomosPeriodSensorDescription(
            key=f"{period}_consumption",
            translation_key=f"{period}_consumption",
            device_class=SensorDeviceClass.ENERGY,
            native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
            suggested_display_precision=2,
            entity_registry_enabled_default=enabled,
            figure_fn=figure_fn,
            value_fn=lambda figure: kwh(figure.kwh),
            attributes_fn=_attributes(period),
        ),
        NomosPeriodSensorDescription(
            key=f"{period}_cost",
            translation_key=f"{period}_cost",
            device_class=SensorDeviceClass.MONETARY,
            native_unit_of_measurement="EUR",
            suggested_display_precision=2,
            entity_registry_enabled_default=enabled,
            figure_fn=figure_fn,
            value_fn=lambda figure: money(figure.cost_eur),
            attributes_fn=_attributes(period),
            adds_fixed_charges=True,
        ),
    )


def _insight_sensors(period: str) -> tuple[NomosPeriodSensorDescription, ...]:
    """Price paid, average price, shifting benefit and the comparison of one period."""
    figure_fn, _ = PERIODS[period]
    attributes = _attributes(period)
    return (
        NomosPeriodSensorDescription(
            key=f"{period}_price_paid",
            translation_key=f"{period}_price_paid",
            state_class=SensorStateClass.MEASUREMENT,
            entity_registry_enabled_default=False,
            native_unit_of_measurement=EUR_PER_KWH,
            suggested_display_precision=4,
            figure_fn=figure_fn,
            value_fn=lambda figure: rounded(figure.price_paid, 6),
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
            value_fn=lambda figure: rounded(figure.market_average, 6),
            attributes_fn=attributes,
        ),
        NomosPeriodSensorDescription(
            key=f"{period}_shifting_benefit",
            translation_key=f"{period}_shifting_benefit",
            device_class=SensorDeviceClass.MONETARY,
            native_unit_of_measurement="EUR",
            suggested_display_precision=2,
            entity_registry_enabled_default=False,
            figure_fn=figure_fn,
            value_fn=lambda figure: money(figure.shifting_benefit),
            attributes_fn=attributes,
        ),
        # On when the options name a comparison tariff: asked for, so enabled.
        NomosPeriodSensorDescription(
            key=f"{period}_saved_versus_comparison",
            translation_key=f"{period}_saved_versus_comparison",
            device_class=SensorDeviceClass.MONETARY,
            native_unit_of_measurement="EUR",
            suggested_display_precision=2,
            figure_fn=figure_fn,
            value_fn=lambda figure: money(figure.saved_versus_comparison),
            attributes_fn=lambda figure: {
                **attributes(figure),
                "comparison_cost": money(figure.comparison_eur),
            },
            adds_fixed_charges=True,
            needs_comparison=True,
        ),
    )


PERIOD_SENSORS: tuple[NomosPeriodSensorDescription, ...] = tuple(
    description
    for period in PERIODS
    for description in (*_usage_sensors(period), *_insight_sensors(period))
)


class NomosPeriodSensor(NomosEntity[EnergyCoordinator], SensorEntity):
    """A day's or a month's consumption, cost or insight, right at every moment."""

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
