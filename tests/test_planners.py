"""Appliance planners: the plan against brute force, and the planner as a homeowner uses it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
import itertools
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, section
from homeassistant.util import dt as dt_util
from hypothesis import given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nomos_energy.appliance_plan import (
    ApplianceSpec,
    Plan,
    first_start,
    make_plan,
    next_deadline,
)
from custom_components.nomos_energy.const import DOMAIN
from custom_components.nomos_energy.price_schedule import BERLIN, PriceInterval, day_bounds
from nomos_simulator import NomosSimulator

from .conftest import ANNA, AddEntry
from .timetravel import QUARTER, berlin, travel

RUN_NOW = "binary_sensor.dishwasher_run_now"
ADVANCED_FIELDS = (
    "may_pause",
    "power_kw",
    "earliest_start",
    "weekend_deadline",
    "weekend_earliest_start",
    "ready_entity",
    "ready_state",
    "price_cap_ct",
    "runs_per_day",
    "sg_ready",
    "profile",
    "group",
)
START = "sensor.dishwasher_planned_start"
END = "sensor.dishwasher_planned_end"
# A car charged within 10 hours of a trigger, in the cheapest quarter-hours.
CAR = {
    "name": "Car",
    "duration": {"hours": 3, "minutes": 0},
    "deadline_mode": "within",
    "within_hours": 10,
    "may_pause": True,
}


def quarters(start: datetime, prices: list[float | None]) -> list[PriceInterval]:
    return [
        PriceInterval(start + i * QUARTER, start + (i + 1) * QUARTER, price)
        for i, price in enumerate(prices)
    ]


prices = st.one_of(st.none(), st.floats(min_value=-20, max_value=60, allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(
    day=st.sampled_from([date(2026, 3, 29), date(2026, 10, 25), date(2026, 12, 1)]),
    values=st.lists(prices, min_size=1, max_size=100),
    offset=st.integers(min_value=0, max_value=200),
    length=st.integers(min_value=1, max_value=120),
    needed=st.integers(min_value=1, max_value=12),
    may_pause=st.booleans(),
)
def test_plan_is_the_cheapest_run_before_the_deadline(
    day: date, values: list[float | None], offset: int, length: int, needed: int, may_pause: bool
) -> None:
    """Brute force over every possible run: same cost; never an unknown price; in time."""
    start, _ = day_bounds(day)
    known = quarters(start, values)
    now = start + offset * timedelta(minutes=5) + timedelta(seconds=7)
    deadline = first_start(now) + length * QUARTER
    spec = ApplianceSpec("test", needed * QUARTER, may_pause=may_pause, power_kw=2.0)
    plan = make_plan(spec, known, now, deadline)
    usable = [i for i in known if i.start >= first_start(now) and i.end <= deadline]
    if may_pause:
        candidates = [
            sum(i.price_ct for i in combo)  # type: ignore[misc]
            for combo in [
                sorted((i for i in usable if i.price_ct is not None), key=lambda i: i.price_ct)[
                    :needed
                ]
            ]  # type: ignore[arg-type, return-value]
            if len(combo) == needed
        ]
    else:
        candidates = [
            sum(i.price_ct for i in usable[k : k + needed])  # type: ignore[misc]
            for k in range(len(usable) - needed + 1)
            if all(i.price_ct is not None for i in usable[k : k + needed])
            and all(a.end == b.start for a, b in itertools.pairwise(usable[k : k + needed]))
        ]
    assert plan.deadline == deadline
    assert plan.end <= deadline or plan.reason != "cheapest"
    complete = bool(usable) and usable[-1].end >= deadline
    assert plan.prices_complete is complete
    if not complete:
        assert plan.reason == "waiting_for_prices"
        assert plan.end == max(deadline, first_start(now) + needed * QUARTER)
        return
    if not candidates:
        assert plan.reason == "latest_start"
        assert plan.cost_eur is None
        assert sum((end - begin for begin, end in plan.segments), timedelta()) == needed * QUARTER
        return
    assert plan.reason == "cheapest"
    assert plan.average_ct == pytest.approx(min(candidates) / needed, abs=1e-9)
    chosen = [i for i in usable if any(s <= i.start < e for s, e in plan.segments)]
    assert len(chosen) == needed
    assert all(i.price_ct is not None for i in chosen)
    assert plan.start >= first_start(now)
    assert plan.cost_eur == pytest.approx(2.0 * 0.25 * min(candidates) / 100, abs=1e-9)
    if not may_pause:
        assert len(plan.segments) == 1
    assert Plan.from_json(plan.to_json()) == plan


def test_next_deadline_across_dst() -> None:
    """07:00 Berlin, whatever the offset; a run that no longer fits goes to tomorrow."""
    spec = ApplianceSpec("x", timedelta(hours=2), deadline=time(7, 0))
    assert next_deadline(spec, berlin(2026, 3, 28, 22, 0)) == datetime(
        2026, 3, 29, 7, 0, tzinfo=BERLIN
    )
    assert next_deadline(spec, berlin(2026, 10, 25, 4, 50)) == datetime(
        2026, 10, 25, 7, 0, tzinfo=BERLIN
    )
    assert next_deadline(spec, berlin(2026, 10, 25, 5, 10)) == datetime(
        2026, 10, 26, 7, 0, tzinfo=BERLIN
    )
    assert next_deadline(ApplianceSpec("x", timedelta(hours=1)), berlin(2026, 1, 1, 0, 0)) is None
    assert first_start(datetime(2026, 1, 1, 10, 0, 59, tzinfo=UTC)) == datetime(
        2026, 1, 1, 10, 0, tzinfo=UTC
    )
    assert first_start(datetime(2026, 1, 1, 10, 1, tzinfo=UTC)) == datetime(
        2026, 1, 1, 10, 15, tzinfo=UTC
    )


async def add_appliance(
    hass: HomeAssistant, entry: MockConfigEntry, **answers: Any
) -> dict[str, Any]:
    """Add an appliance through the "Add appliance" flow, as in the UI.

    First the menu (when the run must be done: `deadline_mode`), then that mode's form
    (the advanced answers go into its "Advanced" section).
    """
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "appliance"), context={"source": "user"}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["daily", "within", "charge"]
    mode = answers.pop("deadline_mode", "daily")
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": mode}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == mode
    advanced = {"may_pause": False} | {
        key: answers.pop(key) for key in ADVANCED_FIELDS if key in answers
    }
    data = {
        "name": "Dishwasher",
        "duration": {"hours": 2, "minutes": 0},
        **({"deadline": "07:00:00"} if mode == "daily" else {}),
        "advanced": advanced,
        **answers,
    }
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], data)
    await hass.async_block_till_done(wait_background_tasks=True)
    return dict(result)


async def change_appliance(
    hass: HomeAssistant, entry: MockConfigEntry, subentry_id: str, mode: str
) -> dict[str, Any]:
    """Open "Change appliance" and pick the mode in its menu; return the mode's form."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "appliance"),
        context={"source": "reconfigure", "subentry_id": subentry_id},
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": mode}
    )
    assert result["type"] is FlowResultType.FORM
    return dict(result)


