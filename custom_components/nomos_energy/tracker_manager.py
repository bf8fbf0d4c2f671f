"""Cost trackers in Home Assistant: follow each energy sensor, keep its cost statistic.

Each tracker (a config subentry) follows its sensor's state changes and reads
it again at every quarter-hour boundary; its energy per quarter-hour is kept in
its own store, so a restart loses nothing (the energy of the downtime is spread
over it, see cost_trackers.py). Hours the readings cover whole are written to
the long-term statistic `nomos_energy:<tracker>_cost` once their prices are
known (after two days with the prices there are). A new tracker is backfilled
from the recorder's statistics of its sensor: 5-minute rows where they exist,
else hourly rows at the hour's mean price. Nothing here asks Nomos: the prices
are the cached ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
import itertools
from typing import Any

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    statistics_during_period,
)
from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.const import CONF_ENTITY_ID, UnitOfEnergy
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.helpers.event import async_track_state_change_event, async_track_utc_time_change
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.storage import Store
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .cost_trackers import (
    HOUR_SECONDS,
    STATE_CLASSES,
    Meter,
    PeriodCost,
    StatisticChange,
    backfill_quarters,
    combine,
    cost_hours,
    days_cost,
    hour_of,
    prune,
    running_rows,
    to_kwh,
)
from .daily_totals import DayTotal, PeriodFigure
from .energy import recorder_running
from .price_coordinator import PriceCoordinator
from .price_schedule import PriceSchedule, day_start, local_date

type FigureFn = Callable[[Mapping[date, DayTotal], date], PeriodFigure]
SUBENTRY_COST_TRACKER = "cost_tracker"
CONF_SUBSCRIPTION_ID = "subscription_id"
CONF_STATISTIC_ID = "statistic_id"
BACKFILL_DAYS = 30
# This month, last month's last day and the backfill: what the sensors read.
KEEP = timedelta(days=64)
# An hour whose prices are still unknown waits this long, then is written with the known ones.
PRICE_WAIT = timedelta(days=2)
STORE_VERSION = 1
SAVE_DELAY = 10
STATISTIC_NAME = f"component.{DOMAIN}.entity.sensor.tracker_cost_statistic.name"


@dataclass(slots=True)
class Tracker:
    """One tracked sensor: its meter, energy per quarter-hour and how far its statistic is."""

    subentry_id: str
    name: str
    entity_id: str
    subscription_id: str
    statistic_id: str
    meter: Meter = field(default_factory=Meter)
    quarters: dict[int, float] = field(default_factory=dict)
    # The first hour not yet in the statistic (epoch seconds), and the sum before it.
    written_until: int | None = None
    written_sum: float = 0.0
    # How the history was backfilled: "5minute", "hour", "none"; None while it is due.
    backfill: str | None = None
    hourly_hours: int = 0
    # Cost of Berlin days, with the schedule and (for today) the readings they were priced at.
    days: dict[date, tuple[PriceSchedule, int, PeriodCost]] = field(default_factory=dict)
    readings: int = 0

    def to_json(self) -> dict[str, Any]:
        """Return the stored form."""
        return {
            "entity_id": self.entity_id,
            "statistic_id": self.statistic_id,
            "meter": self.meter.to_json(),
            "quarters": {str(key): value for key, value in self.quarters.items() if value},
            "written": [self.written_until, self.written_sum],
            "backfill": [self.backfill, self.hourly_hours],
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        """Take the stored state of the same sensor (a damaged one starts a new backfill)."""
        if data.get("entity_id") != self.entity_id:
            return
        try:
            meter = Meter.from_json(data["meter"])
            quarters = {int(key): float(value) for key, value in data["quarters"].items()}
            until, total = data["written"]
            backfill, hours = data["backfill"]
        except (KeyError, TypeError, ValueError) as err:
            LOGGER.debug("Damaged cost tracker state: %s", type(err).__name__)
            return
        self.meter, self.quarters = meter, quarters
        self.written_until = None if until is None else int(until)
        self.written_sum = float(total)
        self.backfill, self.hourly_hours = backfill, int(hours)


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, STORE_VERSION, f"{DOMAIN}.{entry_id}.trackers")


def tracker_subentries(subentries: Mapping[str, ConfigSubentry]) -> dict[str, ConfigSubentry]:
    """Return the cost tracker subentries."""
    return {
        sid: subentry
        for sid, subentry in subentries.items()
        if subentry.subentry_type == SUBENTRY_COST_TRACKER
    }


def reading(state: State | None) -> tuple[float, str | None, str | None] | None:
    """Return a state's value in kWh, its state class and last reset; None if it is no reading."""
    if state is None:
        return None
    try:
        value = float(state.state)
    except ValueError:
        return None
    kwh = to_kwh(value, state.attributes.get("unit_of_measurement"))
    if kwh is None:
        return None
    state_class = state.attributes.get("state_class")
    last_reset = state.attributes.get("last_reset")
    return (
        kwh,
        state_class if state_class in STATE_CLASSES else None,
        None if last_reset is None else str(last_reset),
    )


