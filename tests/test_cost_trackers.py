"""Cost trackers, pure: meter readings to energy per quarter-hour, and its cost."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import itertools
import math

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.nomos_energy.cost_trackers import (
    TOTAL,
    TOTAL_INCREASING,
    CostHour,
    Meter,
    StatisticChange,
    backfill_quarters,
    cost_hours,
    days_cost,
    period_cost,
    prune,
    quarter_of,
    rest_of_house,
    running_rows,
    spread,
    to_kwh,
)
from custom_components.nomos_energy.price_schedule import (
    BERLIN,
    PriceInterval,
    PriceSchedule,
    day_bounds,
)

QUARTER = timedelta(minutes=15)
START = datetime(2026, 1, 5, tzinfo=UTC)
T0 = START.timestamp()


def schedule(start: datetime, count: int, price: object = None) -> PriceSchedule:
    """Prices from `start`: the given one, or 10 + the quarter's index modulo 13 ct/kWh."""
    return PriceSchedule(
        PriceInterval(
            start + i * QUARTER,
            start + (i + 1) * QUARTER,
            float(10 + i % 13) if price is None else price,  # type: ignore[arg-type]
        )
        for i in range(count)
    )


def test_units_are_converted_and_others_refused() -> None:
    assert to_kwh(1500, "Wh") == 1.5
    assert to_kwh(2, "kWh") == 2
    assert to_kwh(0.5, "MWh") == 500
    assert to_kwh(3.6, "MJ") == pytest.approx(1)
    assert to_kwh(1, "W") is None
    assert to_kwh(1, None) is None
    assert to_kwh(math.nan, "kWh") is None


def test_first_reading_counts_nothing_then_deltas_are_spread() -> None:
    meter, quarters = Meter(), {}
    assert meter.read(quarters, T0 + 600, 100.0) == 0
    # 1.5 kWh from 00:10 to 00:40: a third each in 00:00, 00:15 and 00:30.
    assert meter.read(quarters, T0 + 2400, 101.5) == pytest.approx(1.5)
    assert quarters == pytest.approx({T0: 0.25, T0 + 900: 0.75, T0 + 1800: 0.5})


def test_a_reset_counts_from_zero_and_jitter_counts_nothing() -> None:
    meter, quarters = Meter(TOTAL_INCREASING), {}
    meter.read(quarters, T0, 100.0)
    assert meter.read(quarters, T0 + 60, 99.0) == 0  # a dip of 1 %: jitter
    assert meter.value == 100.0
    assert meter.read(quarters, T0 + 120, 100.5) == pytest.approx(0.5)  # counted once
    assert meter.read(quarters, T0 + 180, 0.2) == pytest.approx(0.2)  # reset: from 0
    assert meter.read(quarters, T0 + 240, 0.7) == pytest.approx(0.5)
    assert sum(quarters.values()) == pytest.approx(1.2)


def test_total_counts_negative_deltas_and_a_new_last_reset_from_zero() -> None:
    meter, quarters = Meter(TOTAL), {}
    meter.read(quarters, T0, 5.0, "2026-01-01T00:00:00+00:00")
    assert meter.read(quarters, T0 + 60, 4.0, "2026-01-01T00:00:00+00:00") == -1
    assert meter.read(quarters, T0 + 120, 0.3, "2026-01-05T00:00:00+00:00") == pytest.approx(0.3)
    assert sum(quarters.values()) == pytest.approx(-0.7)


def test_an_older_reading_is_ignored_and_an_instant_lands_in_the_quarter_it_ends() -> None:
    meter, quarters = Meter(), {}
    meter.read(quarters, T0 + 900, 1.0)
    assert meter.read(quarters, T0 + 800, 5.0) == 0
    assert meter.read(quarters, T0 + 900, 1.2) == pytest.approx(0.2)
    assert quarters == pytest.approx({T0: 0.2})  # the energy up to 00:15 is 00:00's
    spread(quarters, T0, T0 + 10, 0.0)
    assert len(quarters) == 1


