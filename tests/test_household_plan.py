"""Household plans: exact for one load and, with HiGHS, for several (hypothesis).

The planner solves a household with HiGHS (household_exact.py, through highspy)
and falls back on its own search; both are checked here. The oracle is a
mixed-integer programme solved by HiGHS too (scipy.optimize.milp), but written
here independently of the planner and in another form: one binary per (program step,
quarter-hour), one continuous power per (energy target, quarter-hour), the
limit and the groups as linear constraints. One load alone is also checked
against brute force: every placement of a program, and a linear programme
for an energy target.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
import itertools
import random
from typing import Any

from hypothesis import HealthCheck, given, seed, settings, strategies as st
import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_array

from custom_components.nomos_energy import (
    household_costs,
    household_exact,
    household_mip,
    household_plan,
)
from custom_components.nomos_energy.household_plan import (
    CANNOT_FINISH,
    LIMIT,
    NOT_ENOUGH_TIME,
    PLANNED,
    PRICES_MISSING,
    Household,
    HouseholdPlan,
    Load,
    LoadPlan,
    plan_household,
)
from custom_components.nomos_energy.price_schedule import PriceInterval, day_bounds

QUARTER = timedelta(minutes=15)
HOURS = 0.25
START = datetime(2026, 6, 1, 22, tzinfo=UTC)  # midnight in Berlin
DST_DAYS = (date(2026, 3, 29), date(2026, 10, 25))  # 92 and 100 quarter-hours
# Cost tolerance against the oracle: 1 % of the plan's gross cost, the cost it
# would have with every price taken as |price|. That is 1 % of the cost when
# all prices are positive, and still meaningful when the cost is near zero or
# negative (negative prices), where 1 % of the cost itself would not be.
TOLERANCE = 0.01


def quarters(start: datetime, prices: list[float | None]) -> list[PriceInterval]:
    return [
        PriceInterval(start + i * QUARTER, start + (i + 1) * QUARTER, price)
        for i, price in enumerate(prices)
    ]


def at(index: int) -> datetime:
    return START + index * QUARTER


def program(
    key: str,
    first: int,
    last: int,
    profile: list[float],
    pausable: bool | list[bool] = False,
    **extra: object,
) -> Load:
    flags = [pausable] * len(profile) if isinstance(pausable, bool) else pausable
    return Load(key, at(first), at(last), tuple(profile), tuple(flags), **extra)


def target(key: str, first: int, last: int, energy: float, max_kw: float, **extra: object) -> Load:
    return Load(key, at(first), at(last), energy_kwh=energy, max_kw=max_kw, **extra)


def indices(plan: LoadPlan) -> list[int]:
    return [(start - START) // QUARTER for start, _ in plan.steps]


# --- the oracle ---------------------------------------------------------------


@dataclass
class Oracle:
    """An exact optimum: cost, gross cost (|price|) and power per load and quarter."""

    cost: float
    gross: float
    power: dict[str, dict[int, float]]


def usable(load: Load, intervals: list[PriceInterval], capped: bool) -> list[int]:
    """Indices of the quarter-hours a load may use."""
    return [
        i
        for i, interval in enumerate(intervals)
        if load.earliest <= interval.start
        and interval.end <= load.deadline
        and interval.price_ct is not None
        and not (capped and load.price_cap_ct is not None and interval.price_ct > load.price_cap_ct)
    ]


def solve_exact(
    loads: list[Load], intervals: list[PriceInterval], limit: float | None, capped: dict[str, bool]
) -> Oracle | None:
    """The cheapest plan of all loads together, or None when they cannot all be done."""
    columns: list[tuple[str, int, int, str]] = []  # (key, step or -1, quarter, kind)
    lower: list[float] = []
    upper: list[float] = []
    integral: list[int] = []
    prices: list[float] = []
    position: dict[tuple[str, int, int, str], int] = {}

    def add(column: tuple[str, int, int, str], high: float, binary: bool, price: float) -> None:
        position[column] = len(columns)
        columns.append(column)
        lower.append(0.0)
        upper.append(high)
        integral.append(1 if binary else 0)
        prices.append(price)

    groups: dict[str, list[Load]] = {}
    for load in loads:
        if load.group is not None:
            groups.setdefault(load.group, []).append(load)
    shared = {load.key for members in groups.values() if len(members) > 1 for load in members}
    for load in loads:
        allowed = usable(load, intervals, capped[load.key])
        for q in allowed:
            price = intervals[q].price_ct
            assert price is not None
            if load.profile_kw:
                for j, kw in enumerate(load.profile_kw):
                    add((load.key, j, q, "x"), 1.0, True, kw * HOURS * price / 100)
            else:
                assert load.max_kw is not None
                add((load.key, -1, q, "e"), load.max_kw, False, HOURS * price / 100)
                if load.key in shared:
                    add((load.key, -1, q, "y"), 1.0, True, 0.0)
    rows: list[dict[int, float]] = []
    low_bounds: list[float] = []
    high_bounds: list[float] = []

    def constrain(row: dict[int, float], low: float, high: float) -> None:
        rows.append(row)
        low_bounds.append(low)
        high_bounds.append(high)

    for load in loads:
        allowed = usable(load, intervals, capped[load.key])
        if load.profile_kw:
            for j in range(len(load.profile_kw)):
                constrain({position[(load.key, j, q, "x")]: 1.0 for q in allowed}, 1, 1)
                if j == 0:
                    continue
                # Step j after step j-1: its quarter-hour index is larger.
                row = {position[(load.key, j, q, "x")]: float(q) for q in allowed}
                for q in allowed:
                    row[position[(load.key, j - 1, q, "x")]] = -float(q)
                constrain(row, 1, np.inf)
                if not load.pausable[j]:
                    for q in allowed:
                        previous = (load.key, j - 1, q - 1, "x")
                        adjacent = q > 0 and intervals[q - 1].end == intervals[q].start
                        row = {position[(load.key, j, q, "x")]: 1.0}
                        if adjacent and previous in position:
                            row[position[previous]] = -1.0
                        constrain(row, -np.inf, 0)
        else:
            assert load.energy_kwh is not None
            assert load.max_kw is not None
            constrain(
                {position[(load.key, -1, q, "e")]: HOURS for q in allowed},
                load.energy_kwh,
                load.energy_kwh,
            )
            if load.key in shared:
                for q in allowed:
                    constrain(
                        {
                            position[(load.key, -1, q, "e")]: 1.0,
                            position[(load.key, -1, q, "y")]: -load.max_kw,
                        },
                        -np.inf,
                        0,
                    )
    by_quarter: dict[int, dict[int, float]] = {}
    by_group: dict[tuple[str, int], dict[int, float]] = {}
    for column, index in position.items():
        key, j, q, kind = column
        load = next(load for load in loads if load.key == key)
        if kind in "xe":
            by_quarter.setdefault(q, {})[index] = load.profile_kw[j] if kind == "x" else 1.0
        if load.key in shared and kind in "xy":
            assert load.group is not None
            by_group.setdefault((load.group, q), {})[index] = 1.0
    if limit is not None:
        for row in by_quarter.values():
            constrain(row, -np.inf, limit)
    for row in by_group.values():
        constrain(row, -np.inf, 1)
    if not columns:
        feasible = all(load.energy_kwh == 0 for load in loads)
        return Oracle(0.0, 0.0, {load.key: {} for load in loads}) if feasible else None
    data, row_index, column_index = [], [], []
    for r, row in enumerate(rows):
        for c, value in row.items():
            data.append(value)
            row_index.append(r)
            column_index.append(c)
    matrix = coo_array((data, (row_index, column_index)), shape=(len(rows), len(columns)))
    result = milp(
        c=np.array(prices),
        constraints=LinearConstraint(matrix.tocsr(), low_bounds, high_bounds) if rows else None,
        integrality=np.array(integral),
        bounds=Bounds(lower, upper),
        options={"mip_rel_gap": 1e-7},
    )
    if result.status != 0:
        assert result.status == 2, result.message  # 2: infeasible
        return None
    power: dict[str, dict[int, float]] = {load.key: {} for load in loads}
    gross = 0.0
    for column, value in zip(columns, result.x, strict=True):
        key, j, q, kind = column
        if kind == "y" or value < 1e-7:
            continue
        load = next(load for load in loads if load.key == key)
        kw = load.profile_kw[j] * round(value) if kind == "x" else value
        power[key][q] = power[key].get(q, 0.0) + kw
        gross += kw * HOURS * abs(intervals[q].price_ct or 0.0) / 100
    return Oracle(float(result.fun), gross, power)


def oracle_household(
    loads: list[Load], intervals: list[PriceInterval], limit: float | None
) -> tuple[list[Load], dict[str, bool], Oracle | None]:
    """The loads that fit alone (under the limit), their caps, and their joint optimum."""
    feasible: list[Load] = []
    capped: dict[str, bool] = {}
    for load in loads:
        for cap in (True, False):
            if solve_exact([load], intervals, limit, {load.key: cap}) is not None:
                feasible.append(load)
                capped[load.key] = cap
                break
    return feasible, capped, solve_exact(feasible, intervals, limit, capped)


# --- invariants every plan keeps -------------------------------------------------


def check_invariants(
    plan: HouseholdPlan, loads: list[Load], intervals: list[PriceInterval], limit: float | None
) -> None:
    prices = {interval.start: interval.price_ct for interval in intervals}
    planned = [p for p in plan.plans if p.status == PLANNED]
    for load, load_plan in zip(loads, plan.plans, strict=True):
        assert load_plan.key == load.key
        assert (load_plan.status == PLANNED) == (load_plan.reason is None)
        starts = [start for start, _ in load_plan.steps]
        assert starts == sorted(set(starts))
        for start, kw in load_plan.steps:
            assert load.earliest <= start
            assert start + QUARTER <= load.deadline
            assert prices[start] is not None
            assert kw > 0
        if not load_plan.steps:
            continue
        expected = sum(kw * HOURS * (prices[start] or 0.0) / 100 for start, kw in load_plan.steps)
        assert load_plan.cost_eur == pytest.approx(expected, abs=1e-9)
        if load.profile_kw:
            assert [kw for _, kw in load_plan.steps] == list(load.profile_kw)
            for j, (earlier, later) in enumerate(itertools.pairwise(starts), start=1):
                if not load.pausable[j]:
                    assert later == earlier + QUARTER
        else:
            assert load.max_kw is not None
            assert all(kw <= load.max_kw + 1e-9 for _, kw in load_plan.steps)
            assert load_plan.energy_kwh == pytest.approx(load.energy_kwh, abs=1e-9)
        if load.price_cap_ct is not None:
            assert load_plan.cap_met == all(
                (prices[start] or 0.0) <= load.price_cap_ct for start in starts
            )
    for interval in intervals:
        drawn = [p.power_at(interval.start) for p in planned]
        if limit is not None:
            assert sum(drawn) <= limit + 1e-9
        for group in {load.group for load in loads if load.group is not None}:
            members = [
                p
                for p, load in zip(plan.plans, loads, strict=True)
                if load.group == group and p.status == PLANNED
            ]
            assert sum(p.power_at(interval.start) > 0 for p in members) <= 1
    assert plan.total_cost_eur == pytest.approx(sum(p.cost_eur or 0.0 for p in planned))


# --- random households ------------------------------------------------------------


price_ct = st.one_of(
    st.none(),
    st.integers(min_value=-1500, max_value=6000).map(lambda cents: cents / 100),
)


@st.composite
def day_of_prices(draw: st.DrawFn) -> list[PriceInterval]:
    """A DST day of quarter-hours (92 or 100), a few unknown prices and a gap or two."""
    first, last = day_bounds(draw(st.sampled_from(DST_DAYS)))
    count = (last - first) // QUARTER
    base = draw(st.lists(st.integers(-1000, 5000), min_size=count, max_size=count))
    unknown = draw(st.sets(st.integers(0, count - 1), max_size=4))
    missing = draw(st.sets(st.integers(0, count - 1), max_size=2))
    return [
        PriceInterval(
            first + i * QUARTER, first + (i + 1) * QUARTER, None if i in unknown else cents / 100
        )
        for i, cents in enumerate(base)
        if i not in missing
    ]


@st.composite
def household_load(draw: st.DrawFn, key: str, origin: datetime, count: int) -> Load:
    first = draw(st.integers(0, count - 4))
    last = draw(st.integers(first + 2, min(count, first + 48)))
    extra = {
        "earliest": origin + first * QUARTER,
        "deadline": origin + last * QUARTER,
        "price_cap_ct": draw(st.one_of(st.none(), st.integers(0, 40).map(float))),
        "group": draw(st.sampled_from([None, None, "wet", "heat"])),
    }
    if draw(st.booleans()):
        steps = draw(st.integers(1, 6))
        profile = draw(
            st.lists(st.integers(1, 30).map(lambda k: k / 10), min_size=steps, max_size=steps)
        )
        pausable = draw(
            st.one_of(
                st.just([False] * steps),
                st.just([True] * steps),
                st.lists(st.booleans(), min_size=steps, max_size=steps),
            )
        )
        return Load(key, profile_kw=tuple(profile), pausable=tuple(pausable), **extra)
    max_kw = draw(st.sampled_from([1.4, 3.7, 7.4, 11.0]))
    energy = draw(st.integers(1, 60).map(lambda tenths: tenths / 10 * max_kw))
    return Load(key, energy_kwh=min(energy, 30.0), max_kw=max_kw, **extra)


@st.composite
def households(draw: st.DrawFn) -> tuple[list[PriceInterval], list[Load], float | None]:
    intervals = draw(day_of_prices())
    origin = intervals[0].start
    count = (intervals[-1].end - origin) // QUARTER
    loads = [
        draw(household_load(f"load{n}", origin, count)) for n in range(draw(st.integers(2, 6)))
    ]
    limit = draw(st.one_of(st.none(), st.integers(20, 150).map(lambda tenths: tenths / 10)))
    return intervals, loads, limit


def compare_with_oracle(
    intervals: list[PriceInterval], loads: list[Load], limit: float | None
) -> tuple[float, float] | None:
    """Check a household plan against the oracle; return (plan cost, optimum) when comparable."""
    plan = plan_household(loads, intervals, Household(limit))
    check_invariants(plan, loads, intervals, limit)
    feasible, capped, exact = oracle_household(loads, intervals, limit)
    keys = {load.key for load in feasible}
    for load, load_plan in zip(loads, plan.plans, strict=True):
        if load.key not in keys:
            assert load_plan.status == CANNOT_FINISH
            assert load_plan.reason in {LIMIT, NOT_ENOUGH_TIME, PRICES_MISSING}
    if exact is None:
        # Not all with the caps they keep alone: every deadline that can be met still is.
        relaxed = solve_exact(feasible, intervals, limit, dict.fromkeys(capped, False))
        if relaxed is not None:
            assert all(plan[load.key].status == PLANNED for load in feasible), plan.cannot_finish
        return None
    # The oracle fits every load that fits alone: so must the plan, with the same caps.
    chosen = [plan[load.key] for load in feasible]
    assert all(p.status == PLANNED for p in chosen), plan.cannot_finish
    for load in feasible:
        assert plan[load.key].cap_met == (capped[load.key] or load.price_cap_ct is None)
    cost = sum(p.cost_eur or 0.0 for p in chosen)
    assert cost >= exact.cost - 1e-6
    assert cost <= exact.cost + TOLERANCE * exact.gross + 1e-9, (cost, exact.cost, exact.gross)
    return cost, exact.cost


@pytest.fixture
def patient_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    """HiGHS gets the time it needs: these tests are about the plans, not this machine's speed."""
    monkeypatch.setattr(household_exact, "TIME_LIMIT", 60.0)


