"""Energy targets sharing quarter-hours, filled cheapest: pure logic, no Home Assistant imports.

`fill_targets`: how several energy targets (cars, home batteries) share the
capacity left in each quarter-hour, cheapest. As each quarter-hour's cost does
not depend on which target draws there, the reachable draws form a polymatroid
and the greedy is exact: quarter-hours in price order, each filled as far as a
maximum flow allows (directly, or by an augmenting path that moves another
target's draw to a quarter-hour it also may use). Targets of one group never
draw in the same quarter-hour; that rule makes the greedy a heuristic for
them: a contested quarter-hour goes to the one that would lose most without
it, and two of them swap quarter-hours afterwards where that is cheaper.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
import functools
import itertools
import math

from .load_placement import EPSILON


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """An energy target for `fill_targets`, in quarter-hour units."""

    allowed: Sequence[int]  # the quarter-hours it may draw in
    max_kw: float
    need: float  # kW x quarter-hours to draw (kWh / 0.25)
    group: str | None = None


@dataclass(frozen=True, slots=True)
class TargetFill:
    """What `fill_targets` planned for each target.

    `drawn`: kW per quarter-hour; `short`: the kW x quarter-hours it could not
    get; `spare`: the two cheapest (price, quarter-hour) where it could still
    draw more, what moving a bit of its energy elsewhere would cost.
    """

    drawn: list[dict[int, float]]
    short: list[float]
    spare: list[list[tuple[float, int]]]


def fill_targets(
    targets: Sequence[TargetSpec], prices: Sequence[float | None], room: Sequence[float]
) -> TargetFill:
    """Fill the targets cheapest first within `room` (kW per quarter-hour); see the docstring."""
    flow = _Flow(targets, room, prices)
    for quarter in flow.order:
        if flow.wanted <= EPSILON:
            break
        while flow.left[quarter] > EPSILON and flow.wanted > EPSILON:
            if not (flow.push_direct(quarter) or flow.push_path(quarter)):
                break
    while flow.swap_mates():
        pass
    spare = [
        list(
            itertools.islice(
                (
                    (prices[quarter] or 0.0, quarter)
                    for quarter in flow.order
                    if index in flow.users[quarter]
                    and flow.left[quarter] > EPSILON
                    and flow.spare(index, quarter) > EPSILON
                ),
                2,
            )
        )
        for index in range(len(targets))
    ]
    return TargetFill(flow.drawn, flow.need, spare)


class _Flow:
    """A flow from the targets to the quarter-hours, grown by augmenting paths."""

    def __init__(
        self, targets: Sequence[TargetSpec], room: Sequence[float], prices: Sequence[float | None]
    ) -> None:
        self.targets = targets
        self.drawn: list[dict[int, float]] = [{} for _ in targets]
        self.need = [target.need for target in targets]
        self.wanted = sum(self.need)  # what the targets still need in all
        self.users: dict[int, list[int]] = {}
        for index, target in enumerate(targets):
            for quarter in target.allowed:
                self.users.setdefault(quarter, []).append(index)
        self.left = {quarter: room[quarter] for quarter in self.users}
        self.order = sorted(self.users, key=lambda q: (prices[q] or 0.0, q))
        self.prices = prices
        self.room = room
        self.mates = [
            [
                other
                for other, peer in enumerate(targets)
                if other != index and target.group is not None and peer.group == target.group
            ]
            for index, target in enumerate(targets)
        ]

    @functools.cached_property
    def ranked(self) -> tuple[dict[int, int], list[list[int]]]:
        """Return each quarter-hour's place in price order, and each target's, in that order."""
        rank = {quarter: position for position, quarter in enumerate(self.order)}
        return rank, [sorted(target.allowed, key=rank.__getitem__) for target in self.targets]

    def spare(self, index: int, quarter: int) -> float:
        """Return how much more target `index` may draw in `quarter` (0 if a mate draws)."""
        if any(quarter in self.drawn[mate] for mate in self.mates[index]):
            return 0.0
        return self.targets[index].max_kw - self.drawn[index].get(quarter, 0.0)

    def add(self, index: int, quarter: int, kw: float) -> None:
        """Change what target `index` draws in `quarter` by `kw`."""
        drawn = self.drawn[index].get(quarter, 0.0) + kw
        if drawn > EPSILON:
            self.drawn[index][quarter] = drawn
        else:
            del self.drawn[index][quarter]

    def later_price(self, index: int, quarter: int) -> float:
        """Return the price at which the target would get what it needs after `quarter`."""
        need = self.need[index]
        rank, sequences = self.ranked
        sequence = sequences[index]
        ranks = [rank[later] for later in sequence]
        for position in range(bisect.bisect_right(ranks, rank[quarter]), len(sequence)):
            later = sequence[position]
            need -= max(0.0, min(self.targets[index].max_kw, self.room[later]))
            if need <= EPSILON:
                return self.prices[later] or 0.0
        return math.inf

    def push_direct(self, quarter: int) -> bool:
        """Let a target that still needs energy draw in `quarter`; return whether one did.

        Which one matters only within a group (one target per quarter-hour): the
        one that would lose most without it (the energy times the price it would
        pay later instead); of equals, one that draws all it may there (so partial
        draws end up in the dearest quarter-hours); then the first in the order.
        """
        offers = [
            (index, cap)
            for index in self.users[quarter]
            if self.need[index] > EPSILON
            and (cap := min(self.left[quarter], self.spare(index, quarter))) > EPSILON
        ]
        if not offers:
            return False
        if len(offers) > 1:
            price = self.prices[quarter] or 0.0
            offers.sort(
                key=lambda offer: (
                    -min(offer[1], self.need[offer[0]])
                    * (self.later_price(offer[0], quarter) - price),
                    self.need[offer[0]] < offer[1],
                )
            )
        index, cap = offers[0]
        amount = min(cap, self.need[index])
        self.add(index, quarter, amount)
        self.need[index] -= amount
        self.wanted -= amount
        self.left[quarter] -= amount
        return True

    def swap_mates(self) -> bool:
        """Let two targets of a group swap two quarter-hours if that is cheaper; return whether.

        The one drawing more gets the cheaper quarter-hour, each drawing as much as before.
        """
        for index, mates in enumerate(self.mates):
            for mate in mates:
                for quarter, kw in self.drawn[index].items():
                    for other, other_kw in self.drawn[mate].items():
                        gain = (self.price(quarter) - self.price(other)) * (kw - other_kw)
                        if (
                            gain > EPSILON
                            and other in self.users
                            and index in self.users[other]
                            and mate in self.users[quarter]
                            and kw <= min(self.targets[index].max_kw, self.left[other] + other_kw)
                            and other_kw <= min(self.targets[mate].max_kw, self.left[quarter] + kw)
                        ):
                            self.add(index, quarter, -kw)
                            self.add(mate, other, -other_kw)
                            self.add(index, other, kw)
                            self.add(mate, quarter, other_kw)
                            self.left[quarter] += kw - other_kw
                            self.left[other] += other_kw - kw
                            return True
        return False

    def price(self, quarter: int) -> float:
        """Return the price of a quarter-hour (ct/kWh)."""
        return self.prices[quarter] or 0.0

    def push_path(self, quarter: int) -> bool:
        """Find an augmenting path into `quarter` (breadth first) and push along it.

        A path only passes through full quarter-hours: where there is room left, a
        target that could draw more would have drawn it when that quarter-hour's turn came.
        """
        if not any(self.spare(index, quarter) > EPSILON for index in self.users[quarter]):
            return False  # no target can take more here, however the others move
        # reached[target] = (the target it came from, via quarter), None for a source.
        reached: dict[int, tuple[int, int] | None] = {
            index: None for index, need in enumerate(self.need) if need > EPSILON
        }
        seen = {quarter}
        queue = list(reached)
        for index in queue:
            if index in self.users[quarter] and self.spare(index, quarter) > EPSILON:
                return self._augment(reached, index, quarter)
            for via in self.targets[index].allowed:
                if via in seen or self.left[via] > EPSILON or self.spare(index, via) <= EPSILON:
                    continue
                seen.add(via)
                for other in self.users[via]:
                    if other not in reached and via in self.drawn[other]:
                        reached[other] = (index, via)
                        queue.append(other)
        return False

    def _augment(self, reached: dict[int, tuple[int, int] | None], last: int, quarter: int) -> bool:
        # Walk back: each hop moves `amount` from the later target to the earlier one.
        hops: list[tuple[int, int, int]] = []  # (giver, taker, quarter)
        index = last
        step = reached[index]
        while step is not None:
            earlier, via = step
            hops.append((index, earlier, via))
            index, step = earlier, reached[earlier]
        amount = min(self.left[quarter], self.spare(last, quarter), self.need[index])
        for giver, taker, via in hops:
            amount = min(amount, self.drawn[giver][via], self.spare(taker, via))
        for giver, taker, via in hops:
            self.add(giver, via, -amount)
            self.add(taker, via, amount)
        self.add(last, quarter, amount)
        self.need[index] -= amount
        self.wanted -= amount
        self.left[quarter] -= amount
        return True
