"""Every YAML example of the READMEs and the docs pages, and every blueprint, run
against the simulator.

Each automation is loaded as the user would paste it; the tests move the clock to
its trigger and check what a homeowner would notice (the switch, the message),
with a restart of Home Assistant in the awkward place: between planning and
starting, inside a run, and while the appliance should have started. The
READMEs' automations run in an installation of their language (German
installations make German entity ids) with only the entities that are on by
default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
import re
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED, STATE_OFF, STATE_ON
from homeassistant.core import CoreState, HomeAssistant, ServiceCall, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import parse_yaml
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from custom_components.nomos_energy.const import DOMAIN
from nomos_simulator import ANALOG_CLIENT_ID, ANALOG_CLIENT_SECRET, NomosSimulator

from .conftest import ANNA, AddEntry, personal_flow
from .test_planners import add_appliance
from .timetravel import berlin, travel, walk

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
README_DE = ROOT / "README.de.md"
DOCS = ROOT / "docs"
BLUEPRINTS = ROOT / "blueprints/automation/nomos_energy"
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)
# The pasted automations keep their time triggers armed until Home Assistant stops.
pytestmark = pytest.mark.parametrize("expected_lingering_timers", [True])
DISHWASHER = "switch.dishwasher"
WALLBOX = "switch.wallbox"


@dataclass(frozen=True)
class Example:
    """A fenced YAML block of a README or a docs page."""

    path: Path
    line: int
    text: str

    @property
    def data(self) -> Any:
        return parse_yaml(self.text)

    @property
    def aliases(self) -> list[str]:
        data = self.data
        if isinstance(data, dict) and "automation" in data:
            return [automation["alias"] for automation in data["automation"]]
        return []


def examples(path: Path) -> list[Example]:
    """The fenced YAML blocks of one Markdown file."""
    text = path.read_text(encoding="utf-8")
    return [
        Example(path, text.count("\n", 0, found.start()) + 1, found.group(1))
        for found in re.finditer(r"```yaml\n(.*?)```", text, re.DOTALL)
    ]


def doc_examples() -> list[Example]:
    """The YAML blocks of every docs page."""
    return [example for page in sorted(DOCS.glob("*.md")) for example in examples(page)]


def example_with(alias: str) -> list[dict[str, Any]]:
    """The automations of the docs block that holds `alias`."""
    for example in doc_examples():
        if alias in example.aliases:
            return list(example.data["automation"])
    raise AssertionError(f"no example {alias!r} in docs/")


# What runs which docs block: every automation alias of docs/ must be listed here.
EXERCISED_AUTOMATIONS = {
    "Tomorrow's average price": "test_tomorrows_average_price",
    "Plan the dishwasher": "test_dishwasher_example_starts_on_time_across_a_restart",
    "Start the dishwasher as planned": "test_dishwasher_example_starts_on_time_across_a_restart",
    "Tomorrow's prices are out": "test_tomorrows_prices_notification_once_per_publication",
    "Last week's electricity": "test_last_weeks_electricity",
    "Open Nomos invoice": "test_open_invoice_notification_once",
    "Last month with Nomos": "test_monthly_cost_report_notification",
    "Charge in a low grid fee window when it is cheap": "test_grid_fee.py::test_charge_example",
}


@dataclass(frozen=True)
class Home:
    """An installation in one language, and the README written for it."""

    language: str
    readme: Path
    appliance: str
    appliance_switch: str
    # The entity ids Home Assistant makes in this language (from the translated names).
    ids: dict[str, str] = field(default_factory=dict)
    # The calendar's word for a cheap period in this language.
    cheap: str = ""


ENGLISH = Home(
    "en",
    README,
    "Dishwasher",
    DISHWASHER,
    {
        "run_now": "binary_sensor.dishwasher_run_now",
        "cheap_period": "binary_sensor.nomos_4x44emkx_cheap_period",
        "tomorrow_available": "binary_sensor.nomos_4x44emkx_prices_for_tomorrow_available",
        "price_calendar": "calendar.nomos_4x44emkx_prices",
    },
    "Cheap",
)
GERMAN = Home(
    "de",
    README_DE,
    "Geschirrspüler",
    "switch.geschirrspuler",
    {
        "run_now": "binary_sensor.geschirrspuler_jetzt_einschalten",
        "cheap_period": "binary_sensor.nomos_4x44emkx_gunstige_phase",
        "tomorrow_available": "binary_sensor.nomos_4x44emkx_preise_fur_morgen_verfugbar",
        "price_calendar": "calendar.nomos_4x44emkx_preise",
    },
    "Günstig",
)
HOMES = pytest.mark.parametrize("home", [ENGLISH, GERMAN], ids=["en", "de"])


def readme_automation(home: Home, entity_id: str) -> list[dict[str, Any]]:
    """The automations of the README block that uses `entity_id` (exactly one does)."""
    found = [example for example in examples(home.readme) if entity_id in example.text]
    assert len(found) == 1, (home.readme.name, entity_id)
    return list(found[0].data["automation"])


def entity_id_of(hass: HomeAssistant, domain: str, translation_key: str) -> str:
    """The id Home Assistant gave the integration's only entity with this key."""
    [entity_id] = [
        entity.entity_id
        for entity in er.async_get(hass).entities.values()
        if entity.platform == DOMAIN
        and entity.domain == domain
        and entity.translation_key == translation_key
    ]
    return entity_id


