"""Benchmark (script/bench): the quarter-hour tick with five planners of every kind, planned
together under an import limit, and the re-plan after a car's state of charge changed.

Anna's contract with a dishwasher and a washing machine (programs), a dryer in the
same "not at the same time" group, a heat pump with SG Ready boosting twice a day,
and a car charged to 80 % by 07:00 from its state of charge, under an 11 kW limit.
Timed in CPU: every quarter-hour tick of two days (the entities follow the plans),
and fifty state-of-charge changes (the car driven or charged elsewhere: each plans
again). Requests to Nomos are counted: planners make none. The figures go into the
summary that test_bench_prices prints last.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import statistics
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.nomos_energy.load_profiles import PRESETS
from custom_components.nomos_energy.price_schedule import BERLIN
from nomos_simulator import NomosSimulator

from ..conftest import ANNA, entry_for
from .test_bench_prices import RESULTS

pytestmark = [pytest.mark.bench]
QUARTER = timedelta(minutes=15)
SOC = "sensor.car_battery"


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


def planners(subscription_id: str) -> list[ConfigSubentryData]:
    """Five planners, one of each new kind."""
    common = {"subscription_id": subscription_id, "within_minutes": None, "may_pause": False}
    shapes: list[tuple[str, dict[str, Any]]] = [
        ("Dishwasher", {"deadline": "07:00:00", "profile": PRESETS["dishwasher"]}),
        (
            "Washing machine",
            {"deadline": "18:00:00", "profile": PRESETS["washing_machine"], "group": "laundry"},
        ),
        ("Dryer", {"deadline": "21:00:00", "profile": PRESETS["dryer"], "group": "laundry"}),
        (
            "Heat pump",
            {"deadline": "07:00:00", "runs_per_day": 2, "power_kw": 3.0, "sg_ready": True},
        ),
        (
            "Car",
            {
                "deadline": "07:00:00",
                "may_pause": True,
                "power_kw": 11.0,
                "soc_entity": SOC,
                "capacity_kwh": 60,
                "target_soc": 80,
                "efficiency": 90,
            },
        ),
    ]
    return [
        ConfigSubentryData(
            data={"duration_minutes": 120, **common, **shape},
            subentry_type="appliance",
            title=title,
            unique_id=None,
        )
        for title, shape in shapes
    ]


async def test_tick_and_charge_replan_with_five_planner_kinds(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    setup_credentials: None,
    freezer: FrozenDateTimeFactory,
) -> None:
    """CPU of the quarter-hour tick over two days and of a re-plan after a SoC change."""
    freezer.move_to(berlin(2026, 11, 28, 0, 0))
    hass.states.async_set(SOC, "40")
    template = entry_for(simulator, ANNA)
    subscription_id = next(
        sub.id for sub in simulator.subscriptions.values() if sub.customer.email == ANNA
    )
    entry = MockConfigEntry(
        domain=template.domain,
        data=dict(template.data),
        unique_id=template.unique_id,
        title=template.title,
        options={"import_limit_kw": 11.0},
        subentries_data=planners(subscription_id),
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    manager = entry.runtime_data.planners
    assert len(manager.planners) == 5
    assert manager.together
    moment = berlin(2026, 11, 28, 0, 0)
    ticks = []
    simulator.requests.clear()
    while moment < berlin(2026, 11, 30, 0, 0):
        moment += QUARTER
        freezer.move_to(moment + timedelta(seconds=1))
        before = time.process_time()
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
        ticks.append(time.process_time() - before)
    requests = sum(simulator.requests.values())
    replans = []
    for n in range(50):
        before = time.process_time()
        hass.states.async_set(SOC, str(20 + (n % 2) * 30))  # driven, then charged elsewhere
        await hass.async_block_till_done()
        replans.append(time.process_time() - before)
    car = next(p for p in manager.planners.values() if p.spec.charge is not None)
    assert car.plan is not None
    tick_median, tick_worst = statistics.median(ticks) * 1000, max(ticks) * 1000
    ticks.sort()
    tick_p95 = ticks[int(len(ticks) * 0.95)] * 1000
    soc_median, soc_worst = statistics.median(replans) * 1000, max(replans) * 1000
    print(
        f"\nquarter-hour tick, 5 planners of every kind planned together under 11 kW, 2 days: "
        f"median {tick_median:.2f} ms, 95th percentile {tick_p95:.2f} ms, worst "
        f"{tick_worst:.2f} ms (the worst includes the day's price fetch and import); "
        f"{requests} requests to Nomos in the two days (the coordinators' own); "
        f"re-plan after a state-of-charge change: median {soc_median:.2f} ms, "
        f"worst {soc_worst:.2f} ms"
    )
    RESULTS["tick_5_planner_kinds_median_ms"] = round(tick_median, 2)
    RESULTS["tick_5_planner_kinds_p95_ms"] = round(tick_p95, 2)
    RESULTS["tick_5_planner_kinds_worst_ms"] = round(tick_worst, 2)
    RESULTS["tick_5_planner_kinds_requests_2_days"] = requests
    RESULTS["charge_replan_after_soc_change_median_ms"] = round(soc_median, 2)
    RESULTS["charge_replan_after_soc_change_worst_ms"] = round(soc_worst, 2)
