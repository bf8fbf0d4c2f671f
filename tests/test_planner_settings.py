"""A planner's everyday settings from the dashboard: done by (weekdays, weekends), earliest
start, and its switch; the plans they give, checked against brute force."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
from hypothesis import given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nomos_energy.appliance_plan import (
    ApplianceSpec,
    earliest_start,
    first_start,
    make_plan,
    next_deadline,
)
from custom_components.nomos_energy.const import DOMAIN
from custom_components.nomos_energy.price_schedule import BERLIN, day_bounds

from .conftest import ANNA, AddEntry
from .test_examples import doc_examples
from .test_planners import RUN_NOW, add_appliance, change_appliance, quarters, suggested
from .timetravel import QUARTER, berlin, travel

DEADLINE = "time.dishwasher_done_by"
WEEKEND = "time.dishwasher_done_by_on_weekends"
EARLIEST = "time.dishwasher_earliest_start"
WEEKEND_EARLIEST = "time.dishwasher_earliest_start_on_weekends"
PLANNING = "switch.dishwasher_automatic_planning"
prices = st.one_of(st.none(), st.floats(min_value=-20, max_value=60, allow_nan=False))
times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


def wall_clock_deadlines(spec: ApplianceSpec, first: date, days: int) -> list[datetime]:
    """Every deadline from `first` on: each day's own time (weekend or not) on the wall clock,
    and with n runs a day the times 24 / n hours apart before it."""
    found = set()
    for offset in range(days):
        day = first + timedelta(days=offset)
        anchor = datetime.combine(day, spec.deadline_on(day) or time())
        for run in range(spec.runs_per_day):
            hours = run * 24 // spec.runs_per_day
            found.add((anchor - timedelta(hours=hours)).replace(tzinfo=BERLIN))
    return sorted(found)


@settings(max_examples=200, deadline=None)
@given(
    day=st.sampled_from([date(2026, 3, 28), date(2026, 10, 24), date(2026, 12, 4)]),
    values=st.lists(prices, min_size=96, max_size=200),
    deadline=times,
    weekend=st.one_of(st.none(), times),
    earliest=st.one_of(st.none(), times),
    weekend_earliest=st.one_of(st.none(), times),
    runs=st.sampled_from([1, 1, 2, 3, 4]),
    needed=st.integers(min_value=1, max_value=8),
    hours=st.integers(min_value=0, max_value=47),
)
def test_a_daily_run_keeps_to_its_window(
    day: date,
    values: list[float | None],
    deadline: time,
    weekend: time | None,
    earliest: time | None,
    weekend_earliest: time | None,
    runs: int,
    needed: int,
    hours: int,
) -> None:
    """Weekend deadlines and earliest starts, several runs a day, on DST weekends too: the
    next deadline is the first one that leaves room; the run begins after the previous one
    and not before the earliest start; the plan is the cheapest run (brute force) in it."""
    spec = ApplianceSpec(
        "x",
        needed * QUARTER,
        deadline=deadline,
        weekend_deadline=weekend,
        earliest_start=earliest,
        weekend_earliest_start=weekend_earliest,
        power_kw=1.0,
        runs_per_day=runs,
    )
    start, _ = day_bounds(day)
    known = quarters(start, values)
    now = start + timedelta(hours=hours, minutes=3)
    due = next_deadline(spec, now)
    every = wall_clock_deadlines(spec, day - timedelta(days=1), 6)
    assert due == next(d for d in every if d - spec.duration >= first_start(now))
    window_start = earliest_start(spec, due)
    assert window_start is not None
    lower = max(d for d in every if d < due)
    due_day = due.astimezone(BERLIN).date()
    # A run due on a Saturday or Sunday: the weekend's earliest start, if set.
    earliest_that_day = (
        weekend_earliest if weekend_earliest and due_day.weekday() >= 5 else earliest
    )
    if earliest_that_day is not None:
        last = datetime.combine(due_day, earliest_that_day, BERLIN)
        if last >= due:
            last = datetime.combine(due_day - timedelta(days=1), earliest_that_day, BERLIN)
        lower = max(lower, last)
    assert window_start == lower
    begin = max(first_start(now), window_start)
    plan = make_plan(spec, known, now, due)
    assert plan.start >= begin
    if plan.reason != "cheapest":
        return
    assert plan.end <= due
    usable = [i for i in known if begin <= i.start and i.end <= due]
    candidates = [
        usable[k : k + needed]
        for k in range(len(usable) - needed + 1)
        if all(i.price_ct is not None for i in usable[k : k + needed])
        and usable[k + needed - 1].end - usable[k].start == needed * QUARTER
    ]
    best = min(sum(i.price_ct or 0.0 for i in run) for run in candidates)
    assert plan.average_ct is not None
    assert plan.average_ct * needed == pytest.approx(best, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(prices, min_size=4, max_size=60),
    needed=st.integers(min_value=1, max_value=6),
    cap=st.floats(min_value=-10, max_value=50, allow_nan=False),
    may_pause=st.booleans(),
)
def test_a_price_cap_is_kept_when_it_can_be(
    values: list[float | None], needed: int, cap: float, may_pause: bool
) -> None:
    """Against brute force: the cheapest run whose every quarter-hour is at most the cap; if
    there is none, the cheapest run at all, said with cap_met False."""
    start = berlin(2026, 12, 4, 0, 0)
    known = quarters(start, values)
    deadline = known[-1].end
    spec = ApplianceSpec("x", needed * QUARTER, may_pause=may_pause, price_cap_ct=cap)
    plan = make_plan(spec, known, start, deadline)

    def runs(allowed: Callable[[float], bool]) -> list[float]:
        usable = [i for i in known if i.price_ct is not None and allowed(i.price_ct)]
        if may_pause:
            cheapest = sorted(i.price_ct for i in usable if i.price_ct is not None)[:needed]
            return [sum(cheapest)] if len(cheapest) == needed else []
        return [
            sum(i.price_ct or 0.0 for i in known[k : k + needed])
            for k in range(len(known) - needed + 1)
            if all(i in usable for i in known[k : k + needed])
        ]

    under, anywhere = runs(lambda price: price <= cap), runs(lambda price: True)
    if not anywhere:
        assert plan.reason == "latest_start"
        return
    assert plan.cap_met is bool(under)
    assert plan.average_ct is not None
    assert plan.average_ct * needed == pytest.approx(min(under or anywhere), abs=1e-6)


@pytest.fixture
async def anna(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> MockConfigEntry:
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 12, 3, 20, 0))  # a Thursday evening
    entry = await add_entry(ANNA)
    await add_appliance(hass, entry, power_kw=1.8)
    return entry


async def set_time(hass: HomeAssistant, entity_id: str, value: str) -> None:
    await hass.services.async_call(
        "time", "set_value", {"entity_id": entity_id, "time": value}, blocking=True
    )
    await hass.async_block_till_done()


def plan_of(hass: HomeAssistant, entity_id: str = RUN_NOW) -> dict[str, Any]:
    return dict(hass.states.get(entity_id).attributes)


async def test_times_from_the_dashboard_plan_again_without_a_reload(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """Done by 09:00 instead of 07:00, not before 23:00: the next plan keeps to both at once;
    the entry is not reloaded (nothing goes unavailable), and the form shows the new times."""
    runtime = anna.runtime_data
    assert hass.states.get(DEADLINE).state == "07:00:00"
    assert hass.states.get(WEEKEND).state == "07:00:00"  # the weekday time until set
    assert hass.states.get(EARLIEST).state == "07:00:00"  # the whole day before
    registry = er.async_get(hass)
    assert registry.async_get(DEADLINE).entity_category == "config"
    await set_time(hass, DEADLINE, "09:00:00")
    await set_time(hass, EARLIEST, "23:00:00")
    assert anna.runtime_data is runtime  # not reloaded
    plan = plan_of(hass)
    assert plan["deadline"] == "2026-12-04T09:00:00+01:00"
    segments = plan["segments"]
    assert datetime.fromisoformat(segments[0]["start"]) >= berlin(2026, 12, 3, 23, 0)
    subentry_id = next(iter(anna.subentries))
    assert anna.subentries[subentry_id].data["deadline"] == "09:00:00"
    form = await change_appliance(hass, anna, subentry_id, "daily")
    assert suggested(form)["deadline"] == "09:00:00"
    # After a restart, the same.
    await hass.config_entries.async_reload(anna.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(DEADLINE).state == "09:00:00"
    assert plan_of(hass)["segments"] == segments


async def test_a_weekend_deadline(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """Weekdays by 07:00, weekends by 10:00: Saturday's run is planned for 10:00."""
    await set_time(hass, WEEKEND, "10:00:00")
    assert plan_of(hass)["deadline"] == "2026-12-04T07:00:00+01:00"  # Friday
    await travel(hass, freezer, berlin(2026, 12, 4, 16, 0))
    assert plan_of(hass)["deadline"] == "2026-12-05T10:00:00+01:00"  # Saturday


