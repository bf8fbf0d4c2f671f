"""A calendar per subscription: cheap and expensive periods, low and high grid fees, planned runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .coordinator import NomosConfigEntry, PriceCoordinator
from .entity import NomosEntity, shifts_load, track_subscriptions
from .grid_fee import GridFeeDays, GridFeeLevel, GridFeeWindow, join
from .nomos_client import Subscription
from .periods import Period, PeriodKind, current_or_next, find_periods
from .price_schedule import day_start, local_date

PARALLEL_UPDATES = 0
ONE_DAY = timedelta(days=1)
QUARTER = timedelta(minutes=15)

# Event titles in the languages the integration speaks (the title is data, not a UI string).
TITLES = {
    "de": {PeriodKind.CHEAP: "Günstig", PeriodKind.EXPENSIVE: "Teuer"},
    "en": {PeriodKind.CHEAP: "Cheap", PeriodKind.EXPENSIVE: "Expensive"},
}
GRID_FEE_TITLES = {
    "de": {GridFeeLevel.LOW: "Niedriges Netzentgelt", GridFeeLevel.HIGH: "Hohes Netzentgelt"},
    "en": {GridFeeLevel.LOW: "Low grid fee", GridFeeLevel.HIGH: "High grid fee"},
}
# The standard level is the rest of the day: no event.
GRID_FEE_EVENTS = frozenset(GRID_FEE_TITLES["en"])


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


def _ct(value: float, digits: int, german: bool) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if german else text


def period_title(period: Period, language: str) -> str:
    """Return e.g. "Günstig · Ø 18,4 ct" or "Cheap · Ø 18.4 ct"."""
    german = language.startswith("de")
    label = TITLES["de" if german else "en"][period.kind]
    return f"{label} · Ø {_ct(period.average_ct, 1, german)} ct"


def window_title(window: GridFeeWindow, language: str) -> str:
    """Return e.g. "Niedriges Netzentgelt · 4,00 ct" or "Low grid fee · 4.00 ct"."""
    german = language.startswith("de")
    label = GRID_FEE_TITLES["de" if german else "en"][window.level]
    return f"{label} · {_ct(window.grid_fee_ct, 2, german)} ct"


class NomosPriceCalendar(NomosEntity[PriceCoordinator], CalendarEntity):
    """Cheap and expensive periods and low and high grid fees over every known price."""

    _attr_translation_key = "price_calendar"

    def __init__(self, coordinator: PriceCoordinator, subscription: Subscription) -> None:
        """Create the calendar."""
        super().__init__(coordinator, subscription, "price_calendar")
        self._grid_fee_days = GridFeeDays()

    def _grid_fee_windows(self, first: date, last: date) -> list[GridFeeWindow]:
        """Return the low and high windows of the Berlin days first..last (a night is one)."""
        schedule = self.coordinator.schedule(self.subscription_id)
        windows = self._grid_fee_days.windows(schedule, first, (last - first).days + 1)
        return join(window for window in windows if window.level in GRID_FEE_EVENTS)

    def _span(self, start: datetime, end: datetime, summary: str, kind: str) -> CalendarEvent:
        """Return an event over whole quarter-hours."""
        return CalendarEvent(
            start=dt_util.as_local(start),
            end=dt_util.as_local(end),
            summary=summary,
            description=f"{(end - start) // QUARTER} x 15 min",
            uid=f"{self.subscription_id}-{kind}-{start.isoformat()}",
        )

    def _window_event(self, window: GridFeeWindow) -> CalendarEvent:
        title = window_title(window, self.hass.config.language)
        return self._span(window.start, window.end, title, f"grid-{window.level}")

    def _event(self, period: Period) -> CalendarEvent:
        title = period_title(period, self.hass.config.language)
        return self._span(period.start, period.end, title, period.kind)

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
        today = local_date(now)
        window = next(
            (
                window
                for window in self._grid_fee_windows(today - timedelta(days=1), today + ONE_DAY)
                if window.end > now
            ),
            None,
        )
        if window is not None:
            candidates.append(self._window_event(window))
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
        windows = [
            self._window_event(window)
            for window in self._grid_fee_windows(
                local_date(start) - ONE_DAY, local_date(end) + ONE_DAY
            )
            if window.start < end and window.end > start
        ]
        return sorted(
            [*(self._event(period) for period in periods), *runs, *windows],
            key=lambda event: event.start_datetime_local,
        )
