"""A planner that waits for its appliance: ready when the door is closed, the program chosen,
the car plugged in; a plan is made when it becomes ready and dropped when it stops being
ready before the run begins."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import ANNA, AddEntry
from .test_planners import RUN_NOW, add_appliance
from .timetravel import berlin, travel

DOOR = "binary_sensor.dishwasher_door_closed"
PLUG = "binary_sensor.car_plugged_in"
CAR_RUN_NOW = "binary_sensor.car_run_now"


@pytest.fixture
async def anna(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> MockConfigEntry:
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 12, 3, 20, 0))
    return await add_entry(ANNA)


def plan_of(hass: HomeAssistant, entity_id: str = RUN_NOW) -> dict[str, Any]:
    return dict(hass.states.get(entity_id).attributes)


async def set_state(hass: HomeAssistant, entity_id: str, state: str) -> None:
    hass.states.async_set(entity_id, state)
    await hass.async_block_till_done()


async def test_a_plan_only_while_the_dishwasher_is_ready(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """Open door: no plan. Closed: planned at once. Opened again before the start: dropped.
    Closed again, and opened once the run has begun: the run goes on."""
    await set_state(hass, DOOR, STATE_OFF)
    await add_appliance(hass, anna, ready_entity=DOOR)
    assert plan_of(hass)["planned"] is False
    await set_state(hass, DOOR, STATE_ON)
    plan = plan_of(hass)
    assert plan["planned"] is True
    assert plan["deadline"] == "2026-12-04T07:00:00+01:00"
    start = datetime.fromisoformat(plan["segments"][0]["start"])
    await set_state(hass, DOOR, STATE_OFF)
    assert plan_of(hass)["planned"] is False
    await set_state(hass, DOOR, STATE_ON)
    assert datetime.fromisoformat(plan_of(hass)["segments"][0]["start"]) == start
    await travel(hass, freezer, start + timedelta(minutes=20))
    assert hass.states.get(RUN_NOW).state == STATE_ON
    await set_state(hass, DOOR, STATE_OFF)
    assert hass.states.get(RUN_NOW).state == STATE_ON
    # Pressing "Plan again" while it is not ready plans nothing either.
    await travel(hass, freezer, berlin(2026, 12, 4, 9, 0))
    assert plan_of(hass)["planned"] is False
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.dishwasher_plan_again"}, blocking=True
    )
    assert plan_of(hass)["planned"] is False


async def test_plugging_the_car_in_is_the_trigger(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """A "within 10 hours" charger plans when the car is plugged in; unplugged before the
    start, the plan goes."""
    await set_state(hass, PLUG, STATE_OFF)
    await add_appliance(
        hass,
        anna,
        name="Car",
        deadline_mode="within",
        within_hours=10,
        may_pause=True,
        ready_entity=PLUG,
    )
    assert plan_of(hass, CAR_RUN_NOW)["planned"] is False
    await set_state(hass, PLUG, STATE_ON)
    plan = plan_of(hass, CAR_RUN_NOW)
    assert plan["planned"] is True
    deadline = datetime.fromisoformat(plan["deadline"])
    assert deadline == dt_util.utcnow() + timedelta(hours=10)
    await set_state(hass, PLUG, STATE_OFF)
    assert plan_of(hass, CAR_RUN_NOW)["planned"] is False


async def test_a_program_chosen_and_a_restart_before_the_entity_is_back(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """Ready when a select says "Eco 50" (any case); after a restart whose ready entity is not
    there yet, the plan is kept, not dropped."""
    program = "select.dishwasher_program"
    await set_state(hass, program, "Eco 50")
    await add_appliance(hass, anna, ready_entity=program, ready_state="eco 50")
    plan = plan_of(hass)
    assert plan["planned"] is True
    await set_state(hass, program, "Intensive 70")
    assert plan_of(hass)["planned"] is False
    await set_state(hass, program, "Eco 50")
    plan = plan_of(hass)
    hass.states.async_remove(program)
    await hass.config_entries.async_reload(anna.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert plan_of(hass)["segments"] == plan["segments"]
    await set_state(hass, program, "unavailable")
    assert plan_of(hass)["segments"] == plan["segments"]