@pytest.fixture
def search_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The planner's own search, as without HiGHS (or when it finds nothing in time)."""
    monkeypatch.setattr(household_mip, "highspy", None)


# 200 random households; the fixtures patch module globals, the same for every example.
RANDOM_HOUSEHOLDS = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.mark.usefixtures("patient_solver")
@RANDOM_HOUSEHOLDS
@given(households())
def test_household_is_within_one_percent_of_the_exact_optimum(
    household: tuple[list[PriceInterval], list[Load], float | None],
) -> None:
    """Within 1 % of the optimum; every load planned whenever the oracle fits them all."""
    compare_with_oracle(*household)


# A fixed seed: the search alone is not exact. In about 1 in 400 random households (a
# program and an energy target of one group or under the limit, or three programs under
# the limit) it misses the 1 %; a test that failed at random would tell nothing new. The
# same examples every run, plus the fixed corpus below.
# Hypothesis warns about its own seeded generator when a seed is fixed; nothing of ours.
@pytest.mark.usefixtures("search_only")
@pytest.mark.filterwarnings("ignore:It looks like `register_random` was passed")
@seed(20261025)
@RANDOM_HOUSEHOLDS
@given(households())
def test_search_alone_is_close_to_the_exact_optimum(
    household: tuple[list[PriceInterval], list[Load], float | None],
) -> None:
    """The fallback: within 1 % of the optimum on these examples, every load planned."""
    compare_with_oracle(*household)


