"""Household plans: several loads planned together on quarter-hour prices.

Pure logic, no Home Assistant imports. The model:

- prices are quarter-hours (ct/kWh, all-in, may be negative); an unknown price
  (None), a missing quarter-hour or an interval of another length is never used;
- a load runs between its earliest start and its deadline, either as a
  *program* (one kW figure per consecutive quarter-hour step, optionally
  pausable before some steps) or as an *energy target* (any power from 0 to
  `max_kw` in each quarter-hour, exactly `energy_kwh` in all, never more);
- quarter-hours above a load's price cap are avoided, unless the load cannot
  be done without them (the deadline wins; `cap_met` is then False);
- the household's import limit bounds the sum of all loads' power in every
  quarter-hour, and loads of one group never run in the same quarter-hour.

One load alone is planned exactly (load_placement.py): a program by a
dynamic programme over (step, quarter-hour); an energy target by filling the
cheapest quarter-hours at full power, the last one partly. Loads under a
limit or in groups make a mixed-integer programme, solved exactly by HiGHS
(household_exact.py) when every load fits with the caps it can keep alone and
the solver proves its plan within TIME_LIMIT. Otherwise (or without HiGHS) a
search of our own plans too, and the better plan wins; the tests hold the
search alone to within 1 % of the optimum in all but a few of thousands of
random households:

- the energy targets are placed together after the programs (`fill_targets`:
  exact given the programs, unless two share a group); a program at its
  cheapest beside the others by the dynamic programme, the targets' side
  priced in (room taken from a target costs moving that energy on, a
  quarter-hour left free gains what a target saves there);
- starts: the programs one by one in a few orders (least slack first, largest
  energy first, a program left out first), and the programs before the targets;
- each start is improved by descent, a dearer kind of move only once the
  cheaper stop helping: move one program (targets as they are, or making room);
  targets first, programs around them; two programs of a group or under the
  limit together (exactly while small enough); keep a program out of a
  quarter-hour a target wants; shift a program by one or two quarter-hours;
  for targets of one group, serve another first or keep one out of a
  quarter-hour. A move is kept when it lowers (loads left out, caps missed,
  kWh over caps, cost); the best start (or HiGHS's unproven plan) wins.

Loads that cannot be done even alone are reported (`not_enough_time` when
the time window is too short whatever the prices, else `prices_missing`) and
left out, so they never take capacity from the others. A load that can be
done alone but does not fit under the limit with the others (or alone: a step
drawing more than the limit) is reported with `limit` and still gets its own
plan, as if it were alone and there were no limit, so the caller can show
when it would run; it does not count towards the limit or the total cost.
"""

from __future__ import annotations

from collections.abc import Sequence
import itertools
import math

from .household_costs import SearchCosts
from .household_exact import solve_exactly
from .household_model import (
    CANNOT_FINISH,
    LIMIT,
    NOT_ENOUGH_TIME,
    PLANNED,
    PRICES_MISSING,
    Grid,
    Household,
    HouseholdPlan,
    Load,
    LoadPlan,
    Placement,
    State,
    Task,
    load_plan,
    quarters_between,
)
from .load_placement import cheapest_program
from .price_schedule import PriceInterval

__all__ = [
    "CANNOT_FINISH",
    "LIMIT",
    "NOT_ENOUGH_TIME",
    "PLANNED",
    "PRICES_MISSING",
    "Household",
    "HouseholdPlan",
    "Load",
    "LoadPlan",
    "plan_household",
]

# Coordinate descent stops after this many passes even if it still improves.
MAX_PASSES = 12
# Up to this many (quarter-hours x steps) of all programs, every start gets the pair moves.
THOROUGH_WORK = 2000
NO_LIMIT = Household()


