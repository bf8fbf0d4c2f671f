"""Grid-fee windows (§14a module 3) from the prices' grid part: the rule, the simulator's
grid operator, what module 3 saves, and the entities in Home Assistant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from hypothesis import given, settings, strategies as st
import pytest

from custom_components.nomos_energy.grid_fee import (
    GridFeeLevel,
    GridFeeWindow,
    classify_day,
    current_or_next,
    join,
    module3_saving_eur,
    next_start,
)
from custom_components.nomos_energy.price_schedule import (
    BERLIN,
    PriceInterval,
    PriceSchedule,
    day_bounds,
)
from nomos_simulator import NomosSimulator
from nomos_simulator.data import (
    GRID_LEVEL_FACTORS,
    Subscription,
    grid_level_at,
    quarters_of_day,
    seed_accounts,
)

from .conftest import ANNA, GRETA, AddEntry
from .test_defaults import MOST_ENABLED, SMART_CONSUMPTION, enabled_by_device
from .test_examples import WALLBOX, berlin_home, example_with, load_automations  # noqa: F401
from .test_prices import publication_at_1420  # noqa: F401 (a fixture)
from .timetravel import QUARTER, berlin, travel

SPRING_DST = date(2026, 3, 29)  # 92 quarter-hours in Berlin
AUTUMN_DST = date(2026, 10, 25)  # 100 quarter-hours
LEVEL = "sensor.nomos_gr3tam03_grid_fee_now"
LOW = "binary_sensor.nomos_gr3tam03_low_grid_fee"
CALENDAR = "calendar.nomos_gr3tam03_prices"
ANNA_LEVEL = "sensor.nomos_4x44emkx_grid_fee_now"
TRANSLATIONS = Path(__file__).parents[1] / "custom_components/nomos_energy/translations"


def quarter_count(day: date) -> int:
    start, end = day_bounds(day)
    return (end - start) // QUARTER


# The pure rule against brute force ---------------------------------------------------

# One quarter-hour as drawn: an index into the day's fees, or how it is unknown.
UNKNOWN_KINDS = ("null_price", "no_grid_part", "grid_is_null", "gap")


def build_day(
    day: date, segments: list[tuple[int | str, int]], fees: list[float], noise: float
) -> list[PriceInterval]:
    """The day's intervals from runs of (what, how many quarter-hours); gaps left out."""
    start, _ = day_bounds(day)
    kinds = [kind for kind, length in segments for _ in range(length)]
    kinds = (kinds + ["gap"] * quarter_count(day))[: quarter_count(day)]
    intervals = []
    for index, kind in enumerate(kinds):
        begin = start + index * QUARTER
        if kind == "gap":
            continue
        components: dict[str, float | None] = {"electricity": 20.0, "levies": 6.2}
        price: float | None = 30.0
        if kind == "null_price":
            components["grid"] = fees[0] if fees else 9.0
            price = None
        elif kind == "grid_is_null":
            components["grid"] = None
        elif isinstance(kind, int):
            # Float noise far below the 4 decimals must not make a level of its own.
            components["grid"] = fees[kind] + (noise if index % 2 else 0.0)
        intervals.append(PriceInterval(begin, begin + QUARTER, price, components))
    return intervals


