"""The daily energy import: usage into statistics, day and month totals, invoices."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_utc_time_change
from homeassistant.util import dt as dt_util

from .backoff import Outage
from .cache import NomosCache
from .companion import ContractCompanion
from .const import (
    BACKFILL_DAYS,
    CONF_COMPARISON_BASE_FEE,
    CONF_COMPARISON_PRICE,
    CONF_MONTHLY_FIXED_CHARGES,
    CORRECTION_WINDOW_DAYS,
    FETCH_CHUNK_DAYS,
    LOGGER,
    RETRY_BACKOFF_MAX,
    SUBSCRIPTIONS_RETRY_MAX,
    USAGE_PUBLICATION,
)
from .coordinator_base import NomosCoordinator, installation_offset, update_failed
from .daily_totals import (
    ComparisonTariff,
    DayTotal,
    daily_benefits,
    daily_savings,
    day_totals,
    yesterday_figure,
)
from .energy import (
    DailyStatistic,
    Written,
    async_clear_daily,
    async_import_daily,
    async_import_hours,
    async_import_prices,
    async_stored,
    recorder_running,
)
from .energy_data import EnergyData
from .invoice_check import InvoiceCheck, check_invoice
from .invoice_inputs import async_keep_invoice_inputs
from .issues import async_update_invoice_issue
from .nomos_client import Invoice, NomosClient, NomosError, Subscription
from .price_coordinator import PriceCoordinator
from .price_schedule import (
    BERLIN,
    PriceSchedule,
    day_start,
    hourly_prices,
    intervals_from_series,
    local_date,
)
from .subscription_coordinator import SubscriptionCoordinator
from .usage_profile import PROFILE_QUARTERS
from .usage_statistics import (
    HourlyUsage,
    QuarterUsage,
    costed_quarters,
    hourly_from_quarters,
)

# Home Assistant's timers may fire a little before their moment.
EARLY_WAKE = timedelta(minutes=1)
# When yesterday's usage is still missing after the daily run, one more try then
# (plus this installation's offset).
EVENING_RETRY = time(21, 0)


def comparison_tariff(options: Mapping[str, Any]) -> ComparisonTariff:
    """Return the comparison tariff and the fixed charges set in the options."""
    return ComparisonTariff(
        float(options.get(CONF_COMPARISON_PRICE, 0)),
        float(options.get(CONF_COMPARISON_BASE_FEE, 0)),
        float(options.get(CONF_MONTHLY_FIXED_CHARGES, 0)),
    )


@dataclass(frozen=True, slots=True)
class UsageChunk:
    """Costed 15-minute usage of Berlin days [start, end), with the prices that cover it."""

    start: date
    end: date
    quarters: list[QuarterUsage]
    prices: PriceSchedule


class EnergyCoordinator(NomosCoordinator[dict[str, EnergyData]]):
    """Once a day: usage into statistics, consumption and cost totals, invoices.

    Nomos publishes smart-meter usage of day D from 16:00 on D+1; each
    installation runs at 16:00 plus its own offset. The first run imports
    from the start of supply (at most two years back), chunk by chunk and
    resumable; later runs re-import the correction window, so preliminary
    values replaced by final ones update the statistics.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: NomosClient,
        subscriptions: SubscriptionCoordinator,
        prices: PriceCoordinator,
        cache: NomosCache,
    ) -> None:
        """Create the coordinator."""
        super().__init__(
            hass,
            entry,
            client,
            subscriptions.access,
            concern="energy",
            update_interval=timedelta(hours=24),
            outage=Outage("usage and invoices", RETRY_BACKOFF_MAX, SUBSCRIPTIONS_RETRY_MAX),
        )
        self.subscriptions = subscriptions
        self.prices = prices
        self.cache = cache
        # The day and month sensors follow the Berlin date: midnight and the 1st
        # move them without a request.
        entry.async_on_unload(
            async_track_utc_time_change(hass, self._tick, minute=(0, 15, 30, 45), second=0)
        )
        self.run_offset = installation_offset(entry.entry_id)
        # When the next daily run is due (set by each run).
        self.due_at = self.next_run(dt_util.utcnow())
        # Imports of one entry never overlap (the daily run, the action).
        self.import_lock = asyncio.Lock()
        # Options change by reloading the entry: fixed for this coordinator's life.
        self.comparison = comparison_tariff(entry.options)
        self.companion = ContractCompanion(hass, entry, client, cache, subscriptions)

    @callback
    def _tick(self, now: datetime) -> None:
        self.async_update_listeners()

    def _yesterday_missing(self, today: date) -> bool:
        """Return whether a supplied smart-meter subscription lacks yesterday's usage."""
        return any(
            subscription.is_active
            and subscription.has_smart_meter
            and not yesterday_figure(self.cache.day_totals.get(subscription.id, {}), today).complete
            for subscription in self.subscriptions.data.subscriptions.values()
        )

    def invoice_check(self, subscription_id: str, invoice: Invoice | None) -> InvoiceCheck | None:
        """Compare an invoice with the imported day totals (None until they cover it)."""
        if invoice is None or invoice.type != "usage":
            return None
        return check_invoice(
            invoice.period_start,
            invoice.period_end,
            invoice.usage,
            self.cache.day_totals.get(subscription_id, {}),
        )

    def start_from_cache(self) -> bool:
        """Serve the last import's invoices and figures at once; run again only when due.

        Returns False when the cache has no complete import (setup then imports
        in the background).
        """
        run_at = self.cache.energy_run_at
        if run_at is None:
            return False
        data: dict[str, EnergyData] = {}
        for sub_id, stored in self.cache.energy.items():
            try:
                data[sub_id] = EnergyData.from_json(stored)
            except (NomosError, KeyError, TypeError, ValueError, IndexError, AttributeError):
                # Invoices are read again with the usage, from the kept import mark:
                # run now (no personal data in the log).
                LOGGER.warning("Ignoring the damaged Nomos cache parts: energy")
                return False
        self.data = data
        self._schedule_after(run_at)
        now = dt_util.utcnow()
        self.update_interval = max(self.due_at - now, timedelta(seconds=1))
        return True

    def _schedule_after(self, run_at: datetime) -> None:
        """Set when the run after one at `run_at` is due (the evening retry included)."""
        # Timers may fire up to a second early: the next run is the one after
        # this moment's, never this moment again.
        self.due_at = self.next_run(run_at + EARLY_WAKE)
        today = local_date(run_at)
        evening = dt_util.as_utc(datetime.combine(today, EVENING_RETRY, BERLIN) + self.run_offset)
        if run_at + EARLY_WAKE < evening < self.due_at and self._yesterday_missing(today):
            # Nomos may publish a day late: one more try this evening.
            self.due_at = evening

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
            if subscription.is_active or imported is None or not finished:
                relevant.append(subscription)
        return relevant

    async def _async_update_data(self) -> dict[str, EnergyData]:
        """Run the daily import for every relevant subscription."""
        now = dt_util.utcnow()
        today = local_date(now)
        current: dict[str, EnergyData] | None = self.data  # None until the first run
        result = dict(current or {})
        error: NomosError | None = None
        if current is not None and not self.outage.failures and now < self.due_at - EARLY_WAKE:
            # Not due: a manual refresh, or a timer that woke far too early.
            self.update_interval = self.due_at - now
            return result
        if self.outage.due(now):
            if current is not None:
                # The daily contract check rides along, sharing this run's token.
                await self.subscriptions.async_refresh()
            await self.companion.async_daily(now)  # §14a modules, meter orders: when due
            try:
                for subscription in self._relevant(today):
                    result[subscription.id] = await self.async_update_subscription(
                        subscription, today
                    )
                    latest = result[subscription.id].latest_usage_invoice
                    async_update_invoice_issue(
                        self.hass,
                        subscription.id,
                        subscription.display_number,
                        latest,
                        self.invoice_check(subscription.id, latest),
                    )
            except NomosError as err:
                error = err
            else:
                self.cache.set_energy(
                    {sub_id: data.to_json() for sub_id, data in result.items()}, now
                )
            self.outage.record(error, now)
            if error is not None:
                self.access.failed(error, now)
        self._schedule_after(now)
        retry = self.outage.retry_at
        self.update_interval = (retry if retry is not None else self.due_at) - now
        if error is not None and not result:
            raise update_failed(error) from error
        return result

    async def async_update_subscription(
        self, subscription: Subscription, today: date
    ) -> EnergyData:
        """Import one subscription's usage and read its invoices."""
        invoices = tuple(await self.client.list_invoices(subscription.id))
        if subscription.is_analog:
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
        await self.async_import(subscription, start, today)
        return EnergyData(invoices=invoices)

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
        an interrupted first import resumes where it stopped. The progress mark
        moves over a chunk only once the recorder has stored its rows: after a
        failed write (or without a running recorder) the next run imports the
        range again, and no gap stays behind.
        """
        hours: list[HourlyUsage] = []
        recent: list[QuarterUsage] = []  # the newest weeks shape the household's day profile
        async with self.import_lock:
            # Chunks are stored in order: after one is not, the mark stays before it.
            stored = True
            async for chunk in self.usage_chunks(subscription.id, start, end):
                chunk_hours = hourly_from_quarters(chunk.quarters)
                written = await async_import_hours(self.hass, subscription, chunk_hours)
                # The prices came with the chunk: no extra request for their history.
                written += await async_import_prices(
                    self.hass,
                    subscription,
                    hourly_prices(
                        chunk.prices.between(day_start(chunk.start), day_start(chunk.end))
                    ),
                )
                hours.extend(chunk_hours)
                recent = [*recent, *chunk.quarters][-PROFILE_QUARTERS:]
                # Per-day totals for the day and month sensors (read at every moment),
                # and each day's benefit and saving as statistics for graphs over time.
                totals = day_totals(chunk.quarters)
                self.cache.set_day_totals(subscription.id, totals, local_date(dt_util.utcnow()))
                written += await self._import_daily_figures(subscription, totals)
                if stored and not await async_stored(self.hass, written):
                    stored = False
                    self._not_stored(chunk.start)
                known = self.cache.imported_until.get(subscription.id)
                if stored and (known is None or chunk.end > known):
                    self.cache.set_imported_until(subscription.id, chunk.end)
            fixed = self.comparison.fixed_charges_month
            await async_keep_invoice_inputs(self.cache, self.client, subscription, recent, fixed)
        return hours

    def _not_stored(self, start: date) -> None:
        """Say once per import that its statistics wait for the next run."""
        LOGGER.warning(
            "The recorder did not store the Nomos statistics from %s on (it is not "
            "running or the write failed); the next daily import writes them again",
            start.isoformat(),
        )

    async def _import_daily_figures(
        self, subscription: Subscription, totals: Mapping[date, DayTotal]
    ) -> list[Written]:
        """Write the days' shifting benefit and, with a comparison tariff, their saving."""
        if subscription.is_feed_in:
            return []
        written = await async_import_daily(
            self.hass, subscription, DailyStatistic.BENEFIT, daily_benefits(totals)
        )
        if not await self._sync_comparison(subscription):
            written += await async_import_daily(
                self.hass,
                subscription,
                DailyStatistic.SAVED,
                daily_savings(totals, self.comparison),
            )
        return written

    async def _sync_comparison(self, subscription: Subscription) -> bool:
        """Rewrite the whole saving statistic when the comparison settings changed.

        Each row depends on the options; after a change, every imported day is
        written again from the cached day totals (no request), or the statistic
        is cleared when the comparison was turned off. Returns whether it did.
        """
        settings = self.comparison.fingerprint
        if self.cache.comparison_written.get(subscription.id) == settings or not (
            recorder_running(self.hass)
        ):
            return False
        if self.cache.comparison_written.get(subscription.id) is not None:
            await async_clear_daily(self.hass, subscription, DailyStatistic.SAVED)
        totals = self.cache.day_totals.get(subscription.id, {})
        written = await async_import_daily(
            self.hass,
            subscription,
            DailyStatistic.SAVED,
            daily_savings(totals, self.comparison),
            from_scratch=True,
        )
        # Only a stored rewrite counts: otherwise the next import tries again.
        if await async_stored(self.hass, written):
            self.cache.set_comparison_written(subscription.id, settings)
        return True

    async def async_sync_comparisons(self) -> None:
        """Bring every subscription's saving statistic in line with the options."""
        async with self.import_lock:
            for subscription in self.subscriptions.data.subscriptions.values():
                if not subscription.is_feed_in and subscription.id in self.cache.day_totals:
                    await self._sync_comparison(subscription)

    async def usage_chunks(
        self, subscription_id: str, start: date, end: date
    ) -> AsyncIterator[UsageChunk]:
        """Yield the costed 15-minute usage of Berlin days [start, end), chunk by chunk.

        The one place usage is fetched: the daily import and `get_consumption`
        both read it here, each chunk with the prices that cover it.
        """
        chunk_start = start
        while chunk_start < end:
            chunk_end = min(chunk_start + timedelta(FETCH_CHUNK_DAYS), end)
            usage = await self.client.get_usage(subscription_id, chunk_start, chunk_end, "15min")
            prices = await self.async_prices(subscription_id, chunk_start, chunk_end)
            yield UsageChunk(chunk_start, chunk_end, costed_quarters(usage.items, prices), prices)
            chunk_start = chunk_end

    async def async_quarters(
        self, subscription_id: str, start: date, end: date
    ) -> list[QuarterUsage]:
        """Return the costed 15-minute usage of Berlin days [start, end)."""
        return [
            quarter
            async for chunk in self.usage_chunks(subscription_id, start, end)
            for quarter in chunk.quarters
        ]

    async def async_prices(self, subscription_id: str, start: date, end: date) -> PriceSchedule:
        """Return prices covering Berlin days [start, end), from the cache or Nomos."""
        cached = (self.prices.data or {}).get(subscription_id, PriceSchedule())
        if cached.covers(day_start(start), day_start(end)):
            return cached
        series = await self.client.get_prices(subscription_id, start, end - timedelta(days=1))
        fresh = intervals_from_series(series)
        self.prices.add_history(subscription_id, fresh)
        return cached.merge(fresh)