async def save_change(hass: HomeAssistant, form: dict[str, Any], answers: dict[str, Any]) -> None:
    """Send the changed appliance; the flow ends and its plan is made again."""
    result = await hass.config_entries.subentries.async_configure(form["flow_id"], answers)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)


def suggested(form: dict[str, Any]) -> dict[str, Any]:
    """Return the values a form shows filled in, by field (a section's as a dict)."""
    values: dict[str, Any] = {}
    for key, value in form["data_schema"].schema.items():
        if isinstance(value, section):
            values[str(key)] = suggested({"data_schema": value.schema})
        elif "suggested_value" in (key.description or {}):
            values[str(key)] = key.description["suggested_value"]
    return values


def moment_of(hass: HomeAssistant, entity_id: str) -> datetime | None:
    state = hass.states.get(entity_id).state
    return None if state == STATE_UNKNOWN else dt_util.parse_datetime(state)


async def cheapest(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, "find_cheapest_window", data, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    return response


@pytest.fixture
async def anna(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> MockConfigEntry:
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 11, 29, 20, 0))
    return await add_entry(ANNA)


async def test_dishwasher_runs_in_the_cheapest_window_across_a_restart(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    freezer: FrozenDateTimeFactory,
    anna: MockConfigEntry,
) -> None:
    """On exactly in the planned quarter-hours; a restart mid-run neither stops nor moves it;
    the next night is planned when its prices arrive."""
    result = await add_appliance(hass, anna, power_kw=1.8)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert anna.state is ConfigEntryState.LOADED
    window = await cheapest(
        hass,
        duration="02:00:00",
        latest_end=berlin(2026, 11, 30, 7, 0).isoformat(),
        power=1.8,
    )
    start, end = (datetime.fromisoformat(window[key]) for key in ("start", "end"))
    assert moment_of(hass, START) == start
    assert moment_of(hass, END) == end
    assert float(hass.states.get("sensor.dishwasher_estimated_cost").state) == pytest.approx(
        window["cost"], abs=0.01
    )
    assert float(hass.states.get("sensor.dishwasher_saving").state) >= 0
    attributes = hass.states.get(RUN_NOW).attributes
    assert attributes["prices_complete"] is True
    assert attributes["deadline"] == "2026-11-30T07:00:00+01:00"
    simulator.requests.clear()
    moment = berlin(2026, 11, 29, 20, 0)
    restarted = False
    while moment < end + timedelta(minutes=30):
        moment += timedelta(minutes=5)
        await travel(hass, freezer, moment)
        assert hass.states.get(RUN_NOW).state == (
            STATE_ON if start <= moment < end else STATE_OFF
        ), (moment, start, end, hass.states.get(RUN_NOW).attributes)
        if not restarted and moment >= start + timedelta(minutes=40):
            await hass.config_entries.async_reload(anna.entry_id)
            await hass.async_block_till_done(wait_background_tasks=True)
            restarted = True
            assert hass.states.get(RUN_NOW).state == STATE_ON
            assert moment_of(hass, START) == start
    assert simulator.count("GET /subscriptions/{id}/prices") == 0  # planning asks nothing
    # The run is over: the next night's plan waits for its prices, then takes the cheapest.
    planned = hass.states.get(RUN_NOW).attributes
    assert planned["deadline"] == "2026-12-01T07:00:00+01:00"
    assert planned["prices_complete"] is False
    await travel(hass, freezer, berlin(2026, 11, 30, 16, 0))
    assert hass.states.get(RUN_NOW).attributes["prices_complete"] is True
    window = await cheapest(
        hass, duration="02:00:00", latest_end=berlin(2026, 12, 1, 7, 0).isoformat()
    )
    assert moment_of(hass, START) == datetime.fromisoformat(window["start"])
    calendar = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": "calendar.nomos_4x44emkx_prices",
            "start_date_time": berlin(2026, 11, 30, 16, 0),
            "end_date_time": berlin(2026, 12, 1, 8, 0),
        },
        blocking=True,
        return_response=True,
    )
    runs = [
        e
        for e in calendar["calendar.nomos_4x44emkx_prices"]["events"]
        if e["summary"] == "Dishwasher"
    ]
    assert [(e["start"], e["end"]) for e in runs] == [(window["start"], window["end"])]