def brute_force(
    intervals: list[PriceInterval],
) -> tuple[list[GridFeeLevel | None], set[tuple[datetime, datetime, str, float]]]:
    """Each quarter-hour's level and every maximal window, the slow and obvious way."""

    def fee(interval: PriceInterval) -> float | None:
        value = interval.components_ct.get("grid")
        if interval.price_ct is None or value is None:
            return None
        return round(value, 4)

    distinct = sorted({value for i in intervals if (value := fee(i)) is not None})
    names = {2: ["low", "standard"], 3: ["low", "standard", "high"]}.get(len(distinct))
    levels = [
        None if names is None or fee(i) is None else GridFeeLevel(names[distinct.index(fee(i))])
        for i in intervals
    ]

    def one_window(i: int, j: int) -> bool:
        run = range(i, j + 1)
        return all(levels[k] is not None and levels[k] is levels[i] for k in run) and all(
            intervals[k].end == intervals[k + 1].start for k in range(i, j)
        )

    n = len(intervals)
    runs = {(i, j) for i in range(n) for j in range(i, n) if one_window(i, j)}
    windows = {
        (intervals[i].start, intervals[j].end, str(levels[i]), fee(intervals[i]) or 0.0)
        for i, j in runs
        if (i - 1, j) not in runs and (i, j + 1) not in runs
    }
    return levels, windows


segment = st.tuples(
    st.one_of(st.integers(min_value=0, max_value=3), st.sampled_from(UNKNOWN_KINDS)),
    st.integers(min_value=1, max_value=30),
)


@settings(max_examples=200, deadline=None)
@given(
    day=st.sampled_from([SPRING_DST, AUTUMN_DST, date(2026, 4, 1), date(2026, 12, 31)]),
    fees=st.lists(
        st.sampled_from([-1.5, 0.0, 3.788, 4.0, 9.47, 10.0, 14.2051, 15.0]),
        min_size=0,
        max_size=4,
        unique=True,
    ),
    segments=st.lists(segment, min_size=0, max_size=12),
    noise=st.sampled_from([0.0, 1e-9, -2e-7]),
)
def test_levels_and_windows_match_brute_force(
    day: date, fees: list[float], segments: list[tuple[int | str, int]], noise: float
) -> None:
    """Random days (both DST days), up to four fees, nulls, missing grid parts and gaps."""
    segments = [
        (kind if not isinstance(kind, int) or kind < len(fees) else "no_grid_part", length)
        for kind, length in segments
    ]
    intervals = build_day(day, segments, fees, noise)
    found = classify_day(intervals, day)
    levels, windows = brute_force(intervals)
    assert [level for _, level in found.quarters] == levels
    assert {(w.start, w.end, str(w.level), w.grid_fee_ct) for w in found.windows} == windows
    assert [w.start for w in found.windows] == sorted(w.start for w in found.windows)
    assert found.variable == (len({level for level in levels if level}) >= 2)
    # A schedule with the neighbouring days' prices gives the same day.
    neighbours = build_day(day + timedelta(days=1), [(0, 100)], [7.0], 0.0)
    assert classify_day(PriceSchedule([*intervals, *neighbours]), day) == found
    for interval, level in found.quarters:
        assert found.level_at(interval.start) is level
        assert found.level_at(interval.end - timedelta(seconds=1)) is level


def test_a_day_with_one_level_or_a_null_price() -> None:
    """One fee all day: no windows. A null price splits a window and is never guessed."""
    day = date(2026, 12, 1)
    flat = classify_day(build_day(day, [(0, 96)], [9.47], 0.0), day)
    assert (flat.variable, flat.fees, flat.windows) == (False, (9.47,), ())
    assert classify_day([], day).known is False
    segments: list[tuple[int | str, int]] = [(0, 12), ("null_price", 1), (0, 11), (1, 72)]
    found = classify_day(build_day(day, segments, [4.0, 10.0], 0.0), day)
    start, _ = day_bounds(day)
    assert [(w.start - start, w.end - start, w.level) for w in found.windows] == [
        (timedelta(0), timedelta(hours=3), GridFeeLevel.LOW),
        (timedelta(hours=3, minutes=15), timedelta(hours=6), GridFeeLevel.LOW),
        (timedelta(hours=6), timedelta(hours=24), GridFeeLevel.STANDARD),
    ]
    assert found.level_at(start + timedelta(hours=3, minutes=5)) is None
    # Four fees are no module-3 day: nothing is classified.
    four = classify_day(build_day(day, [(0, 24), (1, 24), (2, 24), (3, 24)], [1, 2, 3, 4], 0), day)
    assert (four.variable, four.windows, {level for _, level in four.quarters}) == (
        False,
        (),
        {None},
    )