async def test_logger_example_turns_on_debug_logging(hass: HomeAssistant) -> None:
    """The troubleshooting snippet is valid configuration and does what it says."""
    import logging  # noqa: PLC0415

    config = next(example.data for example in doc_examples() if "logger" in example.data)
    ours = logging.getLogger("custom_components.nomos_energy")
    level = ours.level
    try:
        assert await async_setup_component(hass, "logger", config)
        assert ours.isEnabledFor(logging.DEBUG)
    finally:
        ours.setLevel(level)


@pytest.mark.parametrize("readme", [README, README_DE], ids=["en", "de"])
def test_readme_has_the_three_automations(readme: Path) -> None:
    """A README's examples are the three automations its tests run, one automation each."""
    blocks = examples(readme)
    assert [len(block.aliases) for block in blocks] == [1, 1, 1]
    home = ENGLISH if readme == README else GERMAN
    for key in ("run_now", "cheap_period", "tomorrow_available"):
        assert readme_automation(home, home.ids[key])
    # No id of the other language slipped in.
    other = GERMAN if home is ENGLISH else ENGLISH
    text = readme.read_text(encoding="utf-8")
    assert not [entity_id for entity_id in other.ids.values() if entity_id in text]


def test_every_docs_example_is_exercised() -> None:
    """A new docs example needs a test here; the others are actions, a response, a card."""
    found = doc_examples()
    aliases = [alias for example in found for alias in example.aliases]
    assert sorted(aliases) == sorted(EXERCISED_AUTOMATIONS)
    others = [example.data for example in found if not example.aliases]
    kinds = sorted(
        "action"
        if "action" in data
        else "dashboard"  # tests/test_docs.py checks it against the entities
        if "views" in data
        else "card"
        if "type" in data
        else "configuration"
        if "logger" in data
        else "evcc"
        if "tariffs" in data
        else "script"  # test_planner_settings.py::test_the_docs_script_plans_for_one_oclock
        if "script" in data
        else "response"
        for data in others
    )
    assert kinds == [
        "action",
        "action",
        "card",
        "configuration",
        "dashboard",
        "dashboard",
        "evcc",
        "response",
        "response",
        "script",
    ]
    # The evcc snippet and the chart card read the price feed, with the attributes it has.
    evcc = next(data for data in others if "tariffs" in data)
    forecast = evcc["tariffs"]["grid"]["forecast"]
    assert forecast["uri"].endswith("/api/states/sensor.nomos_4x44emkx_price_feed")
    assert ".attributes.raw_today[]" in forecast["jq"]
    card = next(data for data in others if data.get("type") == "custom:apexcharts-card")
    assert card["series"][0]["entity"] == "sensor.nomos_4x44emkx_price_feed"
    assert "raw_tomorrow" in card["series"][0]["data_generator"]
    assert {example["action"] for example in others if "action" in example} == {
        "nomos_energy.import_statistics",
        "nomos_energy.submit_meter_reading",
    }


