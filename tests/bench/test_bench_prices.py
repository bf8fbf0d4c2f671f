"""Benchmark (script/bench): API economy, boundary latency and window search speed.

Runs the integration in Home Assistant against the simulator over a simulated
week (time travel, no real waiting) and prints the figures; the last line is
one JSON object. Not part of script/test: timings are measured, not asserted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
import json
import statistics
import time
from typing import Any
from unittest.mock import patch
import uuid

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.json import json_bytes
from homeassistant.helpers.storage import Store
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.nomos_energy.coordinator_base import installation_offset
from custom_components.nomos_energy.price_schedule import BERLIN, PriceInterval
from custom_components.nomos_energy.windows import find_window
from nomos_simulator import NomosSimulator

from ..conftest import ANNA, BEN

pytestmark = [pytest.mark.bench, pytest.mark.energy_import]
AddEntry = Callable[..., Awaitable[MockConfigEntry]]
QUARTER = timedelta(minutes=15)
RESULTS: dict[str, object] = {}


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


def boundary_offset(entry: MockConfigEntry) -> float:
    """Return the sub-second offset Home Assistant fires our quarter-hour timer at."""
    for unload in entry._on_unload or []:  # the tracker's cancel method knows its offset
        tracker = getattr(unload, "__self__", None)
        if tracker is not None and hasattr(tracker, "microsecond"):
            return tracker.microsecond / 1e6
    raise AssertionError("quarter-hour tracker not found")


@pytest.mark.parametrize("email", [ANNA, BEN])
async def test_week_of_prices(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    email: str,
) -> None:
    """A simulated week: requests per day by route, boundary delay and CPU time."""
    start = berlin(2026, 11, 23, 0, 0)
    freezer.move_to(start)
    entry = await add_entry(email)
    active = len(entry.runtime_data.subscriptions.data.active_ids)
    offset = boundary_offset(entry)
    entity_ids = [
        state.entity_id
        for state in hass.states.async_all("sensor")
        # The price people read (ct/kWh) and the Energy dashboard's (EUR/kWh).
        if state.entity_id.endswith(("_current_price", "_price_in_eur_kwh"))
    ]
    assert len(entity_ids) == 2 * active
    cpu: list[float] = []
    moment = start
    end = start + timedelta(days=7)
    while moment < end:
        moment += QUARTER
        freezer.move_to(moment + timedelta(seconds=offset))
        before = time.process_time()
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
        cpu.append(time.process_time() - before)
        for entity_id in entity_ids:
            changed = hass.states.get(entity_id).last_reported
            assert changed >= moment, (entity_id, changed, moment)
    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    for when, route in simulator.request_log:
        if start + timedelta(days=1) <= when < end:  # the first day includes setup
            per_day[when.astimezone(BERLIN).date()][route] += 1
    routes = sorted({route for counts in per_day.values() for route in counts})
    print(
        f"\n== {email}: {active} active subscription(s), a week from {start.astimezone(BERLIN).date()}"
    )
    print(f"{'day':<12}" + "".join(f"{route:>32}" for route in routes) + f"{'total':>8}")
    totals = []
    for day in sorted(per_day):
        counts = per_day[day]
        totals.append(sum(counts.values()))
        print(
            f"{day!s:<12}"
            + "".join(f"{counts[route]:>32}" for route in routes)
            + f"{totals[-1]:>8}"
        )
    worst_cpu = max(cpu)
    print(
        f"requests per subscription per day: max {max(totals) / active:.1f}, mean {statistics.mean(totals) / active:.1f}"
    )
    print(
        f"boundary timer offset {offset * 1000:.0f} ms; CPU per boundary update: mean {statistics.mean(cpu) * 1000:.2f} ms, max {worst_cpu * 1000:.2f} ms"
    )
    print(f"worst state-change delay after a boundary: {(offset + worst_cpu) * 1000:.0f} ms")
    RESULTS[f"{email.split('@', maxsplit=1)[0]}_max_requests_per_subscription_day"] = (
        max(totals) / active
    )
    RESULTS[f"{email.split('@', maxsplit=1)[0]}_worst_boundary_delay_ms"] = round(
        (offset + worst_cpu) * 1000, 1
    )
    RESULTS[f"{email.split('@', maxsplit=1)[0]}_cpu_per_boundary_ms"] = round(
        statistics.mean(cpu) * 1000, 3
    )
    RESULTS[f"{email.split('@', maxsplit=1)[0]}_requests_by_route_per_day"] = {
        route: round(sum(counts[route] for counts in per_day.values()) / len(per_day), 2)
        for route in routes
    }


async def test_six_hour_outage(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Requests during a 6-hour outage from 14:00, and the time to recover after it."""
    freezer.move_to(berlin(2026, 11, 29, 13, 59))
    entry = await add_entry(ANNA)
    simulator.requests.clear()
    for route in (
        "GET /subscriptions/{id}/prices",
        "GET /subscriptions",
        "GET /invoices",
        "GET /subscriptions/{id}/usage",
        "POST /oauth/token",
        "GET /subscriptions/{id}",
    ):
        simulator.inject(route, status=503)
    moment = berlin(2026, 11, 29, 14, 0)
    end = moment + timedelta(hours=6)
    while moment < end:
        moment += timedelta(minutes=1)
        freezer.move_to(moment)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
    during = sum(simulator.requests.values())
    simulator.clear_faults()
    sensor = "binary_sensor.nomos_4x44emkx_prices_for_tomorrow_available"
    while hass.states.get(sensor).state != "on":
        moment += timedelta(seconds=30)
        freezer.move_to(moment)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
    recovery = (moment - end).total_seconds() / 60
    print(
        f"\n6-hour outage: {during} requests to Nomos in all ({during / 6:.1f} an hour); "
        f"recovered {recovery:.1f} minutes after it ended; cached prices served throughout"
    )
    assert entry.runtime_data.prices.last_update_success
    RESULTS["outage_6h_requests"] = during
    RESULTS["outage_recovery_minutes"] = round(recovery, 1)


