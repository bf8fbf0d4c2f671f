"""The persistent cache: subscriptions and prices survive restarts and outages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
import inspect
import sys
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store

from .appliance_plan import Plan
from .companion_state import CompanionState
from .const import BACKFILL_DAYS, DOMAIN, LOGGER
from .daily_totals import DayTotal
from .nomos_client import NomosError, Subscription
from .nomos_client.models import Fields
from .price_schedule import PriceSchedule
from .usage_profile import UsageProfile

STORAGE_VERSION = 1
# Writes are batched briefly; Home Assistant flushes pending writes on shutdown.
SAVE_DELAY = 1
# Day totals are kept as far back as the import reaches: the day and month sensors
# read the last two months, the daily saving statistic is rewritten from all of
# them when the comparison settings change (about 30 bytes a day).
DAY_TOTALS_KEPT = timedelta(days=BACKFILL_DAYS + 31)
# What reading a damaged value can raise.
_DAMAGE = (
    NomosError,
    KeyError,
    TypeError,
    ValueError,
    IndexError,
    AttributeError,
    OverflowError,
)
# Newer Home Assistant releases refuse a file of a newer major version unless the Store
# may read it; older ones hand it to `_async_migrate_func` (see there) either way.
_READ_NEWER: dict[str, Any] = (
    {"max_readable_version": sys.maxsize}
    if "max_readable_version" in inspect.signature(Store.__init__).parameters
    else {}
)


class _CacheStore(Store[Any]):
    """The cache's file (whatever it holds); one of a newer version is read, not refused."""

    # The storage version the loaded file was written with, when not this one's.
    migrated_from: int | None = None

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: Any
    ) -> Any:
        """Hand the stored sections on as they are: NomosCache reads them one by one.

        Only version 1 exists. A newer file means the integration was downgraded.
        Starting empty would re-import two years of usage and forget hidden
        devices and running plans; refusing to write would lose every change
        until the next upgrade. So whatever this version can read is used, the
        rest dropped (what Nomos can give again is fetched again), and the file
        is then written in this version's format (the Store saves it at once;
        NomosCache writes the clean form right after), which a newer version
        upgrades like any version 1 file. A newer version must therefore rename
        a section whose meaning it changes, rather than reuse its name.
        """
        if not isinstance(old_major_version, int):
            raise TypeError("storage version")  # a damaged header: NomosCache starts empty
        self.migrated_from = old_major_version
        return old_data


