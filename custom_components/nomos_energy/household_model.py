"""The household planner's model: the loads, their plans, and the grid they are placed on.

Pure logic, no Home Assistant imports. The public types (Load, Household,
LoadPlan, HouseholdPlan) and what the search in household_plan.py works on
(Grid, Task, Placement, State); see household_plan.py for the model and the
algorithm.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import itertools
import math

from .load_placement import EPSILON
from .price_schedule import CT_PER_EUR, PriceInterval

QUARTER = timedelta(minutes=15)
HOURS = QUARTER / timedelta(hours=1)

PLANNED = "planned"
CANNOT_FINISH = "cannot_finish"
NOT_ENOUGH_TIME = "not_enough_time"
PRICES_MISSING = "prices_missing"
LIMIT = "limit"


@dataclass(frozen=True, slots=True)
class Load:
    """A load to plan: a program (`profile_kw`) or an energy target (`energy_kwh`)."""

    key: str
    earliest: datetime
    deadline: datetime
    # A program: kW in each consecutive quarter-hour step; `pausable[i]` allows
    # a pause before step i (step 0's flag is irrelevant).
    profile_kw: tuple[float, ...] = ()
    pausable: tuple[bool, ...] = ()
    # An energy target: kWh to deliver at up to `max_kw`.
    energy_kwh: float | None = None
    max_kw: float | None = None
    price_cap_ct: float | None = None
    group: str | None = None

    def __post_init__(self) -> None:
        """Reject a load that is neither (or both) a program and an energy target."""
        if self.earliest.tzinfo is None or self.deadline.tzinfo is None:
            raise ValueError(f"{self.key}: earliest and deadline must be aware")
        if self.profile_kw:
            if self.energy_kwh is not None or self.max_kw is not None:
                raise ValueError(f"{self.key}: a program has no energy_kwh or max_kw")
            if len(self.pausable) != len(self.profile_kw) or min(self.profile_kw) <= 0:
                raise ValueError(f"{self.key}: one pausable flag and a positive kW per step")
        elif self.energy_kwh is None or self.max_kw is None:
            raise ValueError(f"{self.key}: give either profile_kw or energy_kwh and max_kw")
        elif self.max_kw <= 0 or self.energy_kwh < 0:
            raise ValueError(f"{self.key}: max_kw must be positive, energy_kwh not negative")

    @property
    def is_program(self) -> bool:
        """Return whether the load is a program (else an energy target)."""
        return bool(self.profile_kw)


@dataclass(frozen=True, slots=True)
class Household:
    """What the loads share: the import limit (kW), None for no limit."""

    limit_kw: float | None = None

    def __post_init__(self) -> None:
        """Reject a limit that leaves no room at all."""
        if self.limit_kw is not None and self.limit_kw <= 0:
            raise ValueError("limit_kw must be positive")


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """The plan of one load: the quarter-hours it draws power in, and how much."""

    key: str
    steps: tuple[tuple[datetime, float], ...]  # (quarter-hour start, kW), kW > 0
    status: str  # PLANNED or CANNOT_FINISH
    reason: str | None = None  # NOT_ENOUGH_TIME, PRICES_MISSING or LIMIT
    cost_eur: float | None = None
    cap_met: bool = True

    @property
    def segments(self) -> tuple[tuple[datetime, datetime], ...]:
        """Return the planned quarter-hours merged into gap-free runs (start, end)."""
        runs: list[tuple[datetime, datetime]] = []
        for start, _ in self.steps:
            if runs and runs[-1][1] == start:
                runs[-1] = (runs[-1][0], start + QUARTER)
            else:
                runs.append((start, start + QUARTER))
        return tuple(runs)

    def power_at(self, moment: datetime) -> float:
        """Return the planned power (kW) at `moment`; 0 outside the plan."""
        for start, kw in self.steps:
            if start <= moment < start + QUARTER:
                return kw
        return 0.0

    @property
    def energy_kwh(self) -> float:
        """Return the planned energy."""
        return sum(kw for _, kw in self.steps) * HOURS


@dataclass(frozen=True, slots=True)
class HouseholdPlan:
    """The plans of all loads, in the order they were given."""

    plans: tuple[LoadPlan, ...]

    def __getitem__(self, key: str) -> LoadPlan:
        """Return the plan of the load with this key."""
        return next(plan for plan in self.plans if plan.key == key)

    @property
    def total_cost_eur(self) -> float:
        """Return the cost of the planned loads (those that cannot finish are left out)."""
        return sum(plan.cost_eur or 0.0 for plan in self.plans if plan.status == PLANNED)

    @property
    def cannot_finish(self) -> dict[str, str]:
        """Return why each load that cannot finish cannot: key -> reason."""
        return {plan.key: plan.reason or "" for plan in self.plans if plan.status != PLANNED}


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a load runs: (quarter index, kW) in time order, its cost (EUR), kWh over its cap."""

    cost: float
    steps: tuple[tuple[int, float], ...]
    over_cap: float

    @property
    def cap_met(self) -> bool:
        """Return whether no quarter-hour is above the load's cap."""
        return self.over_cap == 0


