"""A car charged to its target by a time: the homeowner's view through Home Assistant.

The state of charge comes from another integration (here a plain sensor state); the
planner turns the gap to the target into the cheapest quarter-hours before the deadline,
says the power to draw in each, plans again when the state of charge leaves the plan,
charges right away below the safety floor, and keeps its plan across a restart.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nomos_energy.charge_target import quarters_for

from .conftest import ANNA, HANNA, AddEntry, save_options
from .test_planners import add_appliance
from .timetravel import QUARTER, berlin, travel

SOC = "sensor.car_battery"
POWER = "sensor.car_charging_power_now"
RUN_NOW = "binary_sensor.car_run_now"
TARGET = "number.car_target_state_of_charge"
CAPACITY, EFFICIENCY, KW = 60.0, 0.9, 11.0


async def add_charger(
    hass: HomeAssistant, entry: MockConfigEntry, **advanced: Any
) -> dict[str, Any]:
    """Add a car through "Add appliance" > "Charge a car or battery by a time", as in the UI."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "appliance"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "charge"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "charge"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            "soc_entity": SOC,
            "capacity_kwh": CAPACITY,
            "deadline": "07:00:00",
            "advanced": {"name": "Car", "target_soc": 80, "power_kw": KW, "efficiency": 90}
            | advanced,
        },
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    return dict(result)


def energy_for(soc: float, target: float = 80) -> float:
    return max(0.0, target - soc) / 100 * CAPACITY / EFFICIENCY


async def set_soc(hass: HomeAssistant, soc: float) -> None:
    hass.states.async_set(SOC, str(soc), {"unit_of_measurement": "%"})
    await hass.async_block_till_done()


def plan_of(hass: HomeAssistant) -> dict[str, Any]:
    return dict(hass.states.get(RUN_NOW).attributes)


def planned_quarters(plan: dict[str, Any]) -> list[datetime]:
    found = []
    for segment in plan["segments"]:
        moment = datetime.fromisoformat(segment["start"])
        while moment < datetime.fromisoformat(segment["end"]):
            found.append(moment)
            moment += QUARTER
    return found


@pytest.fixture
async def anna(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> MockConfigEntry:
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 12, 3, 20, 0))  # a Thursday evening: tomorrow's prices known
    hass.states.async_set(SOC, "40", {"unit_of_measurement": "%"})
    return await add_entry(ANNA)


