"""The cache survives damage and downgrades, no backfill gap is ever kept, ids stay unique.

- A damaged part of the cache (one plan, one day's totals, one subscription's import
  progress, the hidden devices) is dropped alone, with one warning; a cache written by a
  newer version is read as far as this one understands it. Setup always works.
- The import progress moves only over rows the recorder has stored: a recorder that is
  not running, or that fails a write during the backfill, leaves nothing missing for good.
- Statistic ids are ASCII and never shared, whatever the contract numbers look like.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
import itertools
import logging
import re
from typing import Any

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import list_statistic_ids, valid_statistic_id
from homeassistant.components.recorder.tasks import ImportStatisticsTask
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.recorder import get_instance
from hypothesis import assume, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from sqlalchemy.exc import OperationalError

from custom_components.nomos_energy import async_remove_config_entry_device
from custom_components.nomos_energy.appliance_plan import Plan
from custom_components.nomos_energy.cache import NomosCache
from custom_components.nomos_energy.daily_totals import DayTotal
from custom_components.nomos_energy.energy import (
    DailyStatistic,
    daily_statistic_id,
    price_statistic_id,
    statistic_ids,
)
from custom_components.nomos_energy.nomos_client import (
    NomosClient,
    StaticTokenProvider,
    Subscription,
)
from custom_components.nomos_energy.price_schedule import day_start
from nomos_simulator import NomosSimulator
from nomos_simulator.data import Subscription as SimSubscription

from .conftest import ANNA, BEN, AddEntry, entry_for
from .test_energy import CONSUMPTION, anna_sub, api_totals, hourly_stats
from .test_planners import END, RUN_NOW, START, add_appliance, moment_of
from .timetravel import berlin, travel

pytestmark = pytest.mark.energy_import
USAGE = "GET /subscriptions/{id}/usage"
MONTH = "sensor.nomos_b3nfl4t7_month_to_date_consumption"
LATEST_DAY = "sensor.nomos_b3nfl4t7_latest_daily_consumption"
# After the daily run of 30 November, whatever this installation's offset.
NEXT_RUN = berlin(2026, 11, 30, 18, 0)


def sim_sub(simulator: NomosSimulator, key: str) -> SimSubscription:
    return next(sub for sub in simulator.subscriptions.values() if sub.key == key)


def our_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The integration's warnings, but the one every test gets for using the simulator."""
    return [
        message
        for record in caplog.records
        if record.levelno == logging.WARNING
        and record.name.startswith("custom_components.nomos_energy")
        and "NOMOS_ENERGY_API_URL" not in (message := record.getMessage())
    ]


