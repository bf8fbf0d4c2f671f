"""A calendar per subscription with the cheap and expensive periods and the planned runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .coordinator import NomosConfigEntry, PriceCoordinator
from .entity import NomosEntity, shifts_load, track_subscriptions
from .nomos_client import Subscription
from .periods import Period, PeriodKind, current_or_next, find_periods
from .price_schedule import day_start, local_date

PARALLEL_UPDATES = 0

# Event titles in the languages the integration speaks (the title is data, not a UI string).
TITLES = {
    "de": {PeriodKind.CHEAP: "Günstig", PeriodKind.EXPENSIVE: "Teuer"},
    "en": {PeriodKind.CHEAP: "Cheap", PeriodKind.EXPENSIVE: "Expensive"},
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NomosConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a calendar for every active subscription that buys power."""
    prices = entry.runtime_data.prices
    track_subscriptions(
        entry,
        async_add_entities,
        lambda subscription: [NomosPriceCalendar(prices, subscription)],
        shifts_load,
    )


def period_title(period: Period, language: str) -> str:
    """Return e.g. "Günstig · Ø 18,4 ct" or "Cheap · Ø 18.4 ct"."""
    german = language.startswith("de")
    label = TITLES["de" if german else "en"][period.kind]
    average = f"{period.average_ct:.1f}"
    return f"{label} · Ø {average.replace('.', ',') if german else average} ct"


class NomosPriceCalendar(NomosEntity[PriceCoordinator], CalendarEntity):
    """Cheap and expensive periods over every known price, as calendar events."""

    _attr_translation_key = "price_calendar"

    def __init__(self, coordinator: PriceCoordinator, subscription: Subscription) -> None:
        """Create the calendar."""
        super().__init__(coordinator, subscription, "price_calendar")

    def _event(self, period: Period) -> CalendarEvent:
        return CalendarEvent(
            start=dt_util.as_local(period.start),
            end=dt_util.as_local(period.end),
            summary=period_title(period, self.hass.config.language),
            description=f"{period.intervals} x 15 min",
            uid=f"{self.subscription_id}-{period.kind}-{period.start.isoformat()}",
        )

    def _runs(self) -> list[CalendarEvent]:
        """Return the planned runs of the appliances planned on this subscription's prices."""
        planners = self.coordinator.config_entry.runtime_data.planners
        return [
            CalendarEvent(
                start=dt_util.as_local(start),
                end=dt_util.as_local(end),
                summary=planner.spec.name,
                uid=f"{planner.subentry_id}-{start.isoformat()}",
            )
            for planner, plan in planners.plans_for(self.subscription_id)
            for start, end in plan.segments
        ]

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes when an event begins or ends, or plans and prices change."""
        event = self.event
        return (event.summary, event.start, event.end) if event else ()

    @property
    def event(self) -> CalendarEvent | None:
        """Return the period or planned run going on now, or else the next one."""
        now = dt_util.utcnow()
        periods = self.coordinator.periods(self.subscription_id)
        first = min(
            (current_or_next(found, now) for found in periods.values()),
            key=lambda period: period.start if period else datetime.max.replace(tzinfo=UTC),
            default=None,
        )
        candidates = [run for run in self._runs() if run.end_datetime_local > now]
        if first is not None:
            candidates.append(self._event(first))
        return min(candidates, key=lambda event: event.start_datetime_local, default=None)

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Return the periods overlapping the range, from the cached prices (no request)."""
        start, end = dt_util.as_utc(start_date), dt_util.as_utc(end_date)
        schedule = self.coordinator.schedule(self.subscription_id)
        # Whole days around the range, so each quarter-hour is judged against its day.
        window = schedule.between(
            day_start(local_date(start) - timedelta(days=1)),
            day_start(local_date(end) + timedelta(days=2)),
        )
        periods = [
            period
            for kind in PeriodKind
            for period in find_periods(window, kind, self.coordinator.period_rule)
            if period.start < end and period.end > start
        ]
        runs = [
            run
            for run in self._runs()
            if run.start_datetime_local < end and run.end_datetime_local > start
        ]
        return sorted(
            [*(self._event(period) for period in periods), *runs],
            key=lambda event: event.start_datetime_local,
        )
