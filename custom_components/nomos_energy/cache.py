"""The persistent cache: subscriptions and prices survive restarts and outages."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import BACKFILL_DAYS, DOMAIN, LOGGER
from .daily_totals import DayTotal
from .nomos_client import NomosError, Subscription
from .nomos_client.models import Fields
from .price_schedule import PriceSchedule

STORAGE_VERSION = 1
# Writes are batched briefly; Home Assistant flushes pending writes on shutdown.
SAVE_DELAY = 1
# Day totals are kept as far back as the import reaches: the day and month sensors
# read the last two months, the daily saving statistic is rewritten from all of
# them when the comparison settings change (about 30 bytes a day).
DAY_TOTALS_KEPT = timedelta(days=BACKFILL_DAYS + 31)


class NomosCache:
    """What the integration knows, persisted in `.storage/nomos_energy.<entry_id>`."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Create the cache for one config entry."""
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}", private=True
        )
        self.subscriptions: dict[str, Subscription] | None = None
        # When the subscriptions were last read from Nomos.
        self.subscriptions_fetched_at: datetime | None = None
        self.prices: dict[str, PriceSchedule] = {}
        # The Berlin day up to which (exclusive) usage is imported, per subscription.
        self.imported_until: dict[str, date] = {}
        # Subscriptions whose device the user removed: not added again.
        self.hidden: set[str] = set()
        # Consumption and cost per Berlin day, per subscription (the day and month sensors).
        self.day_totals: dict[str, dict[date, DayTotal]] = {}
        # What the last daily import learned (invoices, analog months), as JSON per
        # subscription, and when it ran: a restart before the next run asks nothing.
        self.energy: dict[str, dict[str, Any]] = {}
        self.energy_run_at: datetime | None = None
        # Each appliance planner's current plan (JSON), by subentry id.
        self.plans: dict[str, dict[str, Any]] = {}
        # The comparison settings each subscription's saving statistic was written with.
        self.comparison_written: dict[str, tuple[float, ...] | None] = {}

    async def async_load(self) -> None:
        """Load what was stored; a damaged cache is ignored, never fatal."""
        stored = await self._store.async_load()
        if not stored:
            return
        try:
            if stored.get("subscriptions") is not None:
                self.subscriptions = {
                    item["id"]: Subscription.from_fields(Fields(item))
                    for item in stored["subscriptions"]
                }
            self.prices = {
                sub_id: PriceSchedule.from_json(items)
                for sub_id, items in stored.get("prices", {}).items()
            }
            self.imported_until = {
                sub_id: date.fromisoformat(day)
                for sub_id, day in stored.get("imported_until", {}).items()
            }
            self.hidden = {str(sub_id) for sub_id in stored.get("hidden", [])}
            if fetched_at := stored.get("subscriptions_fetched_at"):
                self.subscriptions_fetched_at = datetime.fromisoformat(fetched_at)
            self.day_totals = {
                sub_id: {date.fromisoformat(day): DayTotal.from_json(v) for day, v in days.items()}
                for sub_id, days in stored.get("day_totals", {}).items()
            }
            self.energy = dict(stored.get("energy", {}))
            self.plans = dict(stored.get("plans", {}))
            self.comparison_written = {
                sub_id: None if settings is None else tuple(float(x) for x in settings)
                for sub_id, settings in stored.get("comparison_written", {}).items()
            }
            if run_at := stored.get("energy_run_at"):
                self.energy_run_at = datetime.fromisoformat(run_at)
        except (NomosError, KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
            LOGGER.warning("Ignoring the damaged Nomos cache: %s", err)
            self.subscriptions, self.prices, self.imported_until = None, {}, {}
            self.hidden, self.day_totals = set(), {}
            self.energy, self.energy_run_at, self.plans = {}, None, {}
            self.comparison_written = {}

    def set_subscriptions(
        self, subscriptions: dict[str, Subscription], fetched_at: datetime
    ) -> None:
        """Remember the subscriptions and when Nomos listed them."""
        self.subscriptions = dict(subscriptions)
        self.subscriptions_fetched_at = fetched_at
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def set_prices(self, prices: dict[str, PriceSchedule]) -> None:
        """Remember the price schedules."""
        self.prices = dict(prices)
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def hide(self, subscription_id: str) -> None:
        """Remember that the user removed this subscription's device."""
        self.hidden.add(subscription_id)
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def set_imported_until(self, subscription_id: str, day: date) -> None:
        """Remember how far usage statistics are imported."""
        self.imported_until[subscription_id] = day
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def set_day_totals(
        self, subscription_id: str, totals: dict[date, DayTotal], today: date
    ) -> None:
        """Remember freshly imported day totals; days older than DAY_TOTALS_KEPT go."""
        kept = self.day_totals.get(subscription_id, {}) | totals
        oldest = today - DAY_TOTALS_KEPT
        self.day_totals[subscription_id] = {day: t for day, t in kept.items() if day >= oldest}
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def set_energy(self, energy: dict[str, dict[str, Any]], run_at: datetime) -> None:
        """Remember what a complete daily import learned, and when it ran."""
        self.energy = dict(energy)
        self.energy_run_at = run_at
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def set_plans(self, plans: dict[str, dict[str, Any]]) -> None:
        """Remember the appliance plans (a restart continues a run)."""
        self.plans = dict(plans)
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def set_comparison_written(
        self, subscription_id: str, settings: tuple[float, ...] | None
    ) -> None:
        """Remember the comparison settings the saving statistic now reflects."""
        self.comparison_written[subscription_id] = settings
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def _data_to_save(self) -> dict[str, Any]:
        return {
            "subscriptions": None
            if self.subscriptions is None
            else [subscription.to_json() for subscription in self.subscriptions.values()],
            "subscriptions_fetched_at": self.subscriptions_fetched_at.isoformat()
            if self.subscriptions_fetched_at
            else None,
            "prices": {sub_id: schedule.to_json() for sub_id, schedule in self.prices.items()},
            "imported_until": {
                sub_id: day.isoformat() for sub_id, day in self.imported_until.items()
            },
            "hidden": sorted(self.hidden),
            "day_totals": {
                sub_id: {day.isoformat(): total.to_json() for day, total in sorted(days.items())}
                for sub_id, days in self.day_totals.items()
            },
            "energy": self.energy,
            "plans": self.plans,
            "comparison_written": {
                sub_id: None if settings is None else list(settings)
                for sub_id, settings in self.comparison_written.items()
            },
            "energy_run_at": self.energy_run_at.isoformat() if self.energy_run_at else None,
        }

    async def async_flush(self) -> None:
        """Write pending changes now (on unload, so a reload reads them back)."""
        await self._store.async_save(self._data_to_save())

    async def async_remove(self) -> None:
        """Delete the stored file (when the entry is removed)."""
        await self._store.async_remove()
