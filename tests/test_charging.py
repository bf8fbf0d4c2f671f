"""Charging a car or battery to a target: the pure plan against brute force over every choice."""

from __future__ import annotations

from datetime import date, timedelta
import itertools

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.nomos_energy.appliance_plan import ApplianceSpec
from custom_components.nomos_energy.charge_target import ChargeTarget, quarters_for
from custom_components.nomos_energy.charging import (
    charge_changed,
    plan_charge,
    power_now,
    remaining_kwh,
    replan_charge,
)
from custom_components.nomos_energy.price_schedule import day_bounds

from .test_planners import quarters
from .timetravel import QUARTER

CAR = ChargeTarget("sensor.car_soc", target_pct=80, capacity_kwh=60, efficiency=0.9, floor_pct=20)
prices = st.one_of(st.none(), st.floats(min_value=-20, max_value=60, allow_nan=False))


def test_the_energy_is_the_gap_to_the_target_from_the_floor_up() -> None:
    """40 % to 80 % of 60 kWh at 90 %: 26.7 kWh from the grid; from the floor below it;
    nothing at or above the target."""
    assert CAR.energy_kwh(40) == pytest.approx(24 / 0.9)
    assert CAR.energy_kwh(5) == pytest.approx(36 / 0.9)  # 20 % -> 80 %, the rest right away
    assert CAR.energy_kwh(80) == 0
    assert CAR.energy_kwh(95) == 0
    assert CAR.below_floor(19.9)
    assert not CAR.below_floor(20)
    assert quarters_for(24 / 0.9, 11) == 10  # 9 full quarter-hours and a partial one
    assert quarters_for(2.75, 11) == 1
    assert quarters_for(0, 11) == 0


@settings(max_examples=150, deadline=None)
@given(
    day=st.sampled_from([date(2026, 3, 29), date(2026, 10, 25), date(2026, 12, 1)]),
    values=st.lists(prices, min_size=4, max_size=12),
    energy=st.floats(min_value=0.1, max_value=30),
    power=st.sampled_from([3.7, 7.4, 11.0]),
)
def test_a_charge_is_the_cheapest_way_to_the_energy(
    day: date, values: list[float | None], energy: float, power: float
) -> None:
    """Brute force over every set of quarter-hours and every quarter-hour to draw the
    remainder in: the plan costs the least, draws exactly the energy (the power it says
    per quarter-hour), never in an unknown price, and the deadline is kept."""
    start, _ = day_bounds(day)
    known = quarters(start, values)
    deadline = start + len(values) * QUARTER
    spec = ApplianceSpec("Car", QUARTER, deadline=None, power_kw=power, may_pause=True)
    plan = plan_charge(spec, energy, known, start, deadline)
    assert plan is not None
    needed = quarters_for(energy, power)
    priced = [i for i in known if i.price_ct is not None]
    full = power / 4
    remainder = energy - (needed - 1) * full
    best = min(
        (
            sum(full * (i.price_ct or 0.0) for i in combo)
            - (full - remainder) * max(i.price_ct or 0.0 for i in combo)
            for combo in itertools.combinations(priced, needed)
        ),
        default=None,
    )
    if best is None:
        assert plan.reason == "latest_start"
        return
    assert plan.reason == "cheapest"
    assert plan.end <= deadline
    drawn = {i.start: power_now(plan, power, i.start + timedelta(minutes=7)) for i in known}
    assert sum(drawn.values()) / 4 == pytest.approx(energy)
    assert all(kw == 0 for moment, kw in drawn.items() if moment not in {i.start for i in priced})
    cost = sum(drawn[i.start] / 4 * (i.price_ct or 0.0) for i in priced) / 100
    assert cost == pytest.approx(best / 100, abs=1e-9)
    assert plan.cost_eur == pytest.approx(cost, abs=1e-9)


def test_charging_as_planned_never_plans_again_a_drop_does() -> None:
    """Charging as planned (the energy needed falling with each minute charged) never plans
    again; more than a step from the plan does: the car was driven, or is full early."""
    start, _ = day_bounds(date(2026, 12, 4))
    known = quarters(start, [30, 10, 20, 5, 40, 15, 25, 35])
    spec = ApplianceSpec("Car", QUARTER, power_kw=11.0, may_pause=True)
    energy = 7.0  # two full quarter-hours and 1.5 kWh in the dearest of the three cheapest
    plan = plan_charge(spec, energy, known, start, start + 8 * QUARTER)
    assert plan is not None
    assert [power_now(plan, 11, i.start) for i in known] == [0, 11, 0, 11, 0, 6, 0, 0]
    step = CAR.step_kwh
    delivered = 0.0
    for minute in range(8 * 15):
        moment = start + timedelta(minutes=minute)
        assert not charge_changed(plan, 11, energy - delivered, moment, step)
        delivered += power_now(plan, 11, moment) / 60
    assert delivered == pytest.approx(energy)
    assert charge_changed(plan, 11, energy + 2 * step, start, step)
    assert charge_changed(plan, 11, 0.0, start, step)
    assert not charge_changed(None, 11, 0.0, start, step)


def test_a_new_plan_mid_quarter_keeps_charging_in_it() -> None:
    """Planned again at 00:20, in a charging quarter-hour (the car needs more than planned):
    that quarter-hour goes on, the rest is planned from 00:30 for what is still needed."""
    start, _ = day_bounds(date(2026, 12, 4))
    known = quarters(start, [30, 10, 20, 5, 40, 15, 25, 35])
    spec = ApplianceSpec("Car", QUARTER, power_kw=11.0, may_pause=True)
    plan = plan_charge(spec, 7.0, known, start, start + 8 * QUARTER)
    assert plan is not None
    moment = start + QUARTER + timedelta(minutes=5)
    again = replan_charge(spec, 8.0, known, moment, plan)
    assert again is not None
    assert power_now(again, 11, moment) == 11
    assert remaining_kwh(again, 11, moment) == pytest.approx(8.0)
    assert again.segments[0][0] == start + QUARTER
    assert again.end <= plan.deadline
    outside = replan_charge(spec, 2.0, known, start + timedelta(minutes=5), plan)
    assert outside is not None
    assert outside.start == start + 3 * QUARTER  # the cheapest quarter-hour (5 ct) alone
