"""Cost trackers in Home Assistant: the flow, live readings, restarts, backfill, accuracy."""

from __future__ import annotations

from datetime import date, datetime, timedelta
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.db_schema import StatisticsShortTerm
from homeassistant.components.recorder.models import StatisticMeanType
from homeassistant.components.recorder.statistics import (
    async_import_statistics,
    statistics_during_period,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.recorder import get_instance
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.nomos_energy.const import DOMAIN
from custom_components.nomos_energy.diagnostics import async_get_config_entry_diagnostics
from custom_components.nomos_energy.price_schedule import BERLIN, PriceSchedule, day_start
from custom_components.nomos_energy.tracker_manager import Tracker, reading
from nomos_simulator import NomosSimulator
from nomos_simulator.api import PRELIMINARY_DAYS

from .conftest import ANNA, EMMA, FELIX, HANNA, AddEntry
from .timetravel import QUARTER, berlin, travel

METER = "sensor.heat_pump_meter"
ENERGY = {"device_class": "energy", "state_class": "total_increasing"}


def meter(hass: HomeAssistant, value: float | str, unit: str = "kWh", **extra: Any) -> None:
    hass.states.async_set(METER, str(value), {**ENERGY, "unit_of_measurement": unit, **extra})


async def add_tracker(
    hass: HomeAssistant, entry: MockConfigEntry, name: str = "Heat pump", entity_id: str = METER
) -> dict[str, Any]:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "cost_tracker"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": name, "entity_id": entity_id}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    return dict(result)


async def cost_rows(
    hass: HomeAssistant, statistic_id: str, start: datetime, end: datetime
) -> list[Any]:
    """Return the hourly rows (state, sum) of a cost statistic between start and end."""
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, start, end, {statistic_id}, "hour", None, {"state", "sum"}
    )
    return list(rows[statistic_id])


def value(hass: HomeAssistant, entity_id: str) -> float:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return float(state.state)


def cost(schedule: PriceSchedule, energy: dict[datetime, float]) -> float:
    """Brute force: each quarter-hour's energy at its own price."""
    total = 0.0
    for start, kwh in energy.items():
        interval = schedule.at(start)
        assert interval is not None
        assert interval.price_ct is not None
        total += kwh * interval.price_ct / 100
    return total


async def test_the_flow_checks_the_sensor(hass: HomeAssistant, add_entry: AddEntry) -> None:
    entry = await add_entry(ANNA)
    hass.states.async_set("sensor.power", "3", {"unit_of_measurement": "W"})
    hass.states.async_set("sensor.now", "3", {"unit_of_measurement": "kWh"})
    meter(hass, 10)
    for name, entity_id, error in (
        ("Heat pump", "sensor.missing", {"entity_id": "not_found"}),
        ("Heat pump", "sensor.power", {"entity_id": "not_energy"}),
        ("Heat pump", "sensor.now", {"entity_id": "not_a_meter"}),
        (" ", METER, {"base": "name_missing"}),
    ):
        result = await add_tracker(hass, entry, name, entity_id)
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == error
    assert (await add_tracker(hass, entry))["type"] is FlowResultType.CREATE_ENTRY
    assert (await add_tracker(hass, entry))["errors"] == {"entity_id": "already_tracked"}
    hass.states.async_set("sensor.plug", "1", {**ENERGY, "unit_of_measurement": "Wh"})
    assert (await add_tracker(hass, entry, "Heat pump", "sensor.plug"))["type"] is (
        FlowResultType.CREATE_ENTRY
    )
    ids = sorted(s.data["statistic_id"] for s in entry.subentries.values())
    assert ids == ["nomos_energy:heat_pump_2_cost", "nomos_energy:heat_pump_cost"]
    # Each tracker is its own device.
    registry = dr.async_get(hass)
    devices = dr.async_entries_for_config_entry(registry, entry.entry_id)
    for subentry_id in entry.subentries:
        (device,) = [d for d in devices if (DOMAIN, subentry_id) in d.identifiers]
        assert device.model == "Cost tracker"
    # Removing one forgets it and its device.
    hass.config_entries.async_remove_subentry(entry, next(iter(entry.subentries)))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(entry.runtime_data.trackers.trackers) == 1


