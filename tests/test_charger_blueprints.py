"""The charger blueprints: a wallbox (with its charging current) and a home battery's
"charge from grid" (with its grid charging power) follow a charger planner's *Charging power
now* quarter by quarter through the night, the car or battery charging as the planner says,
across a restart in the middle of a charging quarter-hour, below the safety floor at once;
in English and, with the German blueprints, in a German installation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import ANNA, AddEntry
from .test_charger_planner import CAPACITY, EFFICIENCY, SOC, add_charger, set_soc
from .test_examples import automations, load_automations, restart, use_blueprints
from .timetravel import QUARTER, berlin, travel

MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)
SWITCH = "input_boolean.charger"
NUMBER = "input_number.charger_setting"
VOLTAGE, PHASES = 230, 3
FLOOR = 20


@dataclass(frozen=True)
class Home:
    """A blueprint, the installation's language, the planner's name there and what it makes."""

    blueprint: str
    language: str
    name: str
    power: str  # the planner's "Charging power now"
    power_kw: float
    # The stand-in number: the wallbox's current in A, or the battery's grid power in W.
    number: dict[str, Any]

    @property
    def car(self) -> bool:
        return self.blueprint.startswith("charge_car")

    def inputs(self) -> dict[str, Any]:
        if self.car:
            return {
                "charging_power": self.power,
                "charger": SWITCH,
                "current": NUMBER,
                "phases": PHASES,
                "voltage": VOLTAGE,
            }
        return {"charging_power": self.power, "grid_charging": SWITCH, "grid_power": NUMBER}

    def setting(self, kw: float) -> float:
        """What the blueprint sets the number to at `kw` (the blueprint's formula)."""
        step, low, high = self.number["step"], self.number["min"], self.number["max"]
        value = kw * 1000 / (VOLTAGE * PHASES) if self.car else kw * 1000
        return min(max(round(value / step) * step, low), high)


WALLBOX = {"min": 6, "max": 16, "step": 1, "initial": 10, "unit_of_measurement": "A"}
BATTERY = {"min": 0, "max": 10000, "step": 100, "initial": 0, "unit_of_measurement": "W"}
HOMES = pytest.mark.parametrize(
    "home",
    [
        Home(
            "charge_car_when_planner_says.yaml",
            "en",
            "Car",
            "sensor.car_charging_power_now",
            11.0,
            WALLBOX,
        ),
        Home(
            "charge_car_when_planner_says_de.yaml",
            "de",
            "Auto",
            "sensor.auto_ladeleistung_jetzt",
            11.0,
            WALLBOX,
        ),
        Home(
            "charge_battery_when_planner_says.yaml",
            "en",
            "Home battery",
            "sensor.home_battery_charging_power_now",
            5.0,
            BATTERY,
        ),
        Home(
            "charge_battery_when_planner_says_de.yaml",
            "de",
            "Heimspeicher",
            "sensor.heimspeicher_ladeleistung_jetzt",
            5.0,
            BATTERY,
        ),
    ],
    ids=["car-en", "car-de", "battery-en", "battery-de"],
)


class Log:
    """The power's edges (0 to > 0 and back), the switch's and the number's changes."""

    def __init__(self, hass: HomeAssistant, home: Home) -> None:
        self.home = home
        self.charging: bool | None = None
        self.power_edges: list[tuple[str, datetime]] = []
        self.power_changes: list[datetime] = []
        self.switched: list[tuple[str, datetime]] = []
        self.settings: list[tuple[float, datetime]] = []
        hass.bus.async_listen("state_changed", self._changed)

    @callback
    def _changed(self, event: Event[Any]) -> None:
        new, old = event.data["new_state"], event.data["old_state"]
        if new is None or (old is not None and old.state == new.state):
            return  # removed (a reload), or only attributes changed
        if event.data["entity_id"] == self.home.power:
            try:
                charging = float(new.state) > 0
            except ValueError:
                return
            self.power_changes.append(new.last_changed)
            if charging is not (self.charging or False):
                self.power_edges.append((STATE_ON if charging else STATE_OFF, new.last_changed))
            self.charging = charging
        elif event.data["entity_id"] == SWITCH:
            self.switched.append((new.state, new.last_changed))
        elif event.data["entity_id"] == NUMBER and old is not None:
            self.settings.append((float(new.state), new.last_changed))

    def counts(self) -> tuple[int, int]:
        return len(self.switched), len(self.settings)


@pytest.fixture
async def anna(
    hass: HomeAssistant,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    home: Home,
    tmp_path: Path,
) -> MockConfigEntry:
    """Anna's account on a Thursday evening (tomorrow's prices known), a car or battery at 40 %
    planned to 80 % by 07:00 (floor 20 %), the stand-ins and the blueprint's automation."""
    hass.config.language = home.language
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 12, 3, 20, 0))
    hass.states.async_set(SOC, "40", {"unit_of_measurement": "%"})
    entry = await add_entry(ANNA)
    await add_charger(hass, entry, name=home.name, power_kw=home.power_kw, charge_now_below=FLOOR)
    assert hass.states.get(home.power) is not None
    assert await async_setup_component(hass, "input_boolean", {"input_boolean": {"charger": {}}})
    assert await async_setup_component(
        hass, "input_number", {"input_number": {"charger_setting": {**home.number, "mode": "box"}}}
    )
    await use_blueprints(hass, tmp_path)
    await load_automations(
        hass,
        [
            {
                "alias": "Charger follows its planner",
                "use_blueprint": {"path": f"nomos_energy/{home.blueprint}", "input": home.inputs()},
            }
        ],
    )
    return entry


