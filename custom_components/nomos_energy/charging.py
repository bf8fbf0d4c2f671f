"""Charging a car or a home battery to a target: the energy it needs and the run that delivers it.

Pure logic, no Home Assistant imports. The planner reads the state of charge,
turns the gap to the target into the energy to draw from the grid (the usable
capacity's share, divided by the charging efficiency) and plans the fewest
quarter-hours at full power that deliver it, the cheapest ones before the
deadline. Only the last, partial, quarter-hour's worth is drawn at less than
full power, in the dearest of the planned quarter-hours: the plan never draws
more than needed. Below the safety floor the charger charges right away, outside
the plan, and the plan covers the way from the floor to the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from .appliance_plan import (
    HOURS_PER_QUARTER,
    QUARTER,
    ApplianceSpec,
    Plan,
    first_start,
    make_plan,
    right_away,
    usable_quarters,
)
from .charge_target import EPSILON_KWH, quarters_for
from .price_schedule import CT_PER_EUR, PriceInterval


def run_spec(spec: ApplianceSpec, energy_kwh: float) -> ApplianceSpec | None:
    """Return the run that delivers `energy_kwh` at the spec's power (None: nothing to charge)."""
    assert spec.power_kw is not None
    quarters = quarters_for(energy_kwh, spec.power_kw)
    if quarters == 0:
        return None
    return replace(spec, duration=quarters * QUARTER, may_pause=True, profile=None)


def plan_charge(
    spec: ApplianceSpec,
    energy_kwh: float,
    known: Sequence[PriceInterval],
    now: datetime,
    deadline: datetime,
    not_before: datetime | None = None,
) -> Plan | None:
    """Plan the cheapest quarter-hours that deliver `energy_kwh` by `deadline` (None: none needed).

    All at full power except the remainder, drawn in the dearest planned quarter-hour.
    """
    run = run_spec(spec, energy_kwh)
    if run is None:
        return None
    plan = make_plan(run, known, now, deadline, not_before)
    return with_remainder(plan, run, energy_kwh, known)


def with_remainder(
    plan: Plan, run: ApplianceSpec, energy_kwh: float, known: Sequence[PriceInterval]
) -> Plan:
    """Return the plan drawing only the remainder in its dearest quarter-hour (the last, unpriced)."""
    assert run.power_kw is not None
    full_kw = run.power_kw
    quarters = round(run.duration / QUARTER)
    remainder_kw = (energy_kwh - (quarters - 1) * full_kw * HOURS_PER_QUARTER) / HOURS_PER_QUARTER
    if remainder_kw >= full_kw - EPSILON_KWH:
        return replace(plan, energy_kwh=energy_kwh)
    price = {interval.start: interval.price_ct for interval in known}
    planned = plan.quarter_starts
    priced = [start for start in planned if price.get(start) is not None]
    if plan.cost_eur is None or len(priced) < len(planned):
        return replace(plan, reduced=(planned[-1], remainder_kw), energy_kwh=energy_kwh)
    dearest = max(planned, key=lambda start: (price[start] or 0.0, start))
    saved = (full_kw - remainder_kw) * HOURS_PER_QUARTER * (price[dearest] or 0.0) / CT_PER_EUR
    cost = plan.cost_eur - saved
    cost_now = plan.cost_now_eur
    if cost_now is not None:
        # Right away: the last of the first quarter-hours is the partial one.
        last_now = _right_away_last(known, plan, run, quarters)
        cost_now = (
            None
            if last_now is None
            else cost_now - ((full_kw - remainder_kw) * HOURS_PER_QUARTER * last_now / CT_PER_EUR)
        )
    return replace(
        plan,
        reduced=(dearest, remainder_kw),
        energy_kwh=energy_kwh,
        cost_eur=cost,
        cost_now_eur=cost_now,
        average_ct=cost * CT_PER_EUR / energy_kwh,
    )


def _right_away_last(
    known: Sequence[PriceInterval], plan: Plan, run: ApplianceSpec, quarters: int
) -> float | None:
    """Return the price of the last quarter-hour of the run started right away (make_plan's)."""
    usable = usable_quarters(run, known, plan.planned_at, plan.deadline, plan.not_before)
    now_run = right_away(usable, quarters)
    return None if now_run is None else now_run[-1].price_ct


def power_now(plan: Plan | None, run_kw: float, now: datetime) -> float:
    """Return the power (kW) to draw at `now` under a plan (0 outside its quarter-hours)."""
    if plan is None or not plan.running(now):
        return 0.0
    if plan.reduced is not None and plan.reduced[0] <= now < plan.reduced[0] + QUARTER:
        return plan.reduced[1]
    return run_kw


def remaining_kwh(plan: Plan, run_kw: float, now: datetime) -> float:
    """Return the energy the plan still draws from `now` on (the quarter-hour in progress pro rata)."""
    return sum(
        power_now(plan, run_kw, begin)
        * HOURS_PER_QUARTER
        * ((begin + QUARTER - max(begin, now)) / QUARTER)
        for begin in plan.quarter_starts
        if begin + QUARTER > now
    )


def charge_changed(
    plan: Plan | None, run_kw: float, energy_kwh: float, now: datetime, step_kwh: float
) -> bool:
    """Return whether the energy needed left what the plan still delivers by more than a step.

    A step is 1 % of the battery (what a state of charge reports): charging as
    planned never plans again; a car driven and plugged back in, charged elsewhere,
    or charging slower than its nominal power does.
    """
    delivers = 0.0 if plan is None else remaining_kwh(plan, run_kw, now)
    return abs(energy_kwh - delivers) > step_kwh


def replan_charge(
    spec: ApplianceSpec,
    energy_kwh: float,
    known: Sequence[PriceInterval],
    now: datetime,
    plan: Plan,
) -> Plan | None:
    """Plan a charge again for the energy now needed; a quarter-hour being charged goes on."""
    assert spec.power_kw is not None
    quarter = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0)
    if not plan.running(now) or first_start(now) == quarter:
        return plan_charge(spec, energy_kwh, known, now, plan.deadline, plan.not_before)
    kw = power_now(plan, spec.power_kw, now)
    this_quarter = kw * ((quarter + QUARTER - now) / timedelta(hours=1))
    rest = plan_charge(spec, energy_kwh - this_quarter, known, now, plan.deadline, plan.not_before)
    segments = [(quarter, quarter + QUARTER), *(() if rest is None else rest.segments)]
    merged: list[tuple[datetime, datetime]] = []
    for start, end in segments:
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    base = rest or plan
    reduced = None if rest is None else rest.reduced
    if reduced is None and kw < spec.power_kw:
        reduced = (quarter, kw)
    return replace(base, segments=tuple(merged), energy_kwh=energy_kwh, reduced=reduced)