async def test_the_flow_needs_a_loaded_entry_with_a_contract(
    hass: HomeAssistant, add_entry: AddEntry
) -> None:
    entry = await add_entry(ANNA)
    await hass.config_entries.async_unload(entry.entry_id)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "cost_tracker"), context={"source": "user"}
    )
    assert result["reason"] == "entry_not_loaded"


async def test_the_contract_is_asked_for_only_with_several(
    hass: HomeAssistant, add_entry: AddEntry
) -> None:
    entry = await add_entry(FELIX)  # consumption and feed-in: one buys power
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "cost_tracker"), context={"source": "user"}
    )
    assert "subscription_id" not in result["data_schema"].schema


async def test_live_readings_over_the_dst_night_a_reset_a_gap_and_a_restart(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Sat 28 to Sun 29 March 2026 (a 92-quarter-hour day), in German, the meter in Wh."""
    hass.config.language = "de"
    freezer.move_to(berlin(2026, 3, 28, 23, 0))
    meter(hass, 1_000_000, "Wh")
    entry = await add_entry(ANNA)
    await add_tracker(hass, entry, "Wärmepumpe")
    entry = hass.config_entries.async_get_entry(entry.entry_id)
    tracker = next(iter(entry.runtime_data.trackers.trackers.values()))
    assert tracker.backfill == "none"  # the recorder holds nothing of the sensor
    energy: dict[datetime, float] = {}
    reading = 1000.0
    moment = berlin(2026, 3, 28, 23, 0)
    step = 0
    while moment < berlin(2026, 3, 29, 4, 0):
        step += 1
        await travel(hass, freezer, moment + timedelta(minutes=5))
        used = 0.1 * step
        if step == 6:  # the meter resets: its new value counts from 0
            reading = 0.0
        if step in (9, 10):  # unavailable from 01:05 (CET) to 01:35
            meter(hass, "unavailable")
            await hass.async_block_till_done()
            moment += QUARTER
            await travel(hass, freezer, moment)
            continue
        reading += used
        energy[moment] = energy.get(moment, 0.0) + used
        if step == 11:  # back with 0.5 kWh more: spread from the last reading, at 01:00
            reading += 0.5
            for back, minutes in ((2, 15), (1, 15), (0, 5)):
                start = moment - back * QUARTER
                energy[start] = energy.get(start, 0.0) + (0.5 + used) * minutes / 35
            energy[moment] -= used
        meter(hass, reading * 1000, "Wh")
        await hass.async_block_till_done()  # the state change is read before the boundary
        if step == 14:  # a restart, 0.3 kWh used while Home Assistant was down
            await hass.config_entries.async_unload(entry.entry_id)
            reading += 0.3
            meter(hass, reading * 1000, "Wh")
            await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done(wait_background_tasks=True)
            energy[moment] += 0.3
        moment += QUARTER
        await travel(hass, freezer, moment)
    schedule = entry.runtime_data.prices.schedule(
        entry.runtime_data.trackers.trackers[tracker.subentry_id].subscription_id
    )
    today = {start: kwh for start, kwh in energy.items() if start >= day_start(date(2026, 3, 29))}
    yesterday = {start: kwh for start, kwh in energy.items() if start not in today}
    # German names make German entity ids.
    assert value(hass, "sensor.warmepumpe_kosten_heute") == pytest.approx(
        cost(schedule, today), abs=0.006
    )
    assert value(hass, "sensor.warmepumpe_kosten_gestern") == pytest.approx(
        cost(schedule, yesterday), abs=0.006
    )
    month = hass.states.get("sensor.warmepumpe_monatskosten_bisher")
    assert month.attributes["energy"] == pytest.approx(sum(energy.values()), abs=0.001)
    assert value(hass, "sensor.warmepumpe_monatskosten_bisher") == pytest.approx(
        cost(schedule, energy), abs=0.006
    )
    average = value(hass, "sensor.warmepumpe_bezahlter_durchschnittspreis_monat_bisher")
    assert average == pytest.approx(cost(schedule, energy) / sum(energy.values()), abs=1e-5)
    # The statistic: every complete hour, its sum running from the first one.
    await async_wait_recording_done(hass)
    rows = await cost_rows(
        hass, "nomos_energy:warmepumpe_cost", berlin(2026, 3, 28, 0, 0), berlin(2026, 3, 29, 5, 0)
    )
    assert len(rows) == 4  # 23:00, 00:00, 01:00, 03:00 (02:00 does not exist that night)
    assert rows[-1]["sum"] == pytest.approx(cost(schedule, energy), abs=1e-5)


async def import_meter(
    hass: HomeAssistant, entity_id: str, quarters: dict[datetime, float], short_from: datetime
) -> float:
    """Give the recorder the meter's history: hourly rows, and 5-minute rows from `short_from`."""
    metadata: Any = {
        "has_mean": False,
        "mean_type": StatisticMeanType.NONE,
        "has_sum": True,
        "name": None,
        "source": "recorder",
        "statistic_id": entity_id,
        "unit_class": "energy",
        "unit_of_measurement": "kWh",
    }
    hours: dict[datetime, float] = {}
    for start, kwh in quarters.items():
        hour = start.replace(minute=0)
        hours[hour] = hours.get(hour, 0.0) + kwh
    total, hourly = 0.0, []
    for hour, kwh in sorted(hours.items()):
        total += kwh
        hourly.append({"start": hour, "state": total, "sum": total})
    async_import_statistics(hass, metadata, hourly)
    total, short = 0.0, []
    for start, kwh in sorted(quarters.items()):
        for part in range(3):
            total += kwh / 3
            if start >= short_from:
                short.append(
                    {"start": start + part * timedelta(minutes=5), "state": total, "sum": total}
                )
    get_instance(hass).async_import_statistics(metadata, short, StatisticsShortTerm)
    await async_wait_recording_done(hass)
    hass.states.async_set(entity_id, str(total), {**ENERGY, "unit_of_measurement": "kWh"})
    return total


@pytest.mark.energy_import
async def test_trackers_and_the_rest_add_up_to_the_household(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Two meters measure 50 % and 30 % of Anna's usage; added today, with 30 days of history."""
    sub = next(s for s in simulator.subscriptions.values() if s.number == "4X44EMKX")
    sub.start_at = berlin(2026, 10, 20, 0, 0)
    now = berlin(2026, 11, 29, 18, 0)
    freezer.move_to(now)
    entry = await add_entry(ANNA)
    usage = {}
    moment = now - timedelta(days=31)
    while moment < now - timedelta(minutes=30):
        # As Nomos reports it: the last days' values are preliminary (4 % more).
        final = (now.astimezone(BERLIN).date() - moment.astimezone(BERLIN).date()).days > (
            PRELIMINARY_DAYS
        )
        usage[moment] = sub.quarter_usage(moment) * (1 if final else 1.04)
        moment += QUARTER
    short_from = now - timedelta(days=10)
    for entity_id, share in (("sensor.heat_pump_meter", 0.5), ("sensor.wallbox_meter", 0.3)):
        await import_meter(hass, entity_id, {k: v * share for k, v in usage.items()}, short_from)
    started = time.monotonic()
    await add_tracker(hass, entry, "Heat pump", "sensor.heat_pump_meter")
    await add_tracker(hass, entry, "Wallbox", "sensor.wallbox_meter")
    took = time.monotonic() - started
    assert took < 60
    entry = hass.config_entries.async_get_entry(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED
    trackers = list(entry.runtime_data.trackers.trackers.values())
    assert {t.backfill for t in trackers} == {"hour"}  # older than 10 days: hourly rows
    first = min(min(t.quarters) for t in trackers)
    assert first <= (now - timedelta(days=30)).timestamp()
    rest = hass.states.get("sensor.nomos_4x44emkx_rest_of_the_house_month_to_date_cost")
    assert rest.attributes["first_day"] == "2026-11-01"
    assert rest.attributes["last_day"] == "2026-11-28"
    household = rest.attributes["household_cost"]
    tracked = rest.attributes["trackers_cost"]
    assert tracked + float(rest.state) == pytest.approx(household, rel=0.005)
    assert tracked == pytest.approx(0.8 * household, rel=0.005)
    latest = hass.states.get("sensor.nomos_4x44emkx_rest_of_the_house_latest_daily_cost")
    # A day read from 5-minute rows: to the cent (the figures are rounded to cents).
    assert latest.attributes["trackers_cost"] == pytest.approx(
        0.8 * latest.attributes["household_cost"], abs=0.01
    )
    assert float(latest.state) == pytest.approx(0.2 * latest.attributes["household_cost"], abs=0.01)
    average = hass.states.get("sensor.heat_pump_average_price_paid_month_to_date")
    assert average.attributes["difference_to_household"] == pytest.approx(
        float(average.state) - average.attributes["household_average"], abs=1e-5
    )
    # Diagnostics say how each tracker follows its sensor, without names or entity ids.
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert [t["backfill"] for t in diagnostics["entry"]["cost_trackers"]] == ["hour", "hour"]
    assert "heat_pump" not in str(diagnostics).lower().replace(" ", "_")
    month = hass.states.get("sensor.heat_pump_month_to_date_cost")
    assert month.attributes["backfill"] == "hour"
    assert month.attributes["hours_at_hourly_mean_price"] > 400


async def test_the_contract_is_asked_for_with_several_and_needed(
    hass: HomeAssistant, add_entry: AddEntry
) -> None:
    entry = await add_entry(HANNA)  # four flats, four contracts
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "cost_tracker"), context={"source": "user"}
    )
    assert "subscription_id" in result["data_schema"].schema
    nobody = await add_entry(EMMA)
    result = await hass.config_entries.subentries.async_init(
        (nobody.entry_id, "cost_tracker"), context={"source": "user"}
    )
    assert result["reason"] == "no_active_subscription"


async def test_an_hour_with_an_unknown_price_waits_and_stored_state_is_checked(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Jan 2027: an unknown price holds the hour back; a damaged store starts over."""
    sub = next(s for s in simulator.subscriptions.values() if s.number == "4X44EMKX")
    unknown = berlin(2027, 1, 31, 22, 15)
    sub.price_overrides[unknown] = None
    freezer.move_to(berlin(2027, 1, 31, 21, 0))
    meter(hass, 5)
    entry = await add_entry(ANNA)
    await add_tracker(hass, entry)
    hass.states.async_set("sensor.not_a_number", "x", {"unit_of_measurement": "kWh"})
    moment, reading = berlin(2027, 1, 31, 21, 0), 5.0
    while moment < berlin(2027, 2, 1, 0, 30):  # over the month's end
        await travel(hass, freezer, moment + timedelta(minutes=5))
        reading += 0.25
        meter(hass, reading)
        moment += QUARTER
        await travel(hass, freezer, moment)
    await async_wait_recording_done(hass)
    rows = await cost_rows(
        hass, "nomos_energy:heat_pump_cost", berlin(2027, 1, 31, 0, 0), berlin(2027, 2, 1, 2, 0)
    )
    assert len(rows) == 1  # 21:00; 22:00 waits for its price, and the hours after it
    month = hass.states.get("sensor.heat_pump_month_to_date_cost")
    assert month.attributes["month"] == "2027-02"
    assert month.attributes["energy"] == pytest.approx(0.5)
    last_day = hass.states.get("sensor.heat_pump_cost_yesterday")
    assert last_day.attributes["unpriced_energy"] == pytest.approx(0.25)
    # The rest of the house needs the household's figures: none imported yet.
    rest = hass.states.get("sensor.nomos_4x44emkx_rest_of_the_house_month_to_date_cost")
    assert rest.state == "unknown"
    # A damaged stored state: the tracker starts over with a new backfill.
    await hass.config_entries.async_unload(entry.entry_id)
    key = f"nomos_energy.{entry.entry_id}.trackers"
    stored = hass_storage[key]["data"]["trackers"]
    (subentry_id,) = stored
    stored[subentry_id]["meter"] = ["measurement", 1, 2, None]
    stored["removed"] = {"statistic_id": "nomos_energy:heat_pump_cost"}
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    tracker = entry.runtime_data.trackers.trackers[subentry_id]
    assert tracker.backfill == "none"
    await entry.runtime_data.trackers.async_flush()
    assert list(hass_storage[key]["data"]["trackers"]) == [subentry_id]
    # Removing the entry removes the store.
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage


def test_a_state_is_a_reading_only_as_a_number_in_an_energy_unit() -> None:
    assert reading(None) is None
    assert reading(State(METER, "unknown", {"unit_of_measurement": "kWh"})) is None
    assert reading(State(METER, "5", {"unit_of_measurement": "W"})) is None
    found = reading(State(METER, "5", {"unit_of_measurement": "Wh", "state_class": "measurement"}))
    assert found == (0.005, None, None)
    tracker = Tracker("id", "Heat pump", METER, "sub", "nomos_energy:heat_pump_cost")
    tracker.restore({"entity_id": "sensor.other", "meter": ["total", 1.0, 2.0, None]})
    assert tracker.meter.value is None  # another sensor's state is not this one's


async def test_the_long_october_night(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Sat 24 to Sun 25 October 2026: 02:00 twice, a 100-quarter-hour day."""
    freezer.move_to(berlin(2026, 10, 24, 23, 0))
    meter(hass, 50)
    entry = await add_entry(ANNA)
    await add_tracker(hass, entry)
    energy: dict[datetime, float] = {}
    moment, reading_kwh = berlin(2026, 10, 24, 23, 0), 50.0
    while moment < berlin(2026, 10, 25, 4, 0):  # six hours of real time
        await travel(hass, freezer, moment + timedelta(minutes=5))
        reading_kwh += 0.2
        energy[moment] = 0.2
        meter(hass, reading_kwh)
        await hass.async_block_till_done()
        moment += QUARTER
        await travel(hass, freezer, moment)
    assert len(energy) == 24
    schedule = entry.runtime_data.prices.schedule(
        next(iter(entry.runtime_data.trackers.trackers.values())).subscription_id
    )
    today = {k: v for k, v in energy.items() if k >= day_start(date(2026, 10, 25))}
    assert len(today) == 20  # 00:00 to 04:00 Berlin: five hours
    assert value(hass, "sensor.heat_pump_cost_today") == pytest.approx(
        cost(schedule, today), abs=0.006
    )
    assert value(hass, "sensor.heat_pump_cost_yesterday") == pytest.approx(
        cost(schedule, {k: v for k, v in energy.items() if k not in today}), abs=0.006
    )
    await async_wait_recording_done(hass)
    rows = await cost_rows(
        hass, "nomos_energy:heat_pump_cost", berlin(2026, 10, 24, 0, 0), berlin(2026, 10, 25, 6, 0)
    )
    assert len(rows) == 6  # 23:00, 00:00, 01:00, 02:00 twice, 03:00
    assert rows[-1]["sum"] == pytest.approx(cost(schedule, energy), abs=1e-5)