def test_a_low_night_across_midnight_is_one_window() -> None:
    """Each day is judged alone; the binary sensor and calendar join the night."""
    first, second = date(2026, 12, 1), date(2026, 12, 2)
    intervals = build_day(first, [(1, 88), (0, 8)], [4.0, 10.0], 0.0) + build_day(
        second, [(0, 24), (1, 72)], [4.0, 10.0], 0.0
    )
    windows = [w for day in (first, second) for w in classify_day(intervals, day).windows]
    assert len(windows) == 4
    night = join(windows)[1]
    assert (night.start, night.end) == (
        day_bounds(first)[0] + 22 * timedelta(hours=1),
        day_bounds(second)[0] + 6 * timedelta(hours=1),
    )
    at_23 = day_bounds(first)[0] + timedelta(hours=23)
    assert current_or_next(windows, at_23) == night
    assert next_start(windows, at_23) is None  # the running one is not "next"
    assert next_start(windows, day_bounds(first)[0]) == night.start
    assert current_or_next(windows, night.end) is None
    # Another fee at the same level is another calendar event, one binary-sensor window.
    cheaper = [GridFeeWindow(night.end, night.end + QUARTER, GridFeeLevel.LOW, 3.0)]
    assert len(join([night, *cheaper])) == 2
    assert current_or_next([night, *cheaper], at_23).end == night.end + QUARTER  # type: ignore[union-attr]


# The simulator's grid operator -------------------------------------------------------


def greta(simulator: NomosSimulator | None = None) -> Subscription:
    subscriptions = simulator.subscriptions.values() if simulator else seed_accounts()[1]
    return next(sub for sub in subscriptions if sub.number == "GR3TAM03")


def served(sub: Subscription, day: date) -> list[PriceInterval]:
    """A Berlin day's prices as the simulator serves them (components by type)."""
    intervals = []
    for start in quarters_of_day(day):
        item: dict[str, Any] = sub.price_item(start)
        parts = {part["type"]: part["amount"] for part in item["components"]}
        assert item["amount"] == pytest.approx(sum(parts.values()), abs=1e-9)
        intervals.append(PriceInterval(start, start + QUARTER, item["amount"], parts))
    return intervals


@pytest.mark.parametrize(
    "first",
    [
        date(2026, 3, 1),  # the spring DST day and the change to the summer windows (1 April)
        date(2026, 8, 1),  # back to the winter windows (1 October) and the autumn DST day
    ],
)
def test_the_simulated_operator_is_classified_right_on_90_days(first: date) -> None:
    """90 consecutive days: every quarter-hour's level is the operator's, 100 %."""
    sub = greta()
    days = [first + timedelta(days=offset) for offset in range(90)]
    assert {SPRING_DST, AUTUMN_DST} & set(days)
    right = total = 0
    seasons = set()
    for day in days:
        found = classify_day(served(sub, day), day)
        assert found.variable
        seasons.add(tuple((w.level, w.start.astimezone(BERLIN).time()) for w in found.windows))
        for interval, level in found.quarters:
            total += 1
            right += level is not None and level.value == grid_level_at(interval.start)
    assert total == sum(quarter_count(day) for day in days)
    assert right / total == 1.0
    assert len(seasons) == 2  # the windows changed mid-run


def test_dst_days_keep_the_local_windows() -> None:
    """Low 00:00-06:00 is 5 hours on the spring DST day and 7 on the autumn one."""
    sub = greta()
    for day, hours in ((SPRING_DST, 5), (AUTUMN_DST, 7), (date(2026, 1, 15), 6)):
        low = classify_day(served(sub, day), day).windows[0]
        assert low.level is GridFeeLevel.LOW
        assert low.end - low.start == timedelta(hours=hours)
        assert low.end.astimezone(BERLIN).hour == 6
        assert low.grid_fee_ct == 10.0 * GRID_LEVEL_FACTORS["low"]


