"""Day totals and the day and month figures: right at every date, DST days included."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
import math

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.nomos_energy.daily_totals import (
    ComparisonTariff,
    DayTotal,
    daily_benefits,
    daily_savings,
    day_totals,
    last_month_figure,
    latest_day_figure,
    month_figure,
    month_to_date_figure,
    quarters_in_day,
    with_comparison,
    with_fixed_charges,
    yesterday_figure,
)
from custom_components.nomos_energy.price_schedule import day_bounds, local_date

QUARTER = timedelta(minutes=15)


@dataclass(frozen=True)
class Quarter:
    start: datetime
    kwh: float
    cost_eur: float | None
    price_ct: float | None = None


def metered(day: date, kwh: float = 0.1, cost: float | None = 0.03) -> list[Quarter]:
    start, end = day_bounds(day)
    return [Quarter(start + i * QUARTER, kwh, cost) for i in range(int((end - start) / QUARTER))]


@pytest.mark.parametrize(
    ("day", "quarters"),
    [(date(2026, 3, 29), 92), (date(2026, 10, 25), 100), (date(2026, 11, 29), 96)],
)
def test_a_day_is_complete_with_its_own_number_of_quarters(day: date, quarters: int) -> None:
    """92 quarter-hours make a whole day in spring, 100 in autumn."""
    assert quarters_in_day(day) == quarters
    totals = day_totals(metered(day))
    assert totals[day].quarters == quarters
    assert yesterday_figure(totals, day + timedelta(days=1)).complete
    partial = day_totals(metered(day)[:-1])
    figure = yesterday_figure(partial, day + timedelta(days=1))
    assert (figure.complete, figure.kwh, figure.days_imported) == (False, None, 1)


def test_yesterday_moves_at_midnight_and_month_starts_empty_on_the_first() -> None:
    """Read against today's date: on Dec 1, yesterday is Nov 30 and no December day has ended."""
    totals = {
        day: total
        for d in range(1, 31)
        for day, total in day_totals(metered(date(2026, 11, d))).items()
    }
    assert yesterday_figure(totals, date(2026, 12, 1)).first_day == date(2026, 11, 30)
    december = month_figure(totals, date(2026, 12, 1))
    assert (december.kwh, december.days_imported, december.first_day) == (
        None,
        0,
        date(2026, 12, 1),
    )
    november = month_figure(totals, date(2026, 11, 30))
    assert november.days_imported == 29
    assert november.complete
    assert november.kwh == pytest.approx(29 * 96 * 0.1)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 40 * 96),
            st.floats(0, 5, allow_nan=False),
            st.one_of(st.none(), st.floats(-1, 2, allow_nan=False)),
        ),
        max_size=300,
        unique_by=lambda item: item[0],
    )
)
def test_day_totals_match_a_direct_sum(items: list[tuple[int, float, float | None]]) -> None:
    """Totals per Berlin day equal a direct sum; one unknown cost makes the day's cost unknown."""
    origin = datetime(2026, 10, 10, tzinfo=UTC)
    quarters = [Quarter(origin + index * QUARTER, kwh, cost) for index, kwh, cost in items]
    totals = day_totals(quarters)
    for day, total in totals.items():
        mine = [q for q in quarters if local_date(q.start) == day]
        assert total.quarters == len(mine)
        assert total.kwh == pytest.approx(math.fsum(q.kwh for q in mine))
        if any(q.cost_eur is None for q in mine):
            assert total.cost_eur is None
        else:
            assert total.cost_eur == pytest.approx(math.fsum(q.cost_eur or 0 for q in mine))
        assert DayTotal.from_json(total.to_json()) == total  # as the cache keeps it


