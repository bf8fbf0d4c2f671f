"""What the event, the planner buttons and the devices tell a user, in their zone and language."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
import re
import shutil

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.nomos_energy.const import DOMAIN

from .conftest import ANNA, DAVID, AddEntry
from .test_planners import add_appliance
from .timetravel import berlin, walk

EVENT = "event.nomos_4x44emkx_prices_for_tomorrow"
BLUEPRINTS = Path(__file__).parents[1] / "blueprints/automation/nomos_energy"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize(
    ("time_zone", "offset"), [("Europe/Berlin", 1), ("America/New_York", -5), ("UTC", 0)]
)
async def test_tomorrow_prices_event_times_are_in_home_assistants_zone(
    hass: HomeAssistant,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    time_zone: str,
    offset: int,
) -> None:
    """The cheapest and dearest quarter-hours of tomorrow, in the zone the user set."""
    await hass.config.async_set_time_zone(time_zone)
    freezer.move_to(berlin(2026, 11, 29, 12, 0))
    await add_entry(ANNA)
    await walk(hass, freezer, berlin(2026, 11, 29, 17, 0))
    attributes = hass.states.get(EVENT).attributes
    assert attributes["event_type"] == "published"
    assert attributes["date"] == "2026-11-30"
    tomorrow = await hass.services.async_call(
        DOMAIN,
        "get_prices",
        {
            "start": berlin(2026, 11, 30, 0, 0).isoformat(),
            "end": berlin(2026, 12, 1, 0, 0).isoformat(),
        },
        blocking=True,
        return_response=True,
    )
    assert isinstance(tomorrow, dict)
    price_at = {datetime.fromisoformat(item["start"]): item["price"] for item in tomorrow["prices"]}
    for key, best in (("min_price_at", min), ("max_price_at", max)):
        moment = datetime.fromisoformat(attributes[key])
        assert moment.utcoffset() == timedelta(hours=offset), attributes[key]
        assert price_at[moment] == best(price_at.values())


async def test_the_plan_button_is_named_for_its_mode(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A daily planner plans again; a "within N hours" planner plans a run from now on.

    Both buttons keep the unique id they always had.
    """
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 11, 29, 20, 0))
    entry = await add_entry(ANNA)
    await add_appliance(hass, entry)
    await add_appliance(
        hass, entry, name="Car", deadline_mode="within", within_hours=10, may_pause=True
    )
    registry = er.async_get(hass)
    named = {
        entity.entity_id: (entity.translation_key, entity.unique_id.rsplit("-", 1)[1])
        for entity in er.async_entries_for_config_entry(registry, entry.entry_id)
        if entity.domain == "button"
    }
    assert named == {
        "button.dishwasher_plan_again": ("replan", "replan"),
        "button.dishwasher_skip_next_run": ("skip", "skip"),
        "button.car_plan_a_run_now": ("plan_now", "replan"),
        "button.car_skip_next_run": ("skip", "skip"),
    }
    assert hass.states.get("button.car_plan_a_run_now").name == "Car Plan a run now"


async def test_device_models_and_names_in_german(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A German Home Assistant shows German device models and German entity names."""
    hass.config.language = "de"
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 11, 29, 20, 0))
    anna = await add_entry(ANNA)
    await add_appliance(hass, anna, name="Spülmaschine")
    await add_appliance(
        hass, anna, name="Auto", deadline_mode="within", within_hours=10, may_pause=True
    )
    david = await add_entry(DAVID)
    devices = dr.async_get(hass)
    models = {
        device.name: device.model
        for entry in (anna, david)
        for device in dr.async_entries_for_config_entry(devices, entry.entry_id)
    }
    assert models.pop("Nomos 4X44EMKX") == "Dynamischer Stromtarif, intelligentes Messsystem"
    assert models.pop("Spülmaschine") == models.pop("Auto") == "Planer für ein Haushaltsgerät"
    assert list(models.values()) == ["Dynamischer Stromtarif, analoger Zähler"]  # David's
    assert hass.states.get("button.spulmaschine_neu_planen").name == "Spülmaschine Neu planen"
    assert hass.states.get("button.auto_durchlauf_jetzt_planen") is not None
    assert hass.states.get("binary_sensor.spulmaschine_jetzt_einschalten") is not None


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_german_blueprint_tells_tomorrows_prices_in_german(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """The German twin of the notification blueprint writes German, with decimal commas."""
    hass.config.language = "de"
    await hass.config.async_set_time_zone("Europe/Berlin")
    phone = async_mock_service(hass, "notify", "mobile_app_handy")
    freezer.move_to(berlin(2026, 11, 29, 12, 0))
    entry = await add_entry(ANNA)
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(BLUEPRINTS, tmp_path / "blueprints/automation/nomos_energy")
    device = next(
        device.id
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if device.serial_number == "4X44EMKX"
    )
    tomorrow_event = "event.nomos_4x44emkx_preise_fur_morgen"
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "alias": "Preise für morgen",
                    "use_blueprint": {
                        "path": "nomos_energy/notify_tomorrow_prices_de.yaml",
                        "input": {
                            "tomorrow_event": tomorrow_event,
                            "nomos_device": device,
                            "notify_action": "notify.mobile_app_handy",
                        },
                    },
                }
            ]
        },
    )
    await walk(hass, freezer, berlin(2026, 11, 29, 17, 0))
    assert len(phone) == 1
    assert phone[0].data["title"] == "Nomos-Preise für morgen"
    message = " ".join(phone[0].data["message"].split())
    lowest = hass.states.get(tomorrow_event).attributes["min_price"] * 100
    assert message.startswith(f"{lowest:.1f}".replace(".", ",") + " bis ")
    assert re.search(r"Günstigste Stunden: (\d\d:\d\d Uhr \(\d+,\d ct\)(, )?){3}\.$", message)