async def test_a_weekend_earliest_start(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """Weekdays from 22:00, weekends from 08:00 (done by 10:00): Friday's run begins after
    22:00 on Thursday, Saturday's after 08:00 on Saturday; the entity shows the weekday's
    time until set."""
    await set_time(hass, EARLIEST, "22:00:00")
    assert hass.states.get(WEEKEND_EARLIEST).state == "22:00:00"
    await set_time(hass, WEEKEND, "10:00:00")
    await set_time(hass, WEEKEND_EARLIEST, "08:00:00")
    friday = plan_of(hass)
    assert friday["deadline"] == "2026-12-04T07:00:00+01:00"
    assert datetime.fromisoformat(friday["segments"][0]["start"]) >= berlin(2026, 12, 3, 22, 0)
    await travel(hass, freezer, berlin(2026, 12, 4, 16, 0))
    saturday = plan_of(hass)
    assert saturday["deadline"] == "2026-12-05T10:00:00+01:00"
    assert datetime.fromisoformat(saturday["segments"][0]["start"]) >= berlin(2026, 12, 5, 8, 0)
    assert next(iter(anna.subentries.values())).data["weekend_earliest_start"] == "08:00:00"


async def test_a_start_that_leaves_no_room_is_refused(
    hass: HomeAssistant, anna: MockConfigEntry
) -> None:
    """A two-hour run cannot begin at 06:00 and be done by 07:00: said, nothing changes."""
    before = plan_of(hass)
    with pytest.raises(ServiceValidationError) as refused:
        await set_time(hass, EARLIEST, "06:00:00")
    assert refused.value.translation_key == "run_does_not_fit"
    assert str(refused.value) == (
        "Dishwasher does not fit between its earliest start and its deadline: "
        "choose an earlier start or a later deadline"
    )
    assert hass.states.get(EARLIEST).state == "07:00:00"
    assert plan_of(hass) == before


async def test_planning_off_and_on(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """Off in the middle of a run: it ends and nothing is planned; on again: the next run."""
    start = datetime.fromisoformat(plan_of(hass)["segments"][0]["start"])
    await travel(hass, freezer, start + timedelta(minutes=20))
    assert hass.states.get(RUN_NOW).state == STATE_ON
    await hass.services.async_call("switch", "turn_off", {"entity_id": PLANNING}, blocking=True)
    await hass.async_block_till_done()
    assert hass.states.get(PLANNING).state == STATE_OFF
    assert hass.states.get(RUN_NOW).state == STATE_OFF
    assert not plan_of(hass)["planned"]
    await travel(hass, freezer, berlin(2026, 12, 4, 16, 0))
    assert not plan_of(hass)["planned"]  # the next day's prices plan nothing either
    await hass.services.async_call("switch", "turn_on", {"entity_id": PLANNING}, blocking=True)
    await hass.async_block_till_done()
    assert plan_of(hass)["planned"]
    assert plan_of(hass)["deadline"] == "2026-12-05T07:00:00+01:00"


async def test_german_names(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A German installation gets German entity ids for the settings."""
    hass.config.language = "de"
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 12, 3, 20, 0))
    entry = await add_entry(ANNA)
    await add_appliance(hass, entry, name="Geschirrspüler")
    for entity_id in (
        "time.geschirrspuler_fertig_bis",
        "time.geschirrspuler_fertig_bis_am_wochenende",
        "time.geschirrspuler_fruhester_start",
        "time.geschirrspuler_fruhester_start_am_wochenende",
        "switch.geschirrspuler_automatische_planung",
    ):
        assert hass.states.get(entity_id) is not None, entity_id


def appliance_device(hass: HomeAssistant, entry: MockConfigEntry, index: int = 0) -> str:
    """Return the device id of the entry's appliance number `index`."""
    subentry_id = list(entry.subentries)[index]
    return next(
        device.id
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if (DOMAIN, subentry_id) in device.identifiers
    )


async def test_a_one_off_deadline_then_the_daily_rule(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """ "Tomorrow by 13:00, not before 09:00" replaces the 07:00 run once; after it, the
    planner plans for 07:00 again. It survives a restart and is planned again as prices come."""
    device_id = appliance_device(hass, anna)
    await hass.services.async_call(
        DOMAIN,
        "plan_appliance_run",
        {
            "device_id": device_id,
            "done_by": "2026-12-04 13:00:00",
            "not_before": "2026-12-04 09:00:00",
        },
        blocking=True,
    )
    plan = plan_of(hass)
    assert plan["deadline"] == "2026-12-04T13:00:00+01:00"
    start = datetime.fromisoformat(plan["segments"][0]["start"])
    end = datetime.fromisoformat(plan["segments"][-1]["end"])
    assert berlin(2026, 12, 4, 9, 0) <= start
    assert end <= berlin(2026, 12, 4, 13, 0)
    await hass.config_entries.async_reload(anna.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert plan_of(hass)["segments"] == plan["segments"]
    await travel(hass, freezer, end + timedelta(minutes=5))
    assert plan_of(hass)["deadline"] == "2026-12-05T07:00:00+01:00"


async def test_skip_tomorrow(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """Skipping Saturday's run: Friday's stays, then Sunday's is planned; the skip survives a
    restart."""
    device_id = appliance_device(hass, anna)
    await hass.services.async_call(
        DOMAIN, "skip_appliance_run", {"device_id": device_id, "day": "2026-12-05"}, blocking=True
    )
    assert plan_of(hass)["deadline"] == "2026-12-04T07:00:00+01:00"
    await hass.config_entries.async_reload(anna.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await travel(hass, freezer, berlin(2026, 12, 4, 16, 0))
    assert plan_of(hass)["deadline"] == "2026-12-06T07:00:00+01:00"
    # Without a day: the next run (Sunday's) goes; Monday's is planned.
    await hass.services.async_call(
        DOMAIN, "skip_appliance_run", {"device_id": device_id}, blocking=True
    )
    assert plan_of(hass)["deadline"] == "2026-12-07T07:00:00+01:00"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"done_by": "2026-12-03 19:00:00"}, "done_by_in_the_past"),
        ({"done_by": "2026-12-03 21:00:00"}, "run_does_not_fit"),
        (
            {"done_by": "2026-12-04 13:00:00", "not_before": "2026-12-04 12:00:00"},
            "run_does_not_fit",
        ),
    ],
)
async def test_a_one_off_that_cannot_be_is_refused(
    hass: HomeAssistant, anna: MockConfigEntry, data: dict[str, str], key: str
) -> None:
    """Refused, translated, and the plan is left as it was."""
    before = plan_of(hass)
    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            DOMAIN,
            "plan_appliance_run",
            {"device_id": appliance_device(hass, anna), **data},
            blocking=True,
        )
    assert refused.value.translation_key == key
    assert plan_of(hass) == before


async def test_actions_need_an_appliance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """A contract's device is not an appliance; a run under way is not moved; a "within
    hours" appliance has no day to skip."""
    contract = next(
        device.id
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), anna.entry_id)
        if device.name == "Nomos 4X44EMKX"
    )
    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            DOMAIN, "skip_appliance_run", {"device_id": contract}, blocking=True
        )
    assert refused.value.translation_key == "not_an_appliance"
    start = datetime.fromisoformat(plan_of(hass)["segments"][0]["start"])
    await travel(hass, freezer, start + timedelta(minutes=5))
    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            DOMAIN,
            "plan_appliance_run",
            {"device_id": appliance_device(hass, anna), "done_by": "2026-12-04 13:00:00"},
            blocking=True,
        )
    assert refused.value.translation_key == "run_under_way"
    await add_appliance(hass, anna, name="Car", deadline_mode="within", within_hours=10)
    car = appliance_device(hass, anna, -1)
    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            DOMAIN, "skip_appliance_run", {"device_id": car}, blocking=True
        )
    assert refused.value.translation_key == "skip_needs_a_daily_appliance"


