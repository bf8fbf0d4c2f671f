"""The household plan solved exactly: a mixed-integer programme for HiGHS.

Pure logic, no Home Assistant imports. household_plan.py asks here first when
loads share a limit or a group; when HiGHS is missing or finds no plan in time,
its own search plans instead. When the loads do not all fit with their caps, a
second model plans them all, a kWh above a cap costing more than any price
(OVER_CAP_CT): unproven, as that weighs the caps against each other only
roughly, so household_plan.py keeps the better of it and the search's plan.

The model (see household_plan.py for the loads): a program is split into
blocks, the steps between two pauses it may make; each block starts in exactly
one quarter-hour where all its steps have a usable price and follow on, and a
block starts after the previous one ends (a chain, household_mip.py). A program
of equal steps that may pause before each is simply "any n of its quarter-hours"
(a charge at constant power), which avoids n! equal orders. An energy target
draws 0..max_kw in each usable quarter-hour, exactly its energy in all; one that
shares a group gets an on/off per quarter-hour. Every load is planned, each keeping its price cap if it
can alone; the import limit and the groups bind per quarter-hour, and two runs
that together exceed the limit also get a "not both" row there; the cost is the
objective.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
import itertools
import math

from . import household_mip
from .household_mip import Programme
from .household_model import HOURS, Grid, Placement, Task
from .load_placement import EPSILON, cheapest_program
from .price_schedule import CT_PER_EUR

# How long HiGHS may search (seconds): the plan is made in Home Assistant's event loop.
TIME_LIMIT = 0.5
# Starts per block of a program that may pause that HiGHS sees first (the cheapest).
KEPT_STARTS = 24
# What missing a cap costs in the model (ct per kWh above it): more than any price, so a
# cap is missed only where a deadline needs it.
OVER_CAP_CT = 1e5
# Power below this (kW) is solver noise, not a plan.
NOISE = 1e-7


class _Load:
    """One task's columns: (column, quarter, kW) per way it can draw power."""

    def __init__(self, task: Task, grid: Grid, soft: bool) -> None:
        self.task = task
        self.grid = grid
        # Soft: its cap may be missed, at OVER_CAP_CT per kWh above it (if it can keep it alone).
        self.soft = soft and task.cap_alone and task.load.price_cap_ct is not None
        self.draws: list[list[tuple[int, int, float]]] = []  # per column group: its draws
        self.energy: list[tuple[int, int]] = []  # an energy target: (column, quarter)
        self.switches: list[tuple[int, int]] = []  # its on/off per quarter-hour, if grouped
        # A program's columns: which of them exclude each other (the same key).
        self.exclusive: dict[int, int] = {}

    def usable(self) -> list[int]:
        """Return the quarter-hours it may draw in (under its cap, unless soft)."""
        return self.task.quarters(self.task.cap_alone and not self.soft)

    def cost(self, quarter: int, kw: float) -> float:
        """Return what drawing `kw` for a quarter-hour costs (EUR), a missed cap included."""
        price = self.grid.prices[quarter] or 0.0
        cap = self.task.load.price_cap_ct
        if self.soft and cap is not None and price > cap:
            price += OVER_CAP_CT
        return kw * HOURS * price / CT_PER_EUR


class _Infeasible(Exception):
    """The model has no solution at all."""


def solve_exactly(
    grid: Grid, tasks: Sequence[Task], limit: float
) -> tuple[list[Placement], bool] | None:
    """Return a placement per task and whether it is proven cheapest; None if none was found.

    None too when HiGHS is not installed, when the tasks do not all fit even above their
    caps, or when they share no limit and no group (each is then planned alone, exactly).
    A plan that misses a cap it could keep alone is never called proven.
    """
    shared = limit < math.inf or _shared_groups(tasks)
    if not household_mip.available() or len(tasks) < 2 or not shared:
        return None
    try:
        return _solve(grid, tasks, limit, soft=False)
    except _Infeasible:
        pass
    # Not all with their caps: all of them, missing as little of the caps as it takes
    # (the deadlines first), unproven, for the search's plan to be compared with.
    try:
        found = _solve(grid, tasks, limit, soft=True)
    except _Infeasible:
        return None  # not even so: some load is left out, which the search decides
    return None if found is None else (found[0], False)