# The homeowner's switches: each a plain switch that remembers its state in a boolean.
SWITCHES = {
    DISHWASHER: "Dishwasher",
    GERMAN.appliance_switch: "Geschirrspüler",
    WALLBOX: "Wallbox",
}


@pytest.fixture
async def berlin_home(hass: HomeAssistant) -> None:
    """A Home Assistant in Berlin, with a dishwasher (also a German one) and a wallbox."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    booleans = {entity_id: f"{entity_id.split('.')[1]}_power" for entity_id in SWITCHES}
    assert await async_setup_component(
        hass,
        "input_boolean",
        {"input_boolean": {boolean: {} for boolean in booleans.values()}},
    )
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {
                    "switch": [
                        {
                            # Optimistic (no state template): on the moment it is switched.
                            "name": name,
                            "turn_on": {
                                "action": "input_boolean.turn_on",
                                "target": {"entity_id": f"input_boolean.{booleans[entity_id]}"},
                            },
                            "turn_off": {
                                "action": "input_boolean.turn_off",
                                "target": {"entity_id": f"input_boolean.{booleans[entity_id]}"},
                            },
                        }
                        for entity_id, name in SWITCHES.items()
                    ]
                }
            ]
        },
    )
    assert await async_setup_component(
        hass,
        "input_datetime",
        {
            "input_datetime": {
                name: {"has_date": True, "has_time": True}
                for name in ("dishwasher_start", "dishwasher_end")
            }
        },
    )
    await hass.async_block_till_done()
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": list(SWITCHES)}, blocking=True
    )
    await hass.async_block_till_done()
    assert all(hass.states.get(entity_id).state == STATE_OFF for entity_id in SWITCHES)


@pytest.fixture
def notifications(hass: HomeAssistant) -> list[ServiceCall]:
    return async_mock_service(hass, "notify", "notify")


class SwitchLog:
    """When a switch (the dishwasher unless told) switched, as seen from its state changes."""

    def __init__(self, hass: HomeAssistant, entity_id: str = DISHWASHER) -> None:
        self.hass = hass
        self.entity_id = entity_id
        self.changes: list[tuple[str, datetime]] = []
        hass.bus.async_listen("state_changed", self._changed)

    @callback
    def _changed(self, event: Any) -> None:
        if event.data["entity_id"] == self.entity_id and event.data["new_state"] is not None:
            new = event.data["new_state"]
            if event.data["old_state"] is None or event.data["old_state"].state != new.state:
                self.changes.append((new.state, new.last_changed))

    def switched(self, to: str) -> list[datetime]:
        return [moment for state, moment in self.changes if state == to]


async def load_automations(hass: HomeAssistant, automations: list[dict[str, Any]]) -> None:
    assert await async_setup_component(hass, "automation", {"automation": automations})
    await hass.async_block_till_done()


async def restart(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """As close to a restart as one process allows: the entry and every automation start
    again while Home Assistant is starting (helpers keep their restored state)."""
    await automations(hass, "turn_off")
    hass.set_state(CoreState.starting)
    await hass.config_entries.async_reload(entry.entry_id)
    if not hasattr(hass, "async_add_startup_job"):
        # Before 2026.10 automations armed for a start wait for "started" while not running.
        hass.set_state(CoreState.not_running)
    await automations(hass, "turn_on")
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done(wait_background_tasks=True)
    hass.set_state(CoreState.running)
    await hass.async_block_till_done(wait_background_tasks=True)


async def automations(hass: HomeAssistant, action: str) -> None:
    await hass.services.async_call("automation", action, {"entity_id": "all"}, blocking=True)


async def cheapest_window(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, "find_cheapest_window", data, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    return response


async def test_dishwasher_example_starts_on_time_across_a_restart(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    berlin_home: None,
) -> None:
    """Planned at 22:00, started at the planned quarter-hour though HA restarted in between."""
    freezer.move_to(berlin(2026, 11, 29, 21, 50))
    entry = await add_entry(ANNA)
    switch = SwitchLog(hass)
    await load_automations(hass, example_with("Plan the dishwasher"))
    await travel(hass, freezer, berlin(2026, 11, 29, 22, 0))
    expected = await cheapest_window(
        hass, duration="02:00:00", latest_end=berlin(2026, 11, 30, 7, 0).isoformat()
    )
    start = datetime.fromisoformat(expected["start"])
    planned = hass.states.get("input_datetime.dishwasher_start")
    assert planned.attributes["timestamp"] == start.timestamp()
    # Home Assistant restarts an hour before the start.
    await walk(hass, freezer, start - timedelta(hours=1), MINUTE * 15)
    await restart(hass, entry)
    await walk(hass, freezer, start + 2 * MINUTE, MINUTE)
    assert switch.switched(STATE_ON) == [start]
    assert hass.states.get(DISHWASHER).state == STATE_ON


async def test_blueprint_runs_the_appliance_in_the_window_across_restarts(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    berlin_home: None,
    tmp_path: Path,
) -> None:
    """On at the window's start, off at its end; a restart inside the run changes nothing;
    a restart after a missed start (HA was down) starts the appliance at once."""
    freezer.move_to(berlin(2026, 11, 29, 19, 50))
    entry = await add_entry(ANNA)
    switch = SwitchLog(hass)
    await use_blueprints(hass, tmp_path)
    await load_automations(hass, [blueprint_automation(hass, "20:00:00")])
    await travel(hass, freezer, berlin(2026, 11, 29, 20, 0))
    window = await cheapest_window(
        hass, duration="02:00:00", latest_end=berlin(2026, 11, 30, 7, 0).isoformat()
    )
    start, end = (datetime.fromisoformat(window[key]) for key in ("start", "end"))
    assert hass.states.get("input_datetime.dishwasher_start").attributes["timestamp"] == (
        start.timestamp()
    )
    assert hass.states.get("input_datetime.dishwasher_end").attributes["timestamp"] == (
        end.timestamp()
    )
    await walk(hass, freezer, start - timedelta(minutes=30), MINUTE * 15)
    await restart(hass, entry)
    await walk(hass, freezer, start + timedelta(hours=1), MINUTE)
    await restart(hass, entry)  # in the middle of the run: no second start, no stop
    await walk(hass, freezer, end + MINUTE, MINUTE)
    assert switch.switched(STATE_ON) == [start]
    assert switch.switched(STATE_OFF) == [end]

    # The next night Home Assistant is down when the window begins.
    await travel(hass, freezer, berlin(2026, 11, 30, 20, 0))
    start = datetime.fromtimestamp(
        hass.states.get("input_datetime.dishwasher_start").attributes["timestamp"], tz=dt_util.UTC
    )
    assert start > berlin(2026, 11, 30, 20, 0)
    await automations(hass, "turn_off")
    await walk(hass, freezer, start + timedelta(minutes=20), MINUTE * 5)
    assert hass.states.get(DISHWASHER).state == STATE_OFF
    await restart(hass, entry)
    assert hass.states.get(DISHWASHER).state == STATE_ON


async def use_blueprints(hass: HomeAssistant, config_dir: Path) -> None:
    """Install the repository's blueprints where Home Assistant looks for them."""
    hass.config.config_dir = str(config_dir)
    shutil.copytree(BLUEPRINTS, config_dir / "blueprints/automation/nomos_energy")