# What module 3 saves -----------------------------------------------------------------


def test_the_monthly_saving_matches_a_hand_computation() -> None:
    """November 2026 (30 days, winter windows: low 00-06 at 4 ct, high 17-20 at 15 ct,
    standard 10 ct). The household uses 0.1 kWh every quarter-hour, and the car takes
    2.75 kWh more in each quarter-hour from 01:00 to 03:00 (22 kWh a night).

    By hand, a day: low 24 x 0.1 + 22 = 24.4 kWh x (10 - 4) ct = 146.4 ct saved;
    high 12 x 0.1 = 1.2 kWh x (15 - 10) ct = 6.0 ct more; 140.4 ct a day,
    x 30 days = 42.12 EUR.
    """
    sub = greta()
    intervals = [
        i for offset in range(30) for i in served(sub, date(2026, 11, 1) + timedelta(offset))
    ]
    usage = {
        i.start: 0.1 + (2.75 if 1 <= i.start.astimezone(BERLIN).hour < 3 else 0.0)
        for i in intervals
    }
    assert abs(module3_saving_eur(intervals, usage) - 42.12) <= 0.05


def test_the_saving_at_the_households_real_usage() -> None:
    """March 2026 (with the 92-quarter-hour day) at the smart meter's own quarter-hours.

    By hand: the kWh in the low windows x 6 ct less the kWh in the high ones x 5 ct,
    the windows taken from the operator's schedule, not from the prices.
    """
    sub = greta()
    days = [date(2026, 3, 1) + timedelta(days=offset) for offset in range(31)]
    intervals = [interval for day in days for interval in served(sub, day)]
    usage = {interval.start: sub.quarter_usage(interval.start) for interval in intervals}
    assert sum(usage.values()) == pytest.approx(sub.month_usage(date(2026, 3, 1)), abs=1e-6)
    low = sum(kwh for start, kwh in usage.items() if grid_level_at(start) == "low")
    high = sum(kwh for start, kwh in usage.items() if grid_level_at(start) == "high")
    by_hand = (low * (10.0 - 4.0) - high * (15.0 - 10.0)) / 100
    saving = module3_saving_eur(PriceSchedule(intervals), usage)
    assert abs(saving - by_hand) <= 0.05
    assert saving != 0


# The entities in Home Assistant -------------------------------------------------------


def truth(day: date) -> list[dict[str, Any]]:
    """The day's windows from the operator's schedule, as the attribute shows them."""
    windows: list[dict[str, Any]] = []
    for start in quarters_of_day(day):
        level, end = grid_level_at(start), start + QUARTER
        if windows and windows[-1]["level"] == level and windows[-1]["end"] == start:
            windows[-1]["end"] = end
        else:
            windows.append({"start": start, "end": end, "level": level})
    return [
        {
            "start": dt_util.as_local(window["start"]).isoformat(),
            "end": dt_util.as_local(window["end"]).isoformat(),
            "level": window["level"],
            "grid_fee_ct": 10.0 * GRID_LEVEL_FACTORS[window["level"]],
        }
        for window in windows
    ]


def berlin_day(moment: datetime) -> date:
    return moment.astimezone(BERLIN).date()


