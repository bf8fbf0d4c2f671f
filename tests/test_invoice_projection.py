"""The expected invoice of this month and last month (issue #23, section 1)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
import json
import math
import random

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from hypothesis import example, given, settings, strategies as st
from openapi_schema_validator import OAS30Validator
import pytest

from custom_components.nomos_energy import invoice_projection
from custom_components.nomos_energy.annual_usage import day_share
from custom_components.nomos_energy.const import DOMAIN
from custom_components.nomos_energy.daily_totals import DayTotal, day_totals, quarters_in_day
from custom_components.nomos_energy.energy_data import EnergyData
from custom_components.nomos_energy.invoice_projection import (
    TREND_LIMIT,
    expected_true_up,
    month_days,
    project_month,
    usage_invoice,
)
from custom_components.nomos_energy.nomos_client import Invoice
from custom_components.nomos_energy.price_schedule import (
    PriceInterval,
    PriceSchedule,
    day_start,
    local_date,
)
from custom_components.nomos_energy.usage_profile import (
    ALWAYS_SUPPLIED,
    EVEN,
    SLOTS,
    Supply,
    UsageProfile,
    build_usage_profile,
    day_kind,
    public_holidays,
    slot,
)
from custom_components.nomos_energy.usage_statistics import QuarterUsage
from nomos_simulator import NomosSimulator
from nomos_simulator.data import (
    Subscription,
    easter_sunday,
    family_away,
    public_holidays as simulator_holidays,
)

from .conftest import DAVID, FELIX, JONAS, AddEntry, save_options
from .test_energy import api_totals
from .test_simulator import SPEC_PATH, bearer, schema_for
from .timetravel import berlin, travel

QUARTER = timedelta(minutes=15)
THIS_MONTH = "sensor.nomos_j0n4sf4m_expected_invoice_this_month"
LAST_MONTH = "sensor.nomos_j0n4sf4m_expected_invoice_last_month"

type Usage = Callable[[datetime], float]


def starts(first: date, end: date) -> list[datetime]:
    """Return every quarter-hour of Berlin days [first, end)."""
    return [
        moment
        for n in range((end - first).days)
        for moment in ALWAYS_SUPPLIED.quarters(first + timedelta(days=n))
    ]


def price(moment: datetime) -> float:
    """A price that depends only on the time of day and whether it is a workday."""
    workday = day_kind(local_date(moment)) == "workday"
    return 25 + 8 * math.sin(slot(moment) / SLOTS * 2 * math.pi) + (2 if workday else 0)


def prices(first: date, end: date, at: Callable[[datetime], float | None] = price) -> PriceSchedule:
    """Return the prices of Berlin days [first, end]."""
    return PriceSchedule(
        PriceInterval(m, m + QUARTER, at(m)) for m in starts(first, end + timedelta(days=1))
    )


def metered(
    usage: Usage, first: date, end: date, *, final_before: date | None = None
) -> list[QuarterUsage]:
    """Return the costed quarter-hours of Berlin days [first, end), as the import sees them."""
    return [
        QuarterUsage(
            moment,
            usage(moment),
            usage(moment) * price(moment) / 100,
            final_before is None or local_date(moment) < final_before,
            price(moment),
        )
        for moment in starts(first, end)
    ]


def flat(kwh_per_day: float) -> Usage:
    """A household that uses the same every quarter-hour of the day."""
    return lambda moment: kwh_per_day / SLOTS


def imported(
    usage: Usage, today: date, **kwargs: date
) -> tuple[dict[date, DayTotal], UsageProfile]:
    """Return the day totals of eight weeks before `today` and the profile the import keeps."""
    quarters = metered(usage, today - timedelta(days=56), today, **kwargs)
    profile = build_usage_profile(
        q for q in quarters if q.start >= day_start(today - timedelta(41))
    )
    assert profile is not None
    return day_totals(quarters), profile


# The kinds of day --------------------------------------------------------------------


def test_public_holidays_are_sundays() -> None:
    assert {easter_sunday(year) for year in (2025, 2026, 2027)} == {
        date(2025, 4, 20),
        date(2026, 4, 5),
        date(2027, 3, 28),
    }
    holidays = public_holidays(2026)
    assert len(holidays) == 9
    assert {date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 14), date(2026, 5, 25)} < holidays
    assert day_kind(date(2026, 10, 3)) == "sunday"  # a Saturday, German Unity Day
    assert day_kind(date(2026, 12, 24)) == "workday"  # Christmas Eve is no public holiday
    assert day_kind(date(2026, 12, 26)) == "sunday"
    assert (day_kind(date(2026, 3, 7)), day_kind(date(2026, 3, 8))) == ("saturday", "sunday")


@pytest.mark.parametrize("year", range(2020, 2045))
def test_the_integration_and_the_simulator_agree_on_the_holidays(year: int) -> None:
    """Two computations of Easter, one each side: the simulator's family keeps them."""
    assert public_holidays(year) == simulator_holidays(year)