async def test_skip_and_plan_again(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """Skip drops tonight's run and plans the next night; a "within" planner plans on a press."""
    await add_appliance(hass, anna)
    tonight = hass.states.get(RUN_NOW).attributes["deadline"]
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.dishwasher_skip_next_run"}, blocking=True
    )
    assert hass.states.get(RUN_NOW).attributes["deadline"] == "2026-12-01T07:00:00+01:00"
    assert tonight == "2026-11-30T07:00:00+01:00"
    await add_appliance(hass, anna, **CAR)
    assert hass.states.get("binary_sensor.car_run_now").attributes == {
        **hass.states.get("binary_sensor.car_run_now").attributes,
        "planned": False,
    }
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.car_plan_a_run_now"}, blocking=True
    )
    attributes = hass.states.get("binary_sensor.car_run_now").attributes
    assert attributes["planned"] is True
    assert attributes["deadline"] == "2026-11-30T06:00:00+01:00"
    window = await cheapest(
        hass,
        duration="03:00:00",
        latest_end=berlin(2026, 11, 30, 6, 0).isoformat(),
        contiguous=False,
    )
    assert [(s["start"], s["end"]) for s in attributes["segments"]] == [
        (s["start"], s["end"]) for s in window["segments"]
    ]


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        ({"duration": {"hours": 13, "minutes": 0}}, "duration_range"),
        ({"duration": {"hours": 0, "minutes": 5}}, "duration_range"),
        ({"deadline_mode": "within", "within_hours": 1}, "within_too_short"),
        ({"name": "  "}, "name_missing"),
        ({"earliest_start": "06:00:00"}, "run_does_not_fit"),
        ({"earliest_start": "22:00:00", "weekend_deadline": "22:30:00"}, "run_does_not_fit"),
    ],
)
async def test_the_form_says_what_is_wrong(
    hass: HomeAssistant, anna: MockConfigEntry, answers: dict[str, Any], error: str
) -> None:
    result = await add_appliance(hass, anna, **answers)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}


