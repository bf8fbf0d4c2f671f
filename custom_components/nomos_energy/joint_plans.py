"""Appliances planned together: a household's import limit and "not at the same time" groups.

Pure logic, no Home Assistant imports. The planners of one contract that need a
plan are planned together on its prices (household_plan.py); runs that have
begun are kept exactly as they are and take their room first. An appliance
without a known power does not count towards the limit (its groups still do).
A run that does not fit under the limit with the others keeps the plan it would
have alone, with `reason: over_limit`, so the homeowner sees which and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .appliance_plan import (
    QUARTER,
    ApplianceSpec,
    Plan,
    make_plan,
    window_start,
)
from .household_plan import LIMIT, PLANNED, Household, Load, plan_household
from .price_schedule import CT_PER_EUR, PriceInterval

# Stands in for an appliance whose power is unknown: it takes no room under the limit.
UNKNOWN_POWER_KW = 1e-6
OVER_LIMIT = "over_limit"


@dataclass(frozen=True, slots=True)
class Request:
    """One appliance of the household: what it is, and the run to plan (or the one under way)."""

    key: str
    spec: ApplianceSpec
    group: str | None = None
    deadline: datetime | None = None  # the run to plan; None: only `running` counts
    not_before: datetime | None = None
    running: Plan | None = None  # a run that has begun: kept as it is


def step_powers(spec: ApplianceSpec, quarters: int) -> tuple[float, ...]:
    """Return the kW of each quarter-hour of a run (its profile, or its constant power)."""
    if spec.profile is not None:
        return spec.profile.kw
    return (spec.power_kw or UNKNOWN_POWER_KW,) * quarters


def plan_together(
    requests: Sequence[Request],
    known: Sequence[PriceInterval],
    now: datetime,
    limit_kw: float | None,
) -> dict[str, Plan]:
    """Return the plans of the requests that have a run to plan, planned together."""
    alone = {
        request.key: make_plan(request.spec, known, now, request.deadline, request.not_before)
        for request in requests
        if request.deadline is not None
    }
    loads = [
        load for request in requests if request.running is not None for load in _kept(request, now)
    ]
    for request in requests:
        plan = alone.get(request.key)
        if plan is None or plan.reason != "cheapest":
            continue  # waiting for prices, or no run fits: the plan alone says so
        loads.append(_load(request, plan, now))
    together = plan_household(loads, known, Household(limit_kw))
    plans: dict[str, Plan] = {}
    for key, plan in alone.items():
        if plan.reason != "cheapest":
            plans[key] = plan
            continue
        result = together[key]
        if result.status != PLANNED:
            # Only LIMIT is possible here: the run fits alone (the plan alone found it).
            assert result.reason == LIMIT
            plans[key] = replace(plan, reason=OVER_LIMIT)
            continue
        energy = sum(kw for _, kw in result.steps) / 4
        cost = result.cost_eur
        plans[key] = replace(
            plan,
            segments=result.segments,
            # A charge's remainder: drawn in its last quarter-hour when planned together.
            reduced=None
            if plan.reduced is None
            else (result.segments[-1][1] - QUARTER, plan.reduced[1]),
            cost_eur=cost if plan.cost_eur is not None else None,
            average_ct=None if cost is None or energy <= 0 else cost * CT_PER_EUR / energy,
        )
    return plans


def _load(request: Request, plan: Plan, now: datetime) -> Load:
    """Return the run to plan as a load: from its earliest start to its deadline."""
    spec = request.spec
    quarters = round(spec.duration / QUARTER)
    pausable = (
        spec.profile.pausable(spec.may_pause)
        if spec.profile is not None
        else (False, *((spec.may_pause,) * (quarters - 1)))
    )
    return Load(
        key=request.key,
        earliest=window_start(spec, now, plan.deadline, plan.not_before),
        deadline=plan.deadline,
        profile_kw=step_powers(spec, quarters),
        pausable=pausable,
        price_cap_ct=spec.price_cap_ct,
        group=request.group,
    )


def _kept(request: Request, now: datetime) -> list[Load]:
    """Return a begun run's remaining quarter-hours as loads that can only stay where they are."""
    plan = request.running
    assert plan is not None
    spec = request.spec
    planned = plan.quarter_starts
    kw = step_powers(spec, len(planned))
    current = now - timedelta(
        minutes=now.minute % 15, seconds=now.second, microseconds=now.microsecond
    )
    loads = []
    for index, start in enumerate(planned):
        if start + QUARTER <= current:
            continue  # already run
        loads.append(
            Load(
                key=f"{request.key}@{start.isoformat()}",
                earliest=start,
                deadline=start + QUARTER,
                profile_kw=(kw[min(index, len(kw) - 1)],),
                pausable=(False,),
                group=request.group,
            )
        )
    return loads