class Grid:
    """The quarter-hours of the price sequence: start, price, and whether one follows on."""

    __slots__ = ("follows", "prices", "starts")

    def __init__(self, intervals: Sequence[PriceInterval]) -> None:
        quarters = sorted(
            (interval for interval in intervals if interval.end - interval.start == QUARTER),
            key=lambda interval: interval.start,
        )
        self.starts = [interval.start for interval in quarters]
        self.prices = [interval.price_ct for interval in quarters]
        self.follows = [False] + [
            earlier.end == later.start for earlier, later in itertools.pairwise(quarters)
        ]

    def placement(self, load: Load, steps: Sequence[tuple[int, float]]) -> Placement:
        """Return a placement with its cost and whether it keeps the load's cap."""
        prices = [self.prices[index] or 0.0 for index, _ in steps]
        cost = sum(kw * HOURS * price for (_, kw), price in zip(steps, prices, strict=True))
        cap = math.inf if load.price_cap_ct is None else load.price_cap_ct
        over = sum(kw * HOURS for (_, kw), price in zip(steps, prices, strict=True) if price > cap)
        return Placement(cost / CT_PER_EUR, tuple(steps), over)


class Task:
    """One load on the grid: its window and the quarter-hours it may use."""

    __slots__ = ("allowed", "cap_alone", "high", "load", "low", "needed")

    def __init__(self, load: Load, grid: Grid, *, cap_alone: bool = False) -> None:
        self.load = load
        # The window: quarter-hours from the earliest start that end by the deadline.
        self.low = bisect.bisect_left(grid.starts, load.earliest)
        self.high = max(self.low, bisect.bisect_right(grid.starts, load.deadline - QUARTER))
        cap = load.price_cap_ct
        window = grid.prices[self.low : self.high]
        # allowed[capped][i]: window quarter-hour i has a known price (under the cap).
        self.allowed = (
            [price is not None for price in window],
            [price is not None and (cap is None or price <= cap) for price in window],
        )
        self.cap_alone = cap_alone  # whether it can keep its cap alone
        if load.energy_kwh is not None and load.max_kw is not None:
            self.needed = math.ceil(load.energy_kwh / (load.max_kw * HOURS) - EPSILON)
        else:
            self.needed = len(load.profile_kw)

    def quarters(self, capped: bool) -> list[int]:
        """Return the grid indices the load may use."""
        return [self.low + i for i, ok in enumerate(self.allowed[capped]) if ok]

    @property
    def slack(self) -> int:
        """Return how many usable quarter-hours the load can spare."""
        return sum(self.allowed[False]) - self.needed

    @property
    def size(self) -> float:
        """Return the energy the load needs (kWh)."""
        return sum(self.load.profile_kw) * HOURS + (self.load.energy_kwh or 0.0)

    def overlaps(self, other: Task) -> bool:
        """Return whether the two windows share a quarter-hour."""
        return self.low < other.high and other.low < self.high


@dataclass(frozen=True, slots=True)
class State:
    """A household plan under construction: a placement per task, and how good it is."""

    placements: tuple[Placement | None, ...]
    # Per task: an energy target's two cheapest (price, quarter) with room to draw more.
    spare: tuple[Sequence[tuple[float, int]], ...]
    score: tuple[int, int, float, float]
    targets: tuple[int, ...]  # the energy targets, first served first
    # (target, quarter): kept out of a quarter-hour, to leave it to a group mate.
    bans: frozenset[tuple[int, int]] = frozenset()


def quarters_between(earliest: datetime, deadline: datetime) -> int:
    """Return how many whole quarter-hours (on the clock) lie between two instants."""
    step = QUARTER.total_seconds()
    first = math.ceil(earliest.timestamp() / step)
    last = math.floor(deadline.timestamp() / step)
    return max(0, last - first)


def load_plan(grid: Grid, load: Load, placement: Placement, reason: str | None) -> LoadPlan:
    """Return the plan of a load placed on the grid; `reason` when it cannot finish."""
    return LoadPlan(
        key=load.key,
        steps=tuple((grid.starts[index], kw) for index, kw in placement.steps),
        status=PLANNED if reason is None else CANNOT_FINISH,
        reason=reason,
        cost_eur=placement.cost,
        cap_met=placement.cap_met,
    )