@pytest.mark.parametrize("month_start", [date(2026, 2, 1), date(2026, 10, 1), date(2026, 11, 1)])
def test_fixed_charges_add_up_to_the_monthly_amount(month_start: date) -> None:
    """A day's share is the monthly amount over the month's days: a whole month adds it once."""
    days = calendar.monthrange(month_start.year, month_start.month)[1]
    totals = {
        day: total
        for offset in range(days)
        for day, total in day_totals(metered(month_start + timedelta(days=offset))).items()
    }
    # Every day's share, read as "yesterday" on the day after it, adds up to the amount.
    shares = [
        with_fixed_charges(
            yesterday_figure(totals, month_start + timedelta(days=offset + 1)), 12.3
        ).fixed_charges_eur
        for offset in range(days)
    ]
    assert sum(shares) == pytest.approx(12.3)
    # On its last day, "this month" holds all the days before it.
    last_day = with_fixed_charges(
        month_figure(totals, month_start + timedelta(days=days - 1)), 12.3
    )
    assert last_day.fixed_charges_eur == pytest.approx(12.3 * (days - 1) / days)
    one_day = with_fixed_charges(yesterday_figure(totals, month_start + timedelta(days=1)), 12.3)
    assert one_day.fixed_charges_eur == pytest.approx(12.3 / days)
    assert one_day.cost_eur == pytest.approx(totals[month_start].cost_eur + 12.3 / days)


def test_unknown_cost_and_no_charges_change_nothing() -> None:
    """An unknown cost stays unknown; 0 EUR leaves the figure as it is."""
    day = date(2026, 11, 29)
    unknown = day_totals(metered(day, cost=None))
    figure = yesterday_figure(unknown, day + timedelta(days=1))
    assert with_fixed_charges(figure, 12.3) == figure
    known = yesterday_figure(day_totals(metered(day)), day + timedelta(days=1))
    assert with_fixed_charges(known, 0) == known


@settings(max_examples=100, deadline=None)
@given(
    days=st.lists(
        st.lists(
            st.tuples(
                st.floats(min_value=0, max_value=2, allow_nan=False),
                st.floats(min_value=-20, max_value=80, allow_nan=False),
            ),
            min_size=1,
            max_size=100,
        ),
        min_size=1,
        max_size=5,
    ),
    comparison=st.floats(min_value=1, max_value=60),
    base_fee=st.floats(min_value=0, max_value=30),
)
def test_price_paid_market_average_and_benefit_match_direct_computation(
    days: list[list[tuple[float, float]]], comparison: float, base_fee: float
) -> None:
    """Weighted and plain averages, benefit and comparison of last month, from the quarters."""
    quarters = []
    for offset, day_quarters in enumerate(days):
        start, end = day_bounds(date(2026, 10, 24) + timedelta(days=offset))
        count = int((end - start) / QUARTER)
        for i, (kwh, price) in enumerate((day_quarters * count)[:count]):
            quarters.append(Quarter(start + i * QUARTER, kwh, kwh * price / 100, price))
    figure = last_month_figure(day_totals(quarters), date(2026, 11, 15))
    kwh = math.fsum(q.kwh for q in quarters)
    cost = math.fsum(q.cost_eur or 0 for q in quarters)
    average = math.fsum(q.price_ct or 0 for q in quarters) / len(quarters) / 100
    assert figure.market_average == pytest.approx(average)
    if kwh == 0:
        assert figure.price_paid is None
        assert figure.shifting_benefit is None
    else:
        assert figure.price_paid == pytest.approx(cost / kwh)
        assert figure.shifting_benefit == pytest.approx(average * kwh - cost, abs=1e-9)
    compared = with_comparison(figure, comparison, base_fee)
    expected = kwh * comparison / 100 + base_fee * len(days) / 31
    assert compared.comparison_eur == pytest.approx(expected)
    assert compared.saved_versus_comparison == pytest.approx(expected - cost)


