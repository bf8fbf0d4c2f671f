"""The price schedule: lookups, day statistics, levels, merging, across DST days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import itertools

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.nomos_energy.price_schedule import (
    PriceInterval,
    PriceLevel,
    PriceSchedule,
    day_bounds,
    hourly_prices,
    local_date,
    resample_hourly,
)

QUARTER = timedelta(minutes=15)
SPRING = date(2026, 3, 29)  # 92 quarter-hours in Berlin
AUTUMN = date(2026, 10, 25)  # 100 quarter-hours in Berlin
NORMAL = date(2026, 11, 29)


def day_schedule(day: date, price=float) -> PriceSchedule:
    start, end = day_bounds(day)
    count = int((end - start) / QUARTER)
    return PriceSchedule(
        PriceInterval(start + i * QUARTER, start + (i + 1) * QUARTER, price(i), {"grid": 9.47})
        for i in range(count)
    )


@pytest.mark.parametrize(("day", "count"), [(SPRING, 92), (AUTUMN, 100), (NORMAL, 96)])
def test_days_have_their_real_length(day: date, count: int) -> None:
    schedule = day_schedule(day)
    assert len(schedule.day(day)) == count
    assert schedule.is_day_complete(day)
    assert not schedule.is_day_complete(day + timedelta(days=1))
    stats = schedule.day_stats(day)
    assert stats.minimum == 0
    assert stats.maximum == count - 1
    assert stats.average == (count - 1) / 2
    assert stats.minimum_at == day_bounds(day)[0]
    assert stats.known == count


def test_lookup_current_and_next() -> None:
    schedule = day_schedule(AUTUMN)
    start = day_bounds(AUTUMN)[0]
    moment = start + 10 * QUARTER + timedelta(minutes=3)
    assert schedule.at(moment).price_ct == 10
    assert schedule.next_after(moment).price_ct == 11
    assert schedule.at(start - timedelta(seconds=1)) is None
    assert schedule.next_after(schedule.end - timedelta(minutes=1)) is None
    # The repeated 02:00-03:00 hour of the autumn change is two distinct UTC hours.
    first = datetime(2026, 10, 25, 0, 0, tzinfo=UTC)  # 02:00 CEST
    second = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)  # 02:00 CET
    assert schedule.at(first).price_ct != schedule.at(second).price_ct
    assert schedule.hour_average(first) == pytest.approx((8 + 9 + 10 + 11) / 4)


def test_unknown_prices_are_not_zero() -> None:
    schedule = day_schedule(NORMAL, lambda i: None if i == 5 else 10.0 + i)
    assert not schedule.is_day_complete(NORMAL)
    stats = schedule.day_stats(NORMAL)
    assert stats.minimum == 10.0
    assert stats.known == 95
    moment = day_bounds(NORMAL)[0] + 5 * QUARTER
    assert schedule.at(moment).price_ct is None
    assert schedule.level(moment) is None
    assert PriceSchedule().day_stats(NORMAL) is None
    assert schedule.hour_average(day_bounds(NORMAL)[0] + 4 * QUARTER) == pytest.approx(
        (14 + 16 + 17) / 3
    )


def test_merge_never_loses_known_prices() -> None:
    cached = day_schedule(NORMAL)
    start = day_bounds(NORMAL)[0]
    fresh = [
        PriceInterval(start, start + QUARTER, None),
        PriceInterval(start + QUARTER, start + 2 * QUARTER, -3.5),
    ]
    merged = cached.merge(fresh)
    assert merged.at(start).price_ct == 0
    assert merged.at(start + QUARTER).price_ct == -3.5
    assert len(merged) == len(cached)
    assert merged != cached
    assert cached.merge([]) == cached


def test_prune_and_covers() -> None:
    schedule = day_schedule(NORMAL).merge(day_schedule(NORMAL + timedelta(days=1)).intervals)
    assert schedule.covers(*day_bounds(NORMAL))
    pruned = schedule.prune(day_bounds(NORMAL)[1])
    assert not pruned.day(NORMAL)
    assert not pruned.covers(*day_bounds(NORMAL))
    holey = PriceSchedule(
        i for i in schedule.intervals if i.start != day_bounds(NORMAL)[0] + QUARTER
    )
    assert not holey.covers(*day_bounds(NORMAL))


def test_levels_split_the_day() -> None:
    schedule = day_schedule(NORMAL)
    start = day_bounds(NORMAL)[0]
    levels = [schedule.level(start + i * QUARTER) for i in range(96)]
    assert levels[0] is PriceLevel.VERY_CHEAP
    assert levels[-1] is PriceLevel.VERY_EXPENSIVE
    assert levels[48] is PriceLevel.NORMAL
    assert [levels.count(level) for level in PriceLevel] == [19, 19, 19, 19, 20]
    flat = day_schedule(NORMAL, lambda i: 7.0)
    assert flat.level(start) is PriceLevel.NORMAL
    single = PriceSchedule([PriceInterval(start, start + QUARTER, 5.0)])
    assert single.level(start) is PriceLevel.NORMAL
    assert schedule.level(start, thresholds=(0.5, 0.6, 0.7, 0.8)) is PriceLevel.VERY_CHEAP


def test_json_round_trip() -> None:
    schedule = day_schedule(SPRING, lambda i: None if i % 7 == 0 else i / 3)
    assert PriceSchedule.from_json(schedule.to_json()) == schedule


def test_resample_hourly() -> None:
    schedule = day_schedule(SPRING)
    hours = resample_hourly(schedule.day(SPRING))
    assert len(hours) == 23
    assert hours[0].price_ct == pytest.approx(1.5)
    assert hours[0].components_ct == {"grid": pytest.approx(9.47)}
    partial = resample_hourly(schedule.day(SPRING)[:2])
    assert partial[0].price_ct is None
    assert partial[0].components_ct == {"grid": None}


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    st.lists(st.one_of(st.none(), st.floats(-50, 200, allow_nan=False)), min_size=1, max_size=300),
)
def test_random_series_lookups(first: datetime, prices: list[float | None]) -> None:
    """Every instant inside a series finds its own interval; day stats match a direct scan."""
    start = first.replace(minute=(first.minute // 15) * 15, second=0, microsecond=0, tzinfo=UTC)
    intervals = [
        PriceInterval(start + i * QUARTER, start + (i + 1) * QUARTER, price)
        for i, price in enumerate(prices)
    ]
    schedule = PriceSchedule(intervals)
    for interval in intervals[:: max(1, len(intervals) // 10)]:
        assert schedule.at(interval.start + timedelta(minutes=7)) == interval
    day = local_date(start)
    expected = [
        i.price_ct for i in intervals if local_date(i.start) == day and i.price_ct is not None
    ]
    stats = schedule.day_stats(day)
    if expected:
        assert stats.minimum == min(expected)
        assert stats.maximum == max(expected)
        assert stats.average == pytest.approx(sum(expected) / len(expected))
    else:
        assert stats is None


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 29)]),
    st.lists(st.one_of(st.none(), st.integers(-500, 5000)), min_size=92, max_size=100),
    st.lists(st.integers(1, 99), min_size=4, max_size=4, unique=True).map(sorted),
)
def test_levels_follow_the_price_order(
    day: date, cents: list[int | None], percent: list[int]
) -> None:
    """On any day (DST ones too), a higher price never gets a lower level."""
    start, end = day_bounds(day)
    count = int((end - start) / QUARTER)
    schedule = PriceSchedule(
        PriceInterval(
            start + i * QUARTER, start + (i + 1) * QUARTER, None if c is None else c / 100
        )
        for i, c in enumerate(cents[:count])
    )
    thresholds = tuple(p / 100 for p in percent)
    order = list(PriceLevel)
    ranked = []
    for interval in schedule.day(day):
        level = schedule.level(interval.start, thresholds)
        if interval.price_ct is None:
            assert level is None
        else:
            ranked.append((interval.price_ct, order.index(level)))
    ranked.sort()
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(ranked))


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([SPRING, AUTUMN, NORMAL]),
    st.lists(
        st.one_of(st.none(), st.floats(-50, 200, allow_nan=False)), min_size=100, max_size=100
    ),
)
def test_hourly_prices_match_a_direct_computation(day: date, prices: list[float | None]) -> None:
    """Each clock hour: mean, min and max of its known quarters in EUR; unknown hours are gaps."""
    schedule = day_schedule(day, price=lambda i: prices[i])
    hours = hourly_prices(schedule.day(day))
    by_hour: dict[datetime, list[float]] = {}
    for interval in schedule.day(day):
        if interval.price_ct is not None:
            by_hour.setdefault(interval.start.replace(minute=0), []).append(interval.price_ct / 100)
    assert [hour.start for hour in hours] == sorted(by_hour)
    for hour in hours:
        values = by_hour[hour.start]
        assert hour.mean == pytest.approx(sum(values) / len(values))
        assert (hour.minimum, hour.maximum) == (min(values), max(values))
    # A day has 23, 24 or 25 clock hours, each of four quarters.
    assert len(hours) <= len(schedule.day(day)) // 4