def random_household(seed: int) -> tuple[list[PriceInterval], list[Load], float | None]:
    """A household drawn like `households` does, from a seed: a fixed corpus."""
    rng = random.Random(seed)
    first, last = day_bounds(rng.choice(DST_DAYS))
    count = (last - first) // QUARTER
    unknown = {rng.randrange(count) for _ in range(rng.randint(0, 4))}
    missing = {rng.randrange(count) for _ in range(rng.randint(0, 2))}
    intervals = [
        PriceInterval(
            first + i * QUARTER,
            first + (i + 1) * QUARTER,
            None if i in unknown else rng.randint(-1000, 5000) / 100,
        )
        for i in range(count)
        if i not in missing
    ]
    loads = []
    for n in range(rng.randint(2, 6)):
        begin = rng.randint(0, count - 4)
        end = rng.randint(begin + 2, min(count, begin + 48))
        extra = {
            "earliest": first + begin * QUARTER,
            "deadline": first + end * QUARTER,
            "price_cap_ct": rng.choice([None, None, float(rng.randint(0, 40))]),
            "group": rng.choice([None, None, "wet", "heat"]),
        }
        if rng.random() < 0.5:
            steps = rng.randint(1, 6)
            pausable = rng.choice(
                [[False] * steps, [True] * steps, [rng.random() < 0.5 for _ in range(steps)]]
            )
            profile = tuple(rng.randint(1, 30) / 10 for _ in range(steps))
            loads.append(Load(f"load{n}", profile_kw=profile, pausable=tuple(pausable), **extra))
        else:
            max_kw = rng.choice([1.4, 3.7, 7.4, 11.0])
            energy = min(rng.randint(1, 60) / 10 * max_kw, 30.0)
            loads.append(Load(f"load{n}", energy_kwh=energy, max_kw=max_kw, **extra))
    limit = rng.choice([None, rng.randint(20, 150) / 10])
    return intervals, loads, limit


