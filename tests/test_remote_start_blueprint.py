"""The remote-start blueprint: a dishwasher whose start is a script (as a Home Connect style
"start" command would be), started once per planned run, across restarts."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from nomos_simulator import NomosSimulator

from .conftest import ANNA, AddEntry
from .test_examples import MINUTE, SECOND, load_automations, restart, use_blueprints
from .test_planners import add_appliance
from .timetravel import berlin, walk

RUN_NOW = "binary_sensor.dishwasher_run_now"


async def setup(
    hass: HomeAssistant, add_entry: AddEntry, tmp_path: Path, path: str
) -> tuple[MockConfigEntry, list[datetime]]:
    """Anna's dishwasher (one uninterrupted run), its start a script; return when it ran."""
    entry = await add_entry(ANNA)
    await add_appliance(hass, entry)
    started: list[datetime] = []

    @callback
    def remote_start(call: ServiceCall) -> None:
        started.append(datetime.now().astimezone())

    hass.services.async_register("test", "remote_start", remote_start)
    assert await async_setup_component(
        hass,
        "script",
        {"script": {"dishwasher_start": {"sequence": [{"action": "test.remote_start"}]}}},
    )
    await use_blueprints(hass, tmp_path)
    await load_automations(
        hass,
        [
            {
                "alias": "Dishwasher starts when planned",
                "use_blueprint": {
                    "path": f"nomos_energy/{path}",
                    "input": {
                        "run_now": RUN_NOW,
                        "start": [{"action": "script.dishwasher_start"}],
                    },
                },
            }
        ],
    )
    return entry, started


def first_segment(hass: HomeAssistant) -> tuple[datetime, datetime]:
    segment = hass.states.get(RUN_NOW).attributes["segments"][0]
    return datetime.fromisoformat(segment["start"]), datetime.fromisoformat(segment["end"])


async def test_started_once_and_never_twice_across_a_restart(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """Started at the planned start; a restart in the middle of the run starts nothing;
    the next night's run is started again, once."""
    freezer.move_to(berlin(2026, 11, 29, 20, 0) + SECOND)
    entry, started = await setup(hass, add_entry, tmp_path, "start_when_planner_says.yaml")
    start, end = first_segment(hass)
    await walk(hass, freezer, start + timedelta(minutes=30) + SECOND, MINUTE * 5)
    assert started == [start + SECOND]
    await restart(hass, entry)
    await walk(hass, freezer, end + MINUTE, MINUTE * 5)
    assert started == [start + SECOND]
    await walk(hass, freezer, berlin(2026, 11, 30, 16, 0), MINUTE * 15)
    tomorrow, _ = first_segment(hass)
    await walk(hass, freezer, tomorrow + MINUTE * 20, MINUTE * 5)
    assert len(started) == 2
    assert tomorrow <= started[1] < tomorrow + MINUTE * 6


async def test_a_start_missed_while_down_is_made_up_after_the_restart(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """Home Assistant is down from before the planned start to ten minutes into the run
    (the German blueprint): started once, right after the restart."""
    freezer.move_to(berlin(2026, 11, 29, 20, 0) + SECOND)
    entry, started = await setup(hass, add_entry, tmp_path, "start_when_planner_says_de.yaml")
    start, _ = first_segment(hass)
    await walk(hass, freezer, start - MINUTE * 5, MINUTE * 15)
    freezer.move_to(start + MINUTE * 10)
    await restart(hass, entry)
    assert len(started) == 1
    assert start + MINUTE * 10 <= started[0] < start + MINUTE * 11
    await walk(hass, freezer, start + MINUTE * 40, MINUTE * 5)
    assert len(started) == 1