def anna_device(hass: HomeAssistant) -> str:
    registry = dr.async_get(hass)
    return next(
        device.id
        for entry in hass.config_entries.async_entries(DOMAIN)
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
        if device.serial_number == "4X44EMKX"
    )


def blueprint_automation(hass: HomeAssistant, plan_at: str) -> dict[str, Any]:
    return {
        "alias": "Dishwasher in the cheapest window",
        "use_blueprint": {
            "path": "nomos_energy/run_in_cheapest_window.yaml",
            "input": {
                "nomos_device": anna_device(hass),
                "appliance": DISHWASHER,
                "start_helper": "input_datetime.dishwasher_start",
                "end_helper": "input_datetime.dishwasher_end",
                "plan_at": plan_at,
                "deadline": "07:00:00",
                "duration": {"hours": 2, "minutes": 0, "seconds": 0},
                "turn_off": True,
            },
        },
    }


async def test_tomorrows_average_price(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    berlin_home: None,
    notifications: list[ServiceCall],
) -> None:
    """At 18:00 the message has tomorrow's average of the hourly prices."""
    freezer.move_to(berlin(2026, 11, 29, 17, 0))
    await add_entry(ANNA)
    await load_automations(hass, example_with("Tomorrow's average price"))
    await travel(hass, freezer, berlin(2026, 11, 29, 18, 0))
    sub = next(sub for sub in simulator.subscriptions.values() if sub.number == "4X44EMKX")
    quarters = [
        sub.price_item(berlin(2026, 11, 30, 0, 0) + i * timedelta(minutes=15))["amount"]
        for i in range(96)
    ]
    assert len(notifications) == 1
    assert notifications[0].data["message"].strip() == (
        f"Tomorrow averages {round(sum(quarters) / 96, 1)} ct/kWh."
    )