# Households the search once missed by more than 1 %: a program pricing in the
# quarter-hours its group mate or a target under the limit would rather take, quarter by
# quarter, counted a target's saving (or move) once per quarter-hour it was given.
REGRESSIONS = (164, 177, 243, 311, 441, 452, 517, 1418)
# And those it still misses (by more than 1 %, or leaving a load out that fits): HiGHS
# plans them exactly.
SEARCH_MISSES = (740, 1268, 1893, 1973, 2077, 2241, 2453, 3166, 3609, 3817, 3856, 4390)


@pytest.mark.usefixtures("patient_solver")
@pytest.mark.parametrize(
    "seed",
    [
        *range(80),
        *(pytest.param(seed, id=f"regression-{seed}") for seed in REGRESSIONS + SEARCH_MISSES),
    ],
)
def test_household_is_within_one_percent_on_a_fixed_corpus(seed: int) -> None:
    """The same check on households that do not change from run to run."""
    compare_with_oracle(*random_household(seed))


@pytest.mark.usefixtures("search_only")
@pytest.mark.parametrize(
    "seed",
    [*range(80), *(pytest.param(seed, id=f"regression-{seed}") for seed in REGRESSIONS)],
)
def test_search_alone_is_close_on_a_fixed_corpus(seed: int) -> None:
    """The fallback on the corpus: within 1 % of the optimum, every load that fits planned."""
    compare_with_oracle(*random_household(seed))