class _Search(SearchCosts):
    """The loads that share the limit and their groups, and the search for a good plan."""

    def __init__(self, grid: Grid, tasks: Sequence[Task], limit: float) -> None:
        self.grid = grid
        self.tasks = tasks
        self.limit = limit
        self.programs = [i for i, task in enumerate(tasks) if task.load.is_program]
        # Least slack first: who has the fewest alternatives gets served first.
        self.targets = sorted(
            (i for i, task in enumerate(tasks) if not task.load.is_program),
            key=lambda i: (tasks[i].slack, i),
        )
        # Targets sharing a group with another target: the order they are served in matters.
        self.rivals = [
            i
            for i in self.targets
            if any(
                k != i and tasks[k].load.group == tasks[i].load.group is not None
                for k in self.targets
            )
        ]
        # Moves tried: (kind, move, the state's placements, order, bans) -> the result.
        self._tried: dict[tuple[object, ...], State] = {}
        # An energy target's placement -> where it would rather draw (see _savings).
        self._saved: dict[tuple[int, Placement], list[tuple[int, float, float]]] = {}
        # Pairs of programs that can get in each other's way.
        self.pairs = [
            (a, b)
            for a, b in itertools.combinations(self.programs, 2)
            if tasks[a].overlaps(tasks[b])
            and (limit < math.inf or tasks[a].load.group == tasks[b].load.group is not None)
        ]

    def solve(self) -> tuple[Placement | None, ...]:
        """Return the exact plan if HiGHS proves one in time, else the search's (or its) best."""
        exact = solve_exactly(self.grid, self.tasks, self.limit)
        if exact is not None and exact[1]:
            return tuple(exact[0])
        found = self._search()
        if exact is not None and self._score(exact[0]) < self._score(found):
            return tuple(exact[0])
        return found

    def _search(self) -> tuple[Placement | None, ...]:
        """Return the best placements found from a few starts, each improved by descent."""
        by_slack = sorted(self.programs, key=lambda i: (self.tasks[i].slack, i))
        by_size = sorted(self.programs, key=lambda i: (-self.tasks[i].size, i))
        orders = [by_slack, by_size]
        # A small household gets the pair moves from every start; a large one (where they
        # cost most) from the best start only.
        work = sum(
            (self.tasks[i].high - self.tasks[i].low) * len(self.tasks[i].load.profile_kw)
            for i in self.programs
        )
        thorough = work <= THOROUGH_WORK
        best: State | None = None
        tried: set[tuple[int, ...]] = set()
        while orders:
            order = orders.pop(0)
            if tuple(order) in tried:
                continue
            tried.add(tuple(order))
            state = self._descend(self._construct(order), pairs=thorough)
            if best is None or state.score < best.score:
                best = state
                # A program left out: start again with it placed first.
                orders.extend(
                    [i, *(k for k in by_slack if k != i)]
                    for i in self.programs
                    if state.placements[i] is None
                )
        assert best is not None
        if self.targets and self.programs:
            state = self._descend(self._construct_programs_first(by_slack), pairs=thorough)
            best = min(best, state, key=_by_score)
        return self._descend(best, pairs=True).placements

    def place_alone(self) -> Placement | None:
        """Return the cheapest placement of the only task (exact)."""
        nothing = (None,)
        if self.programs:
            return self._place_program(0, nothing, ((),), False)
        return self._refill(list(nothing), (0,)).placements[0]

    def _construct(self, order: Sequence[int]) -> State:
        """Start: the energy targets first, then the programs one by one, making room."""
        state = self._refill([None] * len(self.tasks), tuple(self.targets))
        for index in order:
            state = self._move(state, (index,), making_room=True)
        return state

    def _construct_programs_first(self, order: Sequence[int]) -> State:
        """Start: the programs one by one, then the energy targets where they leave room."""
        placements: list[Placement | None] = [None] * len(self.tasks)
        nowhere: list[Sequence[tuple[float, int]]] = [()] * len(self.tasks)
        for index in order:
            placements[index] = self._place_program(index, placements, nowhere, False)
        return self._refill(placements, tuple(self.targets))

    def _targets_first(self, state: State) -> State:
        """Let the energy targets go where they like best, then fit the programs around them."""
        placements = list(state.placements)
        for index in self.programs:
            placements[index] = None
        alone = self._refill(placements, state.targets, state.bans)
        placements = list(alone.placements)
        for index in self.programs:
            placements[index] = self._place_program(index, placements, alone.spare, False)
        return self._refill_if_moved(state, placements)

    def _descend(self, state: State, *, pairs: bool) -> State:
        """Improve by moves until none helps; moving pairs of programs only if `pairs`.

        The cheap kinds of moves first: a dearer kind only once the cheaper stop helping.
        """
        for _ in range(MAX_PASSES):
            start = state.score
            for kind in _KINDS if pairs else _KINDS_WITHOUT_PAIRS:
                for move in self._moves(state, kind):
                    state = min(state, self._apply(state, kind, move), key=_by_score)
                if state.score != start:
                    break
            else:
                break
        return state

    def _moves(self, state: State, kind: str) -> list[tuple[int, ...]]:
        """Return the moves of a kind worth trying in `state`."""
        if kind == "program":
            return [(index, making_room) for index in self.programs for making_room in (0, 1)]
        if kind == "targets_first":
            return [()] if self.targets and self.programs else []
        if kind == "avoid":
            return [
                move
                for index in self.programs
                for move in self._contested(
                    state, index, self._apply(state, "program", (index, 1)).placements[index]
                )
            ]
        if kind == "pair":
            return list(self.pairs)
        if kind == "shift":
            return [(index, delta) for index in self.programs for delta in (-2, -1, 1, 2)]
        if kind == "serve_first":
            return [(index,) for index in self.rivals]
        # "ban": lift a ban (one that helped once may be in the way now), or add one.
        lift: list[tuple[int, ...]] = [(0, *ban) for ban in state.bans]
        return lift + [(1, *ban) for ban in self._bans(state)]

    def _apply(self, state: State, kind: str, move: tuple[int, ...]) -> State:
        """Return the state after a move; a move tried on the same state before is not redone."""
        key = (kind, move, state.placements, state.targets, state.bans)
        if key not in self._tried:
            self._tried[key] = self._make(state, kind, move)
        return self._tried[key]

    def _make(self, state: State, kind: str, move: tuple[int, ...]) -> State:
        if kind == "program":
            return self._move(state, move[:1], making_room=bool(move[1]))
        if kind == "targets_first":
            return self._targets_first(state)
        if kind == "avoid":
            return self._move(state, move[:1], making_room=bool(move[2]), avoid=move[1])
        if kind == "pair":
            return self._move_pair(state, (move[0], move[1]))
        if kind == "shift":
            return self._shift(state, move[0], move[1])
        placements = list(state.placements)
        if kind == "serve_first":
            order = (move[0], *(i for i in state.targets if i != move[0]))
            return self._refill(placements, order, state.bans)
        add, target, quarter = move
        bans = state.bans | {(target, quarter)} if add else state.bans - {(target, quarter)}
        return self._refill(placements, state.targets, bans)

    def _move(
        self, state: State, moved: Sequence[int], making_room: bool, avoid: int | None = None
    ) -> State:
        """Take programs out, put them back one by one (out of `avoid`), refill the targets."""
        placements = list(state.placements)
        for index in moved:
            placements[index] = None
        for index in moved:
            placements[index] = self._place_program(
                index, placements, state.spare, making_room, avoid
            )
        return self._refill_if_moved(state, placements)

    def _shift(self, state: State, index: int, delta: int) -> State:
        """Move a whole program `delta` quarter-hours, the energy targets refilled around it.

        What the descent's other moves miss: a program giving up its best quarter-hours
        to an energy target that gains more there.
        """
        placement = state.placements[index]
        task = self.tasks[index]
        if placement is None:
            return state
        quarters = [quarter + delta for quarter, _ in placement.steps]
        if not task.low <= quarters[0] <= quarters[-1] < task.high:
            return state
        placements = list(state.placements)
        placements[index] = None
        costs, _ = self._costs(index, placements, state.spare, True, False, task.low, task.high)
        if any(
            costs[j][quarter - task.low] == math.inf
            or (j and not task.load.pausable[j] and not self.grid.follows[quarter])
            for j, quarter in enumerate(quarters)
        ):
            return state
        placements[index] = self._program_at(index, quarters)
        return self._refill(placements, state.targets, state.bans)

    def _move_pair(self, state: State, pair: tuple[int, int]) -> State:
        """Take two programs out and put them back together: exactly, if small enough.

        Else one after the other, in both orders.
        """
        placements = list(state.placements)
        for index in pair:
            placements[index] = None
        current = (state.placements[pair[0]], state.placements[pair[1]])
        placed = self._place_pair(pair, placements, state.spare, current)
        if placed is not None:
            placements[pair[0]], placements[pair[1]] = placed
            return self._refill_if_moved(state, placements)
        return min(
            self._move(state, pair, making_room=True),
            self._move(state, pair[::-1], making_room=True),
            key=_by_score,
        )

    def _place_program(
        self,
        index: int,
        placements: Sequence[Placement | None],
        spare: Sequence[Sequence[tuple[float, int]]],
        making_room: bool,
        avoid: int | None = None,
    ) -> Placement | None:
        """Return the cheapest placement of a program beside the others (see `_costs`)."""
        task = self.tasks[index]
        low, high = task.low, task.high
        for capped in (True, False) if task.cap_alone else (False,):
            costs, _ = self._costs(index, placements, spare, making_room, capped, low, high)
            if avoid is not None:
                for row in costs:
                    row[avoid - low] = math.inf
            best = cheapest_program(costs, task.load.pausable, self.grid.follows[low:high])
            if best is not None:
                return self._program_at(index, [low + i for i in best[1]])
        return None