@settings(max_examples=60, deadline=None)
@given(
    usage=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=2, allow_nan=False),
            st.floats(min_value=-20, max_value=80, allow_nan=False),
        ),
        min_size=1,
        max_size=40,
    ),
    tariff=st.builds(
        ComparisonTariff,
        st.floats(min_value=0.5, max_value=60),
        st.floats(min_value=0, max_value=30),
        st.floats(min_value=0, max_value=30),
    ),
    unfinished=st.integers(min_value=1, max_value=31),
)
def test_daily_savings_add_up_to_the_month_and_skip_unfinished_days(
    usage: list[tuple[float, float]], tariff: ComparisonTariff, unfinished: int
) -> None:
    """October 2026 (25 hours on the 25th): the days' savings are the month's saving, with
    the base fee and fixed charges a share per day; a day missing a quarter-hour has none."""
    quarters = []
    for day in (date(2026, 10, d) for d in range(1, 32)):
        start, end = day_bounds(day)
        for i in range(int((end - start) / QUARTER)):
            kwh, price = usage[(day.day * 7 + i) % len(usage)]
            quarters.append(Quarter(start + i * QUARTER, kwh, kwh * price / 100, price))
    totals = day_totals(quarters)
    month = tariff.apply(last_month_figure(totals, date(2026, 11, 2)))
    savings = daily_savings(totals, tariff)
    assert len(savings) == 31
    assert math.fsum(savings.values()) == pytest.approx(month.saved_versus_comparison, abs=1e-6)
    for day, saved in savings.items():
        own = [q for q in quarters if local_date(q.start) == day]
        cost = math.fsum(q.cost_eur or 0 for q in own) + tariff.fixed_charges_month / 31
        compared = math.fsum(q.kwh for q in own) * tariff.price_ct / 100
        assert saved == pytest.approx(compared + tariff.base_fee_month / 31 - cost, abs=1e-9)

    cut = day_bounds(date(2026, 10, unfinished))[0]
    missing_one = [q for q in quarters if q.start != cut]
    assert set(daily_savings(day_totals(missing_one), tariff)) == set(savings) - {
        date(2026, 10, unfinished)
    }
    assert set(daily_benefits(day_totals(missing_one))) <= set(savings) - {
        date(2026, 10, unfinished)
    }
    assert daily_savings(totals, ComparisonTariff(0, 10, 10)) == {}


def test_invoice_check_tolerance_and_incomplete_months() -> None:
    """Within 2 % (at least 1 kWh) an invoice matches; a month not fully imported is unchecked."""
    from custom_components.nomos_energy.invoice_check import check_invoice  # noqa: PLC0415

    days = [date(2026, 2, 1) + timedelta(days=offset) for offset in range(28)]
    totals = {day: day_totals(metered(day, kwh=0.1, cost=0.03))[day] for day in days}
    start, _ = day_bounds(days[0])
    end, _ = day_bounds(date(2026, 3, 1))
    metered_kwh = 28 * 96 * 0.1
    for invoiced, matches in (
        (metered_kwh, True),
        (metered_kwh * 1.019, True),
        (metered_kwh * 1.03, False),
    ):
        check = check_invoice(start, end, invoiced, totals)
        assert check is not None
        assert check.metered_kwh == pytest.approx(metered_kwh)
        assert check.matches is matches
        assert check.summary()["energy_cost"] == pytest.approx(28 * 96 * 0.03, abs=0.01)
    small = {day: day_totals(metered(day, kwh=0.001, cost=0.0))[day] for day in days}
    assert check_invoice(start, end, 28 * 96 * 0.001 + 0.9, small).matches  # type: ignore[union-attr]
    del totals[days[10]]
    assert check_invoice(start, end, metered_kwh, totals) is None
    assert check_invoice(start, end, None, totals) is None


