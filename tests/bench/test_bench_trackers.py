"""Benchmark (script/bench): cost trackers, their backfill and the cost of keeping them current.

Backfilling a tracker from 30 days of 5-minute history (wall time, statistics rows
written, requests to Nomos), then five trackers over a day whose meters change
every five minutes: CPU per quarter-hour boundary (reading, costing, writing the
hour, moving the sensors) and per state change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
import statistics
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant, callback
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nomos_energy.tracker_manager import TrackerManager
from nomos_simulator import NomosSimulator

from ..conftest import ANNA
from ..test_cost_tracker_entities import ENERGY, add_tracker, import_meter
from ..timetravel import QUARTER, berlin, travel
from .test_bench_backfill import wall_clock
from .test_bench_prices import RESULTS

pytestmark = [pytest.mark.bench, pytest.mark.energy_import]
AddEntry = Callable[..., Awaitable[MockConfigEntry]]


async def test_tracker_backfill_and_upkeep(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    sub = next(s for s in simulator.subscriptions.values() if s.number == "4X44EMKX")
    sub.start_at = berlin(2026, 10, 20, 0, 0)
    now = berlin(2026, 11, 29, 18, 0)
    freezer.move_to(now)
    entry = await add_entry(ANNA)
    usage: dict[datetime, float] = {}
    moment = now - timedelta(days=30, hours=1)
    while moment < now - timedelta(minutes=15):
        usage[moment] = sub.quarter_usage(moment) * 0.5
        moment += QUARTER
    await import_meter(hass, "sensor.heat_pump_meter", usage, min(usage))
    simulator.request_log.clear()
    begin = wall_clock()
    await add_tracker(hass, entry, "Heat pump", "sensor.heat_pump_meter")
    took = wall_clock() - begin
    entry = hass.config_entries.async_get_entry(entry.entry_id)
    tracker = next(iter(entry.runtime_data.trackers.trackers.values()))
    rows = (tracker.written_until - min(tracker.quarters)) // 3600
    requests = len(simulator.request_log)
    print(
        f"\ntracker backfill, 30 days of 5-minute history: {took:.2f} s (reload included), "
        f"{rows} hourly statistics rows, {requests} requests to Nomos"
    )
    RESULTS["tracker_backfill_seconds"] = round(took, 2)
    RESULTS["tracker_backfill_rows"] = rows
    RESULTS["tracker_backfill_requests"] = requests
    assert tracker.backfill == "5minute"
    assert rows >= 30 * 24
    # Five trackers, their meters changing every five minutes for a day.
    boundary: list[float] = []
    changes: list[float] = []
    writes: list[float] = []
    written: list[int] = []
    tick, change, write = (
        TrackerManager._quarter_hour,
        TrackerManager._state_changed,
        TrackerManager.async_write,
    )

    @callback
    def timed_tick(self: TrackerManager, moment: datetime) -> None:
        start = time.thread_time()
        tick(self, moment)
        boundary.append(time.thread_time() - start)

    @callback
    def timed_change(self: TrackerManager, event: Any) -> None:
        start = time.thread_time()
        change(self, event)
        changes.append(time.thread_time() - start)

    async def timed_write(self: TrackerManager, tracker: Any, moment: datetime) -> None:
        before = tracker.written_until
        start = time.thread_time()
        await write(self, tracker, moment)
        writes.append(time.thread_time() - start)
        written.append((tracker.written_until - before) // 3600)

    meters = [f"sensor.meter_{n}" for n in range(5)]
    reading = 100.0
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TrackerManager, "_quarter_hour", timed_tick)
        patch.setattr(TrackerManager, "_state_changed", timed_change)
        patch.setattr(TrackerManager, "async_write", timed_write)
        for entity_id in meters:
            hass.states.async_set(entity_id, "100", {**ENERGY, "unit_of_measurement": "kWh"})
            await add_tracker(hass, entry, entity_id.split(".")[1], entity_id)
        boundary.clear()
        changes.clear()
        writes.clear()
        written.clear()
        moment = now
        while moment < now + timedelta(days=1):
            moment += timedelta(minutes=5)
            reading += 0.1
            for entity_id in meters:
                hass.states.async_set(
                    entity_id, str(round(reading, 3)), {**ENERGY, "unit_of_measurement": "kWh"}
                )
            await travel(hass, freezer, moment)
    per_boundary = statistics.median(boundary) * 1000
    worst = max(boundary) * 1000
    per_write = statistics.median(writes) * 1000
    per_change = statistics.median(changes) * 1000
    print(
        f"five trackers and the heat pump over a day: {len(boundary)} boundaries, "
        f"CPU median {per_boundary:.2f} ms (worst {worst:.2f} ms) plus {per_write:.2f} ms "
        f"a tracker to write its statistic; a state change {per_change:.3f} ms; "
        f"{sum(written)} hourly rows written"
    )
    RESULTS["trackers_6_cpu_per_boundary_ms"] = round(per_boundary, 2)
    RESULTS["trackers_6_cpu_worst_boundary_ms"] = round(worst, 2)
    RESULTS["trackers_cpu_per_write_ms"] = round(per_write, 3)
    RESULTS["trackers_cpu_per_state_change_ms"] = round(per_change, 3)
    assert len(boundary) >= 96
    assert sum(written) == 6 * 24  # every tracker, every hour