@pytest.mark.usefixtures("patient_solver")
@pytest.mark.parametrize("seed", SEARCH_MISSES)
def test_search_alone_misses_are_still_valid_plans(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the search misses, its plan still keeps every rule; HiGHS's is no worse."""
    intervals, loads, limit = random_household(seed)
    exact = plan_household(loads, intervals, Household(limit))
    monkeypatch.setattr(household_mip, "highspy", None)
    searched = plan_household(loads, intervals, Household(limit))
    check_invariants(searched, loads, intervals, limit)
    assert len(exact.cannot_finish) <= len(searched.cannot_finish)
    if exact.cannot_finish == searched.cannot_finish:
        assert exact.total_cost_eur <= searched.total_cost_eur + 1e-9


# --- one load alone: exactly the optimum (brute force) ----------------------------


def brute_program(load: Load, intervals: list[PriceInterval], limit: float | None) -> float | None:
    """Every placement of the steps in order: the cheapest cost, None if none fits."""
    allowed = usable(load, intervals, capped=True) or []
    best = None
    for combo in itertools.combinations(allowed, len(load.profile_kw)):
        if limit is not None and max(load.profile_kw) > limit:
            return None
        if any(
            not load.pausable[j]
            and not (
                combo[j] == combo[j - 1] + 1
                and intervals[combo[j] - 1].end == intervals[combo[j]].start
            )
            for j in range(1, len(combo))
        ):
            continue
        cost = sum(
            kw * HOURS * (intervals[q].price_ct or 0.0) / 100
            for kw, q in zip(load.profile_kw, combo, strict=True)
        )
        best = cost if best is None else min(best, cost)
    return best


def linear_target(load: Load, intervals: list[PriceInterval], limit: float | None) -> float | None:
    """An energy target as a linear programme: power per quarter-hour, the energy exact."""
    allowed = usable(load, intervals, capped=True)
    assert load.max_kw is not None
    if not allowed:
        return None if load.energy_kwh else 0.0
    top = min(load.max_kw, limit if limit is not None else load.max_kw)
    result = linprog(
        c=[HOURS * (intervals[q].price_ct or 0.0) / 100 for q in allowed],
        A_eq=[[HOURS] * len(allowed)],
        b_eq=[load.energy_kwh],
        bounds=[(0, top)] * len(allowed),
    )
    return float(result.fun) if result.status == 0 else None


@st.composite
def lone_loads(draw: st.DrawFn) -> tuple[list[PriceInterval], Load, float | None]:
    """A load on a short stretch of a DST day (so brute force stays quick)."""
    first, _ = day_bounds(draw(st.sampled_from(DST_DAYS)))
    offset = draw(st.integers(0, 80))
    prices = draw(st.lists(price_ct, min_size=1, max_size=14))
    missing = draw(st.sets(st.integers(0, len(prices) - 1), max_size=1))
    origin = first + offset * QUARTER
    intervals = [
        PriceInterval(origin + i * QUARTER, origin + (i + 1) * QUARTER, price)
        for i, price in enumerate(prices)
        if i not in missing
    ]
    begin = draw(st.integers(0, len(prices)))
    end = draw(st.integers(begin, len(prices)))
    window = {
        "earliest": origin + begin * QUARTER,
        "deadline": origin + end * QUARTER,
        "price_cap_ct": draw(st.one_of(st.none(), st.integers(-5, 40).map(float))),
    }
    if draw(st.booleans()):
        steps = draw(st.integers(1, 5))
        load = Load(
            "one",
            profile_kw=tuple(
                draw(
                    st.lists(
                        st.integers(1, 40).map(lambda k: k / 10), min_size=steps, max_size=steps
                    )
                )
            ),
            pausable=tuple(draw(st.lists(st.booleans(), min_size=steps, max_size=steps))),
            **window,
        )
    else:
        load = Load(
            "one",
            energy_kwh=draw(st.integers(0, 60).map(lambda tenths: tenths / 10)),
            max_kw=draw(st.sampled_from([1.4, 3.7, 11.0])),
            **window,
        )
    limit = draw(st.one_of(st.none(), st.integers(10, 120).map(lambda tenths: tenths / 10)))
    return intervals, load, limit


@settings(max_examples=300, deadline=None)
@given(lone_loads())
def test_one_load_is_planned_exactly(case: tuple[list[PriceInterval], Load, float | None]) -> None:
    """Alone, a load gets exactly the optimum: under its cap if it can, else without."""
    intervals, load, limit = case
    plan = plan_household([load], intervals, Household(limit))
    check_invariants(plan, [load], intervals, limit)
    solve = brute_program if load.profile_kw else linear_target
    capped = solve(load, intervals, limit)
    free = solve(replace(load, price_cap_ct=None), intervals, limit)
    unlimited = solve(replace(load, price_cap_ct=None), intervals, None)
    result = plan["one"]
    if capped is not None:
        assert result.status == PLANNED
        assert result.cap_met
        assert result.cost_eur == pytest.approx(capped, abs=1e-9)
    elif free is not None:
        assert result.status == PLANNED
        assert not result.cap_met
        assert result.cost_eur == pytest.approx(free, abs=1e-9)
    elif unlimited is not None:
        assert (result.status, result.reason) == (CANNOT_FINISH, LIMIT)
    else:
        assert result.status == CANNOT_FINISH
        assert result.reason in {NOT_ENOUGH_TIME, PRICES_MISSING}
        assert result.steps == ()
        assert result.cost_eur is None


@settings(max_examples=40, deadline=None)
@given(households())
def test_without_limit_or_groups_each_load_is_planned_alone(
    household: tuple[list[PriceInterval], list[Load], float | None],
) -> None:
    """No limit and no groups: every load's plan is its own optimum, whatever the others."""
    intervals, loads, _ = household
    loads = [replace(load, group=None) for load in loads]
    together = plan_household(loads, intervals)
    for load in loads:
        assert together[load.key] == plan_household([load], intervals)[load.key]


# --- the rules, one by one ------------------------------------------------------------


def test_window_is_respected() -> None:
    """Never before the earliest start, always done by the deadline."""
    prices = quarters(START, [1.0, 2.0, 50.0, 50.0, 50.0, 3.0, 0.5, 0.1])
    plan = plan_household([program("p", 2, 6, [1.0, 1.0])], prices)
    assert indices(plan["p"]) == [4, 5]
    assert plan["p"].segments == ((at(4), at(6)),)


def test_unknown_prices_are_never_used() -> None:
    """A None price is a gap, never a zero."""
    prices = quarters(START, [5.0, None, 4.0, None, 6.0])
    plan = plan_household([program("p", 0, 5, [1.0, 1.0], pausable=True)], prices)
    assert indices(plan["p"]) == [0, 2]
    stuck = plan_household([program("q", 0, 5, [1.0, 1.0])], prices)["q"]
    assert (stuck.status, stuck.reason) == (CANNOT_FINISH, PRICES_MISSING)
    assert stuck.steps == ()
    assert not stuck.cap_met


def test_a_program_that_may_not_pause_runs_in_one_go() -> None:
    """Adjacent quarter-hours; a gap in the prices breaks a run."""
    prices = quarters(START, [1.0, 30.0, 1.0, 1.0, 20.0, 20.0, 20.0])
    plan = plan_household([program("p", 0, 7, [2.0, 1.0, 1.0])], prices)
    assert indices(plan["p"]) == [2, 3, 4]  # not 0, 2, 3, which would pause
    gap = [interval for interval in prices if interval.start != at(2)]
    assert indices(plan_household([program("p", 0, 7, [2.0, 1.0, 1.0])], gap)["p"]) == [3, 4, 5]


def test_a_program_that_may_pause_skips_an_expensive_quarter() -> None:
    """Pausing before the second step only: that step may wait out the dear quarter-hour."""
    prices = quarters(START, [1.0, 90.0, 2.0, 3.0])
    plan = plan_household([program("p", 0, 4, [2.0, 1.0, 1.0], [False, True, False])], prices)
    assert indices(plan["p"]) == [0, 2, 3]
    assert len(plan["p"].segments) == 2
    never = plan_household([program("p", 0, 4, [2.0, 1.0, 1.0])], prices)
    assert indices(never["p"]) == [0, 1, 2]


def test_energy_target_is_exact_even_when_prices_are_negative() -> None:
    """Exactly the energy, never more; the cheapest quarter-hours first, the last one partly."""
    prices = quarters(START, [-10.0, -5.0, 3.0, -8.0, 20.0])
    plan = plan_household([target("car", 0, 5, 5.0, 11.0)], prices)["car"]
    assert plan.energy_kwh == pytest.approx(5.0)
    assert [
        (i, round(kw, 6)) for i, kw in zip(indices(plan), (kw for _, kw in plan.steps), strict=True)
    ] == [
        (0, 11.0),
        (3, 9.0),
    ]
    assert plan.power_at(at(0) + timedelta(minutes=7)) == 11.0
    assert plan.power_at(at(1)) == 0.0
    assert plan.cost_eur == pytest.approx((11 * -10.0 + 9 * -8.0) * HOURS / 100)


def test_limit_is_shared_and_never_exceeded() -> None:
    """Under 4 kW the car slows down where the heat pump runs, and the total stays within."""
    prices = quarters(START, [1.0, 2.0, 3.0, 40.0])
    loads = [target("car", 0, 4, 2.0, 3.7), program("heat", 0, 4, [2.0, 2.0])]
    plan = plan_household(loads, prices, Household(4.0))
    check_invariants(plan, loads, prices, 4.0)
    assert plan.cannot_finish == {}
    for index in range(4):
        assert plan["car"].power_at(at(index)) + plan["heat"].power_at(at(index)) <= 4.0 + 1e-9
    assert plan["car"].energy_kwh == pytest.approx(2.0)
    assert plan.total_cost_eur == pytest.approx(plan["car"].cost_eur + plan["heat"].cost_eur)


def test_a_group_never_runs_together() -> None:
    """Washer and dryer take turns although both want the cheapest quarter-hours."""
    prices = quarters(START, [1.0, 1.0, 9.0, 9.0, 30.0])
    loads = [
        program("washer", 0, 5, [2.0, 2.0], group="wet"),
        program("dryer", 0, 5, [2.0, 2.0], group="wet"),
    ]
    plan = plan_household(loads, prices)
    assert sorted(indices(plan["washer"]) + indices(plan["dryer"])) == [0, 1, 2, 3]
    apart = plan_household([replace(load, group=None) for load in loads], prices)
    assert indices(apart["washer"]) == indices(apart["dryer"]) == [0, 1]


def test_price_cap_is_kept_or_given_up_for_the_deadline() -> None:
    """Under the cap when possible (dearer than the cheapest run), else the cheapest run."""
    prices = quarters(START, [-50.0, 45.0, 5.0, 5.0, 20.0])
    free = plan_household([program("p", 0, 5, [1.0, 1.0])], prices)["p"]
    assert indices(free) == [0, 1]
    capped = plan_household([program("p", 0, 5, [1.0, 1.0], price_cap_ct=30.0)], prices)["p"]
    assert indices(capped) == [2, 3]
    assert capped.cap_met
    tight = plan_household([program("p", 0, 5, [1.0, 1.0], price_cap_ct=0.0)], prices)["p"]
    assert indices(tight) == [0, 1]
    assert tight.status == PLANNED
    assert not tight.cap_met


def test_an_infeasible_load_does_not_stop_the_others() -> None:
    """Each load that cannot finish says why; the rest are planned as if it were not there."""
    prices = quarters(START, [1.0, 2.0, None, 3.0, 4.0, 5.0])
    loads = [
        program("short", 0, 1, [1.0, 1.0]),  # one quarter-hour for two steps
        program("unknown", 1, 4, [1.0, 1.0]),  # may not pause across the unknown price
        program("too_strong", 0, 6, [5.0]),  # draws more than the limit alone
        target("big", 0, 6, 4.9, 11.0),  # fits alone (5 kWh of room), not with the car
        target("car", 0, 6, 3.0, 3.0),
        program("washer", 0, 6, [1.0]),
    ]
    plan = plan_household(loads, prices, Household(4.0))
    check_invariants(plan, loads, prices, 4.0)
    assert plan.cannot_finish == {
        "short": NOT_ENOUGH_TIME,
        "unknown": PRICES_MISSING,
        "too_strong": LIMIT,
        "big": LIMIT,
    }
    assert plan["car"].status == plan["washer"].status == PLANNED
    assert plan["car"].energy_kwh == pytest.approx(3.0)
    # What a load that does not fit the limit would do alone, for the caller to show.
    assert indices(plan["too_strong"]) == [0]
    assert plan["too_strong"].cost_eur == pytest.approx(5.0 * HOURS * 1.0 / 100)
    assert plan.total_cost_eur == pytest.approx(plan["car"].cost_eur + plan["washer"].cost_eur)


def test_intervals_of_another_length_are_not_used() -> None:
    """Only quarter-hours: an hourly interval counts as a gap."""
    prices = [
        PriceInterval(at(0), at(4), 0.0),
        *quarters(at(4), [10.0, 20.0]),
    ]
    plan = plan_household([program("p", 0, 6, [1.0])], prices)
    assert indices(plan["p"]) == [4]


def test_loads_and_households_are_checked() -> None:
    """A load is a program or an energy target, with sane figures; keys are unique."""
    with pytest.raises(ValueError, match="aware"):
        Load("x", datetime(2026, 1, 1), at(4), (1.0,), (False,))
    with pytest.raises(ValueError, match="either"):
        Load("x", at(0), at(4))
    with pytest.raises(ValueError, match="either"):
        Load("x", at(0), at(4), energy_kwh=1.0)
    with pytest.raises(ValueError, match="no energy_kwh"):
        Load("x", at(0), at(4), (1.0,), (False,), energy_kwh=1.0)
    with pytest.raises(ValueError, match="pausable"):
        Load("x", at(0), at(4), (1.0, 1.0), (False,))
    with pytest.raises(ValueError, match="pausable"):
        Load("x", at(0), at(4), (0.0,), (False,))
    with pytest.raises(ValueError, match="positive"):
        Load("x", at(0), at(4), energy_kwh=1.0, max_kw=0.0)
    with pytest.raises(ValueError, match="positive"):
        Load("x", at(0), at(4), energy_kwh=-1.0, max_kw=1.0)
    with pytest.raises(ValueError, match="limit"):
        Household(0.0)
    with pytest.raises(ValueError, match="unique"):
        plan_household([target("x", 0, 4, 1.0, 1.0), target("x", 0, 4, 1.0, 1.0)], [])


def test_group_mates_that_cannot_both_keep_their_cap() -> None:
    """Two quarter-hours under the cap, two programs of a group: one keeps it, one cannot."""
    prices = quarters(START, [1.0, 2.0, 50.0, 60.0])
    loads = [
        program("washer", 0, 4, [1.0], price_cap_ct=10.0, group="wet"),
        program("dryer", 0, 4, [1.0, 1.0], price_cap_ct=10.0, group="wet"),
    ]
    plan = plan_household(loads, prices)
    check_invariants(plan, loads, prices, None)
    assert plan.cannot_finish == {}
    assert sorted([plan["washer"].cap_met, plan["dryer"].cap_met]) == [False, True]
    assert plan.total_cost_eur == pytest.approx((1.0 + 2.0 + 50.0) * HOURS / 100)


@pytest.mark.usefixtures("search_only")
def test_search_limits_keep_plans_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut short (one descent pass, no joint placement of two programs): still a valid plan."""
    intervals, loads, limit = random_household(6)
    exact = plan_household(loads, intervals, Household(limit))
    monkeypatch.setattr(household_plan, "MAX_PASSES", 1)
    monkeypatch.setattr(household_costs, "PAIR_STATES", 0)
    rushed = plan_household(loads, intervals, Household(limit))
    check_invariants(rushed, loads, intervals, limit)
    assert rushed.cannot_finish == exact.cannot_finish
    assert rushed.total_cost_eur >= exact.total_cost_eur - 1e-9


# --- HiGHS and the fallback ---------------------------------------------------------


def car_and_dishwasher() -> tuple[list[PriceInterval], list[Load], float]:
    """A car charging 8 quarter-hours at 11 kW and a dishwasher, under an 11 kW limit."""
    rng = random.Random(7)
    prices = quarters(START, [rng.randint(-500, 4000) / 100 for _ in range(96)])
    loads = [
        program("car", 0, 28, [11.0] * 8, pausable=True),
        program("dishwasher", 4, 32, [2.0, 0.2, 0.2, 1.8], pausable=[False, True, False, True]),
        target("battery", 8, 40, 6.0, 3.7, group="storage"),
        program("heat pump", 0, 40, [3.0] * 4, group="storage"),
    ]
    return prices, loads, 11.0


@pytest.mark.usefixtures("patient_solver")
def test_a_charge_and_programs_under_the_limit_are_planned_exactly() -> None:
    """A charge at constant power (any n quarter-hours), profiles and a group: the optimum."""
    prices, loads, limit = car_and_dishwasher()
    plan = plan_household(loads, prices, Household(limit))
    check_invariants(plan, loads, prices, limit)
    feasible, _, exact = oracle_household(loads, prices, limit)
    assert exact is not None
    assert len(feasible) == len(loads)
    assert plan.total_cost_eur == pytest.approx(exact.cost, abs=2 * household_mip.ABSOLUTE_GAP)


def test_highs_out_of_time_leaves_the_plan_to_the_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """No plan from HiGHS in time: the search's plan, the same as without HiGHS."""
    prices, loads, limit = car_and_dishwasher()
    monkeypatch.setattr(household_exact, "TIME_LIMIT", 0.0)
    rushed = plan_household(loads, prices, Household(limit))
    monkeypatch.setattr(household_mip, "highspy", None)
    searched = plan_household(loads, prices, Household(limit))
    check_invariants(rushed, loads, prices, limit)
    assert rushed == searched


@pytest.mark.usefixtures("patient_solver")
def test_an_unproven_plan_from_highs_wins_only_when_it_is_better(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HiGHS stopped by time with a plan: the better of its plan and the search's is kept."""
    prices, loads, limit = random_household(SEARCH_MISSES[-1])
    proven = plan_household(loads, prices, Household(limit))
    solve = household_exact.solve_exactly

    def unproven(*args: Any) -> tuple[list[Any], bool] | None:
        found = solve(*args)
        return None if found is None else (found[0], False)

    monkeypatch.setattr(household_plan, "solve_exactly", unproven)
    assert plan_household(loads, prices, Household(limit)) == proven
    monkeypatch.setattr(household_mip, "highspy", None)
    searched = plan_household(loads, prices, Household(limit))
    assert searched.total_cost_eur > proven.total_cost_eur

    def worse(*args: Any) -> tuple[list[Any], bool] | None:
        found = solve(*args)
        assert found is not None
        return [replace(p, cost=p.cost + 1.0) for p in found[0]], False

    monkeypatch.setattr(household_mip, "highspy", __import__("highspy"))
    monkeypatch.setattr(household_plan, "solve_exactly", worse)
    assert plan_household(loads, prices, Household(limit)) == searched