async def soc_to(hass: HomeAssistant, soc: float) -> None:
    """The car or battery reports its state of charge; wait for the automation's run too
    (on the floor line, a run triggered after a restart is a background task)."""
    await set_soc(hass, soc)
    await hass.async_block_till_done(wait_background_tasks=True)


def follows(hass: HomeAssistant, home: Home) -> float:
    """Check the switch and the number say what the power sensor says; return its kW."""
    kw = float(hass.states.get(home.power).state)
    assert hass.states.get(SWITCH).state == (STATE_ON if kw > 0 else STATE_OFF)
    setting = float(hass.states.get(NUMBER).state)
    if home.car and kw > 0:
        assert setting == home.setting(kw)  # the current is left alone while off
    elif not home.car:
        assert setting == home.setting(kw)
    return kw


@HOMES
async def test_follows_the_planner_through_the_night_and_a_restart(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, home: Home, anna: MockConfigEntry
) -> None:
    """Quarter by quarter from 20:00 to 07:00, the state of charge rising as charged: the
    switch on exactly while the power is above 0 and the number at the power; a restart seven
    minutes into the first charging quarter-hour switches and sets nothing; at 07:00 the
    battery is at its target."""
    log = Log(hass, home)
    soc, reduced, restarted = 40.0, set(), False
    moment = berlin(2026, 12, 3, 20, 0)
    while moment < berlin(2026, 12, 4, 7, 0):
        await travel(hass, freezer, moment + MINUTE)
        kw = follows(hass, home)
        if 0 < kw < home.power_kw:
            reduced.add(kw)
        if kw > 0 and not restarted:
            await travel(hass, freezer, moment + 7 * MINUTE)
            before = log.counts()
            await restart(hass, anna)
            assert follows(hass, home) == kw
            assert log.counts() == before
            restarted = True
        soc += kw / 4 * EFFICIENCY / CAPACITY * 100
        moment += QUARTER
        await travel(hass, freezer, moment - 5 * SECOND)
        await soc_to(hass, soc)
    assert restarted
    assert reduced  # the remainder, drawn at less than full power in one quarter-hour
    assert soc == pytest.approx(80, abs=1e-2)
    # Switched exactly when the power went above 0 and back to 0, never else.
    assert log.switched == log.power_edges
    assert len(log.power_edges) >= 2
    # The number set only when the power changed.
    assert {moment for _, moment in log.settings} <= set(log.power_changes)


@HOMES
async def test_below_the_floor_at_once_also_after_a_restart(
    hass: HomeAssistant, home: Home, anna: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """Home Assistant is down when the state of charge falls below the floor: right after the
    restart the charger runs at full power; back above the floor it follows the plan again;
    while the power is unavailable or unknown, nothing changes."""
    await automations(hass, "turn_off")
    await soc_to(hass, FLOOR - 5)
    assert float(hass.states.get(home.power).state) == home.power_kw
    assert hass.states.get(home.power).attributes["below_floor"] is True
    assert hass.states.get(SWITCH).state == STATE_OFF
    await restart(hass, anna)
    assert follows(hass, home) == home.power_kw
    await soc_to(hass, FLOOR + 5)
    assert hass.states.get(home.power).attributes["below_floor"] is False
    follows(hass, home)
    await soc_to(hass, FLOOR - 10)
    assert follows(hass, home) == home.power_kw
    # The sensor unavailable or unknown (as while the integration reloads) when the wallbox or
    # battery comes back off: nothing is done until the planner says again.
    for soc, state in ((FLOOR - 11, STATE_UNAVAILABLE), (FLOOR - 12, STATE_UNKNOWN)):
        hass.states.async_set(home.power, state)
        hass.states.async_set(SWITCH, STATE_UNAVAILABLE)
        hass.states.async_set(SWITCH, STATE_OFF)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert hass.states.get(SWITCH).state == STATE_OFF
        assert float(hass.states.get(NUMBER).state) == home.setting(home.power_kw)
        await soc_to(hass, soc)  # the planner writes its sensor again
        assert follows(hass, home) == home.power_kw
    # ... and quietly: the automation stops at its condition, before any action.
    assert not [
        record
        for record in caplog.records
        if record.name.startswith("homeassistant.components.automation")
        and record.levelname in {"WARNING", "ERROR"}
    ]
