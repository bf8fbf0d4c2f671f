"""Benchmark (script/bench): setup from the cache, daily import runs, a day with a null price.

The figures go into the summary that test_bench_prices prints last.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
import statistics
import time
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.nomos_energy.energy_coordinator import EnergyCoordinator
from custom_components.nomos_energy.price_schedule import BERLIN
from nomos_simulator import NomosSimulator

from ..conftest import ANNA
from .test_bench_prices import RESULTS

pytestmark = [pytest.mark.bench, pytest.mark.energy_import]
AddEntry = Callable[..., Awaitable[MockConfigEntry]]
PRICES = "GET /subscriptions/{id}/prices"


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


def wall_clock() -> float:
    """Seconds of real time: the test's frozen clocks (time.perf_counter too) stand still."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def our_states(hass: HomeAssistant) -> dict[str, str]:
    return {
        state.entity_id: state.state
        for state in hass.states.async_all()
        if state.entity_id.startswith(("sensor.nomos", "binary_sensor.nomos", "event.nomos"))
    }


@pytest.mark.parametrize("nomos", ["answering", "slow", "unreachable"])
async def test_setup_from_cache(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    nomos: str,
) -> None:
    """How long a restart's setup takes with a fresh cache, whatever Nomos does meanwhile."""
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    entry = await add_entry(ANNA)
    before = our_states(hass)
    if nomos == "slow":
        for route in ("GET /subscriptions", "POST /oauth/token", PRICES, "GET /invoices"):
            simulator.inject(route, delay=10)
    elif nomos == "unreachable":
        await simulator.stop()
    simulator.requests.clear()
    timings = []
    for _ in range(20):
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        begin = wall_clock()
        assert await hass.config_entries.async_setup(entry.entry_id)
        timings.append(wall_clock() - begin)
        await hass.async_block_till_done()
    same = our_states(hass) == before
    requests = sum(simulator.requests.values())
    median, worst = statistics.median(timings) * 1000, max(timings) * 1000
    print(
        f"\nsetup from cache, Nomos {nomos}: median {median:.1f} ms, max {worst:.1f} ms; "
        f"{requests} requests in 20 restarts; same states as before: {same}"
    )
    RESULTS[f"setup_from_cache_{nomos}_ms"] = round(median, 2)
    RESULTS[f"setup_from_cache_{nomos}_requests"] = requests
    assert same


async def walk_minutes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, start: datetime, end: datetime
) -> None:
    """Real time, minute by minute: every timer fires when it is due."""
    moment = start
    while moment < end:
        moment += timedelta(minutes=1)
        freezer.move_to(moment)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


def requests_per_day(simulator: NomosSimulator, route: str, first: datetime) -> dict[date, int]:
    counts: Counter[date] = Counter()
    for when, seen in simulator.request_log:
        if seen == route and when >= first:
            counts[when.astimezone(BERLIN).date()] += 1
    return dict(sorted(counts.items()))


async def test_daily_import_runs_per_day(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Three days minute by minute: how often the daily import runs, and what it asks."""
    runs: Counter[date] = Counter()
    original = EnergyCoordinator.async_update_subscription

    async def counted(self: EnergyCoordinator, subscription: Any, today: date) -> Any:
        runs[datetime.now(UTC).astimezone(BERLIN).date()] += 1
        return await original(self, subscription, today)

    start = berlin(2026, 11, 23, 0, 0)
    freezer.move_to(start)
    with patch.object(EnergyCoordinator, "async_update_subscription", counted):
        await add_entry(ANNA)
        runs.clear()
        first_day = start + timedelta(days=1)
        await walk_minutes(hass, freezer, start, start + timedelta(days=4))
    days = {day: count for day, count in runs.items() if day >= first_day.date()}
    usage = requests_per_day(simulator, "GET /subscriptions/{id}/usage", first_day)
    everything = Counter(
        when.astimezone(BERLIN).date() for when, _ in simulator.request_log if when >= first_day
    )
    print(
        f"\ndaily import, 3 days minute by minute: runs per day {list(days.values())}, "
        f"usage requests per day {list(usage.values())}, all requests per day "
        f"{[everything[day] for day in sorted(everything)]}"
    )
    RESULTS["daily_import_runs_per_day_max"] = max(days.values())
    RESULTS["requests_per_day_max"] = max(everything.values())


async def test_day_with_a_null_price(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nomos publishes a null for one of today's quarter-hours: price requests that day,
    with someone pressing "update" on the price sensor every hour as well."""
    anna = next(sub for sub in simulator.subscriptions.values() if sub.number == "4X44EMKX")
    start = berlin(2026, 11, 24, 0, 0)
    anna.price_overrides[berlin(2026, 11, 24, 9, 15)] = None
    freezer.move_to(start - timedelta(hours=1))
    await async_setup_component(hass, "homeassistant", {})
    await add_entry(ANNA)
    simulator.request_log.clear()
    moment = start
    for _ in range(24):
        await walk_minutes(hass, freezer, moment, moment + timedelta(hours=1))
        moment += timedelta(hours=1)
        await hass.services.async_call(
            "homeassistant",
            "update_entity",
            {"entity_id": "sensor.nomos_4x44emkx_current_price"},
            blocking=True,
        )
    asked = requests_per_day(simulator, PRICES, start)
    print(f"\na day with one null price (and hourly update_entity): price requests {asked}")
    RESULTS["null_price_day_price_requests"] = asked.get(date(2026, 11, 24), 0)