def test_a_profile_survives_the_cache_and_refuses_damage() -> None:
    totals, profile = imported(flat(12), date(2026, 3, 20))
    assert totals
    assert UsageProfile.from_json(profile.to_json()) == replace(
        profile, shares={k: tuple(round(s, 6) for s in v) for k, v in profile.shares.items()}
    )
    for damaged in (
        profile.to_json() | {"shares": {**profile.to_json()["shares"], "all": [0.1] * 95}},
        profile.to_json() | {"days": {**profile.days, "holiday": 3}},
    ):
        with pytest.raises(ValueError, match="usage profile"):
            UsageProfile.from_json(damaged)
    assert UsageProfile.from_json(profile.to_json() | {"final_until": None}).final_until is None


def test_a_profile_needs_complete_days_and_shapes_an_empty_house_evenly() -> None:
    today = date(2026, 3, 20)
    assert build_usage_profile([]) is None
    part = metered(flat(12), today - timedelta(days=1), today)[:50]
    assert build_usage_profile(part) is None
    empty = build_usage_profile(metered(lambda moment: 0.0, today - timedelta(days=7), today))
    assert empty is not None
    assert empty.shares["all"] == EVEN
    assert empty.final_until == today - timedelta(days=1)
    # Only the days of the spring change: 02:00-03:00 takes its neighbours' share.
    spring = build_usage_profile(metered(flat(9.2), date(2026, 3, 29), date(2026, 3, 30)))
    assert spring is not None
    assert spring.shares["all"][9] == pytest.approx(1 / SLOTS)
    assert not spring.by_kind
    assert spring.shape("workday") == spring.shares["all"]


# The projection -----------------------------------------------------------------------


def normalised(weights: list[float]) -> tuple[float, ...]:
    return tuple(w / math.fsum(weights) for w in weights)


@settings(max_examples=40, deadline=None)
@given(
    month=st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 1)),
    offset=st.integers(min_value=0, max_value=31),
    levels=st.tuples(*[st.floats(min_value=10, max_value=19)] * 3),
    weights=st.lists(
        st.floats(min_value=0.01, max_value=5), min_size=3 * SLOTS, max_size=3 * SLOTS
    ),
    fee=st.floats(min_value=0, max_value=30),
)
# Christmas Day and New Year's Day on Saturdays: four weeks hold two ordinary Saturdays.
@example(date(2028, 1, 1), 1, (10.0, 12.0, 15.0), [1.0, 2.0] * 144, 0.0)
def test_a_household_that_uses_its_profile_every_day_is_projected_exactly(
    month: date,
    offset: int,
    levels: tuple[float, float, float],
    weights: list[float],
    fee: float,
) -> None:
    """Every kind of day the same, prices the same by time of day: whatever the day of the
    month (a DST one included), the expectation is the invoice to the cent and beyond."""
    month = month.replace(day=1)
    days = month_days(month)
    today = min(month + timedelta(days=offset), days[-1] + timedelta(days=1))
    shapes = {
        kind: normalised(weights[n * SLOTS : (n + 1) * SLOTS])
        for n, kind in enumerate(("workday", "saturday", "sunday"))
    }
    level = dict(zip(("workday", "saturday", "sunday"), levels, strict=True))

    def usage(moment: datetime) -> float:
        kind = day_kind(local_date(moment))
        return level[kind] * shapes[kind][slot(moment)]

    totals, profile = imported(usage, today)
    projection = project_month(
        month,
        today,
        totals,
        prices(today - timedelta(45), today + timedelta(1)),
        profile=profile,
        monthly_fee=fee,
    )
    assert projection is not None
    invoice = math.fsum(
        usage(m) * price(m) / 100 for m in starts(month, days[-1] + timedelta(days=1))
    )
    assert projection.total_eur == pytest.approx(invoice + fee, rel=1e-9)
    assert projection.metered_days == (today - month).days
    assert projection.method == ("weekday_profile" if today <= days[-1] else "metered")


