"""When the next cheap or expensive period starts, and when the current one ends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.util import dt as dt_util

from ..coordinator import PriceCoordinator
from ..entity import NomosEntity
from ..nomos_client import Subscription
from ..periods import Period, PeriodKind, current_or_next, next_start


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
        # "When does it get cheap next?" is the daily question; the rest is for automations.
        entity_registry_enabled_default=kind is PeriodKind.CHEAP and edge == "start",
        kind=kind,
        value_fn=next_start if edge == "start" else _end_of_current_or_next,
    )
    for kind in PeriodKind
    for edge in ("start", "end")
)


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