class _Sections:
    """Reads the stored sections, dropping only what is damaged and naming where."""

    def __init__(self, stored: Mapping[str, Any]) -> None:
        self._stored = stored
        self.damaged: set[str] = set()

    def value[T](self, section: str, read: Callable[[Any], T], default: T) -> T:
        """Read one value; a missing or null one is the default, a damaged one too."""
        raw = self._stored.get(section)
        if raw is None:
            return default
        try:
            return read(raw)
        except _DAMAGE as err:
            self.damage(section, err)
            return default

    def entries[K, V](
        self, section: str, raw: Any, key: Callable[[str], K], read: Callable[[Any], V]
    ) -> dict[K, V]:
        """Read a JSON object entry by entry: a damaged entry is dropped alone."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.damage(section, TypeError(type(raw).__name__))
            return {}
        result: dict[K, V] = {}
        for name, item in raw.items():
            try:
                result[key(name)] = read(item)
            except _DAMAGE as err:
                self.damage(section, err)
        return result

    def section[V](self, section: str, read: Callable[[Any], V]) -> dict[str, V]:
        """Read a section keyed by subscription (or planner), entry by entry."""
        return self.entries(section, self._stored.get(section), str, read)

    def damage(self, section: str, err: Exception) -> None:
        """Remember a damaged section (the error's text may hold personal data)."""
        LOGGER.debug("Damaged Nomos cache section %s: %s", section, type(err).__name__)
        self.damaged.add(section)


def _aware(value: Any) -> datetime:
    """Read a timestamp; a naive one could not be compared with the clock."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("naive timestamp")
    return moment


def _day(value: Any) -> date:
    return date.fromisoformat(value)


def _subscriptions(items: Any) -> dict[str, Subscription]:
    # All or nothing: a subscription missing from a partial list would look
    # ended, and its device would be removed.
    if not isinstance(items, list):
        raise TypeError("subscriptions")
    return {
        subscription.id: subscription
        for subscription in (Subscription.from_fields(Fields(item)) for item in items)
    }


def _schedule(items: Any) -> PriceSchedule:
    if not isinstance(items, list) or not all(_interval_shape(item) for item in items):
        raise TypeError("prices")
    return PriceSchedule.from_json(items)


def _interval_shape(item: Any) -> bool:
    # The components are used as numbers later, long after loading.
    return (
        isinstance(item, list)
        and len(item) == 4
        and isinstance(item[3], dict)
        and all(value is None or isinstance(value, int | float) for value in item[3].values())
    )


def _day_total(data: Any) -> DayTotal:
    if not isinstance(data, list):
        raise TypeError("day total")
    return DayTotal.from_json(data)


def _days(days: Any, sections: _Sections) -> dict[date, DayTotal]:
    """Read one subscription's day totals; a damaged day is dropped alone."""
    if not isinstance(days, dict):
        raise TypeError("day totals")
    return sections.entries("day_totals", days, _day, _day_total)


def _hidden(items: Any, sections: _Sections) -> set[str]:
    """Read the deleted devices' subscriptions; what is not an id is dropped alone."""
    if not isinstance(items, list):
        raise TypeError("hidden")
    if not all(isinstance(item, str) for item in items):
        sections.damage("hidden", TypeError("hidden"))
    return {item for item in items if isinstance(item, str)}


def _energy(data: Any) -> dict[str, Any]:
    # The energy coordinator reads the content; it imports again what it cannot read.
    if not isinstance(data, dict):
        raise TypeError("energy")
    return dict(data)


def _plan(data: Any) -> dict[str, Any]:
    """Check a planner's stored plan: the planners then read it without surprises."""
    if not isinstance(data, dict):
        raise TypeError("plan")
    if data.get("plan") is not None:
        plan = Plan.from_json(data["plan"])
        moments = [moment for segment in plan.segments for moment in segment]
        if not moments or any(m.tzinfo is None for m in (*moments, plan.deadline)):
            raise ValueError("plan")
        if not all(
            value is None or isinstance(value, int | float)
            for value in (plan.average_ct, plan.cost_eur, plan.cost_now_eur)
        ) or plan.cap_met not in (None, True, False):
            raise TypeError("plan")
    if data.get("served_until") is not None:
        _aware(data["served_until"])
    for day in data.get("skipped", []):
        _day(day)
    if data.get("plan") and data["plan"].get("not_before") is not None:
        _aware(data["plan"]["not_before"])
    return dict(data)


def _quote(data: Any) -> tuple[date, dict[str, Any]]:
    """Read a day's answer of the grid-fee comparison (the day it holds for, the answer)."""
    if not isinstance(data, dict) or not isinstance(data["answer"], dict):
        raise TypeError("quote")
    return _day(data["day"]), dict(data["answer"])


def _fee(value: Any) -> float | None:
    return None if value is None else float(value)


def _comparison(settings: Any) -> tuple[float, ...] | None:
    if settings is None:
        return None
    if not isinstance(settings, list):
        raise TypeError("comparison")
    return tuple(float(x) for x in settings)


class NomosCache:
    """What the integration knows, persisted in `.storage/nomos_energy.<entry_id>`."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Create the cache for one config entry."""
        self._store = _CacheStore(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}", private=True, **_READ_NEWER
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
        # §14a modules and smart-meter orders, and when each was asked (None: never).
        self.companion: CompanionState | None = None
        # The grid-fee comparison's answer per subscription, and the Berlin day it holds for.
        self.quotes: dict[str, tuple[date, dict[str, Any]]] = {}
        # Each subscription's day shapes (the expected invoice), from the daily import.
        self.usage_profiles: dict[str, UsageProfile] = {}
        # Each plan's monthly base fee (EUR; None: the plan names none), read once.
        self.plan_fees: dict[str, float | None] = {}

    async def async_load(self) -> None:
        """Load what was stored; damage is dropped part by part, never fatal.

        Each section, and within it each subscription, planner or day, is read on
        its own: a damaged one is dropped (and fetched from Nomos again), the rest
        (running plans, import progress, hidden devices) is kept. One warning
        names the dropped sections, never their content.
        """
        try:
            stored = await self._store.async_load()
        except (HomeAssistantError, NotImplementedError, *_DAMAGE):
            # Not even the file's header is readable: start empty; the first
            # change (the subscriptions, within moments) replaces the file.
            LOGGER.warning("Ignoring the damaged Nomos cache: it is not readable")
            return
        if stored is None:
            return
        if not isinstance(stored, dict):
            LOGGER.warning("Ignoring the damaged Nomos cache: it is not readable")
            return
        sections = _Sections(stored)
        self.subscriptions = sections.value("subscriptions", _subscriptions, None)
        if self.subscriptions is not None:
            self.subscriptions_fetched_at = sections.value("subscriptions_fetched_at", _aware, None)
        self.prices = sections.section("prices", _schedule)
        self.imported_until = sections.section("imported_until", _day)
        self.hidden = sections.value("hidden", lambda items: _hidden(items, sections), set())
        self.day_totals = sections.section("day_totals", lambda days: _days(days, sections))
        self.energy = sections.section("energy", _energy)
        self.plans = sections.section("plans", _plan)
        self.comparison_written = sections.section("comparison_written", _comparison)
        self.energy_run_at = sections.value("energy_run_at", _aware, None)
        self.companion = sections.value("companion", CompanionState.from_json, None)
        self.quotes = sections.section("quotes", _quote)
        self.usage_profiles = sections.section("usage_profiles", UsageProfile.from_json)
        self.plan_fees = sections.section("plan_fees", _fee)
        newer = self._store.migrated_from
        if newer is not None and newer > STORAGE_VERSION:
            LOGGER.warning(
                "The Nomos cache was written by a newer version of this integration "
                "(storage version %s); using what this version can read%s",
                newer,
                f", ignoring: {', '.join(sorted(sections.damaged))}" if sections.damaged else "",
            )
        elif sections.damaged:
            LOGGER.warning(
                "Ignoring the damaged Nomos cache parts: %s", ", ".join(sorted(sections.damaged))
            )
        if sections.damaged or newer is not None:
            # Write the clean form, so the next start reads no damage again.
            self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

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

    def set_companion(self, state: CompanionState) -> None:
        """Remember the modules and orders, and when they were asked for."""
        self.companion = state
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def set_quote(self, subscription_id: str, day: date, answer: dict[str, Any]) -> None:
        """Remember a comparison's answer for the rest of its day (other days' go)."""
        self.quotes = {
            sub_id: (kept_day, kept)
            for sub_id, (kept_day, kept) in self.quotes.items()
            if kept_day == day
        } | {subscription_id: (day, answer)}
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def set_usage_profile(self, subscription_id: str, profile: UsageProfile | None) -> None:
        """Remember a subscription's day shapes, unless older than the kept ones (or none).

        Re-importing an old range (the import action) shapes old days: not kept.
        """
        kept = self.usage_profiles.get(subscription_id)
        if profile is not None and (kept is None or profile.last_day >= kept.last_day):
            self.usage_profiles[subscription_id] = profile
            self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def set_plan_fee(self, plan_id: str, fee: float | None) -> None:
        """Remember a plan's monthly base fee (None: Nomos names none for this sign-in)."""
        self.plan_fees[plan_id] = fee
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
            "companion": None if self.companion is None else self.companion.to_json(),
            "quotes": {
                sub_id: {"day": day.isoformat(), "answer": answer}
                for sub_id, (day, answer) in self.quotes.items()
            },
            "usage_profiles": {
                sub_id: profile.to_json() for sub_id, profile in self.usage_profiles.items()
            },
            "plan_fees": self.plan_fees,
        }

    async def async_flush(self) -> None:
        """Write pending changes now (on unload, so a reload reads them back)."""
        await self._store.async_save(self._data_to_save())

    async def async_remove(self) -> None:
        """Delete the stored file (when the entry is removed)."""
        await self._store.async_remove()