@settings(max_examples=50, deadline=None)
@given(
    month=st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 1)),
    kwh=st.lists(st.floats(min_value=0, max_value=80), min_size=31, max_size=31),
    price_ct=st.floats(min_value=-20, max_value=80),
    fee=st.floats(min_value=0, max_value=30),
    later=st.integers(min_value=0, max_value=40),
)
def test_a_month_metered_to_its_last_day_is_its_cost_and_base_fee(
    month: date, kwh: list[float], price_ct: float, fee: float, later: int
) -> None:
    days = month_days(month)
    totals = {
        day: DayTotal(k, k * price_ct / 100, quarters_in_day(day))
        for day, k in zip(days, kwh, strict=False)
    }
    today = days[-1] + timedelta(days=1 + later)
    projection = project_month(month, today, totals, PriceSchedule(), profile=None, monthly_fee=fee)
    assert projection is not None
    assert projection.total_eur == pytest.approx(
        math.fsum(t.cost_eur or 0 for t in totals.values()) + fee, abs=1e-9
    )
    assert (projection.method, projection.rest_days, projection.rest_kwh) == ("metered", 0, 0.0)
    assert projection.last_imported_day == days[-1]


@pytest.mark.parametrize(
    ("today", "quarters"),
    [(date(2026, 3, 29), 92), (date(2026, 10, 25), 100)],
    ids=["spring-92", "autumn-100"],
)
def test_a_dst_day_is_projected_with_its_quarter_hours(today: date, quarters: int) -> None:
    """The day of the clock change has an hour less or more of usage."""
    totals, profile = imported(flat(9.6), today)
    schedule = prices(today - timedelta(45), today + timedelta(1))
    projection = project_month(today, today, totals, schedule, profile=profile)
    assert projection is not None
    rest = [today + timedelta(days=n) for n in range(31 - today.day + 1)]
    assert quarters_in_day(today) == quarters
    assert projection.rest_kwh == pytest.approx(9.6 * sum(quarters_in_day(d) for d in rest) / 96)
    assert projection.rest_days == len(rest)
    # The day before is metered whole, 96 quarters.
    assert projection.last_imported_day == today - timedelta(days=1)
    assert projection.metered_kwh == pytest.approx(9.6 * (today.day - 1))


def test_missing_days_are_projected_and_the_rest_follows_the_last_complete_day() -> None:
    today = date(2026, 6, 20)
    totals, profile = imported(flat(12), today)
    del totals[date(2026, 6, 5)]
    totals[date(2026, 6, 19)] = replace(totals[date(2026, 6, 19)], quarters=90)  # not all in
    schedule = prices(today - timedelta(45), today + timedelta(1))
    projection = project_month(today, today, totals, schedule, profile=profile)
    assert projection is not None
    assert projection.last_imported_day == date(2026, 6, 18)
    assert (projection.metered_days, projection.rest_days) == (17, 13)
    assert projection.metered_kwh == pytest.approx(12 * 17)
    assert projection.rest_kwh == pytest.approx(12 * 13)
    # The same household with every day in costs the same.
    whole, _ = imported(flat(12), today)
    complete = project_month(today, today, whole, schedule, profile=profile)
    assert complete is not None
    assert projection.total_eur is not None
    assert projection.total_eur == pytest.approx(complete.total_eur or 0)


@pytest.mark.parametrize(
    ("supply", "supplied_days"),
    [
        (Supply(start=berlin(2026, 6, 15, 0, 0)), 16),
        (Supply(start=berlin(2026, 6, 15, 12, 0)), 16),  # from noon: the 15th counts
        (Supply(end=berlin(2026, 6, 21, 0, 0)), 20),
        (Supply(berlin(2026, 6, 10, 0, 0), berlin(2026, 6, 12, 0, 0)), 2),
    ],
    ids=["starts-15th", "starts-15th-noon", "ends-20th", "two-days"],
)
def test_a_contract_that_starts_or_ends_in_the_month_pays_the_base_fee_pro_rata(
    supply: Supply, supplied_days: int
) -> None:
    today = date(2026, 6, 25)
    usage = flat(12)
    quarters = [
        q
        for q in metered(usage, date(2026, 6, 1), today)
        if q.start in supply.quarters(local_date(q.start))
    ]
    schedule = prices(today - timedelta(45), today + timedelta(1))
    projection = project_month(
        today,
        today,
        day_totals(quarters),
        schedule,
        profile=build_usage_profile(quarters, supply),
        supply=supply,
        monthly_fee=30.0,
    )
    assert projection is not None
    assert projection.base_fee_eur == pytest.approx(supplied_days)
    # Only supplied quarter-hours count: metered or projected, none before or after.
    invoice = math.fsum(
        usage(m) * price(m) / 100 for day in month_days(today) for m in supply.quarters(day)
    )
    assert projection.total_eur == pytest.approx(invoice + supplied_days)
    assert projection.metered_days + projection.rest_days == supplied_days
    # A month without a supplied day has no invoice.
    outside = date(2026, 5, 1) if supply.start is not None else date(2026, 7, 1)
    assert project_month(outside, today, {}, schedule, profile=None, supply=supply) is None