async def test_month_memory_three_subscriptions(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Peak memory of one entry with three active subscriptions over a simulated month."""
    import tracemalloc  # noqa: PLC0415

    from nomos_simulator.data import Subscription  # noqa: PLC0415

    ben = simulator.customer_by_email(BEN)
    for key, number in (("ben-garage", "G4R4G3BN"), ("ben-office", "0FF1C3BN")):
        extra = Subscription(key, ben, number, "smart", datetime(2026, 9, 1, tzinfo=UTC))
        simulator.subscriptions[extra.id] = extra
    start = berlin(2026, 10, 1, 0, 0)
    freezer.move_to(start)
    # The test harness's storage mock keeps every write it saw; a real Store does not.
    written: list[int] = []

    async def write(store: Store[Any], data: dict[str, Any]) -> None:
        if "data_func" in data:
            produce = data.pop("data_func")
            data = {**data, "data": produce()}
        written.append(len(json_bytes(data)))

    patcher = patch.object(Store, "_async_write_data", write)
    patcher.start()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    entry = await add_entry(BEN)
    assert len(entry.runtime_data.subscriptions.data.active_ids) == 3
    moment = start
    while moment < start + timedelta(days=30):
        moment += timedelta(minutes=15)
        freezer.move_to(moment)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    patcher.stop()
    print(f"\ncache writes in 30 days: {len(written)}, largest {max(written) / 1024:.0f} KiB")
    print(
        f"\none entry, 3 subscriptions, 30 simulated days: peak {(peak - baseline) / 2**20:.1f} MiB "
        f"above the start, {(current - baseline) / 2**20:.1f} MiB held at the end"
    )
    RESULTS["month_peak_memory_mib"] = round((peak - baseline) / 2**20, 1)
    RESULTS["month_end_memory_mib"] = round((current - baseline) / 2**20, 1)


def series(days: int) -> list[PriceInterval]:
    """October 2026 from the 1st: 31 days cross the autumn DST change (2,980 intervals)."""
    start = berlin(2026, 10, 1, 0, 0)
    end = berlin(2026, 10, 1 + days, 0, 0) if days < 31 else berlin(2026, 11, 1, 0, 0)
    count = (end - start) // QUARTER
    return [
        PriceInterval(
            start + i * QUARTER, start + (i + 1) * QUARTER, 20 + 10 * ((i * 7919) % 97) / 97
        )
        for i in range(count)
    ]


def test_window_search_speed() -> None:
    """find_cheapest_window over 2 and 31 days of 15-minute prices."""
    print()
    for days in (2, 31):
        intervals = series(days)
        for contiguous in (True, False):
            timings = []
            for _ in range(50):
                begin = time.perf_counter()
                find_window(intervals, timedelta(hours=3), contiguous=contiguous)
                timings.append(time.perf_counter() - begin)
            median = statistics.median(timings) * 1000
            kind = "contiguous" if contiguous else "any"
            print(
                f"window search, {days} days ({len(intervals)} intervals), {kind}: median {median:.3f} ms, max {max(timings) * 1000:.3f} ms"
            )
            RESULTS[f"window_{days}d_{kind}_ms"] = round(median, 4)


def test_publication_spread() -> None:
    """The minute at which 10,000 installations first fetch tomorrow's prices."""
    minutes: Counter[int] = Counter()
    for _ in range(10_000):
        first = datetime(2026, 11, 29, 14, 20) + installation_offset(uuid.uuid4().hex)
        minutes[first.hour * 60 + first.minute] += 1
    worst = max(minutes.values()) / 10_000
    print(
        "\nfirst fetch of tomorrow's prices (Berlin time), installations per minute in 5-minute rows:"
    )
    for row in range(min(minutes), max(minutes) + 1, 5):
        counts = [minutes[minute] for minute in range(row, row + 5)]
        print(f"{row // 60:02d}:{row % 60:02d} " + " ".join(f"{count:>4}" for count in counts))
    print(f"busiest minute: {worst:.2%} of installations, spread over {len(minutes)} minutes")
    RESULTS["publication_busiest_minute_share"] = worst
    RESULTS["publication_minutes"] = len(minutes)


def test_zz_summary() -> None:
    """Print the figures as one JSON object (the last line)."""
    print("\n" + json.dumps(RESULTS, sort_keys=True))