# The kinds of moves the descent tries, cheapest first (see _Search._moves).
_KINDS = ("program", "targets_first", "pair", "avoid", "shift", "serve_first", "ban")
_KINDS_WITHOUT_PAIRS = tuple(kind for kind in _KINDS if kind not in {"pair", "shift", "avoid"})


def _by_score(state: State) -> tuple[int, int, float, float]:
    return state.score


def plan_household(
    loads: Sequence[Load],
    prices: Sequence[PriceInterval],
    household: Household = NO_LIMIT,
) -> HouseholdPlan:
    """Plan every load on `prices` under the household's limit; see the module docstring."""
    if len({load.key for load in loads}) != len(loads):
        raise ValueError("load keys must be unique")
    grid = Grid(prices)
    limit = math.inf if household.limit_kw is None else household.limit_kw
    shared: list[Task] = []
    results: dict[str, LoadPlan] = {}
    for load in loads:
        capped = _alone(grid, load, limit, capped=True)
        # Without a cap, the capped placement is the only one.
        fits = capped is not None or (
            load.price_cap_ct is not None and _alone(grid, load, limit, capped=False) is not None
        )
        if fits:
            shared.append(Task(load, grid, cap_alone=capped is not None))
            continue
        # Not even alone under the limit: left out, so it takes no room from the others.
        fallback = _alone(grid, load, math.inf, capped=True) or _alone(
            grid, load, math.inf, capped=False
        )
        if fallback is not None:
            results[load.key] = load_plan(grid, load, fallback, LIMIT)
        else:
            short = quarters_between(load.earliest, load.deadline) < Task(load, grid).needed
            reason = NOT_ENOUGH_TIME if short else PRICES_MISSING
            results[load.key] = LoadPlan(load.key, (), CANNOT_FINISH, reason, cap_met=False)
    placements = _Search(grid, shared, limit).solve()
    for task, placement in zip(shared, placements, strict=True):
        if placement is not None:
            results[task.load.key] = load_plan(grid, task.load, placement, None)
            continue
        # Fits alone, not with the others: its own plan, as if it were alone.
        lone = _alone(grid, task.load, math.inf, capped=task.cap_alone)
        assert lone is not None
        results[task.load.key] = load_plan(grid, task.load, lone, LIMIT)
    return HouseholdPlan(tuple(results[load.key] for load in loads))


def _alone(grid: Grid, load: Load, limit: float, *, capped: bool) -> Placement | None:
    """Return the load's cheapest placement alone under `limit` (kW), under its cap if `capped`."""
    search = _Search(grid, [Task(load, grid, cap_alone=capped)], limit)
    placement = search.place_alone()
    return placement if placement is not None and (placement.cap_met or not capped) else None
