"""Benchmark (script/bench): the first backfill of two years with prices, and a day after.

Requests by route, wall time of the import, and the statistics rows it writes;
then the same for the next daily run. The figures go into the summary.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
import time
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.db_schema import Statistics
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics as add_external_statistics,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance, session_scope
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.nomos_energy import energy
from custom_components.nomos_energy.price_schedule import BERLIN
from nomos_simulator import NomosSimulator

from ..conftest import ANNA, save_options
from .test_bench_prices import RESULTS

pytestmark = [pytest.mark.bench, pytest.mark.energy_import]
AddEntry = Callable[..., Awaitable[MockConfigEntry]]


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


def wall_clock() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


async def statistics_rows(hass: HomeAssistant) -> int:
    await async_wait_recording_done(hass)

    def count() -> int:
        with session_scope(hass=hass, read_only=True) as session:
            return int(session.query(Statistics).count())

    return await get_instance(hass).async_add_executor_job(count)


async def test_two_year_backfill(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Anna has been supplied since January 2025: the whole history on first setup."""
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    begin = wall_clock()
    entry = await add_entry(ANNA)
    rows = await statistics_rows(hass)
    took = wall_clock() - begin
    routes: Counter[str] = Counter(route for _, route in simulator.request_log)
    print(
        f"\nfirst setup with two years of history: {sum(routes.values())} requests "
        f"({dict(routes)}), {took:.1f} s, {rows} statistics rows (consumption, cost, price)"
    )
    RESULTS["backfill_requests"] = sum(routes.values())
    RESULTS["backfill_seconds"] = round(took, 1)
    RESULTS["backfill_statistics_rows"] = rows
    simulator.request_log.clear()
    moment = berlin(2026, 11, 29, 18, 0)
    begin = wall_clock()
    # Every row handed to the recorder, new or rewritten: the daily run reads 40 days again.
    handed = Counter[str]()

    def count_rows(hass: HomeAssistant, metadata: Any, rows: Any) -> None:
        handed[metadata["statistic_id"]] += len(rows)
        add_external_statistics(hass, metadata, rows)

    with patch.object(energy, "async_add_external_statistics", count_rows):
        while moment < berlin(2026, 11, 30, 18, 0):
            moment += timedelta(minutes=15)
            freezer.move_to(moment)
            async_fire_time_changed(hass)
            await hass.async_block_till_done(wait_background_tasks=True)
    added = await statistics_rows(hass) - rows
    day: Counter[str] = Counter(route for _, route in simulator.request_log)
    print(
        f"the next day: {sum(day.values())} requests ({dict(day)}), "
        f"{added} statistics rows added, {sum(handed.values())} rows written "
        f"(new and rewritten), {wall_clock() - begin:.1f} s for the whole day"
    )
    RESULTS["daily_upkeep_requests"] = sum(day.values())
    RESULTS["daily_upkeep_statistics_rows_added"] = added
    RESULTS["daily_upkeep_rows_written"] = sum(handed.values())
    assert added > 0
    # A comparison tariff set in the options: its daily statistic is written for
    # every imported day from the cache (the form itself asks for the plan's base fee).
    simulator.request_log.clear()
    before = await statistics_rows(hass)
    begin = wall_clock()
    await save_options(hass, entry, comparison_price_ct=32.0, comparison_base_fee=12.0)
    written = await statistics_rows(hass) - before
    took = wall_clock() - begin
    asked: Counter[str] = Counter(route for _, route in simulator.request_log)
    print(
        f"a comparison tariff set: {written} daily rows written in {took:.2f} s "
        f"(reload included), requests {dict(asked)}"
    )
    RESULTS["comparison_rewrite_rows"] = written
    RESULTS["comparison_rewrite_seconds"] = round(took, 2)
    # One row for every imported day (all of them complete here).
    assert written == sum(len(days) for days in entry.runtime_data.cache.day_totals.values())