def _add_conflicts(
    model: Programme,
    terms: list[tuple[int, float]],
    exclusive: dict[int, tuple[int, int]],
    limit: float,
) -> None:
    """Add "not both" rows for runs that cannot share a quarter-hour under the limit.

    The limit's own row lets the relaxation run both a little (a 11 kW charge at 0.9
    beside a dishwasher at 0.1 under 11 kW), which HiGHS then cuts away slowly. Of
    each program block (one start) or quarter-hour of a set, the least power it draws
    here; two of different loads that exceed the limit together get a row.
    """
    drawing: dict[tuple[int, int], tuple[list[int], float]] = {}
    for column, kw in terms:
        key = exclusive.get(column)
        if key is not None:
            columns, least = drawing.get(key, ([], math.inf))
            drawing[key] = ([*columns, column], min(least, kw))
    for (a, (columns_a, kw_a)), (b, (columns_b, kw_b)) in itertools.combinations(
        drawing.items(), 2
    ):
        if a[0] != b[0] and kw_a + kw_b > limit + EPSILON:
            model.row([(column, 1.0) for column in columns_a + columns_b], -math.inf, 1.0)


def _shared_groups(tasks: Sequence[Task]) -> set[str]:
    """Return the groups that more than one task is in."""
    counts = Counter(task.load.group for task in tasks if task.load.group is not None)
    return {group for group, count in counts.items() if count > 1}


def _solve(
    grid: Grid, tasks: Sequence[Task], limit: float, *, soft: bool
) -> tuple[list[Placement], bool] | None:
    """Return the plan of one model (caps kept, or `soft`) and whether it is proven.

    None when HiGHS found none in time; _Infeasible when there is none.
    """
    model = Programme()
    loads = [_Load(task, grid, soft) for task in tasks]
    grouped = _shared_groups(tasks)
    power: dict[int, list[tuple[int, float]]] = {}
    busy: dict[tuple[str, int], list[tuple[int, float]]] = {}
    for load in loads:
        task = load.task
        group = task.load.group if task.load.group in grouped else None
        usable = load.usable()
        if not task.load.is_program:
            _add_target(model, load, usable, group is not None)
            for column, quarter in load.energy:
                power.setdefault(quarter, []).append((column, 1.0))
            for column, quarter in load.switches:
                busy.setdefault((group or "", quarter), []).append((column, 1.0))
            continue
        if not _add_program(model, grid, load, set(usable)):
            raise _Infeasible
        for draws in load.draws:
            for column, quarter, kw in draws:
                power.setdefault(quarter, []).append((column, kw))
                if group is not None:
                    busy.setdefault((group, quarter), []).append((column, 1.0))
    if limit < math.inf:
        exclusive = {
            column: (index, key)
            for index, load in enumerate(loads)
            for column, key in load.exclusive.items()
        }
        for terms in power.values():
            if sum(kw * model.upper[column] for column, kw in terms) > limit:
                model.row(terms, -math.inf, limit)
                _add_conflicts(model, terms, exclusive, limit)
    for terms in busy.values():
        if len(terms) > 1:
            model.row(terms, -math.inf, 1.0)
    solved = model.solve(TIME_LIMIT)
    if model.infeasible:
        raise _Infeasible
    if solved is None:
        return None
    values, proven = solved
    placements = [_placement(grid, load, values) for load in loads]
    if any(placement is None for placement in placements):
        return None
    result = [placement for placement in placements if placement is not None]
    if not _keeps_limits(tasks, result, limit):
        return None
    return result, proven


def _add_target(model: Programme, load: _Load, usable: list[int], switched: bool) -> None:
    """Add an energy target: kW per usable quarter-hour, exactly its energy in all."""
    task = load.task
    assert task.load.energy_kwh is not None
    assert task.load.max_kw is not None
    max_kw = task.load.max_kw
    for quarter in usable:
        column = model.column(load.cost(quarter, 1.0), max_kw, False)
        load.energy.append((column, quarter))
        if switched:
            switch = model.column(0.0, 1.0, True)
            load.switches.append((switch, quarter))
            model.row([(column, 1.0), (switch, -max_kw)], -math.inf, 0.0)
    model.row(
        [(column, HOURS) for column, _ in load.energy], task.load.energy_kwh, task.load.energy_kwh
    )