def quarter_of(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute // 15 * 15, second=0, microsecond=0)


def check_now(hass: HomeAssistant, moment: datetime, *, tomorrow_known: bool) -> None:
    """The sensor, its attributes and the binary sensor at `moment`, against the schedule."""
    level = grid_level_at(moment)
    sensor = hass.states.get(LEVEL)
    assert sensor.state == level, moment
    assert sensor.attributes["grid_fee_ct"] == 10.0 * GRID_LEVEL_FACTORS[level]
    today = berlin_day(moment)
    assert sensor.attributes["today"] == truth(today)
    tomorrow = today + timedelta(days=1)
    assert sensor.attributes["tomorrow"] == (truth(tomorrow) if tomorrow_known else None)
    known_days = (today, tomorrow) if tomorrow_known else (today,)
    lows = [w for day in known_days for w in truth(day) if w["level"] == "low"]
    upcoming = [w["start"] for w in lows if dt_util.parse_datetime(w["start"]) > moment]
    assert sensor.attributes["next_low_start"] == (upcoming[0] if upcoming else None)
    binary = hass.states.get(LOW)
    assert binary.state == (STATE_ON if level == "low" else STATE_OFF), moment
    window = next(
        (w for w in lows if dt_util.parse_datetime(w["end"]) > moment),
        {"start": None, "end": None},
    )
    assert (binary.attributes["start"], binary.attributes["end"]) == (
        window["start"],
        window["end"],
    )


@pytest.mark.usefixtures("publication_at_1420")
@pytest.mark.parametrize(
    ("moment", "tomorrow_known"),
    [
        (berlin(2026, 1, 1, 5, 50), False),  # the 1st, just before the low window ends
        (berlin(2026, 1, 2, 16, 55), True),  # the 2nd, into the high window
        (berlin(2026, 3, 31, 23, 50), True),  # a month's (and a quarter's) end
        (berlin(2026, 3, 29, 1, 50), False),  # spring DST: 01:59 is followed by 03:00
        (datetime(2026, 10, 25, 1, 50, tzinfo=UTC), False),  # autumn DST: the second 02:50
        (berlin(2026, 10, 25, 19, 50), True),  # autumn DST, the high window's end
    ],
)
async def test_the_entities_follow_the_windows(
    hass: HomeAssistant,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    moment: datetime,
    tomorrow_known: bool,
) -> None:
    """Level, attributes in Home Assistant's time zone and the binary sensor, across an edge."""
    freezer.move_to(moment)
    await add_entry(GRETA)
    assert str(dt_util.get_default_time_zone()) != "Europe/Berlin"  # times are converted
    check_now(hass, moment, tomorrow_known=tomorrow_known)
    for later in (moment + timedelta(minutes=10), moment + timedelta(minutes=25)):
        await travel(hass, freezer, later)
        crossed_midnight = berlin_day(later) != berlin_day(moment)
        check_now(hass, later, tomorrow_known=tomorrow_known and not crossed_midnight)


async def test_every_quarter_hour_of_the_autumn_dst_day(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """All 100 quarter-hours: the level changes at the quarter-hour the window does."""
    start, end = day_bounds(AUTUMN_DST)
    freezer.move_to(start)
    await add_entry(GRETA)
    seen = []
    moment = start
    while moment < end:
        await travel(hass, freezer, moment + timedelta(seconds=1))
        seen.append(hass.states.get(LEVEL).state == grid_level_at(moment))
        moment += QUARTER
    assert len(seen) == 100
    assert all(seen)


async def test_a_null_price_is_not_guessed(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An unknown quarter-hour in the low night: unknown there, two windows around it."""
    unknown = berlin(2026, 2, 10, 3, 0)
    greta(simulator).price_overrides[unknown] = None
    freezer.move_to(unknown + timedelta(minutes=5))
    await add_entry(GRETA)
    sensor = hass.states.get(LEVEL)
    assert sensor.state == STATE_UNKNOWN
    assert sensor.attributes["grid_fee_ct"] is None
    local = [(w["start"], w["end"], w["level"]) for w in sensor.attributes["today"][:2]]
    assert local == [
        (
            dt_util.as_local(berlin(2026, 2, 10, 0, 0)).isoformat(),
            dt_util.as_local(unknown).isoformat(),
            "low",
        ),
        (
            dt_util.as_local(unknown + QUARTER).isoformat(),
            dt_util.as_local(berlin(2026, 2, 10, 6, 0)).isoformat(),
            "low",
        ),
    ]
    assert hass.states.get(LOW).state == STATE_OFF
    await travel(hass, freezer, unknown + QUARTER)
    assert hass.states.get(LEVEL).state == "low"
    assert hass.states.get(LOW).state == STATE_ON


async def get_events(hass: HomeAssistant, entity_id: str, start: datetime, end: datetime) -> Any:
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {"entity_id": entity_id, "start_date_time": start, "end_date_time": end},
        blocking=True,
        return_response=True,
    )
    return response[entity_id]["events"]


@pytest.mark.usefixtures("publication_at_1420")
async def test_the_calendar_shows_low_and_high_windows(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """One event per low and per high window of today and tomorrow (summer from 1 April)."""
    freezer.move_to(berlin(2026, 3, 31, 16, 0))
    await add_entry(GRETA)
    events = await get_events(hass, CALENDAR, berlin(2026, 3, 31, 0, 0), berlin(2026, 4, 2, 0, 0))
    grid = [e for e in events if "grid fee" in e["summary"]]
    expected = [
        (berlin(2026, 3, 31, 0, 0), berlin(2026, 3, 31, 6, 0), "Low grid fee · 4.00 ct"),
        (berlin(2026, 3, 31, 17, 0), berlin(2026, 3, 31, 20, 0), "High grid fee · 15.00 ct"),
        (berlin(2026, 4, 1, 11, 0), berlin(2026, 4, 1, 15, 0), "Low grid fee · 4.00 ct"),
        (berlin(2026, 4, 1, 18, 0), berlin(2026, 4, 1, 21, 0), "High grid fee · 15.00 ct"),
    ]
    assert [(e["start"], e["end"], e["summary"]) for e in grid] == [
        (dt_util.as_local(start).isoformat(), dt_util.as_local(end).isoformat(), summary)
        for start, end, summary in expected
    ]
    assert len(events) > len(grid)  # the cheap and expensive periods are still there
    # The calendar's state: the high window is the next event at 16:55.
    await travel(hass, freezer, berlin(2026, 3, 31, 16, 55))
    now = berlin(2026, 3, 31, 16, 55)
    running_or_next = min(
        (e for e in events if dt_util.parse_datetime(e["end"]) > now),
        # On a tie the period or run comes first, as in the calendar.
        key=lambda e: (dt_util.parse_datetime(e["start"]), "grid fee" in e["summary"]),
    )
    assert hass.states.get(CALENDAR).attributes["message"] == running_or_next["summary"]
    hass.config.language = "de"
    german = await get_events(hass, CALENDAR, berlin(2026, 3, 31, 0, 0), berlin(2026, 3, 31, 23, 0))
    assert [e["summary"] for e in german if "Netzentgelt" in e["summary"]] == [
        "Niedriges Netzentgelt · 4,00 ct",
        "Hohes Netzentgelt · 15,00 ct",
    ]


@pytest.mark.default_entities
@pytest.mark.usefixtures("publication_at_1420")
async def test_a_contract_without_variation(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Anna's grid fee is the same all day: no windows, no events, both entities off by
    default; enabled, the sensor says so ("flat") and tomorrow is None until it is known."""
    freezer.move_to(berlin(2026, 11, 29, 10, 0))
    entry = await add_entry(ANNA)
    registry = er.async_get(hass)
    for entity_id in (ANNA_LEVEL, "binary_sensor.nomos_4x44emkx_low_grid_fee"):
        assert registry.async_get(entity_id).disabled_by is er.RegistryEntryDisabler.INTEGRATION
    registry.async_update_entity(ANNA_LEVEL, disabled_by=None)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    sensor = hass.states.get(ANNA_LEVEL)
    assert sensor.state == "flat"
    assert sensor.attributes["grid_fee_ct"] == 9.47
    assert (sensor.attributes["today"], sensor.attributes["tomorrow"]) == ([], None)
    assert sensor.attributes["next_low_start"] is None
    await travel(hass, freezer, berlin(2026, 11, 29, 15, 0))
    assert hass.states.get(ANNA_LEVEL).attributes["tomorrow"] == []
    events = await get_events(
        hass,
        "calendar.nomos_4x44emkx_prices",
        berlin(2026, 11, 29, 0, 0),
        berlin(2026, 12, 1, 0, 0),
    )
    assert events
    assert not [e for e in events if "grid fee" in e["summary"]]


@pytest.mark.default_entities
async def test_module_3_gets_one_more_entity_by_default(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Greta's prices vary: "Grid fee now" is on by default, 15 in all; the rest stay off."""
    freezer.move_to(berlin(2026, 11, 29, 15, 0))
    entry = await add_entry(GRETA)
    enabled = enabled_by_device(hass, entry.entry_id)
    assert enabled == {"Nomos GR3TAM03": SMART_CONSUMPTION | {"grid_fee_level"}}
    assert len(enabled["Nomos GR3TAM03"]) == MOST_ENABLED
    assert er.async_get(hass).async_get(LOW).disabled_by is er.RegistryEntryDisabler.INTEGRATION


async def test_in_german(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """German names make the entity ids of a German installation; every string is there."""
    hass.config.language = "de"
    freezer.move_to(berlin(2026, 11, 29, 3, 0))
    await add_entry(GRETA)
    assert hass.states.get("sensor.nomos_gr3tam03_netzentgelt_jetzt").state == "low"
    assert hass.states.get("binary_sensor.nomos_gr3tam03_niedriges_netzentgelt").state == STATE_ON
    german = json.loads((TRANSLATIONS / "de.json").read_text(encoding="utf-8"))["entity"]
    assert german["sensor"]["grid_fee_level"]["name"] == "Netzentgelt jetzt"
    assert german["sensor"]["grid_fee_level"]["state"] == {
        "low": "Niedrig",
        "standard": "Standard",
        "high": "Hoch",
        "flat": "Nicht zeitvariabel",
    }
    assert german["binary_sensor"]["low_grid_fee"]["name"] == "Niedriges Netzentgelt"
    english = json.loads((TRANSLATIONS / "en.json").read_text(encoding="utf-8"))["entity"]
    assert english["sensor"]["grid_fee_level"]["state"]["flat"] == "Not time-variable"
    assert set(english["sensor"]["grid_fee_level"]["state"]) == {
        *(level.value for level in GridFeeLevel),
        "flat",
    }


@pytest.mark.usefixtures("berlin_home")
async def test_charge_example(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """docs/automations.md: the wallbox charges exactly while the grid fee is low and the
    price in a cheap period (Greta's contract in place of the page's 4X44EMKX)."""
    freezer.move_to(berlin(2026, 11, 28, 16, 0))
    await add_entry(GRETA)
    automations = json.loads(
        json.dumps(example_with("Charge in a low grid fee window when it is cheap")).replace(
            "4x44emkx", "gr3tam03"
        )
    )
    await load_automations(hass, automations)
    cheap = "binary_sensor.nomos_gr3tam03_cheap_period"
    seen = set()
    moment = berlin(2026, 11, 28, 16, 0)
    while moment < berlin(2026, 11, 29, 14, 0):
        await travel(hass, freezer, moment + timedelta(seconds=1))
        both = (hass.states.get(LOW).state, hass.states.get(cheap).state)
        seen.add(both)
        wanted = STATE_ON if both == (STATE_ON, STATE_ON) else STATE_OFF
        assert hass.states.get(WALLBOX).state == wanted, moment
        moment += QUARTER
    # Both together, and each without the other: the condition matters both ways.
    assert {(STATE_ON, STATE_ON), (STATE_ON, STATE_OFF), (STATE_OFF, STATE_ON)} <= seen