async def test_tomorrows_prices_notification_once_per_publication(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    berlin_home: None,
    tmp_path: Path,
) -> None:
    """The README example and the blueprint each tell once; a restart tells nothing new."""
    phone = async_mock_service(hass, "notify", "mobile_app_phone")
    freezer.move_to(berlin(2026, 11, 29, 12, 0))
    entry = await add_entry(ANNA)
    await use_blueprints(hass, tmp_path)
    await load_automations(
        hass,
        [
            *example_with("Tomorrow's prices are out"),
            {
                "alias": "Tomorrow's prices (blueprint)",
                "use_blueprint": {
                    "path": "nomos_energy/notify_tomorrow_prices.yaml",
                    "input": {
                        "tomorrow_event": "event.nomos_4x44emkx_prices_for_tomorrow",
                        "nomos_device": anna_device(hass),
                        "notify_action": "notify.mobile_app_phone",
                    },
                },
            },
        ],
    )
    await walk(hass, freezer, berlin(2026, 11, 29, 17, 0))
    assert len(phone) == 2
    assert {"Nomos prices for tomorrow"} == {
        call.data["title"] for call in phone if "title" in call.data
    }
    await restart(hass, entry)
    await walk(hass, freezer, berlin(2026, 11, 29, 20, 0))
    assert len(phone) == 2


async def test_last_weeks_electricity(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    berlin_home: None,
    notifications: list[ServiceCall],
) -> None:
    """Monday 18:00: last week's kWh and cost, the sums of what Nomos measured."""
    freezer.move_to(berlin(2026, 11, 30, 17, 0))  # a Monday
    await add_entry(ANNA)
    await load_automations(hass, example_with("Last week's electricity"))
    await travel(hass, freezer, berlin(2026, 11, 30, 18, 0))
    week = await hass.services.async_call(
        DOMAIN,
        "get_consumption",
        {"start": "2026-11-23", "end": "2026-11-30", "resolution": "15min"},
        blocking=True,
        return_response=True,
    )
    assert isinstance(week, dict)
    kwh = sum(period["kwh"] for period in week["periods"])
    cost = sum(period["cost"] for period in week["periods"])
    assert len(notifications) == 1
    assert " ".join(notifications[0].data["message"].split()) == (
        f"Last week: {round(kwh, 1)} kWh, {round(cost, 2)} EUR."
    )


@pytest.fixture
def supplied_since_october(simulator: NomosSimulator) -> None:
    """Anna's supply started on 1 October: the first import is two months, not two years."""
    anna = next(sub for sub in simulator.subscriptions.values() if sub.number == "4X44EMKX")
    anna.start_at = berlin(2026, 10, 1, 0, 0)