async def restart(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


# A damaged or newer cache -------------------------------------------------------------


@dataclass
class Household:
    """Ben after a first day: statistics imported, two appliances planned, the old
    contract's device deleted, restarted in the middle of the dishwasher's run."""

    entry: MockConfigEntry
    flat: SimSubscription  # supplied since 1 October
    old: SimSubscription  # September, ended
    washer: str  # the second planner's subentry id
    dishwasher_start: datetime
    month_kwh: str  # what "month-to-date consumption" showed
    stored: dict[str, Any]  # the cache as written at the restart

    @property
    def key(self) -> str:
        return f"nomos_energy.{self.entry.entry_id}"

    def device_names(self, hass: HomeAssistant) -> list[str]:
        registry = dr.async_get(hass)
        return sorted(
            str(device.name)
            for device in dr.async_entries_for_config_entry(registry, self.entry.entry_id)
            if device.name and device.name.startswith("Nomos")
        )


@pytest.fixture
async def household(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> Household:
    await hass.config.async_set_time_zone("Europe/Berlin")
    flat, old = sim_sub(simulator, "ben-flat"), sim_sub(simulator, "ben-old")
    # Short supplies: every statistics row is written by the recorder, one by one.
    flat.start_at = berlin(2026, 10, 1, 0, 0)
    old.start_at, old.end_at = berlin(2026, 9, 1, 0, 0), berlin(2026, 10, 1, 0, 0)
    freezer.move_to(berlin(2026, 11, 29, 20, 0))
    entry = await add_entry(BEN)
    await add_appliance(hass, entry)
    await add_appliance(hass, entry, name="Washer", duration={"hours": 3, "minutes": 0})
    washer = next(sid for sid, sub in entry.subentries.items() if sub.title == "Washer")
    registry = dr.async_get(hass)
    device = next(
        device
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
        if device.name == "Nomos B3N0LD22"
    )
    # What Home Assistant does when the user deletes the ended contract's device.
    assert await async_remove_config_entry_device(hass, entry, device)
    registry.async_remove_device(device.id)
    start = moment_of(hass, START)
    assert start is not None
    await travel(hass, freezer, start + timedelta(minutes=10))
    assert hass.states.get(RUN_NOW).state == STATE_ON
    month_kwh = hass.states.get(MONTH).state
    assert month_kwh != STATE_UNKNOWN
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    stored = copy.deepcopy(hass_storage[f"nomos_energy.{entry.entry_id}"])
    assert stored["data"]["imported_until"] == {
        flat.id: "2026-11-29",
        old.id: "2026-11-29",
    }
    return Household(entry, flat, old, washer, start, month_kwh, stored)


def damage_plan(data: dict[str, Any], home: Household) -> None:
    data["plans"][home.washer]["plan"]["segments"] = "soon"


def damage_day(data: dict[str, Any], home: Household) -> None:
    data["day_totals"][home.flat.id]["2026-10-05"] = {"kwh": "plenty"}


def damage_progress(data: dict[str, Any], home: Household) -> None:
    data["imported_until"][home.old.id] = ["2026", "11", "29"]


def damage_hidden(data: dict[str, Any], home: Household) -> None:
    data["hidden"] = {"devices": home.old.id}


def damage_hidden_item(data: dict[str, Any], home: Household) -> None:
    data["hidden"].append({"device": "B3N0LD22"})


@pytest.mark.parametrize(
    ("section", "damage", "usage_requests", "old_device_back"),
    [
        ("plans", damage_plan, 1, False),
        ("day_totals", damage_day, 1, False),
        # The old contract's progress is gone: its September is imported again.
        ("imported_until", damage_progress, 1 + 2, False),
        # Not a list: which devices were deleted is unknown, so the old one is back.
        ("hidden", damage_hidden, 1, True),
        ("hidden", damage_hidden_item, 1, False),
    ],
    ids=["plan", "day", "progress", "hidden-list", "hidden-item"],
)
async def test_a_damaged_part_of_the_cache_is_dropped_alone(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    household: Household,
    section: str,
    damage: Any,
    usage_requests: int,
    old_device_back: bool,
) -> None:
    """Setup works, the rest of the cache is used, and one warning names the part."""
    home = household
    data = copy.deepcopy(home.stored)
    damage(data["data"], home)
    hass_storage[home.key] = data
    caplog.clear()
    simulator.requests.clear()
    await restart(hass, home.entry)

    assert home.entry.state is ConfigEntryState.LOADED
    warnings = our_warnings(caplog)
    assert len(warnings) == 1
    assert section in warnings[0]
    for private in (home.flat.id, home.old.id, "B3N"):
        assert private not in warnings[0]
    # Everything came from the cache: nothing was asked of Nomos.
    assert sum(simulator.requests.values()) == 0
    # The dishwasher keeps running as planned; the washer still has a plan.
    assert hass.states.get(RUN_NOW).state == STATE_ON
    assert moment_of(hass, START) == home.dishwasher_start
    assert moment_of(hass, "sensor.washer_planned_start") is not None
    # November's days are all there (the damaged day, if any, was in October).
    assert hass.states.get(MONTH).state == home.month_kwh
    # The deleted device stays deleted, unless the list of deleted devices was lost.
    expected = ["Nomos B3N0LD22", "Nomos B3NFL4T7"] if old_device_back else ["Nomos B3NFL4T7"]
    assert home.device_names(hass) == expected

    # The next daily run continues from the kept progress (one request, not the history).
    await travel(hass, freezer, NEXT_RUN)
    assert simulator.count(USAGE) == usage_requests
    imported = home.entry.runtime_data.cache.imported_until
    assert imported[home.flat.id] == date(2026, 11, 30)
    # The ended contract is done; its progress, if lost, was made again.
    assert imported[home.old.id] >= date(2026, 11, 29)
    # The damage was written over: the next start reads a clean cache.
    caplog.clear()
    await hass.config_entries.async_reload(home.entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert our_warnings(caplog) == []


async def test_damaged_invoices_are_read_again_at_once(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    household: Household,
) -> None:
    """Unreadable cached invoices: the import runs at setup, from the kept progress."""
    home = household
    data = copy.deepcopy(home.stored)
    data["data"]["energy"][home.flat.id]["invoices"] = [{"id": 5}]
    hass_storage[home.key] = data
    caplog.clear()
    simulator.requests.clear()
    await restart(hass, home.entry)
    assert home.entry.state is ConfigEntryState.LOADED
    assert our_warnings(caplog) == ["Ignoring the damaged Nomos cache parts: energy"]
    assert simulator.count(USAGE) == 1
    assert hass.states.get("sensor.nomos_b3nfl4t7_latest_invoice").state != STATE_UNKNOWN
    assert hass.states.get(RUN_NOW).state == STATE_ON


async def test_a_cache_from_a_newer_version_is_read_as_far_as_understood(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    household: Household,
) -> None:
    """After a downgrade: a higher storage version, unknown sections and one section in a
    new shape. The running plan, the import progress and the deleted device are kept."""
    home = household
    data = copy.deepcopy(home.stored)
    data["version"], data["minor_version"] = 2, 3
    data["data"]["solar_forecast"] = {home.flat.id: [[1, 2, 3]]}
    data["data"]["day_totals"] = {
        home.flat.id: {"2026-11-28": {"kwh": 7.1, "cost": 2.3, "quarters": 96}}
    }
    hass_storage[home.key] = data
    caplog.clear()
    simulator.requests.clear()
    await restart(hass, home.entry)

    assert home.entry.state is ConfigEntryState.LOADED
    warnings = our_warnings(caplog)
    assert len(warnings) == 1
    assert "newer version" in warnings[0]
    assert "day_totals" in warnings[0]
    assert hass.states.get(RUN_NOW).state == STATE_ON
    assert moment_of(hass, START) == home.dishwasher_start
    assert moment_of(hass, END) is not None
    assert home.device_names(hass) == ["Nomos B3NFL4T7"]
    assert sum(simulator.requests.values()) == 0
    # Day totals in a shape this version does not know are not read as anything.
    assert hass.states.get(LATEST_DAY).state == STATE_UNKNOWN
    await travel(hass, freezer, NEXT_RUN)
    assert simulator.count(USAGE) == 1
    # The day totals that could not be read are back from that run.
    latest = hass.states.get(LATEST_DAY)
    assert latest.state != STATE_UNKNOWN
    assert latest.attributes["date"] == "2026-11-29"
    # This version's own format is written back (a newer one upgrades it like any other).
    await travel(hass, freezer, NEXT_RUN + timedelta(minutes=1))
    assert hass_storage[home.key]["version"] == 1
    assert "solar_forecast" not in hass_storage[home.key]["data"]


async def test_each_section_keeps_its_intact_entries(
    hass: HomeAssistant, hass_storage: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """In every section a damaged entry goes and its neighbours stay; one warning names
    the sections."""
    sub = subscription("sub_a", "4X44EMKX", feed_in=False)
    plan = Plan(
        segments=((berlin(2026, 11, 30, 2, 0), berlin(2026, 11, 30, 4, 0)),),
        deadline=berlin(2026, 11, 30, 7, 0),
        planned_at=berlin(2026, 11, 29, 20, 0),
        reason="cheapest",
        prices_complete=True,
    ).to_json()
    naive = {**plan, "deadline": "2026-11-30T07:00:00"}
    interval = [berlin(2026, 11, 29, 0, 0).isoformat(), 900, 25.0, {"grid_fee": 9.47}]
    hass_storage["nomos_energy.damaged"] = {
        "version": 1,
        "key": "nomos_energy.damaged",
        "data": {
            "subscriptions": [sub.to_json()],
            "subscriptions_fetched_at": "2026-11-29T10:00:00",
            "prices": {"sub_a": [interval], "sub_b": [[*interval[:3], {"grid_fee": "high"}]]},
            "imported_until": {"sub_a": "2026-11-29", "sub_b": 20261129},
            "hidden": ["sub_c", 7],
            "day_totals": {
                "sub_a": {"2026-11-28": [7.5, 2.1, 96], "2026-11-27": [7.5], "x": [1, 2, 3]},
                "sub_b": [7.5, 2.1, 96],
            },
            "energy": {"sub_a": {"invoices": []}, "sub_b": "invoices"},
            "plans": {
                "good": {"plan": plan, "served_until": None},
                "naive": {"plan": naive},
                "empty": {"plan": {**plan, "segments": []}},
                "words": {"plan": {**plan, "cost_eur": "cheap"}},
                "served": {"plan": None, "served_until": "yesterday"},
                "list": [plan],
            },
            "comparison_written": {"sub_a": [30.0, 12.0, 0.0], "sub_b": None, "sub_c": 30},
            "energy_run_at": "2026-11-29T18:00:00+00:00",
            "quotes": {
                "sub_a": {"day": "2026-11-29", "answer": {"contract": "A"}},
                "sub_b": {"day": "2026-11-29", "answer": "cheap"},
                "sub_c": {"day": "today", "answer": {}},
            },
            "a_newer_section": {"sub_a": 1},
        },
    }
    cache = NomosCache(hass, "damaged")
    await cache.async_load()
    assert cache.subscriptions == {"sub_a": sub}
    assert cache.subscriptions_fetched_at is None  # naive: cannot be compared with the clock
    assert set(cache.prices) == {"sub_a"}
    assert cache.imported_until == {"sub_a": date(2026, 11, 29)}
    assert cache.hidden == {"sub_c"}
    assert cache.day_totals == {"sub_a": {date(2026, 11, 28): DayTotal(7.5, 2.1, 96)}}
    assert cache.energy == {"sub_a": {"invoices": []}}
    assert set(cache.plans) == {"good"}
    assert cache.comparison_written == {"sub_a": (30.0, 12.0, 0.0), "sub_b": None}
    assert cache.energy_run_at == datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
    assert cache.quotes == {"sub_a": (date(2026, 11, 29), {"contract": "A"})}
    assert our_warnings(caplog) == [
        "Ignoring the damaged Nomos cache parts: comparison_written, day_totals, energy, "
        "hidden, imported_until, plans, prices, quotes, subscriptions_fetched_at"
    ]


@pytest.mark.parametrize(
    "stored",
    [
        {"version": 7, "data": {"subscriptions": "many"}},
        {"version": "two", "data": {}},
        {"version": 1, "data": ["not", "a", "cache"]},
    ],
    ids=["newer-and-damaged", "no-version", "not-an-object"],
)
async def test_an_unreadable_cache_never_stops_setup(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    setup_credentials: None,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    stored: dict[str, Any],
) -> None:
    """Whatever the file holds, the entry loads (from Nomos) and one warning says why."""
    freezer.move_to(berlin(2026, 11, 29, 10, 0))
    entry = entry_for(simulator, ANNA)
    hass_storage[f"nomos_energy.{entry.entry_id}"] = {
        "key": f"nomos_energy.{entry.entry_id}",
        **stored,
    }
    entry.add_to_hass(hass)
    await restart(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.nomos_4x44emkx_current_price").state != STATE_UNKNOWN
    assert hass.states.get("sensor.nomos_4x44emkx_price_in_eur_kwh").state != STATE_UNKNOWN
    assert len(our_warnings(caplog)) == 1


# The import progress and the recorder ------------------------------------------------


@pytest.fixture
def since_july(simulator: NomosSimulator) -> SimSubscription:
    """Anna's supply started on 1 July: the backfill is three chunks of usage."""
    anna = anna_sub(simulator)
    anna.start_at = berlin(2026, 7, 1, 0, 0)
    return anna


async def assert_complete_since_july(
    hass: HomeAssistant, simulator: NomosSimulator, anna: SimSubscription, end: date
) -> None:
    """Every hour from 1 July is there once, and the running sum ends at the API's total."""
    rows = await hourly_stats(hass, CONSUMPTION, day_start(date(2026, 7, 1)), day_start(end))
    hours = (day_start(end) - day_start(date(2026, 7, 1))) // timedelta(hours=1)
    assert len(rows) == hours
    for earlier, later in itertools.pairwise(rows):
        assert later["sum"] == pytest.approx(earlier["sum"] + later["state"], abs=1e-6)
    kwh, _ = await api_totals(simulator, ANNA, anna.id, date(2026, 7, 1), end)
    assert rows[-1]["sum"] == pytest.approx(kwh, abs=0.001)


async def test_no_progress_while_the_recorder_is_not_running(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
    since_july: SimSubscription,
) -> None:
    """The first import finds the recorder stopped: the sensors work, and the next run,
    with the recorder back, imports the whole history, not just the last 40 days."""
    monkeypatch.setattr(recorder_mock, "is_running", False)
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    entry = await add_entry(ANNA)
    latest = hass.states.get("sensor.nomos_4x44emkx_latest_daily_consumption")
    assert latest.state != STATE_UNKNOWN
    assert latest.attributes["date"] == "2026-11-28"
    assert since_july.id not in entry.runtime_data.cache.imported_until
    assert (
        await hourly_stats(hass, CONSUMPTION, day_start(date(2026, 7, 1)), berlin(2026, 12, 1))
        == []
    )

    monkeypatch.setattr(recorder_mock, "is_running", True)
    await travel(hass, freezer, entry.runtime_data.energy.due_at + timedelta(minutes=1))
    assert entry.runtime_data.cache.imported_until[since_july.id] == date(2026, 11, 30)
    await assert_complete_since_july(hass, simulator, since_july, date(2026, 11, 30))


async def test_a_failed_write_during_the_backfill_leaves_no_gap(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    since_july: SimSubscription,
) -> None:
    """The database refuses September and October (disk full) while later rows go in:
    the progress stays at 1 September, and the next run fills the gap for good."""
    disk_full = True
    refused = (day_start(date(2026, 9, 1)), day_start(date(2026, 11, 2)))
    original = ImportStatisticsTask.run

    def run(task: ImportStatisticsTask, instance: Recorder) -> None:
        if disk_full and any(refused[0] <= row["start"] < refused[1] for row in task.statistics):
            raise OperationalError("INSERT INTO statistics", None, Exception("disk is full"))
        original(task, instance)

    monkeypatch.setattr(ImportStatisticsTask, "run", run)
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    entry = await add_entry(ANNA)
    assert entry.runtime_data.cache.imported_until[since_july.id] == date(2026, 9, 1)
    assert await hourly_stats(hass, CONSUMPTION, *refused) == []
    assert any("did not store" in message for message in our_warnings(caplog))

    disk_full = False
    await travel(hass, freezer, entry.runtime_data.energy.due_at + timedelta(minutes=1))
    assert entry.runtime_data.cache.imported_until[since_july.id] == date(2026, 11, 30)
    await assert_complete_since_july(hass, simulator, since_july, date(2026, 11, 30))


async def api_kwh(simulator: NomosSimulator, sub: SimSubscription, start: date, end: date) -> float:
    """Sum the usage the API reports for Berlin days [start, end) (an ended contract has no
    prices any more, so no cost)."""
    token = simulator.issue_tokens(sub.customer.id)["access_token"]
    async with aiohttp.ClientSession() as session:
        client = NomosClient(session, StaticTokenProvider(token))
        usage = await client.get_usage(sub.id, start, end, "15min")
    return sum(item.usage for item in usage.items)


# Statistic ids --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flat_number", "old_number"),
    [("4X44-EMKX", "4X44EMKX"), ("MÜLLER1", "MULLER1")],
)
async def test_numbers_alike_get_their_own_statistics(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    flat_number: str,
    old_number: str,
) -> None:
    """Two contracts whose numbers differ only in punctuation or an umlaut each get their
    own consumption statistic with their own kWh; an ordinary number keeps its old id."""
    flat, old = sim_sub(simulator, "ben-flat"), sim_sub(simulator, "ben-old")
    flat.number, old.number = flat_number, old_number
    # Short supplies: every statistics row is written by the recorder, one by one.
    flat.start_at = berlin(2026, 10, 1, 0, 0)
    old.start_at, old.end_at = berlin(2026, 9, 1, 0, 0), berlin(2026, 10, 1, 0, 0)
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    await add_entry(BEN)
    listed = await get_instance(hass).async_add_executor_job(list_statistic_ids, hass)
    ids = {row["statistic_id"] for row in listed if row["source"] == "nomos_energy"}
    assert all(valid_statistic_id(statistic_id) for statistic_id in ids)
    consumption = sorted(i for i in ids if i.endswith("_consumption"))
    assert len(consumption) == 2
    ordinary = f"nomos_energy:{old_number.lower()}_consumption"
    assert ordinary in consumption
    (other,) = set(consumption) - {ordinary}
    for sub, statistic_id, start, end in (
        (old, ordinary, date(2026, 9, 1), date(2026, 10, 1)),
        (flat, other, date(2026, 10, 1), date(2026, 11, 29)),
    ):
        rows = await hourly_stats(hass, statistic_id, day_start(start), day_start(end))
        assert rows[-1]["sum"] == pytest.approx(await api_kwh(simulator, sub, start, end))


def subscription(sub_id: str, number: str | None, *, feed_in: bool) -> Subscription:
    return Subscription(
        id=sub_id,
        number=number,
        status="active",
        plan_id="pln_x",
        customer_id="cus_x",
        type="feed_in" if feed_in else "consumption",
        estimated_usage=None,
        start_at=None,
        end_at=None,
        terminated_at=None,
        updated_at=None,
    )


def all_ids(sub: Subscription) -> list[str]:
    return [
        *statistic_ids(sub),
        price_statistic_id(sub),
        *(daily_statistic_id(sub, kind) for kind in DailyStatistic),
    ]


ORDINARY = re.compile(r"[A-Za-z0-9]+")
numbers = st.one_of(
    st.none(),
    st.from_regex(r"[A-Z0-9]{1,10}", fullmatch=True),
    st.text(alphabet="4XEMKABÜÖÄäöüßé-_ ./#0123456789", max_size=14),
    st.text(max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(min_size=1, max_size=30), numbers, st.booleans()),
        min_size=1,
        max_size=6,
        unique_by=lambda item: item[0],
    )
)
def test_statistic_ids_are_ascii_and_never_shared(
    items: list[tuple[str, str | None, bool]],
) -> None:
    subs = [subscription(sub_id, number, feed_in=feed_in) for sub_id, number, feed_in in items]
    # Ordinary numbers keep their ids (the number in lowercase) from before, so two of
    # them must differ in more than letter case, as distinct Nomos numbers do.
    ordinary = [s.display_number.lower() for s in subs if ORDINARY.fullmatch(s.display_number)]
    assume(len(set(ordinary)) == len(ordinary))
    owner: dict[str, str] = {}
    for sub in subs:
        ids = all_ids(sub)
        assert len(set(ids)) == len(ids)
        for statistic_id in ids:
            assert re.fullmatch(r"nomos_energy:[a-z0-9_]+", statistic_id), statistic_id
            assert valid_statistic_id(statistic_id), statistic_id
            assert owner.setdefault(statistic_id, sub.id) == sub.id, statistic_id
        if sub.number and ORDINARY.fullmatch(sub.number):
            assert price_statistic_id(sub) == f"nomos_energy:{sub.number.lower()}_price"


def test_ordinary_numbers_keep_their_ids() -> None:
    """The ids in users' dashboards do not move; the others are ASCII and apart."""
    anna = subscription("sub_anna", "4X44EMKX", feed_in=False)
    assert statistic_ids(anna) == (
        "nomos_energy:4x44emkx_consumption",
        "nomos_energy:4x44emkx_cost",
    )
    assert price_statistic_id(anna) == "nomos_energy:4x44emkx_price"
    assert (
        daily_statistic_id(anna, DailyStatistic.BENEFIT) == "nomos_energy:4x44emkx_shifting_benefit"
    )
    dashed = subscription("sub_other", "4X44-EMKX", feed_in=False)
    umlaut = subscription("sub_mueller", "MÜLLER1", feed_in=False)
    assert re.fullmatch(r"nomos_energy:4x44_emkx_[0-9a-f]{8}_price", price_statistic_id(dashed))
    assert re.fullmatch(r"nomos_energy:muller1_[0-9a-f]{8}_price", price_statistic_id(umlaut))
    # Stable: the same subscription always gets the same id.
    assert price_statistic_id(umlaut) == price_statistic_id(
        subscription("sub_mueller", "MÜLLER1", feed_in=False)
    )
