"""The SG Ready blueprint: a heat pump's two SG Ready contacts follow its planner's SG Ready
mode (block, normal, boost) quarter by quarter, across restarts and reloads, in English and
in a German installation with the German blueprint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import (
    EVENT_HOMEASSISTANT_STARTED,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import CoreState, Event, HomeAssistant, callback
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from nomos_simulator import NomosSimulator

from .conftest import ANNA, AddEntry
from .test_examples import SECOND, automations, load_automations, restart, use_blueprints
from .test_planners import add_appliance
from .timetravel import QUARTER, berlin, travel, walk

BLOCK_CONTACT = "switch.sg_ready_contact_1"
BOOST_CONTACT = "switch.sg_ready_contact_2"
# SG Ready's wiring: (contact 1, contact 2) for each mode.
CONTACTS = {
    "block": (STATE_ON, STATE_OFF),
    "normal": (STATE_OFF, STATE_OFF),
    "boost": (STATE_OFF, STATE_ON),
}


@dataclass(frozen=True)
class Home:
    """An installation in one language, its blueprint and the entity ids it makes."""

    language: str
    blueprint: str
    heat_pump: str
    sg_ready: str
    run_now: str
    expensive: str


HOMES = pytest.mark.parametrize(
    "home",
    [
        Home(
            "en",
            "heat_pump_sg_ready.yaml",
            "Heat pump",
            "sensor.heat_pump_sg_ready_mode",
            "binary_sensor.heat_pump_run_now",
            "binary_sensor.nomos_4x44emkx_expensive_period",
        ),
        Home(
            "de",
            "heat_pump_sg_ready_de.yaml",
            "Wärmepumpe",
            "sensor.warmepumpe_sg_ready_betriebszustand",
            "binary_sensor.warmepumpe_jetzt_einschalten",
            "binary_sensor.nomos_4x44emkx_teure_phase",
        ),
    ],
    ids=["en", "de"],
)


class Contacts:
    """The two contacts, and every moment both were on at once (SG Ready's "forced on"),
    replayed from their state changes in order (listeners run after both may have switched)."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.replayed = dict.fromkeys((BLOCK_CONTACT, BOOST_CONTACT), STATE_OFF)
        self.both_on: list[datetime] = []
        hass.bus.async_listen("state_changed", self._changed)

    @callback
    def _changed(self, event: Event[Any]) -> None:
        if event.data["entity_id"] in self.replayed and event.data["new_state"] is not None:
            self.replayed[event.data["entity_id"]] = event.data["new_state"].state
            if set(self.replayed.values()) == {STATE_ON}:
                self.both_on.append(event.time_fired)

    def now(self) -> tuple[str, str]:
        block, boost = (self.hass.states.get(contact) for contact in (BLOCK_CONTACT, BOOST_CONTACT))
        assert block is not None
        assert boost is not None
        return block.state, boost.state


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None
    return current.state


async def setup(
    hass: HomeAssistant, add_entry: AddEntry, tmp_path: Path, home: Home
) -> tuple[MockConfigEntry, Contacts]:
    """Anna's heat pump: two boosts of an hour a day (before 07:00 and 19:00) with SG Ready,
    its contacts two relays (switches), and the blueprint between them."""
    hass.config.language = home.language
    await hass.config.async_set_time_zone("Europe/Berlin")
    entry = await add_entry(ANNA)
    await add_appliance(
        hass,
        entry,
        name=home.heat_pump,
        duration={"hours": 1, "minutes": 0},
        runs_per_day=2,
        sg_ready=True,
    )
    assert state(hass, home.sg_ready) in CONTACTS
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {
                    "switch": [
                        # Optimistic (no state template): on the moment it is switched.
                        {"name": f"SG Ready contact {number}", "turn_on": [], "turn_off": []}
                        for number in (1, 2)
                    ]
                }
            ]
        },
    )
    await hass.async_block_till_done()
    contacts = Contacts(hass)
    await use_blueprints(hass, tmp_path)
    await load_automations(
        hass,
        [
            {
                "alias": "Heat pump SG Ready",
                "use_blueprint": {
                    "path": f"nomos_energy/{home.blueprint}",
                    "input": {
                        "sg_ready_mode": home.sg_ready,
                        "block_contact": BLOCK_CONTACT,
                        "boost_contact": BOOST_CONTACT,
                    },
                },
            }
        ],
    )
    return entry, contacts