def test_the_meter_round_trips_and_refuses_a_strange_state_class() -> None:
    meter = Meter(TOTAL, 1.5, T0, "x")
    assert Meter.from_json(meter.to_json()) == meter
    assert Meter.from_json(Meter().to_json()) == Meter()
    with pytest.raises(ValueError, match="state class"):
        Meter.from_json(["measurement", None, None, None])


def test_backfill_reads_hours_only_before_the_five_minute_rows() -> None:
    hourly = [StatisticChange(T0 + h * 3600, T0 + (h + 1) * 3600, 4.0) for h in range(3)]
    # The 5-minute rows begin at 01:50: the hour 01:00 is read hourly, 02:00 by 5 minutes.
    five = [StatisticChange(T0 + 6600 + i * 300, T0 + 6900 + i * 300, 0.1) for i in range(14)]
    quarters, hours = backfill_quarters(five, hourly)
    assert hours == 2
    assert quarters[T0] == pytest.approx(1.0)
    assert quarters[T0 + 3600 + 2700] == pytest.approx(1.0)
    assert quarters[T0 + 7200] == pytest.approx(0.3)
    assert sum(quarters.values()) == pytest.approx(8 + 1.2)
    assert backfill_quarters([], hourly)[1] == 3


def test_hours_are_costed_per_quarter_and_unknown_prices_leave_them_unpriced() -> None:
    prices = schedule(START, 4)
    quarters = {int(T0): 1.0, int(T0) + 2700: 2.0, int(T0) + 3600: 1.0}
    first, second = cost_hours(quarters, prices, int(T0), int(T0) + 7200)
    assert first == CostHour(int(T0), 3.0, pytest.approx(0.1 + 0.26), True)  # type: ignore[arg-type]
    assert second.priced is False
    assert second.cost_eur == 0
    rows = running_rows([first, second], 10.0)
    assert [row.sum for row in rows] == pytest.approx([10.36, 10.36])
    period = period_cost(quarters, prices, START, START + 2 * timedelta(hours=1))
    assert period.unpriced_kwh == 1.0
    assert period.average_price == pytest.approx(0.36 / 3)
    assert period.market_average == pytest.approx(11.5 / 100)
    empty = period_cost({}, PriceSchedule(), START, START + QUARTER)
    assert empty.average_price is None
    assert empty.market_average is None


@pytest.mark.parametrize(
    ("day", "count"), [(date(2026, 3, 29), 92), (date(2026, 10, 25), 100), (date(2026, 1, 31), 96)]
)
def test_a_berlin_day_has_its_own_quarter_hours(day: date, count: int) -> None:
    start, end = day_bounds(day)
    prices = schedule(start - timedelta(days=1), 400, 20.0)
    quarters: dict[int, float] = {}
    # One kWh an hour, from the day before to the day after.
    spread(
        quarters,
        (start - timedelta(hours=2)).timestamp(),
        (end + timedelta(hours=2)).timestamp(),
        (end - start + timedelta(hours=4)) / timedelta(hours=1),
    )
    figure = days_cost(quarters, prices, day, day)
    assert figure.priced_quarters == count
    assert figure.kwh == pytest.approx(count / 4)
    assert figure.cost_eur == pytest.approx(count / 4 * 0.2)


def test_the_rest_of_the_house_is_never_negative() -> None:
    assert rest_of_house(None, [1.0]) is None
    assert rest_of_house(5.0, [1.0, 1.5]) == 2.5
    assert rest_of_house(1.0, [1.0, 1.5]) == 0


def test_prune_drops_older_quarters() -> None:
    quarters = {0: 1.0, 900: 2.0}
    prune(quarters, 900)
    assert quarters == {900: 2.0}