@pytest.mark.parametrize(
    ("today", "imported_through", "expected_day", "expected_month"),
    [
        # The 1st before the 31st is in: the latest day and its month are last month's.
        (date(2026, 12, 1), date(2026, 11, 29), date(2026, 11, 29), (date(2026, 11, 1), 29)),
        # The 1st after last month's last day arrived.
        (date(2026, 12, 1), date(2026, 11, 30), date(2026, 11, 30), (date(2026, 11, 1), 30)),
        # The 2nd: the 1st is complete, the month has one day.
        (date(2026, 12, 2), date(2026, 12, 1), date(2026, 12, 1), (date(2026, 12, 1), 1)),
        # The day after a DST day (92 and 100 quarter-hours are whole days).
        (date(2027, 3, 29), date(2027, 3, 28), date(2027, 3, 28), (date(2027, 3, 1), 28)),
        (date(2027, 11, 1), date(2027, 10, 31), date(2027, 10, 31), (date(2027, 10, 1), 31)),
    ],
)
def test_latest_day_and_month_to_date_on_awkward_dates(
    today: date, imported_through: date, expected_day: date, expected_month: tuple[date, int]
) -> None:
    """The latest complete day, never a day that is not whole, and its month through it."""
    first = imported_through.replace(day=1) - timedelta(days=3)
    days = [first + timedelta(days=n) for n in range((imported_through - first).days + 1)]
    quarters = [q for day in days for q in metered(day)]
    # Today and the day after the latest imported one are partial: they never count.
    quarters += metered(imported_through + timedelta(days=1))[:8]
    totals = day_totals(quarters)
    latest = latest_day_figure(totals, today)
    assert (latest.first_day, latest.complete) == (expected_day, True)
    assert latest.kwh == pytest.approx(0.1 * quarters_in_day(expected_day))
    month = month_to_date_figure(totals, today)
    assert (month.first_day, month.last_day, month.days_imported) == (
        expected_month[0],
        expected_day,
        expected_month[1],
    )
    assert month.kwh == pytest.approx(
        sum(
            0.1 * quarters_in_day(expected_month[0] + timedelta(days=n))
            for n in range(expected_month[1])
        )
    )


def test_latest_day_is_unknown_until_a_day_is_whole() -> None:
    """Nothing complete yet: unknown, dated yesterday, and the month so far unknown too."""
    today = date(2026, 12, 1)
    totals = day_totals(metered(date(2026, 11, 30))[:-1])
    latest = latest_day_figure(totals, today)
    assert (latest.first_day, latest.kwh, latest.complete) == (date(2026, 11, 30), None, False)
    month = month_to_date_figure(totals, today)
    assert (month.first_day, month.last_day) == (date(2026, 11, 1), date(2026, 11, 30))
    assert month.complete is False


@settings(max_examples=100, deadline=None)
@given(
    st.dates(min_value=date(2026, 1, 2), max_value=date(2028, 12, 31)),
    st.lists(st.tuples(st.integers(1, 60), st.booleans()), max_size=12),
)
def test_latest_day_matches_a_search_backwards(
    today: date, days_back: list[tuple[int, bool]]
) -> None:
    """Against brute force: walk back from yesterday to the first whole day."""
    quarters: list[Quarter] = []
    whole: set[date] = set()
    for back, is_whole in days_back:
        day = today - timedelta(days=back)
        if day in whole or any(q.start.date() == day for q in quarters):
            continue
        quarters += metered(day) if is_whole else metered(day)[:-1]
        if is_whole:
            whole.add(day)
    totals = day_totals(quarters)
    expected = next(
        (today - timedelta(days=n) for n in range(1, 61) if today - timedelta(days=n) in whole),
        None,
    )
    latest = latest_day_figure(totals, today)
    if expected is None:
        assert latest.kwh is None
    else:
        assert latest.first_day == expected
        assert latest.kwh == pytest.approx(0.1 * quarters_in_day(expected))
        month = month_to_date_figure(totals, today)
        assert (month.first_day, month.last_day) == (expected.replace(day=1), expected)
        in_month = [day for day in totals if expected.replace(day=1) <= day <= expected]
        assert month.days_imported == len(in_month)