@pytest.mark.energy_import
async def test_open_invoice_notification_once(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    berlin_home: None,
    notifications: list[ServiceCall],
    supplied_since_october: None,
) -> None:
    """November's invoice arrives on 4 December: one message; a restart is not a new invoice."""
    freezer.move_to(berlin(2026, 12, 3, 18, 0))
    entry = await add_entry(ANNA)
    status = "sensor.nomos_4x44emkx_invoice_status"
    assert hass.states.get(status).state == "paid"
    await load_automations(hass, example_with("Open Nomos invoice"))
    await walk(hass, freezer, berlin(2026, 12, 4, 20, 0))
    assert hass.states.get(status).state == "open"
    assert [call.data["message"].strip() for call in notifications] == [
        "Nomos invoice 4X44EMKX-002: "
        f"{hass.states.get('sensor.nomos_4x44emkx_latest_invoice').state} EUR is open."
    ]
    await restart(hass, entry)
    assert len(notifications) == 1


def doc_action(name: str) -> dict[str, Any]:
    return next(
        example.data
        for example in doc_examples()
        if isinstance(example.data, dict) and example.data.get("action") == f"{DOMAIN}.{name}"
    )


@pytest.mark.energy_import
async def test_import_statistics_example(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    supplied_since_october: None,
) -> None:
    """Re-importing from 1 October reaches the newest day and reports its hours."""
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    await add_entry(ANNA)
    example = doc_action("import_statistics")
    response = await hass.services.async_call(
        DOMAIN, "import_statistics", example["data"], blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    assert response["start"] == example["data"]["start"]
    assert response["hours"] == (31 + 28) * 24 + 1  # to 28 November; the DST night has 25


async def test_submit_meter_reading_example(
    hass: HomeAssistant, simulator: NomosSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """The reading example is accepted for an analog meter with writing credentials."""
    freezer.move_to(berlin(2026, 11, 29, 10, 0))
    result = await personal_flow(hass, ANALOG_CLIENT_ID, ANALOG_CLIENT_SECRET)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    example = doc_action("submit_meter_reading")
    response = await hass.services.async_call(
        DOMAIN, "submit_meter_reading", example["data"], blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    assert response["value"] == example["data"]["value"]


async def test_planner_blueprint_follows_run_now_across_a_restart(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    berlin_home: None,
    tmp_path: Path,
) -> None:
    """The dishwasher follows its planner: on in the planned quarter-hours, off after,
    and a restart in the middle of the run neither stops it nor starts it twice."""
    # A second past the minute: the quarter-hour tick fires within a second of it.
    freezer.move_to(berlin(2026, 11, 29, 20, 0) + SECOND)
    entry = await add_entry(ANNA)
    await add_appliance(hass, entry)
    switch = SwitchLog(hass)
    await use_blueprints(hass, tmp_path)
    await load_automations(
        hass,
        [
            {
                "alias": "Dishwasher follows its planner",
                "use_blueprint": {
                    "path": "nomos_energy/run_when_planner_says.yaml",
                    "input": {
                        "run_now": "binary_sensor.dishwasher_run_now",
                        "appliance": DISHWASHER,
                    },
                },
            }
        ],
    )
    segment = hass.states.get("binary_sensor.dishwasher_run_now").attributes["segments"][0]
    start, end = (datetime.fromisoformat(segment[key]) for key in ("start", "end"))
    await walk(hass, freezer, start + timedelta(minutes=30) + SECOND, MINUTE * 5)
    await restart(hass, entry)
    assert hass.states.get(DISHWASHER).state == STATE_ON
    await walk(hass, freezer, end + MINUTE, MINUTE * 5)
    assert switch.switched(STATE_ON) == [start + SECOND]
    assert switch.switched(STATE_OFF) == [end + SECOND]


async def test_cheap_period_blueprint_charges_in_every_cheap_period(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    berlin_home: None,
    tmp_path: Path,
) -> None:
    """The charger is on exactly while a cheap period runs; a restart after a missed start
    (Home Assistant was down) switches it on."""
    freezer.move_to(berlin(2026, 11, 29, 16, 0))
    entry = await add_entry(ANNA)
    cheap = "binary_sensor.nomos_4x44emkx_cheap_period"
    await use_blueprints(hass, tmp_path)
    await load_automations(
        hass,
        [
            {
                "alias": "Charge cheaply",
                "use_blueprint": {
                    "path": "nomos_energy/charge_in_cheap_periods.yaml",
                    "input": {"cheap_period": cheap, "charger": DISHWASHER},
                },
            }
        ],
    )
    await follows_across_a_missed_start(hass, freezer, entry, cheap, DISHWASHER)


async def follows_across_a_missed_start(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    cheap: str,
    switch: str,
) -> set[str]:
    """Home Assistant is down when the cheap period begins: the restart turns `switch` on,
    and from then on it follows the period quarter by quarter until 14:00 the next day.
    Returns the period's states seen on the way."""
    first_start = dt_util.parse_datetime(hass.states.get(cheap).attributes["start"])
    assert first_start is not None
    await automations(hass, "turn_off")
    await walk(hass, freezer, first_start + timedelta(minutes=20))
    assert hass.states.get(cheap).state == STATE_ON
    assert hass.states.get(switch).state == STATE_OFF
    await restart(hass, entry)
    assert hass.states.get(switch).state == STATE_ON
    seen = set()
    moment = first_start + timedelta(minutes=30, seconds=1)
    while moment < berlin(2026, 11, 30, 14, 0):
        await travel(hass, freezer, moment)
        seen.add(hass.states.get(cheap).state)
        assert hass.states.get(switch).state == hass.states.get(cheap).state, moment
        moment += timedelta(minutes=15)
    return seen


async def test_heat_pump_blueprint_turns_down_in_expensive_periods(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    berlin_home: None,
    tmp_path: Path,
) -> None:
    """19 °C while an expensive period runs, 21 °C otherwise, also right after a restart."""
    freezer.move_to(berlin(2026, 11, 29, 16, 0))
    entry = await add_entry(ANNA)
    hass.states.async_set("sensor.living_room", "20.5", {"unit_of_measurement": "°C"})
    assert await async_setup_component(
        hass,
        "climate",
        {
            "climate": {
                "platform": "generic_thermostat",
                "name": "Heat pump",
                "heater": DISHWASHER,
                "target_sensor": "sensor.living_room",
                "target_temp": 20,
            }
        },
    )
    await hass.async_block_till_done()
    expensive = "binary_sensor.nomos_4x44emkx_expensive_period"
    await use_blueprints(hass, tmp_path)
    await load_automations(
        hass,
        [
            {
                "alias": "Heat pump and prices",
                "use_blueprint": {
                    "path": "nomos_energy/heat_pump_expensive_periods.yaml",
                    "input": {"expensive_period": expensive, "thermostat": "climate.heat_pump"},
                },
            }
        ],
    )
    await restart(hass, entry)
    seen = set()
    moment = berlin(2026, 11, 29, 16, 15) + SECOND
    while moment < berlin(2026, 11, 30, 14, 0):
        await travel(hass, freezer, moment)
        running = hass.states.get(expensive).state == STATE_ON
        seen.add(running)
        target = hass.states.get("climate.heat_pump").attributes["temperature"]
        assert target == (19 if running else 21), moment
        moment += timedelta(minutes=15)
    assert seen == {True, False}


@pytest.mark.energy_import
async def test_monthly_cost_report_notification(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    berlin_home: None,
    notifications: list[ServiceCall],
    supplied_since_october: None,
) -> None:
    """On the 5th at 19:00: last month's kWh, cost, prices, benefit and invoice in one message."""
    freezer.move_to(berlin(2026, 12, 5, 18, 0))
    await add_entry(ANNA)
    await load_automations(hass, example_with("Last month with Nomos"))
    await travel(hass, freezer, berlin(2026, 12, 5, 19, 0))
    report = await hass.services.async_call(
        DOMAIN, "get_cost_report", {}, blocking=True, return_response=True
    )
    assert isinstance(report, dict)
    assert len(notifications) == 1
    message = " ".join(notifications[0].data["message"].split())
    assert message.startswith(f"2026-11: {round(report['kwh'])}")
    assert f"{round(report['cost'], 2)} EUR" in message
    assert f"Invoice {report['invoice']['number']}: {report['invoice']['total']} EUR." in message
    assert "differ from the meter" not in message


# The READMEs' three automations, each in an installation of the README's language ---


async def set_up_home(
    hass: HomeAssistant, home: Home, add_entry: AddEntry, *, appliance: bool = False
) -> MockConfigEntry:
    """Add Anna's account in the home's language (entity ids follow it), as a new user would."""
    hass.config.language = home.language
    entry = await add_entry(ANNA)
    if appliance:
        await add_appliance(hass, entry, name=home.appliance)
    return entry


@HOMES
@pytest.mark.default_entities
async def test_readme_dishwasher_follows_its_planner(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    berlin_home: None,
    home: Home,
) -> None:
    """On in the planned quarter-hours, off after; a restart inside the run keeps it on."""
    freezer.move_to(berlin(2026, 11, 29, 20, 0) + SECOND)
    entry = await set_up_home(hass, home, add_entry, appliance=True)
    run_now = entity_id_of(hass, "binary_sensor", "run_now")
    assert run_now == home.ids["run_now"]
    switch = SwitchLog(hass, home.appliance_switch)
    await load_automations(hass, readme_automation(home, run_now))
    segment = hass.states.get(run_now).attributes["segments"][0]
    start, end = (datetime.fromisoformat(segment[key]) for key in ("start", "end"))
    await walk(hass, freezer, start + timedelta(minutes=30) + SECOND, MINUTE * 5)
    assert hass.states.get(home.appliance_switch).state == STATE_ON
    await restart(hass, entry)
    assert hass.states.get(home.appliance_switch).state == STATE_ON
    await walk(hass, freezer, end + MINUTE, MINUTE * 5)
    assert switch.switched(STATE_ON) == [start + SECOND]
    assert switch.switched(STATE_OFF) == [end + SECOND]


@HOMES
@pytest.mark.default_entities
async def test_readme_charging_in_cheap_periods(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    berlin_home: None,
    home: Home,
) -> None:
    """The wallbox is on exactly while a cheap period runs, also after a restart that
    missed the start (Home Assistant was down)."""
    freezer.move_to(berlin(2026, 11, 29, 16, 0))
    entry = await set_up_home(hass, home, add_entry)
    cheap = entity_id_of(hass, "binary_sensor", "cheap_period")
    assert cheap == home.ids["cheap_period"]
    await load_automations(hass, readme_automation(home, cheap))
    seen = await follows_across_a_missed_start(hass, freezer, entry, cheap, WALLBOX)
    assert seen == {STATE_ON, STATE_OFF}


@HOMES
@pytest.mark.default_entities
async def test_readme_tomorrows_periods_message(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    berlin_home: None,
    notifications: list[ServiceCall],
    home: Home,
) -> None:
    """Once tomorrow's prices are out: one message with tomorrow's periods from the
    calendar, in the home's language; a restart sends no second one."""
    freezer.move_to(berlin(2026, 11, 29, 12, 0))
    entry = await set_up_home(hass, home, add_entry)
    available = entity_id_of(hass, "binary_sensor", "tomorrow_available")
    calendar = entity_id_of(hass, "calendar", "price_calendar")
    assert (available, calendar) == (home.ids["tomorrow_available"], home.ids["price_calendar"])
    automation = readme_automation(home, available)
    assert calendar in str(automation)
    await load_automations(hass, automation)
    await walk(hass, freezer, berlin(2026, 11, 29, 17, 0))
    assert hass.states.get(available).state == STATE_ON
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": calendar,
            "start_date_time": berlin(2026, 11, 30, 0, 0),
            "end_date_time": berlin(2026, 12, 1, 0, 0),
        },
        blocking=True,
        return_response=True,
    )
    assert isinstance(response, dict)
    events = response[calendar]["events"]
    assert any(event["summary"].startswith(home.cheap) for event in events)
    assert len(notifications) == 1
    message = notifications[0].data["message"]
    for event in events:
        start = dt_util.as_local(datetime.fromisoformat(event["start"]))
        end = dt_util.as_local(datetime.fromisoformat(event["end"]))
        assert f"{start:%H:%M}\u2013{end:%H:%M}" in message
        assert event["summary"] in message
    await restart(hass, entry)
    await walk(hass, freezer, berlin(2026, 11, 29, 20, 0))
    assert len(notifications) == 1