def test_without_history_the_contracts_estimate_serves_and_without_it_nothing() -> None:
    today = date(2026, 7, 1)
    schedule = prices(today, today + timedelta(days=31), at=lambda moment: 30.0)
    projection = project_month(today, today, {}, schedule, profile=None, annual_kwh=3650)
    assert projection is not None
    expected_kwh = 3650 * math.fsum(day_share(day) for day in month_days(today))
    assert (projection.method, projection.history_days) == ("estimated_usage", 0)
    assert projection.rest_kwh == pytest.approx(expected_kwh)
    assert projection.total_eur == pytest.approx(expected_kwh * 0.30)
    nothing = project_month(today, today, {}, schedule, profile=None)
    assert nothing is not None
    assert (nothing.total_eur, nothing.rest_kwh, nothing.rest_days) == (None, None, 31)


def test_a_few_days_give_one_shape_for_every_day_and_no_trend() -> None:
    today = date(2026, 7, 12)
    quarters = metered(
        lambda m: 0.1 + 0.001 * (local_date(m) - today).days, date(2026, 7, 1), today
    )
    schedule = prices(today - timedelta(45), today + timedelta(1))
    projection = project_month(
        today, today, day_totals(quarters), schedule, profile=build_usage_profile(quarters)
    )
    assert projection is not None
    assert (projection.method, projection.history_days // 7) == ("daily_profile", 1)
    # The mean of the eleven days, for each of the twenty days left: no trend from so few.
    mean = math.fsum(q.kwh for q in quarters) / 11
    assert projection.rest_kwh == pytest.approx(mean * 20)


def test_without_prices_the_rest_has_no_cost_and_a_missing_price_is_estimated() -> None:
    today = date(2026, 6, 20)
    totals, profile = imported(flat(12), today)
    unpriced = project_month(today, today, totals, PriceSchedule(), profile=profile)
    assert unpriced is not None
    assert (unpriced.rest_cost_eur, unpriced.total_eur) == (None, None)
    assert unpriced.rest_kwh == pytest.approx(12 * 11)
    # A day whose cost Nomos could not price: its kWh at the day's prices.
    schedule = prices(today - timedelta(45), today + timedelta(1), at=lambda moment: 30.0)
    totals[date(2026, 6, 3)] = replace(totals[date(2026, 6, 3)], cost_eur=None)
    projection = project_month(today, today, totals, schedule, profile=profile)
    assert projection is not None
    assert projection.metered_cost_eur is not None
    costs = [totals[day].cost_eur for day in month_days(today) if day < today]
    assert projection.metered_cost_eur == pytest.approx(
        math.fsum(c for c in costs if c is not None) + 12 * 0.30
    )
    unknown = project_month(today, today, totals, PriceSchedule(), profile=profile)
    assert unknown is not None
    assert unknown.metered_cost_eur is None


def test_days_away_count_for_nothing() -> None:
    """Two weeks of holiday in the last four: the days at home say what comes."""
    today = date(2026, 8, 20)

    def usage(moment: datetime) -> float:
        away = date(2026, 8, 1) <= local_date(moment) < date(2026, 8, 15)
        return (2.4 if away else 12) / SLOTS

    totals, profile = imported(usage, today)
    schedule = prices(today - timedelta(45), today + timedelta(1))
    projection = project_month(today, today, totals, schedule, profile=profile)
    assert projection is not None
    assert projection.rest_kwh == pytest.approx(12 * 12)
    # The fourteen days at home, and the Saturday and Sunday before them: three of each kind.
    assert (projection.history_days, projection.method) == (16, "weekday_profile")


def test_the_trend_of_the_season_carries_on_and_scatter_makes_none() -> None:
    today = date(2026, 10, 10)

    def growing(moment: datetime) -> float:  # half a percent more each day
        return 10 * (1 + 0.005 * (local_date(moment) - today).days) / SLOTS

    totals, profile = imported(growing, today)
    schedule = prices(today - timedelta(45), today + timedelta(1))
    projection = project_month(today, today, totals, schedule, profile=profile)
    assert projection is not None
    actual = math.fsum(growing(m) for m in starts(today, date(2026, 11, 1)))
    assert projection.rest_kwh == pytest.approx(actual, rel=0.002)
    days = sorted(totals)[-28:]
    shares = [totals[day].kwh / 10 for day in days]
    kinds = ["all"] * len(days)
    slope, centre = invoice_projection._trend(days, shares, kinds)
    assert slope == pytest.approx(raw_slope(days, shares))
    assert centre == days[0].toordinal() + 13.5
    # Days that scatter around one level: a line through them is mostly chance.
    draw = random.Random(23)
    scattered = [draw.uniform(0.6, 1.4) for _ in days]
    assert (
        abs(invoice_projection._trend(days, scattered, kinds)[0])
        < abs(raw_slope(days, scattered)) / 2
    )
    steep = [1 + 0.05 * n for n in range(28)]
    assert invoice_projection._trend(days, steep, kinds)[0] == TREND_LIMIT
    assert invoice_projection._trend(days, [1.0] * 28, kinds)[0] == 0.0


def raw_slope(days: list[date], shares: list[float]) -> float:
    """The least-squares slope a day, unshrunk."""
    xs = [day.toordinal() for day in days]
    x_mean, y_mean = sum(xs) / len(xs), sum(shares) / len(shares)
    return sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, shares, strict=True)) / sum(
        (x - x_mean) ** 2 for x in xs
    )