@HOMES
async def test_the_contacts_follow_the_mode_through_a_day(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
    home: Home,
) -> None:
    """Home Assistant starts in the afternoon, and a second into every quarter-hour of the
    day after the contacts show the planner's mode: boost exactly in the planned runs, block
    only in expensive periods, normal otherwise. The mode changes only at quarter-hours, so
    the contacts are right at every minute. Between boost and block they pass through
    normal, never both on."""
    # A second past the minute: the quarter-hour tick fires within a second of it.
    begin = berlin(2026, 11, 29, 16, 0) + SECOND
    freezer.move_to(begin)
    entry, contacts = await setup(hass, add_entry, tmp_path, home)
    await restart(hass, entry)
    modes: list[str] = []
    moment = begin
    while True:
        current = hass.states.get(home.sg_ready)
        assert current is not None
        mode, until = current.state, current.attributes["until"]
        assert until is None or datetime.fromisoformat(until).timestamp() % QUARTER.seconds == 0
        assert contacts.now() == CONTACTS[mode], (moment, mode)
        assert (mode == "boost") == (state(hass, home.run_now) == STATE_ON), moment
        assert mode != "block" or state(hass, home.expensive) == STATE_ON, moment
        modes.append(mode)
        if moment >= begin + timedelta(days=1):
            break
        moment += QUARTER
        await travel(hass, freezer, moment)
    assert set(modes) == set(CONTACTS)
    changes = {(old, new) for old, new in pairwise(modes) if old != new}
    # The day holds a change straight from one to the other, so "never both on" means something.
    assert changes & {("boost", "block"), ("block", "boost")}
    assert contacts.both_on == []


async def down_across(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    contacts: Contacts,
    home: Home,
    change: datetime,
) -> str:
    """Home Assistant is down from ten minutes before `change` to twenty after; return the
    mode it starts into (the contacts checked before, while down and after the start)."""
    # Unchecked on the way: hour by hour is enough.
    await walk(hass, freezer, change - timedelta(minutes=10), timedelta(hours=1))
    before = state(hass, home.sg_ready)
    assert contacts.now() == CONTACTS[before]
    await automations(hass, "turn_off")
    await travel(hass, freezer, change + timedelta(minutes=20))
    mode = state(hass, home.sg_ready)
    assert mode != before
    assert contacts.now() == CONTACTS[before]
    await restart(hass, entry)
    assert state(hass, home.sg_ready) == mode
    assert contacts.now() == CONTACTS[mode]
    return mode


async def start_without_nomos(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Home Assistant starts before the integration is set up: the mode is unavailable."""
    await automations(hass, "turn_off")
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    hass.set_state(CoreState.starting)
    if not hasattr(hass, "async_add_startup_job"):
        # Before 2026.10 automations armed for a start wait for "started" while not running.
        hass.set_state(CoreState.not_running)
    await automations(hass, "turn_on")
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done(wait_background_tasks=True)
    hass.set_state(CoreState.running)
    await hass.async_block_till_done(wait_background_tasks=True)


@HOMES
async def test_changes_missed_while_down_are_made_up_at_the_start(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
    home: Home,
) -> None:
    """Home Assistant is down when a planned run begins, and again when an expensive period
    begins: the start sets boost, then block. A start before the integration is up (the mode
    unavailable) leaves the contacts as they are; when the mode comes back, they follow."""
    freezer.move_to(berlin(2026, 11, 29, 20, 0) + SECOND)
    entry, contacts = await setup(hass, add_entry, tmp_path, home)
    await restart(hass, entry)
    run = hass.states.get(home.run_now)
    assert run is not None
    segment = run.attributes["segments"][0]
    run_start, run_end = (datetime.fromisoformat(segment[key]) for key in ("start", "end"))
    assert await down_across(hass, freezer, entry, contacts, home, run_start) == "boost"
    await walk(hass, freezer, run_end + SECOND)
    assert contacts.now() == CONTACTS[state(hass, home.sg_ready)]

    expensive = hass.states.get(home.expensive)
    assert expensive is not None
    period_start = datetime.fromisoformat(expensive.attributes["start"])
    assert period_start > run_end
    assert await down_across(hass, freezer, entry, contacts, home, period_start) == "block"
    block = hass.states.get(home.sg_ready)
    assert block is not None
    block_end = datetime.fromisoformat(block.attributes["until"])

    await start_without_nomos(hass, entry)
    assert state(hass, home.sg_ready) == STATE_UNAVAILABLE
    assert contacts.now() == CONTACTS["block"]
    # The block ends while the integration is still down; when it is up, the contacts follow.
    await walk(hass, freezer, block_end + SECOND)
    assert contacts.now() == CONTACTS["block"]
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    after = state(hass, home.sg_ready)
    assert after != "block"
    assert contacts.now() == CONTACTS[after]
    assert contacts.both_on == []
