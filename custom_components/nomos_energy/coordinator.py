"""Coordinators: subscriptions (contract data) and prices (cache-first)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta
import random

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .access import AccessMonitor
from .api import OAuthTokenProvider
from .cache import NomosCache
from .const import (
    BACKFILL_DAYS,
    CORRECTION_WINDOW_DAYS,
    DOMAIN,
    FETCH_CHUNK_DAYS,
    LOGGER,
    PRICE_HISTORY_DAYS,
    PRICE_POLL_INTERVAL,
    PRICE_PUBLICATION,
    PUBLICATION_SPREAD,
    RETRY_BACKOFF_FIRST,
    RETRY_BACKOFF_MAX,
    SUBSCRIPTIONS_PENDING_INTERVAL,
    SUBSCRIPTIONS_RETRY_MAX,
    SUBSCRIPTIONS_UPDATE_INTERVAL,
    USAGE_PUBLICATION,
)
from .energy import async_import_hours
from .nomos_client import (
    ClientCredentialsTokens,
    Invoice,
    NomosAuthError,
    NomosClient,
    NomosError,
    NomosRateLimitError,
    PriceSeries,
    Subscription,
)
from .price_schedule import BERLIN, PriceInterval, PriceSchedule, day_start, local_date
from .repairs import async_check_api_version, async_update_price_issues
from .usage_statistics import HourlyUsage, PeriodTotal, hourly_usage, period_total


@dataclass
class NomosRuntimeData:
    """What a loaded entry holds: one token provider, one client, the coordinators."""

    client: NomosClient
    tokens: OAuthTokenProvider | ClientCredentialsTokens
    cache: NomosCache
    access: AccessMonitor
    subscriptions: SubscriptionCoordinator
    prices: PriceCoordinator
    energy: EnergyCoordinator


type NomosConfigEntry = ConfigEntry[NomosRuntimeData]


@dataclass(frozen=True)
class SubscriptionData:
    """The customer's subscriptions by id, with customer, address and meter."""

    subscriptions: dict[str, Subscription]

    @property
    def active_ids(self) -> list[str]:
        """Return the ids of subscriptions that are supplied now."""
        return [sub_id for sub_id, sub in self.subscriptions.items() if sub.status == "active"]


def auth_failed(err: NomosAuthError) -> ConfigEntryAuthFailed:
    """Return the translated error that starts reauth."""
    error = ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="auth_failed")
    error.__cause__ = err
    return error


def update_failed(err: NomosError) -> UpdateFailed | ConfigEntryAuthFailed:
    """Return the translated update failure for a client error (reauth when access is gone)."""
    if isinstance(err, NomosAuthError):
        return auth_failed(err)
    if isinstance(err, NomosRateLimitError):
        return UpdateFailed(
            translation_domain=DOMAIN, translation_key="rate_limited", retry_after=err.retry_after
        )
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="update_failed",
        translation_placeholders={"error": str(err)},
    )


class Outage:
    """Track consecutive failures of one kind of request.

    Logs one warning when an outage starts and one info line when it ends, and
    backs off exponentially in between (honouring Retry-After), so an outage of
    any length costs Nomos a bounded number of requests per hour.
    """

    def __init__(self, what: str, first: timedelta, longest: timedelta) -> None:
        """Describe what fails (for the log) and the back-off bounds."""
        self.what = what
        self.first = first
        self.longest = longest
        self.failures = 0
        self.retry_at: datetime | None = None

    def failed(self, error: NomosError, now: datetime) -> timedelta:
        """Record a failure and return how long to wait before the next attempt."""
        if not self.failures:
            LOGGER.warning(
                "Could not fetch %s from Nomos, keeping the cached data: %s", self.what, error
            )
        else:
            LOGGER.debug("Fetching %s from Nomos failed again: %s", self.what, error)
        self.failures += 1
        delay = min(self.first * (1 << min(self.failures - 1, 16)), self.longest)
        if isinstance(error, NomosRateLimitError) and error.retry_after is not None:
            delay = max(delay, timedelta(seconds=error.retry_after))
        self.retry_at = now + delay
        return delay

    def due(self, now: datetime) -> bool:
        """Return whether the next attempt may go out (no back-off pending)."""
        return self.retry_at is None or now >= self.retry_at

    def record(self, error: NomosError | None, now: datetime) -> None:
        """Record the outcome of an attempt."""
        if error is None:
            self.succeeded()
        else:
            self.failed(error, now)

    def succeeded(self) -> None:
        """Record a success, logging the recovery once."""
        if self.failures:
            LOGGER.info(
                "Nomos %s are reachable again after %s failed attempts", self.what, self.failures
            )
        self.failures, self.retry_at = 0, None


class NomosCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """A coordinator with its own back-off that recovers when the entry's access does."""

    config_entry: NomosConfigEntry
    outage: Outage
    access: AccessMonitor

    @callback
    def recover(self) -> None:
        """Try again at once when another request of the entry succeeded."""
        if self.outage.failures:
            self.outage.retry_at = None
            self.hass.async_create_task(self.async_request_refresh())


class SubscriptionCoordinator(NomosCoordinator[SubscriptionData]):
    """Keep the list of subscriptions and their contract details current."""

    config_entry: NomosConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: NomosConfigEntry,
        client: NomosClient,
        cache: NomosCache,
        access: AccessMonitor,
    ) -> None:
        """Create the coordinator."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} subscriptions",
            update_interval=SUBSCRIPTIONS_UPDATE_INTERVAL,
        )
        self.client = client
        self.cache = cache
        self.outage = Outage("subscriptions", RETRY_BACKOFF_MAX, SUBSCRIPTIONS_RETRY_MAX)
        self.access = access
        entry.async_on_unload(access.add_recovery_listener(self.recover))

    async def _async_update_data(self) -> SubscriptionData:
        """List subscriptions; retrieve details only for new or changed ones.

        When Nomos cannot be reached at startup, the cached subscriptions are
        used so that cached prices keep serving through the outage.
        """
        current: SubscriptionData | None = self.data  # None until the first refresh
        known = current.subscriptions if current else (self.cache.subscriptions or {})
        subscriptions: dict[str, Subscription] = {}
        try:
            for listed in await self.client.list_subscriptions():
                cached = known.get(listed.id)
                if (
                    cached is not None
                    and cached.meter is not None
                    and cached.updated_at == listed.updated_at
                    and cached.status == listed.status
                ):
                    subscriptions[listed.id] = cached
                else:
                    subscriptions[listed.id] = await self.client.get_subscription(listed.id)
        except NomosError as err:
            async_check_api_version(self.hass, err)
            now = dt_util.utcnow()
            self.access.failed(err, now)
            fallback = current.subscriptions if current else self.cache.subscriptions
            if fallback is None:
                raise update_failed(err) from err
            # Contract data changes rarely: keep showing what is known.
            self.update_interval = self.outage.failed(err, now)
            return SubscriptionData(dict(fallback))
        self.outage.succeeded()
        async_check_api_version(self.hass, None)
        self.cache.set_subscriptions(subscriptions)
        pending = any(sub.status == "pending" for sub in subscriptions.values())
        self.update_interval = (
            SUBSCRIPTIONS_PENDING_INTERVAL if pending else SUBSCRIPTIONS_UPDATE_INTERVAL
        )
        return SubscriptionData(subscriptions)


def installation_offset(entry_id: str) -> timedelta:
    """Return this installation's stable offset after the publication time.

    The entry id is random per installation, so thousands of homes spread
    evenly over PUBLICATION_SPREAD instead of asking Nomos in the same minute.
    """
    spread = PUBLICATION_SPREAD.total_seconds()
    return timedelta(seconds=random.Random(entry_id).uniform(0, spread))  # noqa: S311


def schedule_from_series(series: PriceSeries) -> list[PriceInterval]:
    """Turn a price series from Nomos into schedule intervals."""
    return [
        PriceInterval(item.start, item.start + series.interval, item.amount, item.components)
        for item in series.items or ()
    ]


class PriceCoordinator(NomosCoordinator[dict[str, PriceSchedule]]):
    """Prices per active subscription, served from the cache.

    Nomos is asked only when data is missing: today's prices (usually known
    since yesterday), and tomorrow's after the publication time plus this
    installation's offset. Errors back off and never hide cached prices.
    """

    config_entry: NomosConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: NomosConfigEntry,
        client: NomosClient,
        subscriptions: SubscriptionCoordinator,
        cache: NomosCache,
    ) -> None:
        """Create the coordinator."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} prices",
            update_interval=PRICE_POLL_INTERVAL,
        )
        self.client = client
        self.subscriptions = subscriptions
        self.access = subscriptions.access
        entry.async_on_unload(self.access.add_recovery_listener(self.recover))
        self.cache = cache
        self.publication_offset = installation_offset(entry.entry_id)
        # For each subscription, the date whose prices were last seen arriving.
        self.published: dict[str, date] = {}
        self.outage = Outage("prices", RETRY_BACKOFF_FIRST, RETRY_BACKOFF_MAX)

    def publication_time(self, day: date) -> datetime:
        """Return when this installation first asks for the prices of `day + 1`."""
        local = datetime.combine(day, PRICE_PUBLICATION, BERLIN) + self.publication_offset
        return dt_util.as_utc(local)

    def _missing(self, schedule: PriceSchedule, now: datetime) -> bool:
        """Return whether Nomos should be asked for this subscription now."""
        today = local_date(now)
        if not schedule.is_day_complete(today):
            return True
        return now >= self.publication_time(today) and not schedule.is_day_complete(
            today + timedelta(days=1)
        )

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
                if not self._missing(schedule, now):
                    continue
                try:
                    series = await self.client.get_prices(sub_id, today, tomorrow)
                except NomosError as err:
                    error = err
                    break
                had_tomorrow = schedule.is_day_complete(tomorrow)
                merged = schedule.merge(schedule_from_series(series)).prune(
                    day_start(today - timedelta(PRICE_HISTORY_DAYS))
                )
                changed = changed or merged != schedule
                schedules[sub_id] = merged
                if not had_tomorrow and schedules[sub_id].is_day_complete(tomorrow):
                    self.published[sub_id] = tomorrow
            self.outage.record(error, now)
            if error is not None:
                self.access.failed(error, now)
            async_check_api_version(self.hass, error)
        if changed:  # the cache file is rewritten only when prices changed
            self.cache.set_prices(schedules)
        self.update_interval = self._next_check(now, schedules)
        async_update_price_issues(
            self.hass,
            self.config_entry.entry_id,
            self.subscriptions.data.active_ids,
            schedules,
            now,
        )
        if error is not None and not any(schedules.values()):
            raise update_failed(error) from error
        return schedules

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
        if any(self._missing(schedules.get(sub_id, PriceSchedule()), now) for sub_id in active):
            return PRICE_POLL_INTERVAL
        today = local_date(now)
        next_publication = self.publication_time(today)
        if now >= next_publication:
            next_publication = self.publication_time(today + timedelta(days=1))
        return next_publication - now


