"""What a placement costs in the household search: the mixin of household_plan._Search.

Pure logic, no Home Assistant imports. A program's cost per step and quarter-hour
includes what it takes from (or leaves to) the energy targets sharing the limit;
the targets are filled together after the programs.
"""

from __future__ import annotations

from collections.abc import Sequence
import math

from .household_model import HOURS, Grid, Placement, State, Task
from .load_placement import EPSILON, ProgramCosts, cheapest_pair, cheapest_program
from .price_schedule import CT_PER_EUR
from .target_fill import TargetFill, TargetSpec, fill_targets

# What a program pays (ct/kWh) for pushing an energy target out of a quarter-hour when the
# target has nowhere else to go: more than any price, yet finite, as the target may still
# fit over its cap (the deadline wins) and a plan that leaves it out is judged as such.
STRANDED_CT = 1e6
# Two programs are placed together exactly while the joint search has at most this many
# (quarter-hour, steps done) states (about 10 ms here), else one after the other.
PAIR_STATES = 6000
# A program is kept out of at most this many of the quarter-hours it runs in (see _contested).
AVOIDED = 3


class SearchCosts:
    """Costs, scores, fills and pair placements of the household search (household_plan._Search)."""

    grid: Grid
    tasks: Sequence[Task]
    limit: float
    programs: list[int]
    targets: list[int]
    rivals: list[int]
    _saved: dict[tuple[int, Placement], list[tuple[int, float, float]]]

    def _costs(
        self,
        index: int,
        placements: Sequence[Placement | None],
        spare: Sequence[Sequence[tuple[float, int]]],
        making_room: bool,
        capped: bool,
        low: int,
        high: int,
    ) -> tuple[list[list[float]], list[float]]:
        """Return a program's step costs (EUR) and the room (kW) in quarter-hours low..high.

        The other loads stay where they are, or (`making_room`) the energy targets
        may move: taking room from one costs the energy moved times the price
        difference to where it can go (its spare quarter-hours), and taking a
        quarter-hour it would rather draw in costs what it would save there.
        """
        task = self.tasks[index]
        group = task.load.group
        size = high - low
        room = [self.limit] * size
        busy = [False] * size
        # With making_room: EUR per kW-quarter to push targets out of a quarter-hour
        # (their cheapest), kW they draw there, and what a group mate's move costs.
        push = [math.inf] * size
        drawn = [0.0] * size
        evict = [0.0] * size
        # And what a target would gain from a quarter-hour the program leaves free:
        # kW it would move there from its dearest quarter-hours, EUR per kW-quarter.
        wish = [0.0] * size
        gain = [0.0] * size
        for other, placement in enumerate(placements):
            if placement is None or other == index:
                continue
            mate = group is not None and self.tasks[other].load.group == group
            movable = making_room and not self.tasks[other].load.is_program
            if movable and placement.steps:
                self._wishes(other, placement, low, wish, gain, evict if mate else None)
            for quarter, kw in placement.steps:
                at = quarter - low
                if not 0 <= at < size:
                    continue
                if not movable:
                    room[at] -= kw
                    busy[at] = busy[at] or mate
                    continue
                price = self.grid.prices[quarter] or 0.0
                elsewhere = next((p for p, q in spare[other] if q != quarter), STRANDED_CT)
                moving = max(0.0, elsewhere - price) * HOURS / CT_PER_EUR
                if mate:
                    evict[at] += kw * moving
                else:
                    drawn[at] += kw
                    push[at] = min(push[at], moving)
        allowed = task.allowed[capped]
        # Per quarter-hour: EUR per kW, kW that fit, kW free of targets, what pushing them
        # costs, what a group mate's move costs, kW targets wish to draw, what they'd gain.
        rows = [
            (
                known * HOURS / CT_PER_EUR,
                room[at] + EPSILON,
                room[at] - drawn[at] + EPSILON,
                push[at],
                evict[at],
                wish[at],
                gain[at],
            )
            if (known := self.grid.prices[low + at]) is not None
            and task.low <= low + at < task.high
            and allowed[low + at - task.low]
            and not busy[at]
            else None
            for at in range(size)
        ]
        # One row per distinct kW: profiles repeat their figures.
        by_kw = {
            kw: [
                math.inf
                if row is None or kw > row[1]
                else kw * row[0]
                + row[4]
                + ((kw - row[2]) * row[3] if kw > row[2] else 0.0)
                + (_blocked(row[2] - EPSILON, kw, row[5]) * row[6] if row[6] else 0.0)
                for row in rows
            ]
            for kw in set(task.load.profile_kw)
        }
        costs = [by_kw[kw] for kw in task.load.profile_kw]
        return costs, room

    def _score(self, placements: Sequence[Placement | None]) -> tuple[int, int, float, float]:
        """Return what a plan is judged by: loads left out, caps missed, kWh over caps, cost.

        Energy over a cap counts only for loads that can keep their cap alone: the
        others are planned without it. Rounded, so float noise never counts as a gain.
        """
        placed = [placement for placement in placements if placement is not None]
        over = sum(
            placement.over_cap
            for placement, task in zip(placements, self.tasks, strict=True)
            if placement is not None and task.cap_alone
        )
        return (
            len(placements) - len(placed),
            sum(not placement.cap_met for placement in placed),
            round(over, 9),
            round(sum(placement.cost for placement in placed), 9),
        )

    def _bans(self, state: State) -> list[tuple[int, int]]:
        """Return (target, quarter) where a target draws and a group mate would rather draw.

        That is, a mate may draw there and it is cheaper than the mate's dearest one.
        """
        prices = self.grid.prices
        dearest = {
            index: max((prices[quarter] or 0.0) for quarter, _ in placement.steps)
            for index in self.rivals
            if (placement := state.placements[index]) is not None and placement.steps
        }
        bans = []
        for index in dearest:
            placement = state.placements[index]
            assert placement is not None
            group = self.tasks[index].load.group
            for quarter, _ in placement.steps:
                if any(
                    mate != index
                    and self.tasks[mate].load.group == group
                    and self.tasks[mate].low <= quarter < self.tasks[mate].high
                    and (prices[quarter] or 0.0) < price
                    for mate, price in dearest.items()
                ):
                    bans.append((index, quarter))
        return bans

    def _contested(
        self, state: State, index: int, proposal: Placement | None
    ) -> list[tuple[int, int, int]]:
        """Return the quarter-hours worth keeping a program out of (the "avoid" moves).

        Where it runs and an energy target it gets in the way of would rather draw
        (cheaper than the target's dearest), and where it would run if it made room
        (`program` move) and pushed a target out: what pricing the targets' side in
        quarter by quarter gets wrong, as a target cannot save (or move) twice.
        """
        placement = state.placements[index]
        if placement is None:
            return []
        group = self.tasks[index].load.group
        prices = self.grid.prices
        rivals = []
        for target in self.targets:
            drawn = state.placements[target]
            if drawn is not None and (
                self.limit < math.inf or group == self.tasks[target].load.group is not None
            ):
                dearest = max((prices[q] or 0.0 for q, _ in drawn.steps), default=-math.inf)
                rivals.append((self.tasks[target], dict(drawn.steps), dearest))
        # Where it runs: the cheapest few, those a target wants most; there it may go
        # anywhere else (1) or only where no target draws (0).
        wanted = {
            quarter
            for quarter, _ in placement.steps
            for task, drawn, dearest in rivals
            if task.low <= quarter < task.high
            and task.allowed[False][quarter - task.low]
            and (prices[quarter] or 0.0) < dearest
            and drawn.get(quarter, 0.0) < (task.load.max_kw or 0.0) - EPSILON
        }
        moves = [
            (index, quarter, making_room)
            for quarter in sorted(wanted, key=lambda quarter: prices[quarter] or 0.0)[:AVOIDED]
            for making_room in (0, 1)
        ]
        # Where it would push targets out (`proposal`): the few where it pushes most.
        if proposal is not None:
            pushed = {
                quarter: sum(drawn.get(quarter, 0.0) for _, drawn, _ in rivals)
                for quarter, _ in proposal.steps
            }
            moves += [
                (index, quarter, 1)
                for quarter in sorted(pushed, key=lambda quarter: -pushed[quarter])[:AVOIDED]
                if pushed[quarter] > EPSILON and quarter not in wanted
            ]
        return moves

    def _wishes(
        self,
        target: int,
        placement: Placement,
        low: int,
        wish: list[float],
        gain: list[float],
        evict: list[float] | None,
    ) -> None:
        """Note where an energy target would rather draw than in its dearest quarter-hours.

        Into `wish` and `gain` (kW and EUR per kW-quarter, for a program under the same
        limit), or for a group mate of the program straight into `evict` (EUR).
        """
        for quarter, kw, saving in self._savings(target, placement):
            at = quarter - low
            if not 0 <= at < len(wish):
                continue
            if evict is not None:
                evict[at] += saving
            elif saving / kw > gain[at]:
                wish[at], gain[at] = kw, saving / kw

    def _savings(self, target: int, placement: Placement) -> list[tuple[int, float, float]]:
        """Return (quarter, kW, EUR): what an energy target would move where, saving what."""
        key = (target, placement)
        if key in self._saved:
            return self._saved[key]
        prices = self.grid.prices
        # What it draws, dearest first: what it would move to a cheaper quarter-hour.
        dearest = sorted((((prices[q] or 0.0), kw) for q, kw in placement.steps), reverse=True)
        load = self.tasks[target].load
        assert load.max_kw is not None
        drawn = dict(placement.steps)
        savings = []
        for quarter in self.tasks[target].quarters(False):
            price = prices[quarter] or 0.0
            room = load.max_kw - drawn.get(quarter, 0.0)
            kw = saving = 0.0
            for dear, moving in dearest:
                if dear <= price or kw >= room - EPSILON:
                    break
                amount = min(moving, room - kw)
                kw += amount
                saving += amount * (dear - price) * HOURS / CT_PER_EUR
            if kw > EPSILON:
                savings.append((quarter, kw, saving))
        self._saved[key] = savings
        return savings

    def _refill_if_moved(self, state: State, placements: list[Placement | None]) -> State:
        if placements == list(state.placements):
            return state  # the same placements refill to the same state
        return self._refill(placements, state.targets, state.bans)

    def _program_at(self, index: int, quarters: Sequence[int]) -> Placement:
        profile = self.tasks[index].load.profile_kw
        return self.grid.placement(
            self.tasks[index].load, list(zip(quarters, profile, strict=True))
        )

    def _refill(
        self,
        placements: list[Placement | None],
        targets: tuple[int, ...],
        bans: frozenset[tuple[int, int]] = frozenset(),
    ) -> State:
        """Place the energy targets together, in this order, where the programs leave room."""
        room = [self.limit] * len(self.grid.starts)
        taken: dict[str | None, set[int]] = {}
        for index in self.programs:
            placement = placements[index]
            if placement is not None:
                for quarter, kw in placement.steps:
                    room[quarter] -= kw
                    taken.setdefault(self.tasks[index].load.group, set()).add(quarter)
        taken.pop(None, None)
        active = list(targets)
        capped = {index: self.tasks[index].cap_alone for index in active}
        spare: list[Sequence[tuple[float, int]]] = [()] * len(self.tasks)
        while True:
            fill = self._fill(active, capped, room, taken, bans)
            short = [i for i, missing in zip(active, fill.short, strict=True) if missing > EPSILON]
            if not short:
                break
            # The deadline wins over the cap; else leave out the target missing most.
            if any(capped[i] for i in short):
                capped.update((i, False) for i in short)
                continue
            worst = max(zip(fill.short, active, strict=True))[1]
            active.remove(worst)
            placements[worst] = None
        for index, drawn, cheapest in zip(active, fill.drawn, fill.spare, strict=True):
            placements[index] = self.grid.placement(self.tasks[index].load, sorted(drawn.items()))
            spare[index] = cheapest
        return State(tuple(placements), tuple(spare), self._score(placements), targets, bans)

    def _fill(
        self,
        active: Sequence[int],
        capped: dict[int, bool],
        room: Sequence[float],
        taken: dict[str | None, set[int]],
        bans: frozenset[tuple[int, int]],
    ) -> TargetFill:
        specs = []
        for index in active:
            load = self.tasks[index].load
            assert load.energy_kwh is not None
            assert load.max_kw is not None
            blocked = taken.get(load.group, set())
            allowed = [
                q
                for q in self.tasks[index].quarters(capped[index])
                if q not in blocked and (index, q) not in bans
            ]
            specs.append(TargetSpec(allowed, load.max_kw, load.energy_kwh / HOURS, load.group))
        return fill_targets(specs, self.grid.prices, room)

    def _place_pair(
        self,
        pair: tuple[int, int],
        placements: Sequence[Placement | None],
        spare: Sequence[Sequence[tuple[float, int]]],
        current: tuple[Placement | None, Placement | None],
    ) -> tuple[Placement | None, Placement | None] | None:
        """Return the cheapest joint placement of two programs beside the others.

        None when the exact search is too large (PAIR_STATES); (None, None) when the
        two do not fit together. Only (step, quarter-hour) that can beat where the
        two run now (`current`) are searched.
        """
        a, b = (self.tasks[i] for i in pair)
        low, high = min(a.low, b.low), max(a.high, b.high)
        exclusive = a.load.group == b.load.group is not None
        for capped in dict.fromkeys([(a.cap_alone, b.cap_alone), (False, False)]):
            costs_a, room = self._costs(pair[0], placements, spare, True, capped[0], low, high)
            costs_b, _ = self._costs(pair[1], placements, spare, True, capped[1], low, high)
            follows = self.grid.follows[low:high]
            first = ProgramCosts(costs_a, a.load.profile_kw, a.load.pausable)
            second = ProgramCosts(costs_b, b.load.profile_kw, b.load.pausable)
            alone_a = cheapest_program(costs_a, a.load.pausable, follows)
            alone_b = cheapest_program(costs_b, b.load.pausable, follows)
            if alone_a is None or alone_b is None:
                continue
            # Each at its best, not in each other's way: that is the joint best too.
            if first.compatible(alone_a[1], second, alone_b[1], room, exclusive):
                best = (0.0, alone_a[1], alone_b[1])
            else:
                bound = cost_at(current[0], costs_a, low) + cost_at(current[1], costs_b, low)
                first = first.within(follows, bound - alone_b[0])
                second = second.within(follows, bound - alone_a[0])
                if first.size(second) > PAIR_STATES:
                    return None
                found = cheapest_pair(first, second, room, follows, exclusive)
                if found is None:
                    continue
                best = found
            return (
                self._program_at(pair[0], [low + i for i in best[1]]),
                self._program_at(pair[1], [low + i for i in best[2]]),
            )
        return (None, None)


def cost_at(placement: Placement | None, costs: Sequence[Sequence[float]], low: int) -> float:
    """Return what a program's placement costs by `costs` (from quarter-hour `low`)."""
    if placement is None:
        return math.inf
    return sum(costs[j][quarter - low] for j, (quarter, _) in enumerate(placement.steps))


def _blocked(free: float, kw: float, wish: float) -> float:
    """Return how much of a target's `wish` (kW) a program drawing `kw` takes from it."""
    return min(max(free, 0.0), wish) - min(max(free - kw, 0.0), wish)
