"""The household's programme with held columns: the same optimum as with all of them (hypothesis).

household_mip.py solves a programme of chains (blocks in order, a column per
start) without most of the chains' columns at first and brings in those the
relaxation's duals ask for. Held or not, the optimum must be the same: random
chains on random costs (negative too) share capacity per quarter-hour, and a
random part of their columns is held; each plan is checked on its own, and
their costs against each other and against brute force.
"""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.nomos_energy import household_mip
from custom_components.nomos_energy.household_mip import Programme

Block = tuple[int, list[float]]  # length, cost per start
Chain = list[Block]


@st.composite
def programmes(draw: st.DrawFn) -> tuple[int, list[Chain], list[int], list[bool], int]:
    """Quarter-hours, chains, capacity per quarter-hour, which columns are held, rounds."""
    quarters = draw(st.integers(5, 10))
    # At most four blocks in all, which brute force tries in 10**4 ways at most.
    sizes = draw(st.sampled_from([[2], [3], [4], [2, 1], [2, 2], [3, 1], [2, 1, 1]]))
    chains = []
    for size in sizes:
        blocks = []
        for _ in range(size):
            length = draw(st.integers(1, 2))
            costs = draw(
                st.lists(
                    st.integers(-300, 900).map(lambda c: c / 100),
                    min_size=quarters - length + 1,
                    max_size=quarters - length + 1,
                )
            )
            blocks.append((length, costs))
        chains.append(blocks)
    columns = sum(len(costs) for chain in chains for _, costs in chain)
    capacity = draw(st.lists(st.integers(1, 2), min_size=quarters, max_size=quarters))
    held = draw(st.lists(st.booleans(), min_size=columns, max_size=columns))
    rounds = draw(st.sampled_from([1, 2, household_mip.ROUNDS]))
    return quarters, chains, capacity, held, rounds


def build(
    quarters: int, chains: list[Chain], capacity: list[int], held: list[bool]
) -> tuple[Programme, list[list[dict[int, int]]]]:
    """Return the programme and, per chain and block, its column per start."""
    programme = Programme()
    columns: list[list[dict[int, int]]] = []
    busy: dict[int, list[tuple[int, float]]] = {}
    for chain in chains:
        blocks = []
        for length, costs in chain:
            block = {}
            for start, cost in enumerate(costs):
                block[start] = programme.column(cost, 1.0, True, held=held[len(programme.held)])
                for quarter in range(start, start + length):
                    busy.setdefault(quarter, []).append((block[start], 1.0))
            programme.row([(column, 1.0) for column in block.values()], 1.0, 1.0)
            blocks.append(block)
        if len(blocks) > 1:
            programme.chain(blocks, [length for length, _ in chain])
        columns.append(blocks)
    for quarter, terms in busy.items():
        programme.row(terms, -math.inf, capacity[quarter])
    return programme, columns


def starts_of(
    chains: list[Chain], columns: list[list[dict[int, int]]], values: list[float]
) -> list[list[int]]:
    """Return each block's start in a solution, checking that it has exactly one."""
    found = []
    for blocks in columns:
        chosen = []
        for block in blocks:
            starts = [start for start, column in block.items() if values[column] > 0.5]
            assert len(starts) == 1
            chosen.append(starts[0])
        found.append(chosen)
    return found


def cost_if_valid(
    quarters: int, chains: list[Chain], capacity: list[int], starts: list[list[int]]
) -> float:
    """Return the cost of these starts; inf if blocks overlap or a quarter-hour is too busy."""
    busy = [0] * quarters
    cost = 0.0
    for chain, chosen in zip(chains, starts, strict=True):
        end = 0
        for (length, costs), start in zip(chain, chosen, strict=True):
            if start < end:
                return math.inf
            end = start + length
            cost += costs[start]
            for quarter in range(start, end):
                busy[quarter] += 1
    if any(count > limit for count, limit in zip(busy, capacity, strict=True)):
        return math.inf
    return cost


def brute_force(quarters: int, chains: list[Chain], capacity: list[int]) -> float:
    """Return the cheapest cost over every choice of starts (inf if there is none)."""
    choices = [
        [list(starts) for starts in itertools.product(*(range(len(c)) for _, c in chain))]
        for chain in chains
    ]
    return min(
        (
            cost_if_valid(quarters, chains, capacity, starts)
            for starts in itertools.product(*choices)
        ),
        default=math.inf,
    )


@settings(max_examples=150, deadline=None, database=None)
@given(programmes())
def test_held_columns_leave_the_optimum_as_it_is(
    case: tuple[int, list[Chain], list[int], list[bool], int],
) -> None:
    """Held or not, the same (proven) optimum, and a valid plan; none when brute force has none."""
    quarters, chains, capacity, held, rounds = case
    best = brute_force(quarters, chains, capacity)
    full, _ = build(quarters, chains, capacity, [False] * len(held))
    whole = full.solve(60.0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(household_mip, "ROUNDS", rounds)
        programme, columns = build(quarters, chains, capacity, held)
        solved = programme.solve(60.0)
    if best == math.inf:
        assert whole is None
        assert solved is None
        assert programme.infeasible
        return
    assert whole is not None
    assert solved is not None
    values, proven = solved
    assert proven
    cost = cost_if_valid(quarters, chains, capacity, starts_of(chains, columns, values))
    assert cost == pytest.approx(best, abs=2 * household_mip.ABSOLUTE_GAP)
    assert sum(c * v for c, v in zip(full.costs, whole[0], strict=True)) == pytest.approx(
        best, abs=2 * household_mip.ABSOLUTE_GAP
    )