@dataclass(frozen=True)
class EnergyData:
    """What the daily import learned about one subscription."""

    yesterday: PeriodTotal | None = None
    month: PeriodTotal | None = None
    # Analog meters: the latest monthly value (first day of the month, kWh).
    latest_month: tuple[date, float] | None = None
    invoices: tuple[Invoice, ...] = ()

    @property
    def latest_invoice(self) -> Invoice | None:
        """Return the most recently issued invoice."""
        return max(
            self.invoices,
            key=lambda invoice: (invoice.issued_at or invoice.period_end, invoice.id),
            default=None,
        )


class EnergyCoordinator(NomosCoordinator[dict[str, EnergyData]]):
    """Once a day: usage into statistics, consumption and cost totals, invoices.

    Nomos publishes smart-meter usage of day D from 16:00 on D+1; each
    installation runs at 16:00 plus its own offset. The first run imports
    from the start of supply (at most two years back), chunk by chunk and
    resumable; later runs re-import the correction window, so preliminary
    values replaced by final ones update the statistics.
    """

    config_entry: NomosConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: NomosConfigEntry,
        client: NomosClient,
        subscriptions: SubscriptionCoordinator,
        prices: PriceCoordinator,
        cache: NomosCache,
    ) -> None:
        """Create the coordinator."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} energy",
            update_interval=timedelta(hours=24),
        )
        self.client = client
        self.subscriptions = subscriptions
        self.access = subscriptions.access
        entry.async_on_unload(self.access.add_recovery_listener(self.recover))
        self.prices = prices
        self.cache = cache
        self.run_offset = installation_offset(entry.entry_id)
        self.outage = Outage("usage and invoices", RETRY_BACKOFF_MAX, SUBSCRIPTIONS_RETRY_MAX)
        # Imports of one entry never overlap (the daily run, the action).
        self.import_lock = asyncio.Lock()

    def next_run(self, now: datetime) -> datetime:
        """Return the next daily run time after `now`."""
        day = local_date(now)
        for candidate in (day, day + timedelta(days=1)):
            moment = dt_util.as_utc(
                datetime.combine(candidate, USAGE_PUBLICATION, BERLIN) + self.run_offset
            )
            if moment > now:
                return moment
        raise AssertionError("unreachable")  # pragma: no cover

    def _relevant(self, today: date) -> list[Subscription]:
        """Return the subscriptions that still have usage or invoices to import."""
        relevant = []
        for subscription in self.subscriptions.data.subscriptions.values():
            if subscription.start_at is None:
                continue
            imported = self.cache.imported_until.get(subscription.id)
            finished = subscription.end_at is not None and (
                local_date(subscription.end_at) + timedelta(CORRECTION_WINDOW_DAYS) < today
            )
            if subscription.status == "active" or imported is None or not finished:
                relevant.append(subscription)
        return relevant

    async def _async_update_data(self) -> dict[str, EnergyData]:
        """Run the daily import for every relevant subscription."""
        now = dt_util.utcnow()
        today = local_date(now)
        current: dict[str, EnergyData] | None = self.data  # None until the first run
        result = dict(current or {})
        error: NomosError | None = None
        if self.outage.due(now):
            if current is not None:
                # The daily contract check rides along, sharing this run's token.
                await self.subscriptions.async_refresh()
            try:
                for subscription in self._relevant(today):
                    result[subscription.id] = await self.async_update_subscription(
                        subscription, today
                    )
            except NomosError as err:
                error = err
            self.outage.record(error, now)
            if error is not None:
                self.access.failed(error, now)
        retry = self.outage.retry_at
        self.update_interval = (retry if retry is not None else self.next_run(now)) - now
        if error is not None and not result:
            raise update_failed(error) from error
        return result

    async def async_update_subscription(
        self, subscription: Subscription, today: date
    ) -> EnergyData:
        """Import one subscription's usage and read its invoices."""
        invoices = tuple(await self.client.list_invoices(subscription.id))
        if subscription.meter is not None and subscription.meter.type == "analog":
            usage = await self.client.get_usage(
                subscription.id, today - timedelta(days=400), today, "month"
            )
            latest = usage.items[-1] if usage.items else None
            return EnergyData(
                latest_month=(local_date(latest.start), latest.usage) if latest else None,
                invoices=invoices,
            )
        first_day = self.first_import_day(subscription, today)
        imported = self.cache.imported_until.get(subscription.id)
        start = (
            max(first_day, imported - timedelta(CORRECTION_WINDOW_DAYS))
            if imported is not None
            else first_day
        )
        hours = await self.async_import(subscription, start, today)
        month_start = (today - timedelta(days=1)).replace(day=1)
        return EnergyData(
            yesterday=period_total(hours, today - timedelta(days=1), today - timedelta(days=1)),
            month=period_total(hours, month_start, today - timedelta(days=1)),
            invoices=invoices,
        )

    @staticmethod
    def first_import_day(subscription: Subscription, today: date) -> date:
        """Return the first Berlin day worth importing: supply start, at most two years back."""
        earliest = today - timedelta(BACKFILL_DAYS)
        if subscription.start_at is None:
            return today
        return max(local_date(subscription.start_at), earliest)

    async def async_import(
        self, subscription: Subscription, start: date, end: date
    ) -> list[HourlyUsage]:
        """Import usage of Berlin days [start, end) chunk by chunk; return the hours.

        Each chunk is imported as soon as it is read, and progress is kept, so
        an interrupted first import resumes where it stopped.
        """
        hours: list[HourlyUsage] = []
        async with self.import_lock:
            chunk_start = start
            while chunk_start < end:
                chunk_end = min(chunk_start + timedelta(FETCH_CHUNK_DAYS), end)
                usage = await self.client.get_usage(
                    subscription.id, chunk_start, chunk_end, "15min"
                )
                schedule = await self.async_prices(subscription.id, chunk_start, chunk_end)
                chunk = hourly_usage(usage.items, schedule)
                await async_import_hours(self.hass, subscription, chunk)
                hours.extend(chunk)
                known = self.cache.imported_until.get(subscription.id)
                if known is None or chunk_end > known:
                    self.cache.set_imported_until(subscription.id, chunk_end)
                chunk_start = chunk_end
        return hours

    async def async_prices(self, subscription_id: str, start: date, end: date) -> PriceSchedule:
        """Return prices covering Berlin days [start, end), from the cache or Nomos."""
        cached = (self.prices.data or {}).get(subscription_id, PriceSchedule())
        if cached.covers(day_start(start), day_start(end)):
            return cached
        series = await self.client.get_prices(subscription_id, start, end - timedelta(days=1))
        fresh = schedule_from_series(series)
        self.prices.add_history(subscription_id, fresh)
        return cached.merge(fresh)