def _add_program(model: Programme, grid: Grid, load: _Load, usable: set[int]) -> bool:
    """Add a program, its parts each placed once and in order; False if one has nowhere to go.

    A part is a block (steps without a pause between them: an on/off per start); the
    blocks are a chain. A program of equal steps that may pause before each (a charge
    at constant power) is one part, any `count` of its quarter-hours, which avoids
    count! equal orders. Of a chain's starts only the cheapest KEPT_STARTS per block and
    those of its cheapest run alone are in the first programme; the rest are held.
    """
    task = load.task
    low, high = task.low, task.high
    # The usable quarter-hours that follow on without a gap, ending at each index.
    streak = dict.fromkeys(range(low - 1, high), 0)
    for quarter in range(low, high):
        if quarter in usable:
            follows = grid.follows[quarter] and quarter - 1 in usable
            streak[quarter] = streak[quarter - 1] + 1 if follows else 1
    parts = _parts(task.load.profile_kw, task.load.pausable)
    alone = _cheapest_alone(load, usable) if len(parts) > 1 else None
    blocks: list[dict[int, int]] = []  # per block: its on/off per start
    for number, (first, length, count) in enumerate(parts):
        steps = task.load.profile_kw[first : first + length]
        costs: dict[int, float] = {}  # start (or quarter-hour) -> cost
        for start in range(low, high - length + 1):
            if streak[start + length - 1] >= length:
                quarters = range(start, start + length)
                costs[start] = sum(load.cost(q, kw) for q, kw in zip(quarters, steps, strict=True))
        kept = sorted(costs, key=costs.__getitem__)[:KEPT_STARTS]
        kept += [] if alone is None else [alone[first]]
        columns: dict[int, int] = {}  # start (or quarter-hour) -> on/off
        for start, cost in costs.items():
            held = alone is not None and start not in kept
            columns[start] = model.column(cost, 1.0, True, held=held)
            # A block starts once; each quarter-hour of a set is its own.
            load.exclusive[columns[start]] = number if count == 1 else -1 - start
            load.draws.append([(columns[start], start + i, kw) for i, kw in enumerate(steps)])
        if len(columns) < count:
            return False
        model.row([(column, 1.0) for column in columns.values()], count, count)
        blocks.append(columns)
    if len(blocks) > 1:
        model.chain(blocks, [length for _, length, _ in parts])
    return True


def _cheapest_alone(load: _Load, usable: set[int]) -> list[int] | None:
    """Return the quarter-hour of each step in the load's cheapest run alone, if any."""
    task = load.task
    window = range(task.low, task.high)
    costs = [
        [load.cost(q, kw) if q in usable else math.inf for q in window]
        for kw in task.load.profile_kw
    ]
    found = cheapest_program(costs, task.load.pausable, load.grid.follows[task.low : task.high])
    return None if found is None else [task.low + index for index in found[1]]


def _parts(profile: Sequence[float], pausable: Sequence[bool]) -> list[tuple[int, int, int]]:
    """Return (first step, length, count) per part: the blocks, or one set of equal steps."""
    if len(profile) > 1 and len(set(profile)) == 1 and all(pausable[1:]):
        return [(0, 1, len(profile))]
    return [(first, length, 1) for first, length in _blocks(pausable)]


def _blocks(pausable: Sequence[bool]) -> Iterator[tuple[int, int]]:
    """Yield (first step, length) of each run of steps without a pause between them."""
    first = 0
    for step in range(1, len(pausable) + 1):
        if step == len(pausable) or pausable[step]:
            yield first, step - first
            first = step


def _placement(grid: Grid, load: _Load, values: list[float]) -> Placement | None:
    """Return the load's placement from the solution; None if it does not add up."""
    task = load.task
    if task.load.is_program:
        steps = sorted(
            (quarter, kw)
            for draws in load.draws
            for column, quarter, kw in draws
            if values[column] > 0.5
        )
        if len(steps) != len(task.load.profile_kw) or len({q for q, _ in steps}) != len(steps):
            return None
        return grid.placement(task.load, steps)
    assert task.load.energy_kwh is not None
    assert task.load.max_kw is not None
    switched_off = {quarter for column, quarter in load.switches if values[column] < 0.5}
    drawn = {
        quarter: min(task.load.max_kw, values[column])
        for column, quarter in load.energy
        if values[column] > NOISE and quarter not in switched_off
    }
    # The solver's tolerance: the last kWh-fractions go where there is room left.
    missing = task.load.energy_kwh / HOURS - sum(drawn.values())
    for quarter in sorted(drawn, key=lambda q: -drawn[q]):
        extra = max(-drawn[quarter], min(missing, task.load.max_kw - drawn[quarter]))
        drawn[quarter] += extra
        missing -= extra
    if abs(missing) > NOISE:
        return None
    return grid.placement(task.load, sorted((q, kw) for q, kw in drawn.items() if kw > 0))


def _keeps_limits(tasks: Sequence[Task], placements: Sequence[Placement], limit: float) -> bool:
    """Return whether the plan keeps the limit and the groups (beyond the solver's tolerance)."""
    drawn: dict[int, float] = {}
    running: dict[tuple[str, int], int] = {}
    for task, placement in zip(tasks, placements, strict=True):
        for quarter, kw in placement.steps:
            drawn[quarter] = drawn.get(quarter, 0.0) + kw
            if task.load.group is not None:
                key = (task.load.group, quarter)
                running[key] = running.get(key, 0) + 1
    return all(kw <= limit + EPSILON for kw in drawn.values()) and all(
        count <= 1 for count in running.values()
    )
