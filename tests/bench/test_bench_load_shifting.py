"""Benchmark (script/bench): load shifting costs no request and little CPU.

The quarter-hour tick with 3 subscriptions and 5 appliance planners, the
period computation on a 100-quarter-hour day, and the recorder rows all the
new entities write in a day. The figures go into the summary printed last.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
import statistics
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.history import get_significant_states
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.nomos_energy.periods import PeriodKind, find_periods
from custom_components.nomos_energy.price_schedule import BERLIN, PriceInterval, day_bounds
from nomos_simulator import NomosSimulator
from nomos_simulator.data import Subscription

from ..conftest import BEN, entry_for
from .test_bench_prices import RESULTS

pytestmark = [pytest.mark.bench]
AddEntry = Callable[..., Awaitable[MockConfigEntry]]
QUARTER = timedelta(minutes=15)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


def appliances(simulator: NomosSimulator) -> list[ConfigSubentryData]:
    """Five planners over Ben's three subscriptions (daily, within, pausing, with power)."""
    subs = [sub.id for sub in simulator.subscriptions.values() if sub.customer.email == BEN]
    shapes: list[dict[str, Any]] = [
        {"duration_minutes": 120, "deadline": "07:00:00", "may_pause": False, "power_kw": 1.8},
        {"duration_minutes": 90, "deadline": "17:00:00", "may_pause": False, "power_kw": 2.2},
        {"duration_minutes": 240, "deadline": "06:00:00", "may_pause": True, "power_kw": 11},
        {"duration_minutes": 60, "deadline": "12:00:00", "may_pause": False, "power_kw": None},
        {"duration_minutes": 180, "deadline": "22:00:00", "may_pause": True, "power_kw": 3.5},
    ]
    return [
        ConfigSubentryData(
            data={"subscription_id": subs[i % len(subs)], "within_minutes": None, **shape},
            subentry_type="appliance",
            title=f"Appliance {i + 1}",
            unique_id=None,
        )
        for i, shape in enumerate(shapes)
    ]


def three_subscriptions(simulator: NomosSimulator) -> None:
    ben = simulator.customer_by_email(BEN)
    for key, number in (("ben-garage", "G4R4G3BN"), ("ben-office", "0FF1C3BN")):
        extra = Subscription(key, ben, number, "smart", datetime(2026, 9, 1, tzinfo=UTC))
        simulator.subscriptions[extra.id] = extra


async def test_tick_with_planners(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    setup_credentials: None,
    freezer: FrozenDateTimeFactory,
) -> None:
    """CPU time of the quarter-hour tick over two days: 3 subscriptions, 5 planners."""
    three_subscriptions(simulator)
    freezer.move_to(berlin(2026, 11, 28, 0, 0))
    entry = entry_for(simulator, BEN)
    entry = MockConfigEntry(
        domain=entry.domain,
        data=dict(entry.data),
        unique_id=entry.unique_id,
        title=entry.title,
        subentries_data=appliances(simulator),
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(entry.runtime_data.subscriptions.data.active_ids) == 3
    assert len(entry.runtime_data.planners.planners) == 5
    moment = berlin(2026, 11, 28, 0, 0)
    cpu = []
    simulator.requests.clear()
    while moment < berlin(2026, 11, 30, 0, 0):
        moment += QUARTER
        freezer.move_to(moment + timedelta(seconds=1))
        before = time.process_time()
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
        cpu.append(time.process_time() - before)
    median, worst = statistics.median(cpu) * 1000, max(cpu) * 1000
    print(
        f"\nquarter-hour tick, 3 subscriptions and 5 planners, 2 days: median {median:.2f} ms, "
        f"worst {worst:.2f} ms (the worst tick includes the day's price fetch and import)"
    )
    RESULTS["tick_3_subs_5_planners_median_ms"] = round(median, 2)
    RESULTS["tick_3_subs_5_planners_worst_ms"] = round(worst, 2)


def test_period_computation_speed() -> None:
    """Cheap and expensive periods of a 100-quarter-hour day plus the next day."""
    start, _ = day_bounds(date(2026, 10, 25))
    intervals = [
        PriceInterval(
            start + i * QUARTER, start + (i + 1) * QUARTER, 20 + 10 * ((i * 7919) % 97) / 97
        )
        for i in range(196)
    ]
    timings = []
    for _ in range(200):
        begin = time.perf_counter()
        for kind in PeriodKind:
            find_periods(intervals, kind)
        timings.append(time.perf_counter() - begin)
    median = statistics.median(timings) * 1000
    print(
        f"\nperiods of 196 quarter-hours (a 100-quarter-hour day and the next): median {median:.3f} ms"
    )
    RESULTS["periods_100_quarter_day_ms"] = round(median, 4)


@pytest.mark.energy_import
async def test_recorder_rows_per_day(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """States recorded in a day by the load-shifting entities; no list ever recorded."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 10, 24, 0, 0))
    from ..conftest import ANNA  # noqa: PLC0415

    await add_entry(ANNA)
    moment = berlin(2026, 10, 24, 0, 0)
    while moment < berlin(2026, 10, 25, 0, 0):
        moment += QUARTER
        freezer.move_to(moment + timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    wanted = [
        state.entity_id
        for state in hass.states.async_all()
        if state.entity_id.startswith(("binary_sensor.nomos", "sensor.nomos", "calendar.nomos"))
        and any(
            key in state.entity_id
            for key in ("period", "next_24", "next_3", "price_feed", "prices", "tomorrow")
        )
    ]
    history = await get_instance(hass).async_add_executor_job(
        get_significant_states, hass, berlin(2026, 10, 24, 0, 0), None, wanted, None, True
    )
    rows = sum(len(states) for states in history.values())
    lists = sum(
        1
        for states in history.values()
        for state in states
        if any(isinstance(value, list) for value in getattr(state, "attributes", {}).values())
    )
    print(
        f"\nrecorder: {rows} state rows in a day from {len(wanted)} load-shifting entities; lists recorded: {lists}"
    )
    RESULTS["load_shifting_state_rows_per_day"] = rows
    RESULTS["load_shifting_lists_recorded"] = lists