async def test_the_docs_script_plans_for_one_oclock(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """docs/actions.md's script, with the dishwasher's device: done by 13:00 today."""
    freezer.move_to(berlin(2026, 12, 4, 8, 0))
    await travel(hass, freezer, berlin(2026, 12, 4, 8, 0))
    example = next(
        e.data for e in doc_examples() if isinstance(e.data, dict) and "script" in e.data
    )
    text = json.dumps(example).replace("YOUR_DISHWASHER_DEVICE_ID", appliance_device(hass, anna))
    assert await async_setup_component(hass, "script", json.loads(text))
    await hass.services.async_call("script", "dishwasher_by_one", blocking=True)
    await hass.async_block_till_done()
    assert plan_of(hass)["deadline"] == "2026-12-04T13:00:00+01:00"


async def test_a_cap_no_price_meets_gives_way_to_the_deadline(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A cap of -50 ct/kWh from the form: the run is still planned, and says the cap was not
    kept; a cap every price meets is kept."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 12, 3, 20, 0))
    entry = await add_entry(ANNA)
    await add_appliance(hass, entry, price_cap_ct=-50)
    await add_appliance(hass, entry, name="Dryer", price_cap_ct=200)
    assert plan_of(hass)["planned"] is True
    assert plan_of(hass)["price_cap_met"] is False
    assert plan_of(hass, "binary_sensor.dryer_run_now")["price_cap_met"] is True


async def test_twice_a_day(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A heat-pump boost by 07:00 and by 19:00: after the morning run, the evening one is
    planned in the 12 hours between, and then the next morning's."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 12, 3, 20, 0))
    entry = await add_entry(ANNA)
    await add_appliance(
        hass, entry, name="Boost", duration={"hours": 1, "minutes": 0}, runs_per_day=2
    )
    boost = "binary_sensor.boost_run_now"
    assert plan_of(hass, boost)["deadline"] == "2026-12-04T07:00:00+01:00"
    first = datetime.fromisoformat(plan_of(hass, boost)["segments"][0]["start"])
    assert first >= berlin(2026, 12, 3, 20, 0)
    await travel(hass, freezer, berlin(2026, 12, 4, 7, 5))
    plan = plan_of(hass, boost)
    assert plan["deadline"] == "2026-12-04T19:00:00+01:00"
    assert datetime.fromisoformat(plan["segments"][0]["start"]) >= berlin(2026, 12, 4, 7, 0)
    await travel(hass, freezer, berlin(2026, 12, 4, 19, 5))
    assert plan_of(hass, boost)["deadline"] == "2026-12-05T07:00:00+01:00"