def test_preliminary_days_shape_nothing_but_count_as_metered() -> None:
    """The last days' values may still change (the simulator's are 4 % high): they are
    metered usage so far, but the level of the rest rests on final days."""
    today = date(2026, 6, 20)
    final_before = today - timedelta(days=5)

    def usage(moment: datetime) -> float:
        return (12 * 1.04 if local_date(moment) >= final_before else 12) / SLOTS

    totals, profile = imported(usage, today, final_before=final_before)
    assert profile.final_until == final_before - timedelta(days=1)
    schedule = prices(today - timedelta(45), today + timedelta(1))
    projection = project_month(today, today, totals, schedule, profile=profile)
    assert projection is not None
    assert projection.rest_kwh == pytest.approx(12 * 11)
    assert projection.metered_kwh == pytest.approx(12 * 14 + 12 * 1.04 * 5)


# The true-up against advance payments ------------------------------------------------


def invoice(
    kind: str, first: date, end: date, total: float, status: str = "paid", number: int = 1
) -> Invoice:
    return Invoice(
        id=f"inv_{kind}{number}",
        subscription_id="sub_x",
        number=f"X-{number:03d}",
        type=kind,
        status=status,
        year=first.year,
        month=first.month,
        period_number=number,
        period_start=day_start(first),
        period_end=day_start(end),
        usage=None if kind == "prepayment" else 100.0,
        total=total,
        issued_at=day_start(end) + timedelta(days=3),
        paid_at=None,
        voids=None,
    )


def test_the_true_up_is_the_usage_minus_the_advance_payments_of_the_period() -> None:
    march, april, may = date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)
    invoices = [
        invoice("prepayment", march, april, 120.0),
        invoice("prepayment", april, may, 120.0, status="open", number=2),
        invoice("prepayment", april, may, 120.0, status="uncollectible", number=3),
        invoice("usage", march, april, 131.0, status="voided"),
        invoice("usage", march, april, 129.5, number=4),
    ]
    expected = {march: 130.0, april: 112.0}
    # March is invoiced: the invoice counts, not the expectation.
    march_up = expected_true_up(invoices, date(2026, 3, 31), expected.get)
    assert march_up is not None
    assert (march_up.first_day, march_up.last_day) == (march, date(2026, 3, 31))
    assert (march_up.prepaid_eur, march_up.balance_eur) == (120.0, pytest.approx(9.5))
    april_up = expected_true_up(invoices, date(2026, 4, 20), expected.get)
    assert april_up is not None
    assert (april_up.expected_eur, april_up.balance_eur) == (112.0, -8.0)
    assert usage_invoice(invoices, march) is invoices[-1]
    assert expected_true_up(invoices, date(2026, 5, 2), expected.get) is None
    assert expected_true_up(invoices[3:], date(2026, 3, 20), expected.get) is None