class TrackerManager:
    """The entry's cost trackers: readings, the stored energy, the statistics, the figures."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, prices: PriceCoordinator) -> None:
        """Create a tracker for each cost tracker subentry."""
        self.hass = hass
        self.prices = prices
        self.store = _store(hass, entry.entry_id)
        self.trackers = {
            sid: Tracker(
                sid,
                subentry.title,
                subentry.data[CONF_ENTITY_ID],
                subentry.data[CONF_SUBSCRIPTION_ID],
                subentry.data[CONF_STATISTIC_ID],
            )
            for sid, subentry in tracker_subentries(entry.subentries).items()
        }
        self._listeners: list[Callable[[], None]] = []
        self._pruned: date | None = None
        self._household: dict[tuple[str, FigureFn, date], tuple[Any, PeriodFigure]] = {}

    async def async_load(self) -> None:
        """Take each tracker's stored state; forget (and clear the statistics of) removed ones."""
        stored = await self.store.async_load() or {}
        gone = []
        for sid, data in (stored.get("trackers") or {}).items():
            if sid in self.trackers:
                self.trackers[sid].restore(data)
            elif isinstance(data, dict) and data.get("statistic_id"):
                gone.append(str(data["statistic_id"]))
        if gone and recorder_running(self.hass):
            get_instance(self.hass).async_clear_statistics(gone)
        if gone:
            self._save()

    def _data(self) -> dict[str, Any]:
        return {"trackers": {sid: t.to_json() for sid, t in self.trackers.items()}}

    def _save(self) -> None:
        self.store.async_delay_save(self._data, SAVE_DELAY)

    async def async_flush(self) -> None:
        """Write the store now (unload)."""
        await self.store.async_save(self._data())

    @staticmethod
    async def async_remove_store(hass: HomeAssistant, entry_id: str) -> None:
        """Delete the store of a removed entry."""
        await _store(hass, entry_id).async_remove()

    @callback
    def start(self, entry: ConfigEntry) -> Callable[[], None]:
        """Follow the sensors and the quarter-hours; backfill new trackers in the background."""
        if not self.trackers:
            return lambda: None
        unsubs = [
            async_track_state_change_event(
                self.hass, [t.entity_id for t in self.trackers.values()], self._state_changed
            ),
            async_track_utc_time_change(
                self.hass, self._quarter_hour, minute=(0, 15, 30, 45), second=0
            ),
        ]
        now = dt_util.utcnow()
        for tracker in self.trackers.values():
            if tracker.backfill is None:
                entry.async_create_background_task(
                    self.hass, self.async_backfill(tracker), f"nomos_energy backfill {tracker.name}"
                )
            else:  # a restart: the downtime's energy is spread over it
                self._read(tracker, self.hass.states.get(tracker.entity_id), now)

        @callback
        def stop() -> None:
            for unsub in unsubs:
                unsub()

        return stop

    @callback
    def async_add_listener(self, update: Callable[[], None]) -> Callable[[], None]:
        """Call `update` whenever the figures may have changed; return the remover."""
        self._listeners.append(update)
        return lambda: self._listeners.remove(update)

    @callback
    def _state_changed(self, event: Event[EventStateChangedData]) -> None:
        state = event.data["new_state"]

        for tracker in self.trackers.values():
            if tracker.entity_id == event.data["entity_id"] and state is not None:
                self._read(tracker, state, state.last_updated)

    def _read(self, tracker: Tracker, state: State | None, at: datetime) -> None:
        if tracker.backfill is None or (found := reading(state)) is None:
            return
        kwh, state_class, last_reset = found
        if state_class is not None:
            tracker.meter.state_class = state_class
        if (
            tracker.meter.at is not None
            and tracker.meter.at < day_start(local_date(at)).timestamp()
            and tracker.days
        ):
            tracker.days.clear()  # energy spread back into days already costed
        tracker.meter.read(tracker.quarters, at.timestamp(), kwh, last_reset)
        tracker.readings += 1

    @callback
    def _quarter_hour(self, now: datetime) -> None:
        """Read every sensor at the boundary, write the hours now complete, move the sensors."""
        for tracker in self.trackers.values():
            self._read(tracker, self.hass.states.get(tracker.entity_id), now)
            if tracker.backfill is not None:
                self.hass.async_create_task(self.async_write(tracker, now))
        today = local_date(now)
        if self._pruned != today:
            self._pruned = today
            self._household.clear()
            for tracker in self.trackers.values():
                prune(tracker.quarters, (now - KEEP).timestamp())
                tracker.days = {day: cost for day, cost in tracker.days.items() if day < today}
        self._save()
        self._notify()

    def _notify(self) -> None:
        for update in list(self._listeners):
            update()

    async def async_backfill(self, tracker: Tracker) -> None:
        """Read 30 days of the sensor's history from the recorder, then follow it live."""
        now = dt_util.utcnow()
        start = datetime.fromtimestamp(
            hour_of((now - timedelta(days=BACKFILL_DAYS)).timestamp()), UTC
        )
        five: list[StatisticChange] = []
        hourly: list[StatisticChange] = []
        last: tuple[float, float] | None = None
        if "recorder" in self.hass.config.components:
            await get_instance(self.hass).async_db_ready
            five, last_five = await self._changes(tracker, start, now, "5minute")
            hourly, last_hour = await self._changes(tracker, start, now, "hour")
            last = last_five or last_hour
        quarters, hours = backfill_quarters(five, hourly)
        tracker.quarters = quarters | {
            key: value + quarters.get(key, 0.0) for key, value in tracker.quarters.items()
        }
        tracker.hourly_hours = hours
        tracker.days.clear()  # costed while the history was still missing
        tracker.backfill = "hour" if hours else "5minute" if five else "none"
        state = self.hass.states.get(tracker.entity_id)
        found = reading(state)
        if found is not None and found[1] is not None:
            tracker.meter.state_class = found[1]
        if last is not None:
            tracker.meter.at, tracker.meter.value = last
        first = min(tracker.quarters, default=None)
        tracker.written_until = hour_of(first if first is not None else now.timestamp())
        tracker.written_sum = 0.0
        if tracker.backfill != "none":
            LOGGER.info(
                "Cost tracker %s: %s hours backfilled from 5-minute statistics, %s from hourly "
                "ones (priced at the hour's mean price)",
                tracker.name,
                (now.timestamp() - tracker.written_until) // HOUR_SECONDS - hours,
                hours,
            )
        self._read(tracker, state, now)
        await self.async_write(tracker, now)
        self._save()
        self._notify()

    async def _changes(
        self, tracker: Tracker, start: datetime, end: datetime, period: Any
    ) -> tuple[list[StatisticChange], tuple[float, float] | None]:
        """Return the sensor's statistics rows as energy (kWh), and the last row's end and state.

        Each row's energy is its running sum (reset-aware, Home Assistant's own)
        minus the row before's, so the first row read is only the base.
        """
        before = timedelta(minutes=5) if period == "5minute" else timedelta(hours=1)
        rows = await get_instance(self.hass).async_add_executor_job(
            statistics_during_period,
            self.hass,
            start - before,
            end,
            {tracker.entity_id},
            period,
            {"energy": UnitOfEnergy.KILO_WATT_HOUR},
            {"sum", "state"},
        )
        found = [row for row in rows.get(tracker.entity_id, []) if row.get("sum") is not None]
        changes = [
            StatisticChange(
                float(row["start"]),
                float(row["end"]),
                float(row["sum"] or 0) - float(prior["sum"] or 0),
            )
            for prior, row in itertools.pairwise(found)
        ]
        last = next(
            (
                (float(row["end"]), float(state))
                for row in reversed(found)
                if (state := row.get("state")) is not None
            ),
            None,
        )
        return changes, last

    async def async_write(self, tracker: Tracker, now: datetime) -> None:
        """Write the hours the readings cover whole and whose prices are known to the statistic."""
        if tracker.written_until is None or tracker.meter.at is None:
            return
        end = min(hour_of(tracker.meter.at), hour_of(now.timestamp()))
        hours = cost_hours(
            tracker.quarters,
            self.prices.schedule(tracker.subscription_id),
            tracker.written_until,
            end,
        )
        wait_from = (now - PRICE_WAIT).timestamp()
        ready = []
        for hour in hours:
            if not hour.priced and hour.start + HOUR_SECONDS > wait_from:
                break
            ready.append(hour)
        if not ready or not recorder_running(self.hass):
            return
        rows = running_rows(ready, tracker.written_sum)
        async_add_external_statistics(
            self.hass,
            StatisticMetaData(
                mean_type=StatisticMeanType.NONE,
                has_sum=True,
                name=await self._statistic_name(tracker),
                source=DOMAIN,
                statistic_id=tracker.statistic_id,
                unit_class=None,
                unit_of_measurement="EUR",
            ),
            [StatisticData(start=row.start, state=row.state, sum=row.sum) for row in rows],
        )
        tracker.written_until = int(rows[-1].start.timestamp()) + HOUR_SECONDS
        tracker.written_sum = rows[-1].sum
        self._save()

    async def _statistic_name(self, tracker: Tracker) -> str:
        strings = await async_get_translations(
            self.hass, self.hass.config.language, "entity", [DOMAIN]
        )
        return f"{tracker.name} {strings.get(STATISTIC_NAME, 'cost')}"

    def day_cost(self, tracker: Tracker, day: date, today: date) -> PeriodCost:
        """Return a Berlin day's cost, costed again only after new prices or readings (today)."""
        schedule = self.prices.schedule(tracker.subscription_id)
        readings = -1 if day < today else tracker.readings
        cached = tracker.days.get(day)
        if cached is not None and cached[0] is schedule and cached[1] == readings:
            return cached[2]
        cost = days_cost(tracker.quarters, schedule, day, day)
        if day <= today:
            tracker.days[day] = (schedule, readings, cost)
        return cost

    def days(self, tracker: Tracker, first: date, last: date, today: date) -> PeriodCost:
        """Return the cost of the days first..last (inclusive)."""
        days = range((last - first).days + 1)
        return combine(self.day_cost(tracker, first + timedelta(days=n), today) for n in days)

    def household(self, subscription_id: str, figure: FigureFn, today: date) -> PeriodFigure:
        """Return a figure of the household's day totals, worked out once per day and import."""
        totals = self.prices.cache.day_totals.get(subscription_id, {})
        key = (subscription_id, figure, today)
        cached = self._household.get(key)
        if cached is None or cached[0] is not totals:
            cached = self._household[key] = (totals, figure(totals, today))
        return cached[1]

    def of_subscription(self, subscription_id: str) -> list[Tracker]:
        """Return the trackers that price with this subscription."""
        return [t for t in self.trackers.values() if t.subscription_id == subscription_id]
