"""The prices coordinator: prices per active subscription, cache-first, and their periods."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_utc_time_change
from homeassistant.util import dt as dt_util

from .backoff import Outage
from .cache import NomosCache
from .const import (
    CONF_PERIOD_MARGIN,
    CONF_PERIOD_MIN_MINUTES,
    DEFAULT_PERIOD_MARGIN,
    DEFAULT_PERIOD_MIN_MINUTES,
    LOGGER,
    PRICE_HISTORY_DAYS,
    PRICE_POLL_INTERVAL,
    PRICE_PUBLICATION,
    RETRY_BACKOFF_FIRST,
    RETRY_BACKOFF_MAX,
    TOMORROW_LATE_AFTER,
    UNKNOWN_PRICE_RETRY,
)
from .coordinator_base import NomosCoordinator, installation_offset, update_failed
from .issues import async_check_api_version
from .nomos_client import NomosClient, NomosError
from .periods import Period, PeriodKind, PeriodRule, find_periods
from .price_schedule import (
    BERLIN,
    PriceInterval,
    PriceSchedule,
    day_start,
    intervals_from_series,
    local_date,
)
from .subscription_coordinator import SubscriptionCoordinator

# One empty schedule, so "nothing known" is the same object on every tick.
NO_PRICES = PriceSchedule()


class PriceCoordinator(NomosCoordinator[dict[str, PriceSchedule]]):
    """Prices per active subscription, served from the cache.

    Nomos is asked only when data is missing: today's prices (usually known
    since yesterday), and tomorrow's after the publication time plus this
    installation's offset. Errors back off and never hide cached prices.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: NomosClient,
        subscriptions: SubscriptionCoordinator,
        cache: NomosCache,
    ) -> None:
        """Create the coordinator."""
        super().__init__(
            hass,
            entry,
            client,
            subscriptions.access,
            concern="prices",
            update_interval=PRICE_POLL_INTERVAL,
            outage=Outage("prices", RETRY_BACKOFF_FIRST, RETRY_BACKOFF_MAX),
        )
        self.subscriptions = subscriptions
        self.cache = cache
        self.publication_offset = installation_offset(entry.entry_id)
        # For each subscription, the date whose prices were last seen arriving.
        self.published: dict[str, date] = {}
        # The day whose late prices were last reported in the log.
        self.late_logged: date | None = None
        # When Nomos was last asked again for prices it had published as unknown.
        self.asked_for_unknown: dict[str, datetime] = {}
        # Cheap and expensive periods per subscription, with the schedule they were
        # computed from: recomputed when prices arrive, never on a tick.
        self._periods: dict[str, tuple[PriceSchedule, dict[PeriodKind, list[Period]]]] = {}
        options = entry.options
        self.period_rule = PeriodRule(
            margin=float(options.get(CONF_PERIOD_MARGIN, DEFAULT_PERIOD_MARGIN)) / 100,
            min_length=timedelta(
                minutes=int(options.get(CONF_PERIOD_MIN_MINUTES, DEFAULT_PERIOD_MIN_MINUTES))
            ),
        )
        # Every quarter-hour the entities move to the new interval, from the cache.
        entry.async_on_unload(
            async_track_utc_time_change(hass, self._quarter_hour, minute=(0, 15, 30, 45), second=0)
        )

    @callback
    def _quarter_hour(self, now: datetime) -> None:
        """Let every price entity show the interval that just began (no request)."""
        self.async_update_listeners()

    def schedule(self, subscription_id: str) -> PriceSchedule:
        """Return the known prices of a subscription (empty when there are none)."""
        return (self.data or {}).get(subscription_id) or NO_PRICES

    def periods(self, subscription_id: str) -> dict[PeriodKind, list[Period]]:
        """Return the cheap and expensive periods over the known prices from yesterday on."""
        schedule = self.schedule(subscription_id)
        cached = self._periods.get(subscription_id)
        if cached is not None and cached[0] is schedule:
            return cached[1]
        end = schedule.end
        window = (
            schedule.between(day_start(local_date(dt_util.utcnow()) - timedelta(days=1)), end)
            if end is not None
            else []
        )
        found = {kind: find_periods(window, kind, self.period_rule) for kind in PeriodKind}
        self._periods[subscription_id] = (schedule, found)
        return found

    def publication_time(self, day: date) -> datetime:
        """Return when this installation first asks for the prices of `day + 1`."""
        local = datetime.combine(day, PRICE_PUBLICATION, BERLIN) + self.publication_offset
        return dt_util.as_utc(local)

    def start_from_cache(self) -> bool:
        """Serve the cached prices at once; what is missing is fetched in the background.

        Returns False when nothing is cached (the first setup asks Nomos).
        """
        if not self.cache.prices:
            return False
        self.data = dict(self.cache.prices)
        return True

    def _wanted_days(self, now: datetime) -> list[date]:
        """Return the days whose prices should be known now: today, and tomorrow once due."""
        today = local_date(now)
        if now >= self.publication_time(today):
            return [today, today + timedelta(days=1)]
        return [today]

    def _missing(self, sub_id: str, schedule: PriceSchedule, now: datetime) -> bool:
        """Return whether Nomos should be asked for this subscription now.

        A day that is not there yet is asked for on every poll. A day Nomos
        published with unknown (null) prices is asked for again only every
        UNKNOWN_PRICE_RETRY.
        """
        days = self._wanted_days(now)
        if not all(schedule.is_day_covered(day) for day in days):
            return True
        if all(schedule.is_day_complete(day) for day in days):
            return False
        asked = self.asked_for_unknown.get(sub_id)
        return asked is None or now - asked >= UNKNOWN_PRICE_RETRY

    async def _async_update_data(self) -> dict[str, PriceSchedule]:
        """Fetch what is missing; otherwise serve the cache without calling Nomos."""
        now = dt_util.utcnow()
        today = local_date(now)
        tomorrow = today + timedelta(days=1)
        current: dict[str, PriceSchedule] | None = self.data  # None until the first refresh
        schedules = dict(current if current is not None else self.cache.prices)
        changed = current is None
        error: NomosError | None = None
        if self.outage.due(now):
            for sub_id in self.subscriptions.data.active_ids:
                schedule = schedules.get(sub_id, PriceSchedule())
                if not self._missing(sub_id, schedule, now):
                    continue
                try:
                    series = await self.client.get_prices(sub_id, today, tomorrow)
                except NomosError as err:
                    error = err
                    break
                had_tomorrow = schedule.is_day_complete(tomorrow)
                merged = schedule.merge(intervals_from_series(series)).prune(
                    day_start(today - timedelta(PRICE_HISTORY_DAYS))
                )
                changed = changed or merged != schedule
                schedules[sub_id] = merged
                if any(
                    merged.is_day_covered(day) and not merged.is_day_complete(day)
                    for day in self._wanted_days(now)
                ):
                    self.asked_for_unknown[sub_id] = now
                else:  # nothing unknown any more: no re-ask to schedule
                    self.asked_for_unknown.pop(sub_id, None)
                if not had_tomorrow and schedules[sub_id].is_day_complete(tomorrow):
                    self.published[sub_id] = tomorrow
            self.outage.record(error, now)
            if error is not None:
                self.access.failed(error, now)
            async_check_api_version(self.hass, error)
        if changed:  # the cache file is rewritten only when prices changed
            self.cache.set_prices(schedules)
        self.update_interval = self._next_check(now, schedules)
        self._log_late_prices(schedules, now)
        if error is not None and not any(schedules.values()):
            raise update_failed(error) from error
        return schedules

    def _log_late_prices(self, schedules: dict[str, PriceSchedule], now: datetime) -> None:
        """Say once a day in the log when tomorrow's prices are still missing in the evening.

        Nothing for the user to do (the binary sensor shows it): no repair issue.
        """
        tomorrow = local_date(now) + timedelta(days=1)
        if now.astimezone(BERLIN).time() < TOMORROW_LATE_AFTER or self.late_logged == tomorrow:
            return
        missing = [
            sub_id
            for sub_id in self.subscriptions.data.active_ids
            if not schedules.get(sub_id, PriceSchedule()).is_day_complete(tomorrow)
        ]
        if missing:
            self.late_logged = tomorrow
            LOGGER.warning(
                "Nomos has not published all prices for %s yet (usually by 14:20); "
                "asking again every %s minutes",
                tomorrow.isoformat(),
                int(PRICE_POLL_INTERVAL.total_seconds() // 60),
            )

    def add_history(self, subscription_id: str, intervals: list[PriceInterval]) -> None:
        """Keep prices fetched for older days (the statistics import needs them)."""
        current: dict[str, PriceSchedule] | None = self.data  # None until the first refresh
        if current is None:
            return
        today = local_date(dt_util.utcnow())
        schedule = current.get(subscription_id, PriceSchedule()).merge(intervals)
        current[subscription_id] = schedule.prune(day_start(today - timedelta(PRICE_HISTORY_DAYS)))
        self.cache.set_prices(current)

    def _next_check(self, now: datetime, schedules: dict[str, PriceSchedule]) -> timedelta:
        """Return when something may be missing next."""
        if self.outage.retry_at is not None:
            return max(self.outage.retry_at - now, timedelta(seconds=1))
        active = self.subscriptions.data.active_ids
        due = [
            sub_id
            for sub_id in active
            if self._missing(sub_id, schedules.get(sub_id, PriceSchedule()), now)
        ]
        if due:
            return PRICE_POLL_INTERVAL
        today = local_date(now)
        next_check = self.publication_time(today)
        if now >= next_check:
            next_check = self.publication_time(today + timedelta(days=1))
        for sub_id in active:
            if (asked := self.asked_for_unknown.get(sub_id)) is not None:
                next_check = min(next_check, max(asked + UNKNOWN_PRICE_RETRY, now))
        return max(next_check - now, timedelta(seconds=1))