def test_a_yearly_billing_period_counts_every_month_so_far() -> None:
    year, end = date(2026, 1, 1), date(2027, 1, 1)
    invoices = [invoice("prepayment", year, end, 100.0, number=n) for n in range(1, 4)] + [
        invoice("usage", date(2026, 1, 1), date(2026, 2, 1), 140.0, number=9)
    ]
    up = expected_true_up(
        invoices, date(2026, 3, 10), {date(2026, 2, 1): 120.0, date(2026, 3, 1): 95.5}.get
    )
    assert up is not None
    assert (up.prepaid_eur, up.expected_eur, up.balance_eur) == (300.0, 355.5, 55.5)
    # A month whose expectation is unknown leaves the true-up unknown.
    assert expected_true_up(invoices, date(2026, 3, 10), {date(2026, 2, 1): 120.0}.get) is None


# The sensors in Home Assistant -------------------------------------------------------


def jonas(simulator: NomosSimulator) -> Subscription:
    return next(sub for sub in simulator.subscriptions.values() if sub.number == "J0N4SF4M")


def invoice_total(sub: Subscription, month: date) -> float:
    return sub.invoice_total(month, sub.month_usage(month))


@pytest.mark.energy_import
async def test_the_expected_invoice_of_a_family_house(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """On the 20th: the metered days as Nomos reports them, the rest from the household's
    weeks, the plan's base fee, the advance payment; last month beside its invoice."""
    sub = jonas(simulator)
    freezer.move_to(berlin(2026, 3, 20, 17, 30))
    entry = await add_entry(JONAS)
    state = hass.states.get(THIS_MONTH)
    attributes = state.attributes
    kwh, eur = await api_totals(simulator, JONAS, sub.id, date(2026, 3, 1), date(2026, 3, 20))
    assert attributes["usage_so_far_kwh"] == pytest.approx(kwh, abs=0.001)
    assert attributes["cost_so_far"] == pytest.approx(eur, abs=0.006)
    assert (attributes["month"], attributes["last_imported_day"]) == ("2026-03", "2026-03-19")
    assert (attributes["days_metered"], attributes["days_projected"]) == (19, 12)
    assert (attributes["estimate_method"], attributes["history_weeks"]) == ("weekday_profile", 4)
    assert attributes["base_fee"] == 10.99
    expected = float(state.state)
    assert expected == pytest.approx(
        attributes["cost_so_far"] + attributes["projected_rest_cost"] + 10.99, abs=0.011
    )
    assert expected == pytest.approx(invoice_total(sub, date(2026, 3, 1)), rel=0.03)
    assert attributes["prepaid"] == sub.prepayment
    assert attributes["expected_true_up"] == pytest.approx(expected - 125.0, abs=0.011)
    assert (attributes["billing_period_start"], attributes["billing_period_end"]) == (
        "2026-03-01",
        "2026-03-31",
    )
    assert state.attributes["unit_of_measurement"] == "EUR"
    last = hass.states.get(LAST_MONTH).attributes
    assert last["invoice_total"] == invoice_total(sub, date(2026, 2, 1))
    assert last["invoice_number"] == "J0N4SF4M-014"
    assert abs(last["difference"]) <= 0.01  # February is final: what Nomos billed
    assert last["estimate_method"] == "metered"
    # A restart serves the same from the cache, asking Nomos nothing.
    simulator.requests.clear()
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(THIS_MONTH).state == state.state
    assert simulator.count("GET /plans/{id}") == 0


@pytest.mark.energy_import
async def test_across_the_month_end(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The 1st moves this month on and last month's expectation waits for its last day,
    then for its invoice."""
    sub = jonas(simulator)
    freezer.move_to(berlin(2026, 3, 31, 17, 30))
    await add_entry(JONAS)
    state = hass.states.get(THIS_MONTH)
    assert (state.attributes["days_projected"], state.attributes["month"]) == (1, "2026-03")
    await travel(hass, freezer, berlin(2026, 4, 1, 0, 5))
    now = hass.states.get(THIS_MONTH).attributes
    assert (now["month"], now["days_metered"], now["days_projected"]) == ("2026-04", 0, 30)
    assert now["usage_so_far_kwh"] == 0
    last = hass.states.get(LAST_MONTH)
    assert (last.attributes["month"], last.attributes["days_projected"]) == ("2026-03", 1)
    assert last.state == state.state
    await travel(hass, freezer, berlin(2026, 4, 1, 23, 0))
    last = hass.states.get(LAST_MONTH)
    assert last.attributes["estimate_method"] == "metered"
    _, eur = await api_totals(simulator, JONAS, sub.id, date(2026, 3, 1), date(2026, 4, 1))
    assert float(last.state) == pytest.approx(eur + 10.99, abs=0.006)
    assert "invoice_total" not in last.attributes
    await travel(hass, freezer, berlin(2026, 4, 4, 17, 30))
    last = hass.states.get(LAST_MONTH)
    assert last.attributes["invoice_total"] == invoice_total(sub, date(2026, 3, 1))
    # The last days were preliminary (4 % high) when imported: a few cents apart.
    assert last.attributes["difference"] == pytest.approx(
        last.attributes["invoice_total"] - float(last.state), abs=0.011
    )
    assert -1 < last.attributes["difference"] < 0


@pytest.mark.energy_import
@pytest.mark.parametrize(
    ("moment", "quarters"),
    [
        ((2026, 3, 29, 17, 30), 92),
        ((2026, 3, 30, 17, 30), 92),
        ((2026, 10, 25, 17, 30), 100),
        ((2026, 10, 26, 17, 30), 100),
    ],
    ids=["spring-day", "after-spring-day", "autumn-day", "after-autumn-day"],
)
async def test_the_months_of_the_clock_changes(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    moment: tuple[int, int, int, int, int],
    quarters: int,
) -> None:
    """On the day of the change it is projected (an hour less or more of usage); the day
    after, it is metered with its 92 or 100 quarter-hours as Nomos reports them."""
    sub = jonas(simulator)
    freezer.move_to(berlin(*moment))
    await add_entry(JONAS)
    attributes = hass.states.get(THIS_MONTH).attributes
    today = date(*moment[:3])
    first = today.replace(day=1)
    assert attributes["last_imported_day"] == (today - timedelta(days=1)).isoformat()
    assert attributes["days_metered"] == today.day - 1
    assert attributes["days_projected"] == len(month_days(today)) - today.day + 1
    kwh, eur = await api_totals(simulator, JONAS, sub.id, first, today)
    assert attributes["usage_so_far_kwh"] == pytest.approx(kwh, abs=0.001)
    assert attributes["cost_so_far"] == pytest.approx(eur, abs=0.006)
    change = next(day for day in month_days(today) if quarters_in_day(day) != 96)
    assert quarters_in_day(change) == quarters
    assert float(hass.states.get(THIS_MONTH).state) == pytest.approx(
        invoice_total(sub, first), rel=0.03
    )


@pytest.mark.energy_import
async def test_the_plans_base_fee_is_read_once_and_the_options_fixed_charges_win(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nomos fails to answer: the expectation without the fee, asked again the next day.
    Then kept; fixed charges entered in the options replace it."""
    freezer.move_to(berlin(2026, 3, 20, 17, 30))
    simulator.inject("GET /plans/{id}", status=503)
    entry = await add_entry(JONAS)
    state = hass.states.get(THIS_MONTH)
    assert state.attributes["base_fee"] is None
    assert float(state.state) == pytest.approx(
        state.attributes["cost_so_far"] + state.attributes["projected_rest_cost"], abs=0.011
    )
    simulator.clear_faults()
    await travel(hass, freezer, berlin(2026, 3, 21, 17, 30))
    assert hass.states.get(THIS_MONTH).attributes["base_fee"] == 10.99
    simulator.requests.clear()
    await travel(hass, freezer, berlin(2026, 3, 22, 17, 30))
    assert simulator.count("GET /plans/{id}") == 0
    await save_options(hass, entry, monthly_fixed_charges=25.5)
    assert hass.states.get(THIS_MONTH).attributes["base_fee"] == 25.5


@pytest.mark.energy_import
async def test_a_plan_this_sign_in_may_not_read_is_not_asked_again(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(berlin(2026, 3, 20, 17, 30))
    simulator.inject("GET /plans/{id}", status=403)
    entry = await add_entry(JONAS)
    assert entry.runtime_data.cache.plan_fees == {jonas(simulator).plan_id: None}
    asked = simulator.count("GET /plans/{id}")
    await travel(hass, freezer, berlin(2026, 3, 21, 17, 30))
    assert simulator.count("GET /plans/{id}") == asked
    assert hass.states.get(THIS_MONTH).attributes["base_fee"] is None


@pytest.mark.energy_import
async def test_a_yearly_billing_period_and_a_month_without_supply(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Advance payments for a whole year: every month so far counts, the expected ones too.
    Felix's contract began in May: in May, last month has no invoice to expect."""
    freezer.move_to(berlin(2026, 5, 2, 17, 30))
    entry = await add_entry(JONAS)
    energy = entry.runtime_data.energy
    sub = jonas(simulator)
    monthly = energy.data[sub.id].invoices
    yearly = invoice("prepayment", date(2026, 4, 1), date(2027, 4, 1), 300.0, status="open")
    energy.data[sub.id] = EnergyData(
        invoices=(*(i for i in monthly if i.type != "prepayment"), yearly)
    )
    await travel(hass, freezer, berlin(2026, 5, 2, 17, 45))
    attributes = hass.states.get(THIS_MONTH).attributes
    # April's invoice is not out yet (the 4th): its expectation counts.
    april = float(hass.states.get(LAST_MONTH).state)
    assert (attributes["billing_period_start"], attributes["billing_period_end"]) == (
        "2026-04-01",
        "2027-03-31",
    )
    assert attributes["prepaid"] == 300.0
    assert attributes["expected_true_up"] == pytest.approx(
        april + float(hass.states.get(THIS_MONTH).state) - 300.0, abs=0.011
    )
    await travel(hass, freezer, berlin(2026, 5, 10, 17, 30))
    await add_entry(FELIX)
    felix = hass.states.get("sensor.nomos_f3l1xh0m_expected_invoice_last_month")
    assert felix.state == STATE_UNKNOWN
    assert felix.attributes["month"] == "2026-04"
    assert (
        hass.states.get("sensor.nomos_f3l1xh0m_expected_invoice_this_month").state != STATE_UNKNOWN
    )


@pytest.mark.default_entities
async def test_on_by_default_for_smart_consumption_and_named_in_german(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """This month's is a daily question (on); last month's one click away; none on an
    analog meter or a feed-in contract."""
    hass.config.language = "de"
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    for email in (JONAS, DAVID, FELIX):
        await add_entry(email)
    registry = er.async_get(hass)
    ours = {
        entry.entity_id: entry.disabled_by
        for entry in registry.entities.values()
        if entry.platform == DOMAIN and (entry.translation_key or "").startswith("expected_invoice")
    }
    assert ours == {
        "sensor.nomos_j0n4sf4m_erwartete_rechnung_diesen_monat": None,
        "sensor.nomos_j0n4sf4m_erwartete_rechnung_letzten_monat": er.RegistryEntryDisabler.INTEGRATION,
        "sensor.nomos_f3l1xh0m_erwartete_rechnung_diesen_monat": None,
        "sensor.nomos_f3l1xh0m_erwartete_rechnung_letzten_monat": er.RegistryEntryDisabler.INTEGRATION,
    }
    state = hass.states.get("sensor.nomos_j0n4sf4m_erwartete_rechnung_diesen_monat")
    assert state.attributes["friendly_name"] == "Nomos J0N4SF4M Erwartete Rechnung diesen Monat"
    # The daily import is left out here: the contract's annual estimate serves.
    assert state.attributes["estimate_method"] == "estimated_usage"


async def test_the_simulators_prepayment_invoices_conform_to_the_spec(
    simulator: NomosSimulator,
) -> None:
    """Jonas's invoices, the advance payments among them, as the curie spec describes them."""
    simulator.clock.set(berlin(2026, 3, 3, 12, 0))
    spec = json.loads(SPEC_PATH.read_text())
    validator = OAS30Validator(schema_for(spec, "GET", "/invoices", 200))
    sub = jonas(simulator)
    async with aiohttp.ClientSession(base_url=simulator.url) as http:
        response = await http.get(
            f"/invoices?limit=100&filter[subscription][eq]={sub.id}",
            headers=bearer(simulator, JONAS),
        )
        body = await response.json()
    validator.validate(body)
    prepayments = [item for item in body["items"] if item["type"] == "prepayment"]
    # One a month from January 2025 through March 2026, March's not yet debited.
    assert len(prepayments) == 15
    assert {item["total"] for item in prepayments} == {125.0}
    assert [
        item["status"] for item in prepayments if item["month"] == 3 and item["year"] == 2026
    ] == ["open"]
    assert all("usage" not in item for item in prepayments)


def test_the_simulators_family_is_away_two_weeks_in_august() -> None:
    away = [day for day in month_days(date(2026, 8, 1)) if family_away(day)]
    assert (away[0], away[-1], len(away)) == (date(2026, 8, 1), date(2026, 8, 14), 14)
    assert not family_away(date(2026, 7, 31))
    assert next(day for day in month_days(date(2025, 8, 1)) if family_away(day)) == date(2025, 8, 2)
