"""Appliances planned together: the household's import limit and "not at the same time"
groups, kept on random days (both DST days, unknown and negative prices), with runs under
way left as they are; and through Home Assistant."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from hypothesis import given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nomos_energy.appliance_plan import ApplianceSpec, make_plan
from custom_components.nomos_energy.joint_plans import OVER_LIMIT, Request, plan_together
from custom_components.nomos_energy.load_profiles import PRESETS, parse_profile
from custom_components.nomos_energy.price_schedule import day_bounds

from .conftest import ANNA, AddEntry, save_options
from .test_planners import add_appliance, quarters
from .timetravel import QUARTER, berlin, travel

prices = st.one_of(
    st.none(), st.floats(min_value=-10, max_value=60, allow_nan=False), st.just(20.0)
)
appliance = st.tuples(
    st.integers(1, 8),  # quarter-hours
    st.sampled_from([1.0, 2.0, 2.5, 3.5, None]),  # kW (None: unknown)
    st.booleans(),  # may pause
    st.sampled_from([None, None, "laundry", "kitchen"]),  # group
    st.sampled_from([None, None, "washing_machine", "dryer"]),  # profile
)


def powers(plans: dict[str, object], specs: dict[str, ApplianceSpec]) -> dict[datetime, float]:
    """Return the planned kW per quarter-hour of the plans that count."""
    total: dict[datetime, float] = defaultdict(float)
    for key, plan in plans.items():
        if plan.reason != "cheapest":  # type: ignore[attr-defined]
            continue
        spec = specs[key]
        steps = [
            start + n * QUARTER
            for start, end in plan.segments  # type: ignore[attr-defined]
            for n in range((end - start) // QUARTER)
        ]
        kw = spec.profile.kw if spec.profile else [spec.power_kw or 0.0] * len(steps)
        for moment, value in zip(steps, kw, strict=True):
            total[moment] += value
    return total


@settings(max_examples=60, deadline=None)
@given(
    day=st.sampled_from(
        [
            day_bounds(d)[0]
            for d in (
                datetime(2026, 3, 29).date(),
                datetime(2026, 10, 25).date(),
                datetime(2026, 12, 4).date(),
            )
        ]
    ),
    values=st.lists(prices, min_size=40, max_size=100),
    shapes=st.lists(appliance, min_size=2, max_size=5),
    limit=st.sampled_from([3.0, 4.0, 6.0, 11.0]),
)
def test_the_limit_and_groups_hold(
    day: datetime, values: list[float | None], shapes: list[tuple], limit: float
) -> None:
    """Planned runs never sum above the limit, never overlap in a group, keep to their
    windows; a run that cannot fit says over_limit and keeps the run it would have alone."""
    known = quarters(day, values)
    deadline = known[-1].end
    specs: dict[str, ApplianceSpec] = {}
    requests = []
    for index, (count, kw, may_pause, group, preset) in enumerate(shapes):
        profile = parse_profile(PRESETS[preset]) if preset else None
        spec = ApplianceSpec(
            f"a{index}",
            (profile.quarters if profile else count) * QUARTER,
            may_pause=may_pause,
            power_kw=kw,
            profile=profile,
        )
        specs[spec.name] = spec
        requests.append(Request(spec.name, spec, group=group, deadline=deadline))
    plans = plan_together(requests, known, day, limit)
    assert set(plans) == set(specs)
    for moment, kw in powers(plans, specs).items():
        assert kw <= limit + 1e-9, moment
    groups: dict[str, set[datetime]] = defaultdict(set)
    for request in requests:
        plan = plans[request.key]
        assert plan.end <= deadline or plan.reason != "cheapest"
        alone = make_plan(request.spec, known, day, deadline)
        assert plan.reason in {alone.reason, OVER_LIMIT}
        if plan.reason == OVER_LIMIT:
            assert plan.segments == alone.segments  # what it would do alone, said as such
        if plan.reason != "cheapest" or request.group is None:
            continue
        planned = {s + n * QUARTER for s, e in plan.segments for n in range((e - s) // QUARTER)}
        assert not planned & groups[request.group]
        groups[request.group] |= planned


def test_a_run_under_way_stays_and_takes_its_room_first() -> None:
    """A washing machine running now keeps its quarter-hours; the dryer (same circuit group,
    3 kW limit) is planned around it."""
    start = berlin(2026, 12, 4, 0, 0)
    known = quarters(start, [10.0] * 8 + [30.0] * 40)
    washer = ApplianceSpec("washer", 2 * QUARTER, power_kw=2.5)
    dryer = ApplianceSpec("dryer", 2 * QUARTER, power_kw=2.0)
    running = make_plan(washer, known, start, start + 2 * QUARTER)
    now = start + timedelta(minutes=5)
    plans = plan_together(
        [
            Request("washer", washer, running=running),
            Request("dryer", dryer, deadline=known[-1].end),
        ],
        known,
        now,
        3.0,
    )
    assert "washer" not in plans  # nothing new to plan: it runs as it was
    assert plans["dryer"].start >= running.end
    assert plans["dryer"].start < start + 8 * QUARTER  # still in the cheap hours


@pytest.fixture
async def anna(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> MockConfigEntry:
    """Anna, with a 3 kW import limit set in the options form."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 12, 3, 20, 0))
    entry = await add_entry(ANNA)
    await save_options(hass, entry, import_limit_kw=3)
    assert entry.options["import_limit_kw"] == 3.0
    assert entry.runtime_data.planners.limit_kw == 3.0
    return entry