async def test_change_and_remove_an_appliance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """Reconfigure keeps the device and plans again; removing it removes its device."""
    from homeassistant.helpers import device_registry as dr  # noqa: PLC0415

    await add_appliance(hass, anna)
    subentry_id = next(iter(anna.subentries))
    result = await change_appliance(hass, anna, subentry_id, "daily")
    assert suggested(result)["duration"] == {"hours": 2, "minutes": 0}
    assert suggested(result)["deadline"] == "07:00:00"
    await save_change(
        hass,
        result,
        {
            "name": "Dishwasher",
            "duration": {"hours": 1, "minutes": 30},
            "deadline": "06:00:00",
            "advanced": {"may_pause": False},
        },
    )
    attributes = hass.states.get(RUN_NOW).attributes
    assert attributes["deadline"] == "2026-11-30T06:00:00+01:00"
    start, end = moment_of(hass, START), moment_of(hass, END)
    assert start is not None
    assert end is not None
    assert end - start == timedelta(minutes=90)
    registry = dr.async_get(hass)

    def planner_devices() -> list[dr.DeviceEntry]:
        return [
            device
            for device in dr.async_entries_for_config_entry(registry, anna.entry_id)
            if (DOMAIN, subentry_id) in device.identifiers
        ]

    assert [device.name for device in planner_devices()] == ["Dishwasher"]
    hass.config_entries.async_remove_subentry(anna, subentry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert planner_devices() == []
    assert hass.states.get(RUN_NOW) is None


async def test_the_form_shows_only_the_chosen_deadline(
    hass: HomeAssistant, anna: MockConfigEntry
) -> None:
    """The menu picks the mode; its form asks for that mode's deadline and not the other."""
    for mode, shown, hidden in (
        ("daily", "deadline", "within_hours"),
        ("within", "within_hours", "deadline"),
    ):
        result = await hass.config_entries.subentries.async_init(
            (anna.entry_id, "appliance"), context={"source": "user"}
        )
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"next_step_id": mode}
        )
        fields = [str(key) for key in result["data_schema"].schema]
        assert fields == ["name", "duration", shown, "advanced"]
        assert hidden not in fields
        # Everything else has a default and waits, collapsed, in "Advanced".
        advanced = result["data_schema"].schema["advanced"]
        assert advanced.options["collapsed"] is True
        assert [str(key) for key in advanced.schema.schema] == [
            "may_pause",
            "power_kw",
            *(
                ["earliest_start", "weekend_deadline", "weekend_earliest_start", "runs_per_day"]
                if mode == "daily"
                else []
            ),
            "ready_entity",
            "ready_state",
            "profile",
            "group",
            "sg_ready",
            "price_cap_ct",
        ]
        # A run time in hours and minutes: no days, and no seconds where the release can
        # hide them (the selector's config as the frontend gets it, defaults filled in).
        schema = result["data_schema"].schema
        config = next(selector for key, selector in schema.items() if key == "duration").config
        assert config["enable_day"] is False
        assert config.get("enable_second", False) is False
        hass.config_entries.subentries.async_abort(result["flow_id"])


async def test_reconfigure_keeps_or_switches_the_mode(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """A "within" appliance shows its hours again; switched to daily, it plans for the time."""
    await add_appliance(hass, anna, **CAR)
    subentry_id = next(iter(anna.subentries))
    subscription_id = anna.subentries[subentry_id].data["subscription_id"]
    assert anna.subentries[subentry_id].data["within_minutes"] == 600

    result = await change_appliance(hass, anna, subentry_id, "within")
    assert suggested(result)["within_hours"] == 10
    assert suggested(result)["advanced"]["may_pause"] is True
    hass.config_entries.subentries.async_abort(result["flow_id"])
    result = await change_appliance(hass, anna, subentry_id, "daily")
    assert "deadline" not in suggested(result)  # the default time, as for a new appliance
    assert suggested(result)["duration"] == {"hours": 3, "minutes": 0}
    await save_change(hass, result, {**suggested(result), "deadline": "06:00:00"})
    assert dict(anna.subentries[subentry_id].data) == {
        "subscription_id": subscription_id,
        "duration_minutes": 180,
        "deadline": "06:00:00",
        "within_minutes": None,
        "may_pause": True,
        "power_kw": None,
        "earliest_start": None,
        "weekend_deadline": None,
        "weekend_earliest_start": None,
        "ready_entity": None,
        "ready_state": None,
        "price_cap_ct": None,
        "runs_per_day": 1,
        "sg_ready": False,
        "profile": None,
        "group": None,
        "enabled": True,
    }
    attributes = hass.states.get("binary_sensor.car_run_now").attributes
    assert attributes["planned"] is True
    assert attributes["deadline"] == "2026-11-30T06:00:00+01:00"


async def test_no_appliance_without_a_subscription_that_buys_power(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Clara's contract has not started: nothing to plan with yet."""
    from .conftest import CLARA  # noqa: PLC0415

    freezer.move_to(berlin(2026, 11, 29, 20, 0))
    entry = await add_entry(CLARA)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "appliance"), context={"source": "user"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_active_subscription"