# Up to 60 steps of at most 5 kWh: after a reset the meter stays below 300 kWh.
steps = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=4000),  # seconds since the reading before
        st.floats(min_value=0, max_value=5, allow_nan=False),  # energy used meanwhile (kWh)
        st.booleans(),  # the meter resets (before this energy)
        st.sampled_from(["Wh", "kWh", "MWh"]),  # the unit of this reading
        st.booleans(),  # the reading is lost (unavailable, restart)
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(initial=st.floats(min_value=100, max_value=1e5), steps=steps)
def test_energy_is_conserved_across_resets_units_and_gaps(
    initial: float, steps: list[tuple[int, float, bool, str, bool]]
) -> None:
    meter, quarters = Meter(TOTAL_INCREASING), {}
    at, value, used, counted_from = T0, initial, 0.0, T0
    meter.read(quarters, at, value)
    pending = 0.0
    for seconds, energy, resets, unit, lost in steps:
        at += seconds
        if resets and value > 400:  # a reset that reads as one (below 90 %), whatever follows
            value = 0.0
            pending = 0.0  # used before the reset and never shown: the meter lost it
        value += energy
        pending += energy
        if lost:
            continue
        reading = value / {"Wh": 0.001, "kWh": 1.0, "MWh": 1000.0}[unit]
        kwh = to_kwh(reading, unit)
        assert kwh is not None
        meter.read(quarters, at, kwh)
        used += pending
        pending = 0.0
    assert math.isclose(sum(quarters.values()), used, rel_tol=1e-9, abs_tol=1e-6)
    assert all(quarter_of(counted_from) <= key < at for key in quarters)


def interpolated(readings: list[tuple[float, float]], moment: float) -> float:
    """The cumulative energy at a moment, read off the line between two readings."""
    for (t0, e0), (t1, e1) in itertools.pairwise(readings):
        if t0 <= moment <= t1:
            return e0 + (e1 - e0) * (moment - t0) / (t1 - t0)
    return readings[0][1] if moment < readings[0][0] else readings[-1][1]


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.integers(min_value=1, max_value=20000), min_size=1, max_size=30),
    energies=st.lists(st.floats(min_value=0, max_value=3, allow_nan=False), min_size=30),
    offset=st.integers(min_value=0, max_value=3599),
)
def test_cost_equals_the_brute_force_sum(
    gaps: list[int], energies: list[float], offset: int
) -> None:
    meter, quarters = Meter(), {}
    readings = [(T0 + offset, 50.0)]
    meter.read(quarters, *readings[0])
    for gap, energy in zip(gaps, energies, strict=False):
        readings.append((readings[-1][0] + gap, readings[-1][1] + energy))
        meter.read(quarters, *readings[-1])
    prices = schedule(START, 800)
    first, last = int(T0), quarter_of(readings[-1][0]) + 900
    expected = 0.0
    for quarter in range(first, last, 900):
        energy = interpolated(readings, quarter + 900) - interpolated(readings, quarter)
        interval = prices.at(datetime.fromtimestamp(quarter, UTC))
        assert interval is not None
        expected += energy * (interval.price_ct or 0) / 100
    end = last + 3600 - last % 3600
    hours = cost_hours(quarters, prices, first, end)
    assert math.fsum(hour.cost_eur for hour in hours) == pytest.approx(expected, abs=1e-9)
    figure = period_cost(
        quarters, prices, START, datetime.fromtimestamp(end, UTC).astimezone(BERLIN)
    )
    assert figure.cost_eur == pytest.approx(expected, abs=1e-9)


class OneByOne:
    """A schedule that can only look up one moment: 20 ct/kWh from START on."""

    def at(self, moment: datetime) -> PriceInterval | None:
        return PriceInterval(moment, moment + QUARTER, 20.0) if moment >= START else None


def test_prices_by_the_hour_or_one_by_one_cost_the_same() -> None:
    quarters = {int(T0) - 900: 1.0, int(T0): 1.0, int(T0) + 900: 1.0}
    hourly = PriceSchedule([PriceInterval(START, START + timedelta(hours=1), 20.0)])
    for prices in (hourly, OneByOne()):
        figure = period_cost(quarters, prices, START - QUARTER, START + 2 * QUARTER)
        assert figure.cost_eur == pytest.approx(0.4)
        assert figure.unpriced_kwh == 1.0
        assert figure.priced_quarters == 2
