"""Binary sensors: whether tomorrow's prices are known, cheap and expensive periods, low grid fee."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .coordinator import NomosConfigEntry, PriceCoordinator
from .entity import (
    NomosEntity,
    PlannerEntity,
    add_planner_entities,
    shifts_load,
    track_active_subscriptions,
    track_subscriptions,
)
from .grid_fee import GridFeeLevel, current_or_next as current_or_next_window
from .nomos_client import Subscription
from .periods import PeriodKind, current_or_next
from .planner_state import Planner
from .price_schedule import CT_PER_EUR, local_date
from .sensor.grid_fee import GridFeeEntity, local_iso

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NomosConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors for every active subscription, also later ones."""
    prices = entry.runtime_data.prices
    track_active_subscriptions(entry, async_add_entities, TomorrowPricesAvailableSensor, prices)
    track_subscriptions(
        entry,
        async_add_entities,
        lambda subscription: [
            *(PeriodSensor(prices, subscription, kind) for kind in PeriodKind),
            LowGridFeeSensor(prices, subscription),
        ],
        shifts_load,
    )
    add_planner_entities(entry, async_add_entities, lambda planner: [RunNowSensor(entry, planner)])


class TomorrowPricesAvailableSensor(NomosEntity[PriceCoordinator], BinarySensorEntity):
    """On once every price of tomorrow (Berlin) is known."""

    _attr_translation_key = "tomorrow_available"

    def __init__(self, coordinator: PriceCoordinator, subscription: Subscription) -> None:
        """Create the sensor."""
        super().__init__(coordinator, subscription, "tomorrow_available")

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes once a day."""
        return (self.is_on,)

    @property
    def is_on(self) -> bool:
        """Return whether tomorrow is complete."""
        schedule = self.coordinator.schedule(self.subscription_id)
        return schedule.is_day_complete(local_date(dt_util.utcnow()) + timedelta(days=1))


class PeriodSensor(NomosEntity[PriceCoordinator], BinarySensorEntity):
    """On while the current quarter-hour is inside a cheap (or expensive) period.

    The attributes describe that period, or else the next one, so a card or an
    automation knows what comes without a template over a price list.
    """

    def __init__(
        self, coordinator: PriceCoordinator, subscription: Subscription, kind: PeriodKind
    ) -> None:
        """Create the sensor."""
        super().__init__(coordinator, subscription, f"{kind}_period")
        self._attr_translation_key = f"{kind}_period"
        # "Is it cheap now?" is the daily question; the expensive side is for automations.
        self._attr_entity_registry_enabled_default = kind is PeriodKind.CHEAP
        self.kind = kind

    @property
    def is_on(self) -> bool:
        """Return whether a period of this kind is running now."""
        now = dt_util.utcnow()
        return any(
            period.contains(now)
            for period in self.coordinator.periods(self.subscription_id)[self.kind]
        )

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes when a period begins or ends, or prices arrive."""
        return (self.is_on, self.extra_state_attributes)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return start, end and average price of the current or next period."""
        now = dt_util.utcnow()
        period = current_or_next(self.coordinator.periods(self.subscription_id)[self.kind], now)
        if period is None:
            return {"start": None, "end": None, "average_price": None, "average_price_ct": None}
        # EUR/kWh as the Energy dashboard's price, ct/kWh as the price sensors show it.
        return {
            "start": dt_util.as_local(period.start).isoformat(),
            "end": dt_util.as_local(period.end).isoformat(),
            "average_price": round(period.average_ct / CT_PER_EUR, 6),
            "average_price_ct": round(period.average_ct, 4),
        }


class LowGridFeeSensor(GridFeeEntity, BinarySensorEntity):
    """On during a low grid-fee window (§14a module 3), read from the prices' grid fee.

    The attributes give the window running now, or else the next one; a low night
    that runs across midnight is one window.
    """

    _attr_translation_key = "low_grid_fee"
    _attr_entity_registry_enabled_default = False

    def __init__(self, coordinator: PriceCoordinator, subscription: Subscription) -> None:
        """Create the sensor."""
        super().__init__(coordinator, subscription, "low_grid_fee")

    @property
    def is_on(self) -> bool:
        """Return whether this quarter-hour is in a low window."""
        return self.grid_fee_day().level_at(dt_util.utcnow()) is GridFeeLevel.LOW

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return start and end of the current or next low window."""
        window = current_or_next_window(self.windows_around_now(), dt_util.utcnow())
        return {
            "start": local_iso(window.start if window else None),
            "end": local_iso(window.end if window else None),
        }

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes at a window's edge or when prices arrive."""
        return (self.is_on, self.extra_state_attributes)


class RunNowSensor(PlannerEntity, BinarySensorEntity):
    """On exactly during the planned quarter-hours: switch the appliance on and off with it."""

    _attr_translation_key = "run_now"

    def __init__(self, entry: NomosConfigEntry, planner: Planner) -> None:
        """Create the sensor."""
        super().__init__(entry, planner, "run_now")

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes at the plan's edges or when it is made again."""
        return (self.is_on, self.extra_state_attributes)

    @property
    def is_on(self) -> bool:
        """Return whether the appliance should run now (a charger also below its floor)."""
        return self.manager.runs_now(self.planner, dt_util.utcnow())

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the plan: its segments, deadline and why it is what it is."""
        plan = self.planner.plan
        if plan is None:
            return {"planned": False}
        return {
            "planned": True,
            "segments": [
                {
                    "start": dt_util.as_local(start).isoformat(),
                    "end": dt_util.as_local(end).isoformat(),
                }
                for start, end in plan.segments
            ],
            "deadline": dt_util.as_local(plan.deadline).isoformat(),
            "reason": plan.reason,
            "prices_complete": plan.prices_complete,
            "average_price": None
            if plan.average_ct is None
            else round(plan.average_ct / CT_PER_EUR, 6),
            "average_price_ct": None if plan.average_ct is None else round(plan.average_ct, 4),
            "price_cap_met": plan.cap_met,
        }
