"""Benchmark (script/bench): planning five household loads together under an import limit.

A dishwasher, a washing machine and a dryer (one group: not at the same time),
a car to charge and a heat-pump boost, under an 11 kW limit, on 48 hours of
quarter-hour prices. Timed: a full re-plan (as after new prices), the same
with every window spanning all 48 hours (the most work), and a re-plan after
the car's energy target changed; compared with today's single-appliance plan
over the same 48 hours, and with the planner's own search (the fallback when
HiGHS has no answer in time). The figures go into the summary that test_bench_prices
prints last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
import statistics
import time

import pytest

from custom_components.nomos_energy import household_mip
from custom_components.nomos_energy.appliance_plan import ApplianceSpec, make_plan
from custom_components.nomos_energy.household_plan import (
    PLANNED,
    Household,
    Load,
    plan_household,
)
from custom_components.nomos_energy.price_schedule import BERLIN, PriceInterval

from .test_bench_prices import RESULTS

pytestmark = [pytest.mark.bench]
QUARTER = timedelta(minutes=15)
RUNS = 50
START = datetime(2026, 11, 28, 0, 0, tzinfo=BERLIN).astimezone(UTC)
END = START + timedelta(hours=48)


def prices() -> list[PriceInterval]:
    """Two days: cheap nights and middays, dear mornings and evenings, some scatter."""
    shape = [
        18,
        16,
        15,
        15,
        16,
        20,
        28,
        34,
        32,
        26,
        22,
        19,
        18,
        19,
        22,
        26,
        31,
        38,
        40,
        36,
        30,
        26,
        22,
        20,
    ]
    result = []
    for i in range(192):
        start = START + i * QUARTER
        hour = start.astimezone(BERLIN).hour
        price = shape[hour] + 6 * ((i * 7919) % 97) / 97 - 3
        result.append(PriceInterval(start, start + QUARTER, round(price, 2)))
    return result


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def household() -> list[Load]:
    """Five loads as a household would set them up at midnight."""
    never = (False,) * 8
    return [
        Load(
            "dishwasher",
            START,
            at(31),  # done by 07:00 tomorrow
            (2.0, 2.0, 0.15, 0.15, 2.0, 0.1, 0.05, 0.05),
            never,
            group="wet",
        ),
        Load("washer", START, at(42), (2.2, 2.2, 0.3, 0.3, 0.3, 0.5), never[:6], group="wet"),
        Load("dryer", START, at(46), (2.5,) * 6 + (1.0, 1.0), (False,) + (True,) * 7, group="wet"),
        Load("car", START, at(31), energy_kwh=44.0, max_kw=11.0),
        Load("heat_pump", START, at(12), (3.0,) * 8, (False,) + (True,) * 7),
    ]


def timed(plan: Callable[[], object]) -> tuple[float, float]:
    """Median and worst of RUNS runs, in ms."""
    timings = []
    for _ in range(RUNS):
        begin = time.perf_counter()
        plan()
        timings.append(time.perf_counter() - begin)
    return statistics.median(timings) * 1000, max(timings) * 1000


def test_household_replan_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Five loads under 11 kW: a re-plan, the same over 48-hour windows, a car change."""
    intervals = prices()
    limit = Household(11.0)
    loads = household()
    plan = plan_household(loads, intervals, limit)
    assert all(load_plan.status == PLANNED for load_plan in plan.plans), plan.cannot_finish
    median, worst = timed(lambda: plan_household(loads, intervals, limit))
    wide = [replace(load, earliest=START, deadline=END) for load in loads]
    wide_median, wide_worst = timed(lambda: plan_household(wide, intervals, limit))
    car = [replace(load, energy_kwh=30.0) if load.key == "car" else load for load in loads]
    car_median, car_worst = timed(lambda: plan_household(car, intervals, limit))
    spec = ApplianceSpec("dishwasher", timedelta(hours=2), power_kw=2.0)
    single, _ = timed(lambda: make_plan(spec, intervals, START, END))
    monkeypatch.setattr(household_mip, "highspy", None)
    searched = plan_household(loads, intervals, limit)
    search_median, search_worst = timed(lambda: plan_household(loads, intervals, limit))
    print(
        f"\nhousehold of 5 loads under 11 kW, 48 h of quarter-hours: re-plan median "
        f"{median:.1f} ms, worst {worst:.1f} ms ({median / single:.0f}x one appliance's "
        f"plan, {single:.2f} ms); all windows 48 h: median {wide_median:.1f} ms, worst "
        f"{wide_worst:.1f} ms; after the car's target changed: median {car_median:.1f} ms, "
        f"worst {car_worst:.1f} ms; cost {plan.total_cost_eur:.2f} EUR; the search alone: "
        f"median {search_median:.1f} ms, worst {search_worst:.1f} ms, cost "
        f"{searched.total_cost_eur:.2f} EUR"
    )
    RESULTS["household_5_loads_median_ms"] = round(median, 2)
    RESULTS["household_5_loads_worst_ms"] = round(worst, 2)
    RESULTS["household_5_loads_48h_windows_median_ms"] = round(wide_median, 2)
    RESULTS["household_5_loads_48h_windows_worst_ms"] = round(wide_worst, 2)
    RESULTS["household_car_change_median_ms"] = round(car_median, 2)
    RESULTS["household_car_change_worst_ms"] = round(car_worst, 2)
    RESULTS["household_vs_single_plan_ratio"] = round(median / single, 1)
    RESULTS["household_search_alone_median_ms"] = round(search_median, 2)
    RESULTS["household_search_alone_worst_ms"] = round(search_worst, 2)
