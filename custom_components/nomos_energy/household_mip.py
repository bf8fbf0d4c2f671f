"""A mixed-integer programme for HiGHS, solved with most of a chain's columns held back.

Pure logic, no Home Assistant imports; household_exact.py builds the household's
programme here. A program that may pause is a chain of blocks, each with a
column per start; the blocks follow each other, stated on running counts
("begun by this quarter-hour", a row per start). Most of those columns no good
plan uses, and they make the linear relaxation slow to solve, so the programme
starts without the `held` ones and prices them with the relaxation's duals
(column generation): one with a negative reduced cost joins, and the relaxation
is solved again, until none is negative. Its optimum is then a lower bound on
every plan, and a plan that uses a held column costs at least that bound plus
the column's reduced cost; so once the smaller programme has its cheapest plan,
the held columns that could still beat it join, and the plan it then finds is
the cheapest of the whole programme.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
import math
import time

import numpy

try:
    import highspy
except ImportError:  # pragma: no cover - a requirement; only a broken install lacks it
    highspy = None  # type: ignore[assignment]

# Stop when the plan is proven within this much (EUR) of the optimum.
ABSOLUTE_GAP = 1e-4
# Rounds of pricing before every held column joins (the whole programme).
ROUNDS = 8
# A reduced cost below this (EUR) is negative, not rounding.
PRICING_TOLERANCE = 1e-9
# A value this close to 0 or 1 is integral.
INTEGRAL = 1e-6


def available() -> bool:
    """Return whether HiGHS is installed (a requirement; tests take it away)."""
    return highspy is not None


@dataclass(slots=True, eq=False)  # compared and hashed by identity
class _Chain:
    """Blocks in order: per block, its columns by start and its length."""

    blocks: list[dict[int, int]]
    lengths: list[int]
    # Per block (after the first): the rows present, by start (its "begun by" row).
    rows: list[dict[int, int]] = field(default_factory=list)


class Programme:
    """Columns (cost, upper bound, integer, held), rows (coefficients, bounds) and chains."""

    def __init__(self) -> None:
        self.costs: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []
        self.held: list[bool] = []
        self.rows: list[tuple[list[tuple[int, float]], float, float]] = []
        self.chains: list[_Chain] = []
        self.infeasible = False  # the whole programme is proven to have no solution
        # While solving: HiGHS's columns and rows in its order.
        self._solver: highspy.Highs | None = None
        self._present: list[int] = []
        self._position: dict[int, int] = {}
        self._row_count = 0
        self._links: dict[int, tuple[_Chain, int, int]] = {}  # column: chain, block, start

    def column(self, cost: float, upper: float, integer: bool, *, held: bool = False) -> int:
        """Add a column; `held`: only once the relaxation's duals ask for it."""
        self.costs.append(cost)
        self.upper.append(upper)
        self.integer.append(int(integer))
        self.held.append(held)
        return len(self.costs) - 1

    def row(self, terms: list[tuple[int, float]], low: float, high: float) -> None:
        """Add `low` <= sum of coefficient x column <= `high` (none without terms)."""
        if terms:
            self.rows.append((terms, low, high))

    def chain(self, blocks: list[dict[int, int]], lengths: list[int]) -> None:
        """Add blocks that run in this order: each begins once the one before has ended."""
        chain = _Chain(blocks, lengths, [{} for _ in blocks])
        self.chains.append(chain)
        for number, block in enumerate(blocks):
            for start, column in block.items():
                self._links[column] = (chain, number, start)

    def solve(self, seconds: float) -> tuple[list[float], bool] | None:
        """Return the columns' values and whether they are proven optimal; None if none found."""
        assert highspy is not None
        deadline = time.monotonic() + seconds
        solver = self._start()
        entries = self._entries()
        self._enter([column for column, held in enumerate(self.held) if not held], entries)
        waiting = [column for column, held in enumerate(self.held) if held]
        relaxed = self._relax(waiting, entries, deadline)
        if relaxed is None:
            return None
        bound, waiting, reduced = relaxed
        values = self._values()
        if all(
            min(values[column], 1 - values[column]) < INTEGRAL
            for column in self._present
            if self.integer[column]
        ):
            return values, True
        # The smaller programme's cheapest plan, then again with every held column that
        # could beat it.
        self._integral(self._present)
        found = self._branch(deadline)
        if found is None and self.infeasible and waiting:
            self._enter(waiting, entries)  # perhaps it has a solution only with them
            self._integral(waiting)
            return self._branch(deadline)
        if found is None or not found[1]:
            return found
        cost = solver.getInfo().objective_function_value
        better = [column for column in waiting if reduced[column] <= cost - bound + ABSOLUTE_GAP]
        if not better:
            return found
        self._enter(better, entries)
        self._integral(better)
        return self._branch(deadline)

    def _relax(
        self, waiting: list[int], entries: list[list[tuple[int, float]]], deadline: float
    ) -> tuple[float, list[int], dict[int, float]] | None:
        """Solve the relaxation until no held column would lower it.

        Return its optimum, the columns still held and their reduced costs; None when it
        has none (in time).
        """
        solver = self._solver
        assert solver is not None
        rounds = 0
        while True:
            self._run(deadline)
            status = solver.getModelStatus()
            if status == highspy.HighsModelStatus.kInfeasible and waiting:
                self._enter(waiting, entries)  # perhaps it has a solution only with them
                waiting = []
                continue
            if status != highspy.HighsModelStatus.kOptimal:
                self.infeasible = status == highspy.HighsModelStatus.kInfeasible
                return None
            reduced = self._reduced_costs(waiting, entries)
            entering = [column for column in waiting if reduced[column] < -PRICING_TOLERANCE]
            if not entering:
                return solver.getInfo().objective_function_value, waiting, reduced
            rounds += 1
            if rounds == ROUNDS:
                entering = waiting  # the whole programme
            self._enter(entering, entries)
            joined = set(entering)
            waiting = [column for column in waiting if column not in joined]

    def _start(self) -> highspy.Highs:
        """Return HiGHS with every row and no column yet."""
        solver = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy's own annotation gap
        solver.silent()
        for option, value in (
            ("mip_abs_gap", ABSOLUTE_GAP),
            ("threads", 1),
            # Presolve costs more than it saves on these small models, and their
            # relaxation is mostly integral already.
            ("presolve", "off"),
            ("mip_heuristic_run_feasibility_jump", False),
        ):
            solver.setOptionValue(option, value)
        solver.addRows(
            len(self.rows),
            [low for _, low, _ in self.rows],
            [high for _, _, high in self.rows],
            0,
            [0] * len(self.rows),
            [],
            [],
        )
        self._solver = solver
        self._present, self._position = [], {}
        self._row_count = len(self.rows)
        for chain in self.chains:
            chain.rows = [{} for _ in chain.blocks]
        return solver

    def _run(self, deadline: float) -> None:
        """Run HiGHS for what is left of the time (its limit counts from each run)."""
        solver = self._solver
        assert solver is not None
        solver.setOptionValue("time_limit", max(deadline - time.monotonic(), 0.0))
        solver.run()

    def _branch(self, deadline: float) -> tuple[list[float], bool] | None:
        """Return the present programme's best plan (proven or not); None if none found."""
        solver = self._solver
        assert solver is not None
        self._run(deadline)
        status = solver.getModelStatus()
        self.infeasible = status == highspy.HighsModelStatus.kInfeasible
        if not solver.getSolution().value_valid:
            return None
        return self._values(), status == highspy.HighsModelStatus.kOptimal

    def _entries(self) -> list[list[tuple[int, float]]]:
        """Return each column's (row, coefficient) in the rows given with `row`."""
        entries: list[list[tuple[int, float]]] = [[] for _ in self.costs]
        for row, (terms, _, _) in enumerate(self.rows):
            for column, value in terms:
                entries[column].append((row, value))
        return entries

    def _enter(self, columns: list[int], entries: list[list[tuple[int, float]]]) -> None:
        """Add columns to HiGHS, in the rows present and the chain rows they bring."""
        solver = self._solver
        assert solver is not None
        starts: list[int] = []
        indices: list[int] = []
        values: list[float] = []
        for column in columns:
            self._position[column] = len(self._present)
            self._present.append(column)
            starts.append(len(indices))
            for row, value in [*entries[column], *self._chain_entries(column)]:
                indices.append(row)
                values.append(value)
        solver.addCols(
            len(columns),
            [self.costs[column] for column in columns],
            [0.0] * len(columns),
            [self.upper[column] for column in columns],
            len(indices),
            starts,
            indices,
            values,
        )
        # Each start of a block after the first: begun by then, at most as often as
        # the block before had ended by then.
        starts, indices, values = [], [], []  # the same again, for the rows
        for column in columns:
            link = self._links.get(column)
            if link is None or link[1] == 0:
                continue
            chain, number, start = link
            chain.rows[number][start] = self._row_count + len(starts)
            starts.append(len(indices))
            length = chain.lengths[number - 1]
            for other_start, other in chain.blocks[number].items():
                if other_start <= start and other in self._position:
                    indices.append(self._position[other])
                    values.append(1.0)
            for other_start, other in chain.blocks[number - 1].items():
                if other_start + length <= start and other in self._position:
                    indices.append(self._position[other])
                    values.append(-1.0)
        if starts:
            count = len(starts)
            solver.addRows(
                count, [-math.inf] * count, [0.0] * count, len(indices), starts, indices, values
            )
            self._row_count += count

    def _chain_entries(self, column: int) -> list[tuple[int, float]]:
        """Return the column's (row, coefficient) in the chain rows present."""
        link = self._links.get(column)
        if link is None:
            return []
        chain, number, start = link
        found = [(row, 1.0) for begun, row in chain.rows[number].items() if begun >= start]
        if number + 1 < len(chain.blocks):
            end = start + chain.lengths[number]
            found += [(row, -1.0) for begun, row in chain.rows[number + 1].items() if begun >= end]
        return found

    def _reduced_costs(
        self, columns: list[int], entries: list[list[tuple[int, float]]]
    ) -> dict[int, float]:
        """Return the held columns' reduced costs at the relaxation's duals."""
        solver = self._solver
        assert solver is not None
        duals = solver.getSolution().row_dual
        # Per chain block: its rows' starts in order and the sums of their duals from each on.
        tails: dict[tuple[_Chain, int], tuple[list[int], list[float]]] = {}
        for chain in self.chains:
            for number, rows in enumerate(chain.rows):
                begun = sorted(rows)
                sums = [0.0] * (len(begun) + 1)
                for position in range(len(begun) - 1, -1, -1):
                    sums[position] = sums[position + 1] + duals[rows[begun[position]]]
                tails[chain, number] = (begun, sums)
        reduced = {}
        for column in columns:
            value = self.costs[column] - sum(duals[row] * value for row, value in entries[column])
            link = self._links.get(column)
            if link is not None:
                chain, number, start = link
                begun, sums = tails[chain, number]
                value -= sums[bisect.bisect_left(begun, start)]
                if number + 1 < len(chain.blocks):
                    begun, sums = tails[chain, number + 1]
                    value += sums[bisect.bisect_left(begun, start + chain.lengths[number])]
            reduced[column] = value
        return reduced

    def _integral(self, columns: list[int]) -> None:
        """Make these present columns integer where they are."""
        solver = self._solver
        assert solver is not None
        positions = [self._position[column] for column in columns if self.integer[column]]
        if positions:
            solver.changeColsIntegrality(
                len(positions), positions, numpy.ones(len(positions), dtype=numpy.uint8)
            )

    def _values(self) -> list[float]:
        """Return every column's value: the solver's for those present, 0 for the held."""
        solver = self._solver
        assert solver is not None
        result = [0.0] * len(self.costs)
        for column, value in zip(self._present, solver.getSolution().col_value, strict=True):
            result[column] = value
        return result
