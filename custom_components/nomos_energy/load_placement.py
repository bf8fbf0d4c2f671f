"""Exact placements of loads on quarter-hours: pure logic, no Home Assistant imports.

The building blocks of the household planner (household_plan.py):

- `cheapest_program`: where a program's steps go, cheapest. A dynamic
  programme over (step, quarter-hour), O(steps x quarters): a step that may
  pause takes any later quarter-hour than its predecessor (a running minimum),
  a step that may not takes the very next one, gap-free in time.
- `cheapest_pair`: two programs placed together, exactly: a dynamic programme
  over quarter-hours with the steps each has done as the state. To keep it
  small, `ProgramCosts.within` first drops every (step, quarter-hour) that no
  run within a cost bound can use (the cheapest run up to it plus from it).
- energy targets are filled in target_fill.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import itertools
import math

# Power and energy comparisons tolerate float rounding of this size.
EPSILON = 1e-9


def cheapest_program(
    step_costs: Sequence[Sequence[float]], pausable: Sequence[bool], follows: Sequence[bool]
) -> tuple[float, list[int]] | None:
    """Return the cheapest cost and the quarter-hour (window index) of each step.

    `step_costs[j][i]` is the cost of step j in quarter-hour i (inf where it may
    not run); `follows[i]` says quarter-hour i starts where i - 1 ended. Of equal
    costs, the run that ends first wins, then the earliest predecessors.
    """
    best = _cheapest_until(step_costs, pausable, follows)
    total = min(best[-1], default=math.inf)
    if total == math.inf:
        return None
    index = best[-1].index(total)
    chosen = [index]
    for j in range(len(best) - 1, 0, -1):
        if pausable[j]:
            earlier = best[j - 1][:index]
            index = earlier.index(min(earlier))
        else:
            index -= 1
        chosen.append(index)
    chosen.reverse()
    return total, chosen


def _cheapest_until(
    step_costs: Sequence[Sequence[float]], pausable: Sequence[bool], follows: Sequence[bool]
) -> list[list[float]]:
    """Return best[j][i]: the cheapest steps 0..j with step j in quarter-hour i."""
    inf = math.inf
    best: list[list[float]] = []
    for j, cost in enumerate(step_costs):
        if j == 0:
            best.append(list(cost))
            continue
        # Step j in quarter-hour i after step j - 1 in any earlier one, or in i - 1.
        before = itertools.accumulate(best[-1], min) if pausable[j] else best[-1]
        row = [inf]
        if pausable[j]:
            row += [c + b for c, b in zip(itertools.islice(cost, 1, None), before, strict=False)]
        else:
            pairs = zip(
                itertools.islice(cost, 1, None),
                before,
                itertools.islice(follows, 1, None),
                strict=False,
            )
            row += [c + b if on else inf for c, b, on in pairs]
        best.append(row)
    return best


@dataclass(frozen=True, slots=True)
class ProgramCosts:
    """A program for `cheapest_pair`: its step costs (as for `cheapest_program`) and kW."""

    costs: Sequence[Sequence[float]]
    kw: Sequence[float]
    pausable: Sequence[bool]

    def moves(self, done: int, quarter: int, follows: bool) -> list[tuple[int, float]]:
        """Return (steps run, cost) it may do in `quarter` with `done` steps behind it.

        A program whose next step may not pause has just run (it never idles
        before such a step), so it must run again, in the very next quarter-hour.
        """
        steps = len(self.kw)
        moves = []
        if done in {0, steps} or self.pausable[done]:
            moves.append((0, 0.0))
        if done < steps and (done == 0 or self.pausable[done] or follows):
            cost = self.costs[done][quarter]
            if cost < math.inf:
                moves.append((1, cost))
        return moves

    def last_chances(self, quarters: int) -> list[int]:
        """Return the last quarter-hour each step may run in (-1: none); `quarters` when done."""
        last = [
            max((i for i, c in enumerate(row) if c < math.inf), default=-1) for row in self.costs
        ]
        return [*last, quarters]

    def within(self, follows: Sequence[bool], budget: float) -> ProgramCosts:
        """Return the program with only the (step, quarter-hour) a run within `budget` uses.

        The cheapest run through step j in quarter-hour i: the cheapest steps up to
        it plus the cheapest from it (the same search, backwards in time).
        """
        steps, quarters = len(self.kw), len(follows)
        until = _cheapest_until(self.costs, self.pausable, follows)
        backwards = _cheapest_until(
            [row[::-1] for row in self.costs[::-1]],
            [False, *(self.pausable[steps - k] for k in range(1, steps))],
            [False, *(follows[quarters - i] for i in range(1, quarters))],
        )
        costs = [
            [
                cost
                if cost < math.inf
                and until[j][i] + backwards[steps - 1 - j][quarters - 1 - i] - cost
                <= budget + EPSILON
                else math.inf
                for i, cost in enumerate(row)
            ]
            for j, row in enumerate(self.costs)
        ]
        return ProgramCosts(costs, self.kw, self.pausable)

    def size(self, other: ProgramCosts) -> int:
        """Return about how many states `cheapest_pair` visits for the two programs."""
        return sum(
            (1 + sum(cost < math.inf for cost in mine))
            * (1 + sum(cost < math.inf for cost in theirs))
            for mine, theirs in zip(
                zip(*self.costs, strict=True), zip(*other.costs, strict=True), strict=True
            )
        )

    def compatible(
        self,
        steps: Sequence[int],
        other: ProgramCosts,
        other_steps: Sequence[int],
        room: Sequence[float],
        exclusive: bool,
    ) -> bool:
        """Return whether two placements may run together (kW within `room`, not exclusive)."""
        drawn = dict(zip(steps, self.kw, strict=True))
        for quarter, kw in zip(other_steps, other.kw, strict=True):
            if quarter in drawn and (exclusive or drawn[quarter] + kw > room[quarter] + EPSILON):
                return False
        return True


def cheapest_pair(
    first: ProgramCosts,
    second: ProgramCosts,
    room: Sequence[float],
    follows: Sequence[bool],
    exclusive: bool,
) -> tuple[float, list[int], list[int]] | None:
    """Return the cheapest joint placement of two programs, exactly.

    A dynamic programme over quarter-hours with the state (steps of the first
    done, steps of the second done): O(quarters x steps x steps). In a quarter
    both may run if they are not `exclusive` and their kW fit in `room`.
    """
    # A state (steps done) is dead once the next step of either has no quarter-hour left.
    last_a, last_b = first.last_chances(len(room)), second.last_chances(len(room))
    layer: dict[tuple[int, int], float] = {(0, 0): 0.0}
    # history[i][state] = (the state before quarter i, first ran, second ran)
    history: list[dict[tuple[int, int], tuple[tuple[int, int], int, int]]] = []
    for quarter, (space, on) in enumerate(zip(room, follows, strict=True)):
        following: dict[tuple[int, int], float] = {}
        back: dict[tuple[int, int], tuple[tuple[int, int], int, int]] = {}
        moves_a: dict[int, list[tuple[int, float]]] = {}
        moves_b: dict[int, list[tuple[int, float]]] = {}
        for (done_a, done_b), value in layer.items():
            if done_a not in moves_a:
                moves_a[done_a] = first.moves(done_a, quarter, on)
            if done_b not in moves_b:
                moves_b[done_b] = second.moves(done_b, quarter, on)
            for ran_a, cost_a in moves_a[done_a]:
                for ran_b, cost_b in moves_b[done_b]:
                    state = (done_a + ran_a, done_b + ran_b)
                    if (
                        last_a[state[0]] <= quarter
                        or last_b[state[1]] <= quarter
                        or (
                            ran_a
                            and ran_b
                            and (
                                exclusive or first.kw[done_a] + second.kw[done_b] > space + EPSILON
                            )
                        )
                    ):
                        continue
                    total = value + cost_a + cost_b
                    if total < following.get(state, math.inf):
                        following[state] = total
                        back[state] = ((done_a, done_b), ran_a, ran_b)
        layer = following
        history.append(back)
    state = (len(first.kw), len(second.kw))
    if state not in layer:
        return None
    total = layer[state]
    chosen_a: list[int] = []
    chosen_b: list[int] = []
    for quarter in range(len(history) - 1, -1, -1):
        state, ran_a, ran_b = history[quarter][state]
        if ran_a:
            chosen_a.append(quarter)
        if ran_b:
            chosen_b.append(quarter)
    return total, chosen_a[::-1], chosen_b[::-1]