async def test_the_car_charges_to_its_target_in_the_cheapest_quarter_hours(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """40 % to 80 % of 60 kWh by 07:00: the cheapest quarter-hours before it, full power in all
    but the dearest of them, exactly the energy needed; charging as planned (the state of charge
    rising) never moves the plan; at 07:00 the car is at 80 %."""
    result = await add_charger(hass, anna, charge_now_below=20)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    registry = er.async_get(hass)
    assert registry.async_get(TARGET).entity_category == "config"
    assert hass.states.get(TARGET).state == "80.0"
    assert hass.states.get("select.car_program") is None  # a charge follows no program
    assert hass.states.get("number.car_run_time") is None  # its run time follows the charge
    plan = plan_of(hass)
    assert plan["reason"] == "cheapest"
    assert plan["deadline"] == "2026-12-04T07:00:00+01:00"
    chosen = planned_quarters(plan)
    assert len(chosen) == quarters_for(energy_for(40), KW)
    # The cheapest quarter-hours of the night (the simulator's prices, as Home Assistant has them).
    schedule = anna.runtime_data.prices.schedule(
        next(iter(anna.runtime_data.planners.planners.values())).subscription_id
    )
    night = [
        i
        for i in schedule.between(berlin(2026, 12, 3, 20, 0), berlin(2026, 12, 4, 7, 0))
        if i.price_ct is not None
    ]
    cheapest = sorted(night, key=lambda i: (i.price_ct, i.start))[: len(chosen)]
    assert sum(i.price_ct for i in cheapest) == pytest.approx(
        sum(i.price_ct for i in night if dt_util.as_local(i.start) in chosen)
    )
    soc, drawn = 40.0, 0.0
    moment = berlin(2026, 12, 3, 20, 0)
    while moment < berlin(2026, 12, 4, 7, 0):
        await travel(hass, freezer, moment + timedelta(minutes=1))
        kw = float(hass.states.get(POWER).state)
        assert (hass.states.get(RUN_NOW).state == STATE_ON) is (kw > 0)
        drawn += kw / 4
        soc += kw / 4 * EFFICIENCY / CAPACITY * 100
        moment += QUARTER
        await travel(hass, freezer, moment - timedelta(seconds=5))
        await set_soc(hass, soc)  # the car reports its new state of charge
        # Charging as planned: the plan stays (until the target is reached and it goes).
        assert not plan_of(hass)["planned"] or planned_quarters(plan_of(hass)) == chosen
    assert drawn == pytest.approx(energy_for(40), abs=1e-3)  # the sensor says 3 decimals
    assert soc == pytest.approx(80, abs=1e-3)
    assert hass.states.get(POWER).attributes["energy_to_charge"] == pytest.approx(0, abs=1e-3)


async def test_driven_plugged_in_full_and_below_the_floor(
    hass: HomeAssistant, anna: MockConfigEntry
) -> None:
    """Driven to 20 %: more quarter-hours; charged elsewhere to 85 %: no plan and no power;
    at 10 %, below the 20 % floor: full power right away, the plan covering 20-80 %."""
    await add_charger(hass, anna, charge_now_below=20)
    before = planned_quarters(plan_of(hass))
    await set_soc(hass, 20)
    assert len(planned_quarters(plan_of(hass))) == quarters_for(energy_for(20), KW) > len(before)
    await set_soc(hass, 85)
    assert not plan_of(hass)["planned"]
    assert hass.states.get(POWER).state == "0.0"
    assert hass.states.get(RUN_NOW).state == STATE_OFF
    await set_soc(hass, 10)
    assert float(hass.states.get(POWER).state) == KW
    assert hass.states.get(RUN_NOW).state == STATE_ON
    assert hass.states.get(POWER).attributes["below_floor"] is True
    assert len(planned_quarters(plan_of(hass))) == quarters_for(energy_for(20), KW)
    # Unavailable for a while (the car's cloud is down), or nonsense: the plan stays as it is.
    plan = plan_of(hass)
    for nonsense in ("unavailable", "nan", "inf"):
        hass.states.async_set(SOC, nonsense)
        await hass.async_block_till_done()
        assert plan_of(hass) == plan


async def test_the_target_from_the_dashboard_and_a_restart_mid_charge(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """100 % instead of 80 %: planned again at once, without a reload, kept in the appliance;
    a restart in the middle of a charging quarter-hour keeps charging as planned."""
    await add_charger(hass, anna)
    runtime = anna.runtime_data
    await hass.services.async_call(
        "number", "set_value", {"entity_id": TARGET, "value": 100}, blocking=True
    )
    await hass.async_block_till_done()
    assert anna.runtime_data is runtime
    assert hass.states.get(TARGET).state == "100.0"
    assert next(iter(anna.subentries.values())).data["target_soc"] == 100
    chosen = planned_quarters(plan_of(hass))
    assert len(chosen) == quarters_for(energy_for(40, 100), KW)
    await travel(hass, freezer, chosen[0] + timedelta(minutes=5))
    power = hass.states.get(POWER).state
    assert float(power) > 0
    # Back to 80 % while charging (5 minutes in): the charge under way follows at once, this
    # quarter-hour going on and fewer after it.
    soc = 40 + KW * 5 / 60 * EFFICIENCY / CAPACITY * 100
    await set_soc(hass, soc)
    await hass.services.async_call(
        "number", "set_value", {"entity_id": TARGET, "value": 80}, blocking=True
    )
    await hass.async_block_till_done()
    fewer = planned_quarters(plan_of(hass))
    assert fewer[0] == chosen[0]
    assert len(fewer) == 1 + quarters_for(energy_for(soc) - KW * 10 / 60, KW)
    assert len(fewer) < len(chosen)
    chosen = fewer
    await hass.config_entries.async_reload(anna.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(POWER).state == power
    assert planned_quarters(plan_of(hass)) == chosen


async def test_a_dishwashers_run_time_from_the_dashboard(
    hass: HomeAssistant, anna: MockConfigEntry
) -> None:
    """One hour instead of two: planned again at once with four quarter-hours, no reload."""
    await add_appliance(hass, anna, power_kw=1.8)
    runtime = anna.runtime_data
    assert hass.states.get("number.dishwasher_run_time").state == "120.0"
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.dishwasher_run_time", "value": 60},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert anna.runtime_data is runtime
    plan = dict(hass.states.get("binary_sensor.dishwasher_run_now").attributes)
    assert len(planned_quarters(plan)) == 4


async def test_the_form_refuses_a_floor_above_the_target(
    hass: HomeAssistant, anna: MockConfigEntry
) -> None:
    """A safety floor of 90 % with a target of 80 %: said in the form, nothing added."""
    result = await add_charger(hass, anna, charge_now_below=90)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "floor_above_target"}
    assert not anna.subentries


async def test_four_questions_and_named_after_the_battery(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """With four flats' contracts the form asks four things (contract, battery, capacity,
    charged by); without a name the charger is named after the battery's device, else after
    the sensor; the name from the advanced section wins, and reconfiguring shows it there."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 12, 3, 20, 0))
    entry = await add_entry(HANNA)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("test", "id4")}, name="ID.4"
    )
    er.async_get(hass).async_get_or_create(
        "sensor", "test", "id4_soc", device_id=device.id, suggested_object_id="id4_battery"
    )
    hass.states.async_set("sensor.id4_battery", "40", {"unit_of_measurement": "%"})
    hass.states.async_set(
        "sensor.kona_soc", "55", {"friendly_name": "Kona", "unit_of_measurement": "%"}
    )
    titles = []
    for soc_entity, advanced in (
        ("sensor.id4_battery", {}),
        ("sensor.kona_soc", {}),
        ("sensor.kona_soc", {"name": "  Home battery "}),
    ):
        result = await hass.config_entries.subentries.async_init(
            (entry.entry_id, "appliance"), context={"source": "user"}
        )
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"next_step_id": "charge"}
        )
        asked = [str(key) for key in result["data_schema"].schema if str(key) != "advanced"]
        assert asked == ["subscription_id", "soc_entity", "capacity_kwh", "deadline"]
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"],
            {
                "subscription_id": next(iter(entry.runtime_data.subscriptions.data.subscriptions)),
                "soc_entity": soc_entity,
                "capacity_kwh": 60,
                "deadline": "07:00:00",
                "advanced": advanced,
            },
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        titles.append(result["title"])
    assert titles == ["ID.4", "Kona", "Home battery"]
    await hass.async_block_till_done(wait_background_tasks=True)
    subentry = next(s for s in entry.subentries.values() if s.title == "Home battery")
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "appliance"),
        context={"source": "reconfigure", "subentry_id": subentry.subentry_id},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "charge"}
    )
    suggested = {
        str(key): key.description.get("suggested_value")
        for key in result["data_schema"].schema["advanced"].schema.schema
        if key.description
    }
    assert suggested["name"] == "Home battery"


async def test_german_names(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A German installation gets German entity ids for the charger's entities."""
    hass.config.language = "de"
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 12, 3, 20, 0))
    hass.states.async_set(SOC, "40")
    entry = await add_entry(ANNA)
    await add_charger(hass, entry, name="Auto")
    for entity_id in (
        "sensor.auto_ladeleistung_jetzt",
        "number.auto_ziel_ladestand",
        "binary_sensor.auto_jetzt_einschalten",
    ):
        assert hass.states.get(entity_id) is not None, entity_id


async def test_the_car_and_the_dishwasher_under_the_fuse(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, anna: MockConfigEntry
) -> None:
    """An 11 kW car and a 2 kW dishwasher under a 12 kW import limit: planned together, never
    both at once, both done by 07:00; the car driven (20 %) is planned again with the
    dishwasher still kept out of its quarter-hours."""
    await save_options(hass, anna, import_limit_kw=12)
    await add_appliance(hass, anna, power_kw=2.0)
    await add_charger(hass, anna)
    dishwasher = "binary_sensor.dishwasher_run_now"
    for soc in (40, 20):
        await set_soc(hass, soc)
        car = set(planned_quarters(plan_of(hass)))
        washing = set(planned_quarters(dict(hass.states.get(dishwasher).attributes)))
        assert len(car) == quarters_for(energy_for(soc), KW)
        assert len(washing) == 8
        assert not car & washing
        assert max(car | washing) + QUARTER <= berlin(2026, 12, 4, 7, 0)
    moment = berlin(2026, 12, 3, 20, 0)
    while moment < berlin(2026, 12, 4, 7, 0):
        await travel(hass, freezer, moment + timedelta(minutes=1))
        drawn = float(hass.states.get(POWER).state)
        drawn += 2.0 if hass.states.get(dishwasher).state == STATE_ON else 0.0
        assert drawn <= 12, moment
        moment += QUARTER