def run_quarters(hass: HomeAssistant, entity_id: str) -> set[datetime]:
    attributes = hass.states.get(entity_id).attributes
    return {
        datetime.fromisoformat(segment["start"]) + n * QUARTER
        for segment in attributes["segments"]
        for n in range(
            (datetime.fromisoformat(segment["end"]) - datetime.fromisoformat(segment["start"]))
            // QUARTER
        )
    }


async def test_two_heavy_appliances_under_a_3_kw_limit(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """Alone they would take the same cheap quarter-hours; together under 3 kW they never
    overlap, and both are done by 07:00. A 4 kW appliance cannot fit: it says so, the others
    are still planned. Across a restart, nothing moves."""
    await add_appliance(hass, anna, name="Washer", power_kw=2.0)
    await add_appliance(hass, anna, name="Dishwasher", power_kw=2.0)
    washer = run_quarters(hass, "binary_sensor.washer_run_now")
    dishwasher = run_quarters(hass, "binary_sensor.dishwasher_run_now")
    assert len(washer) == len(dishwasher) == 8
    assert not washer & dishwasher
    deadline = berlin(2026, 12, 4, 7, 0)
    assert max(washer | dishwasher) + QUARTER <= deadline
    await add_appliance(hass, anna, name="Sauna", power_kw=4.0)
    sauna = hass.states.get("binary_sensor.sauna_run_now").attributes
    assert sauna["reason"] == OVER_LIMIT
    assert hass.states.get("binary_sensor.washer_run_now").attributes["reason"] == "cheapest"
    before = {
        e: run_quarters(hass, e)
        for e in ("binary_sensor.washer_run_now", "binary_sensor.dishwasher_run_now")
    }
    await hass.config_entries.async_reload(anna.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert {e: run_quarters(hass, e) for e in before} == before
    # The runs follow their plans: never both on at once.
    moment = berlin(2026, 12, 3, 20, 0)
    while moment < deadline:
        moment += timedelta(minutes=15)
        await travel(hass, freezer, moment)
        on = [e for e in before if hass.states.get(e).state == "on"]
        assert len(on) <= 1, (moment, on)


async def test_an_appliance_added_while_another_runs_is_planned_around_it(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """The washer has begun; a dishwasher added five minutes later would alone take the same
    cheapest hours, starting in this very quarter-hour. Its fresh plan has not begun, so it
    is planned around the washer under 3 kW, not kept beside it."""
    await add_appliance(hass, anna, name="Washer", power_kw=2.0)
    washer = run_quarters(hass, "binary_sensor.washer_run_now")
    await travel(hass, freezer, min(washer) + timedelta(minutes=5))
    assert hass.states.get("binary_sensor.washer_run_now").state == "on"
    await add_appliance(hass, anna, name="Dishwasher", power_kw=2.0)
    assert run_quarters(hass, "binary_sensor.washer_run_now") == washer
    dishwasher = run_quarters(hass, "binary_sensor.dishwasher_run_now")
    assert hass.states.get("binary_sensor.dishwasher_run_now").attributes["reason"] == "cheapest"
    assert len(dishwasher) == 8
    assert not washer & dishwasher


async def test_two_appliances_added_in_the_first_minute_of_a_quarter_hour(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """At 12:45:20 the quarter-hour in progress may still be planned: the dryer's cheapest run
    starts in it. The sauna's plan, made seconds later for the same hours, has not begun just
    because its start has passed: under 3 kW it is planned after the dryer."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 12, 5, 12, 30))
    entry = await add_entry(ANNA)
    await save_options(hass, entry, import_limit_kw=3)
    freezer.move_to(berlin(2026, 12, 5, 12, 45, 20))
    await add_appliance(hass, entry, name="Dryer", power_kw=2.0, deadline="23:45:00")
    dryer = run_quarters(hass, "binary_sensor.dryer_run_now")
    assert min(dryer) == berlin(2026, 12, 5, 12, 45)
    await add_appliance(hass, entry, name="Sauna", power_kw=2.0, deadline="23:45:00")
    assert run_quarters(hass, "binary_sensor.dryer_run_now") == dryer
    sauna = run_quarters(hass, "binary_sensor.sauna_run_now")
    assert len(sauna) == 8
    assert not dryer & sauna


async def test_a_group_without_a_limit(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Washing machine and dryer in the group "laundry": never at the same time."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 12, 3, 20, 0))
    entry = await add_entry(ANNA)
    await add_appliance(hass, entry, name="Washer", group="Laundry")
    await add_appliance(hass, entry, name="Dryer", group="laundry")
    washer = run_quarters(hass, "binary_sensor.washer_run_now")
    dryer = run_quarters(hass, "binary_sensor.dryer_run_now")
    assert len(washer) == len(dryer) == 8
    assert not washer & dryer


async def test_no_limit_again(hass: HomeAssistant, anna: MockConfigEntry) -> None:
    """The limit emptied in the options: each appliance is planned alone again."""
    await save_options(hass, anna)
    assert anna.options["import_limit_kw"] is None
    assert anna.runtime_data.planners.together is False
