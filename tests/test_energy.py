"""Consumption and cost statistics, daily corrections, invoices and their actions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
import itertools
from typing import Any
from unittest.mock import patch

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.energy import data as energy_data, validate as energy_validate
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics as add_external_statistics,
    list_statistic_ids,
    statistics_during_period,
    validate_statistics,
)
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.nomos_energy import energy
from custom_components.nomos_energy.const import DOMAIN
from custom_components.nomos_energy.nomos_client import NomosClient, StaticTokenProvider
from custom_components.nomos_energy.price_schedule import BERLIN, day_start, local_date
from nomos_simulator import NomosSimulator
from nomos_simulator.data import Subscription

from .conftest import ANNA, DAVID, AddEntry, save_options
from .timetravel import berlin, travel, walk

pytestmark = pytest.mark.energy_import
CONSUMPTION = "nomos_energy:4x44emkx_consumption"
COST = "nomos_energy:4x44emkx_cost"
PRICE = "nomos_energy:4x44emkx_price"
LATEST_DAY = "sensor.nomos_4x44emkx_latest_daily_consumption"
LATEST_DAY_COST = "sensor.nomos_4x44emkx_latest_daily_cost"
MONTH = "sensor.nomos_4x44emkx_month_to_date_consumption"
MONTH_COST = "sensor.nomos_4x44emkx_month_to_date_cost"


def anna_sub(simulator: NomosSimulator) -> Subscription:
    return next(sub for sub in simulator.subscriptions.values() if sub.number == "4X44EMKX")


def anna_sensor(hass: HomeAssistant, sub: Subscription, key: str) -> str:
    """The entity id of the sensor with this key (insight names are not pinned ids)."""
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{sub.id}-{key}")
    assert entity_id is not None, key
    return entity_id


async def api_totals(
    simulator: NomosSimulator, email: str, sub_id: str, start: date, end: date
) -> tuple[float, float]:
    """Sum what the API itself reports for Berlin days [start, end): kWh and EUR."""
    customer = simulator.customer_by_email(email)
    token = simulator.issue_tokens(customer.id)["access_token"]
    async with aiohttp.ClientSession() as session:
        client = NomosClient(session, StaticTokenProvider(token))
        usage = await client.get_usage(sub_id, start, end, "15min")
        prices = await client.get_prices(sub_id, start, end - timedelta(days=1))
    by_start = {item.start: item.amount for item in prices.items or ()}
    kwh = sum(item.usage for item in usage.items)
    eur = sum(item.usage * by_start[item.start] / 100 for item in usage.items)
    return kwh, eur


async def hourly_stats(
    hass: HomeAssistant, statistic_id: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    await async_wait_recording_done(hass)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, start, end, {statistic_id}, "hour", None, {"state", "sum"}
    )
    return rows.get(statistic_id, [])


async def api_hourly_prices(
    simulator: NomosSimulator, email: str, sub_id: str, start: date, end: date
) -> dict[datetime, list[float]]:
    """The API's own quarter-hour prices of Berlin days [start, end), in EUR/kWh, by UTC hour."""
    customer = simulator.customer_by_email(email)
    token = simulator.issue_tokens(customer.id)["access_token"]
    async with aiohttp.ClientSession() as session:
        client = NomosClient(session, StaticTokenProvider(token))
        prices = await client.get_prices(sub_id, start, end - timedelta(days=1))
    hours: dict[datetime, list[float]] = {}
    for item in prices.items or ():
        hour = item.start.replace(minute=0)
        hours.setdefault(hour, []).append(item.amount / 100)
    return hours


@contextmanager
def written_rows() -> Iterator[dict[str, list[datetime]]]:
    """Collect the start of every row the integration hands to the recorder, by statistic."""
    written: dict[str, list[datetime]] = {}

    def record(hass: HomeAssistant, metadata: Any, rows: Any) -> None:
        written.setdefault(metadata["statistic_id"], []).extend(row["start"] for row in rows)
        add_external_statistics(hass, metadata, rows)

    with patch.object(energy, "async_add_external_statistics", record):
        yield written


@pytest.fixture
def short_history(simulator: NomosSimulator) -> None:
    """Anna started supply on 1 September 2026: the backfill is three months."""
    anna_sub(simulator).start_at = berlin(2026, 9, 1, 0, 0)


async def test_backfill_sums_equal_the_api(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    short_history: None,
) -> None:
    """From the start of supply to yesterday: kWh to the Wh and cost to the cent."""
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    entry = await add_entry(ANNA)
    sub_id = anna_sub(simulator).id
    start, end = date(2026, 9, 1), date(2026, 11, 29)
    rows = await hourly_stats(hass, CONSUMPTION, day_start(start), day_start(end))
    # Every hour of the backfill, DST change included: 89 days, one of them 25 hours long.
    assert len(rows) == 89 * 24 + 1
    kwh, eur = await api_totals(simulator, ANNA, sub_id, start, end)
    assert rows[-1]["sum"] == pytest.approx(kwh, abs=0.001)
    cost = await hourly_stats(hass, COST, day_start(start), day_start(end))
    assert cost[-1]["sum"] == pytest.approx(eur, abs=0.01)
    # Sums run: each hour's sum is the previous sum plus its state.
    for earlier, later in itertools.pairwise(rows):
        assert later["sum"] == pytest.approx(earlier["sum"] + later["state"], abs=1e-6)
    ids = await get_instance(hass).async_add_executor_job(list_statistic_ids, hass)
    names = {row["statistic_id"]: row["name"] for row in ids}
    assert names[CONSUMPTION] == "Nomos 4X44EMKX consumption"
    assert names[COST] == "Nomos 4X44EMKX cost"
    assert entry.runtime_data.cache.imported_until[sub_id] == end
    # The price as an hourly statistic, from the prices that came with the usage:
    # mean, minimum and maximum of each hour's quarters, across the October DST change.
    await async_wait_recording_done(hass)
    price_rows = (
        await get_instance(hass).async_add_executor_job(
            statistics_during_period,
            hass,
            day_start(start),
            day_start(end),
            {PRICE},
            "hour",
            None,
            {"mean", "min", "max"},
        )
    )[PRICE]
    expected_prices = await api_hourly_prices(simulator, ANNA, sub_id, start, end)
    assert len(price_rows) == len(expected_prices) == 89 * 24 + 1
    for row in price_rows:
        quarters = expected_prices[datetime.fromtimestamp(row["start"], UTC)]
        assert len(quarters) == 4
        assert row["mean"] == pytest.approx(sum(quarters) / 4)
        assert row["min"] == pytest.approx(min(quarters))
        assert row["max"] == pytest.approx(max(quarters))
    assert names[PRICE] == "Nomos 4X44EMKX price"
    # The sensors read the same data: the latest complete day is Nov 28 (published at 16:00).
    day_kwh, day_eur = await api_totals(simulator, ANNA, sub_id, date(2026, 11, 28), end)
    # Energy to the Wh, money to the cent.
    latest = hass.states.get(LATEST_DAY)
    assert latest.attributes["date"] == "2026-11-28"
    assert float(latest.state) == pytest.approx(day_kwh, abs=0.0005)
    latest_cost = hass.states.get(LATEST_DAY_COST)
    assert latest_cost.attributes["date"] == "2026-11-28"
    assert float(latest_cost.state) == pytest.approx(day_eur, abs=0.005)
    month_kwh, _ = await api_totals(simulator, ANNA, sub_id, date(2026, 11, 1), end)
    month = hass.states.get(MONTH)
    assert (month.attributes["first_day"], month.attributes["last_day"]) == (
        "2026-11-01",
        "2026-11-28",
    )
    assert float(month.state) == pytest.approx(month_kwh, abs=0.0005)


async def test_correction_changes_exactly_the_affected_hours(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    short_history: None,
) -> None:
    """Preliminary days turn final: those hours change, earlier ones do not, sums stay consistent."""
    freezer.move_to(berlin(2026, 11, 20, 18, 0))
    await add_entry(ANNA)
    window = (day_start(date(2026, 11, 1)), day_start(date(2026, 11, 20)))
    before = {row["start"]: row for row in await hourly_stats(hass, CONSUMPTION, *window)}
    with written_rows() as written:
        await walk(hass, freezer, berlin(2026, 11, 27, 18, 0), timedelta(hours=3))
    # Each daily run reads 40 days again but writes only from the first corrected hour
    # on: the recorder is not kept busy rewriting what it holds.
    assert written[CONSUMPTION]
    assert min(written[CONSUMPTION]) >= day_start(date(2026, 11, 15))
    after = {row["start"]: row for row in await hourly_stats(hass, CONSUMPTION, *window)}
    assert set(before) == set(after)
    # In the simulator the last five days before a run are preliminary (4 % high).
    changed_days = {
        local_date(datetime.fromtimestamp(start, UTC))
        for start in before
        if before[start]["state"] != pytest.approx(after[start]["state"], abs=1e-9)
    }
    assert changed_days == {date(2026, 11, day) for day in range(15, 20)}
    first_changed = min(
        start
        for start in before
        if local_date(datetime.fromtimestamp(start, UTC)) == date(2026, 11, 15)
    )
    for start in before:
        if start < first_changed:
            assert after[start]["sum"] == pytest.approx(before[start]["sum"], abs=1e-9)
    kwh, _ = await api_totals(
        simulator, ANNA, anna_sub(simulator).id, date(2026, 9, 1), date(2026, 11, 27)
    )
    latest = await hourly_stats(
        hass, CONSUMPTION, day_start(date(2026, 11, 26)), day_start(date(2026, 11, 27))
    )
    assert latest[-1]["sum"] == pytest.approx(kwh, abs=0.001)


async def test_reload_and_repeat_never_double_count(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    short_history: None,
    snapshot: SnapshotAssertion,
) -> None:
    """A restart between imports and a forced re-import leave the sums unchanged."""
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    entry = await add_entry(ANNA)
    window = (day_start(date(2026, 9, 1)), day_start(date(2026, 11, 29)))
    first = await hourly_stats(hass, CONSUMPTION, *window)
    simulator.requests.clear()
    simulator.query_log.clear()
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    # Today's import is done: a restart asks Nomos nothing.
    assert sum(simulator.requests.values()) == 0
    with written_rows() as written:
        response = await hass.services.async_call(
            DOMAIN,
            "import_statistics",
            {"start": "2026-10-01"},
            blocking=True,
            return_response=True,
        )
    # Nothing changed at Nomos since: no row needed writing again.
    assert written == {}
    assert response["start"] == "2026-10-01"
    assert response["end"] == "2026-11-29"
    assert response == snapshot  # the whole answer automations get
    second = await hourly_stats(hass, CONSUMPTION, *window)
    assert [row["sum"] for row in second] == pytest.approx([row["sum"] for row in first], abs=1e-6)
    # The next daily run fetches only the correction window again, not the whole history.
    simulator.requests.clear()
    await walk(hass, freezer, berlin(2026, 11, 30, 18, 0), timedelta(hours=1))
    assert simulator.count("GET /subscriptions/{id}/usage") == 1


async def test_gaps_stay_gaps(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    short_history: None,
) -> None:
    """Hours without usage get no statistic; the sum continues across the gap."""
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    data = {
        "object": "usage",
        "meter_type": "smart",
        "resolution": "15min",
        "data": [
            {"start": "2026-11-27T10:00:00.000Z", "usage": 0.5, "type": "final"},
            {"start": "2026-11-27T14:00:00.000Z", "usage": 0.25, "type": "final"},
        ],
    }
    simulator.inject("GET /subscriptions/{id}/usage", body=data)
    await add_entry(ANNA)
    rows = await hourly_stats(
        hass, CONSUMPTION, day_start(date(2026, 11, 27)), day_start(date(2026, 11, 28))
    )
    assert [(datetime.fromtimestamp(row["start"], UTC).hour, row["state"]) for row in rows] == [
        (10, 0.5),
        (14, 0.25),
    ]
    assert rows[1]["sum"] == pytest.approx(rows[0]["sum"] + 0.25)


async def test_analog_meter_has_monthly_values_only(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """No hourly statistics for analog meters; the latest month is a sensor."""
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    await add_entry(DAVID)
    ids = await get_instance(hass).async_add_executor_job(list_statistic_ids, hass)
    assert not [row for row in ids if row["statistic_id"].startswith(DOMAIN)]
    state = hass.states.get("sensor.nomos_d4v1danl_latest_monthly_consumption")
    assert state.attributes["month"] == "2026-10"
    assert float(state.state) > 0
    assert hass.states.get("sensor.nomos_d4v1danl_latest_daily_consumption") is None
    assert hass.states.get("sensor.nomos_d4v1danl_month_to_date_consumption") is None
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "import_statistics",
            {"start": "2026-10-01"},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "analog_meter_no_statistics"
    response = await hass.services.async_call(
        DOMAIN,
        "get_consumption",
        {"start": "2026-06-01", "end": "2026-09-01"},
        blocking=True,
        return_response=True,
    )
    assert response["resolution"] == "month"
    assert len(response["periods"]) == 3


async def test_invoices_across_pages(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """All pages are read; the latest invoice and its status become sensors."""
    monkeypatch.setattr("custom_components.nomos_energy.nomos_client.client.PAGE_LIMIT", 4)
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    await add_entry(ANNA)
    latest = hass.states.get("sensor.nomos_4x44emkx_latest_invoice")
    # Supply since January 2025: 22 monthly invoices up to October 2026.
    assert latest.attributes["number"] == "4X44EMKX-022"
    assert latest.attributes["status"] == "open"
    assert latest.attributes["period_start"] == berlin(2026, 10, 1, 0, 0).isoformat()
    assert hass.states.get("sensor.nomos_4x44emkx_invoice_status").state == "open"
    response = await hass.services.async_call(
        DOMAIN, "get_invoices", {}, blocking=True, return_response=True
    )
    numbers = [invoice["number"] for invoice in response["invoices"]]
    assert len(numbers) == 22
    assert numbers[0] == "4X44EMKX-022"
    assert float(latest.state) == response["invoices"][0]["total"]
    assert simulator.count("GET /invoices") >= 6  # 22 invoices, 4 a page, read twice


async def test_get_consumption_resolutions(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    short_history: None,
) -> None:
    """15-minute, hourly, daily and monthly totals agree with each other and the API."""
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    await add_entry(ANNA)
    totals = {}
    for resolution in ("15min", "hour", "day", "month"):
        response = await hass.services.async_call(
            DOMAIN,
            "get_consumption",
            {"start": "2026-10-20", "end": "2026-11-03", "resolution": resolution},
            blocking=True,
            return_response=True,
        )
        totals[resolution] = (
            round(sum(p["kwh"] for p in response["periods"]), 2),
            round(sum(p["cost"] for p in response["periods"]), 2),
        )
        if resolution == "day":
            assert len(response["periods"]) == 14
            for period in response["periods"]:
                assert period["price_paid"] == pytest.approx(
                    period["cost"] / period["kwh"], abs=1e-4
                )
                assert period["shifting_benefit"] == pytest.approx(
                    (period["market_average"] - period["price_paid"]) * period["kwh"], abs=0.01
                )
        if resolution == "month":
            assert [datetime.fromisoformat(p["start"]) for p in response["periods"]] == [
                day_start(date(2026, 10, 20)),
                day_start(date(2026, 11, 1)),
            ]
    assert len(set(totals.values())) == 1, totals
    kwh, eur = await api_totals(
        simulator, ANNA, anna_sub(simulator).id, date(2026, 10, 20), date(2026, 11, 3)
    )
    assert totals["day"] == (round(kwh, 2), round(eur, 2))


async def test_daily_run_time_and_request_budget(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    short_history: None,
) -> None:
    """After setup, one run a day after 16:00 plus the offset: usage, invoices, subscriptions."""
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    entry = await add_entry(ANNA)
    offset = entry.runtime_data.energy.run_offset
    simulator.requests.clear()
    simulator.request_log.clear()
    await walk(hass, freezer, berlin(2026, 12, 1, 18, 0), timedelta(minutes=10))
    usage_times = [
        moment
        for moment, route in simulator.request_log
        if route == "GET /subscriptions/{id}/usage"
    ]
    assert len(usage_times) == 2
    for moment in usage_times:
        local = moment.astimezone(BERLIN)
        run = datetime.combine(local.date(), datetime.min.time(), BERLIN).replace(hour=16) + offset
        assert timedelta(0) <= moment - run < timedelta(minutes=11)
    assert simulator.count("GET /invoices") == 2
    assert simulator.count("GET /subscriptions") == 2


async def test_the_daily_import_runs_once_even_when_woken_early(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    short_history: None,
) -> None:
    """A timer firing a moment early, and refreshes asked for by hand, never add a run."""
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    entry = await add_entry(ANNA)
    energy = entry.runtime_data.energy
    due = energy.due_at
    simulator.requests.clear()
    # Someone presses "update" on an energy sensor at noon: nothing is due.
    await travel(hass, freezer, berlin(2026, 11, 30, 12, 0))
    await energy.async_refresh()
    assert simulator.count("GET /subscriptions/{id}/usage") == 0
    # The timer wakes half a second before the moment: the run happens, once.
    await travel(hass, freezer, due - timedelta(seconds=0.5))
    await energy.async_refresh()
    assert simulator.count("GET /subscriptions/{id}/usage") == 1
    await walk(hass, freezer, due + timedelta(hours=2), timedelta(minutes=5))
    assert simulator.count("GET /subscriptions/{id}/usage") == 1
    assert energy.due_at > due + timedelta(hours=20)


async def test_day_and_month_sensors_mean_what_their_names_say(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    short_history: None,
) -> None:
    """Across midnight, the 1st and a restart: the latest day is the newest complete day (with
    its date, never unknown while one is in), the month to date is that day's month."""
    freezer.move_to(berlin(2026, 11, 30, 18, 0))
    entry = await add_entry(ANNA)
    sub_id = anna_sub(simulator).id
    nov29, _ = await api_totals(simulator, ANNA, sub_id, date(2026, 11, 29), date(2026, 11, 30))
    to_nov29, _ = await api_totals(simulator, ANNA, sub_id, date(2026, 11, 1), date(2026, 11, 30))

    def assert_through_nov29() -> None:
        state = hass.states.get(LATEST_DAY)
        assert float(state.state) == pytest.approx(nov29, abs=0.0005)
        assert state.attributes == {**state.attributes, "date": "2026-11-29", "complete": True}
        month_state = hass.states.get(MONTH)
        assert float(month_state.state) == pytest.approx(to_nov29, abs=0.0005)
        assert month_state.attributes == {
            **month_state.attributes,
            "month": "2026-11",
            "first_day": "2026-11-01",
            "last_day": "2026-11-29",
            "days_imported": 29,
            "complete": True,
        }

    assert_through_nov29()
    # A minute after midnight Nov 30 is not imported (Nomos publishes it after 16:00): the
    # latest day is still Nov 29, and on the 1st the month to date is November through it.
    await walk(hass, freezer, berlin(2026, 12, 1, 0, 1), timedelta(minutes=15))
    assert_through_nov29()
    # A restart before the import: the figures come back at once from the cache.
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    simulator.inject("GET /subscriptions/{id}/usage", status=503)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert_through_nov29()
    simulator.clear_faults()
    # After the daily import Nov 30 is in: the month to date is all of November.
    await walk(hass, freezer, berlin(2026, 12, 1, 17, 30), timedelta(minutes=15))
    nov30, _ = await api_totals(simulator, ANNA, sub_id, date(2026, 11, 30), date(2026, 12, 1))
    november, _ = await api_totals(simulator, ANNA, sub_id, date(2026, 11, 1), date(2026, 12, 1))
    state = hass.states.get(LATEST_DAY)
    assert float(state.state) == pytest.approx(nov30, abs=0.0005)
    assert state.attributes == {**state.attributes, "date": "2026-11-30", "complete": True}
    month_state = hass.states.get(MONTH)
    assert float(month_state.state) == pytest.approx(november, abs=0.0005)
    assert month_state.attributes["last_day"] == "2026-11-30"
    assert month_state.attributes["days_imported"] == 30
    assert (
        month_state.state == hass.states.get("sensor.nomos_4x44emkx_consumption_last_month").state
    )
    # On Dec 2 after 16:00, Dec 1 is in: the latest day, and December's first day.
    await walk(hass, freezer, berlin(2026, 12, 2, 17, 30), timedelta(minutes=15))
    dec1, _ = await api_totals(simulator, ANNA, sub_id, date(2026, 12, 1), date(2026, 12, 2))
    assert float(hass.states.get(LATEST_DAY).state) == pytest.approx(dec1, abs=0.0005)
    assert hass.states.get(LATEST_DAY).attributes["date"] == "2026-12-01"
    month_state = hass.states.get(MONTH)
    assert float(month_state.state) == pytest.approx(dec1, abs=0.0005)
    assert month_state.attributes["month"] == "2026-12"
    assert month_state.attributes["days_imported"] == 1


async def test_fixed_charges_go_to_the_cost_sensors_not_the_statistics(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    short_history: None,
) -> None:
    """The base fee from the options: a share per day in the cost sensors, never in statistics."""
    freezer.move_to(berlin(2026, 11, 30, 18, 0))
    entry = await add_entry(ANNA)
    cost = LATEST_DAY_COST
    assert hass.states.get(cost).attributes["date"] == "2026-11-29"
    energy_only = float(hass.states.get(cost).state)
    rows_before = await hourly_stats(
        hass, COST, day_start(date(2026, 11, 1)), day_start(date(2026, 11, 30))
    )
    await save_options(hass, entry, monthly_fixed_charges=12.3)
    state = hass.states.get(cost)
    assert float(state.state) == pytest.approx(energy_only + 12.3 / 30, abs=0.01)
    assert state.attributes["fixed_charges_included"] == pytest.approx(0.41)
    month = hass.states.get(MONTH_COST)
    assert month.attributes["last_day"] == "2026-11-29"
    assert month.attributes["fixed_charges_included"] == pytest.approx(12.3 * 29 / 30, abs=0.01)
    rows_after = await hourly_stats(
        hass, COST, day_start(date(2026, 11, 1)), day_start(date(2026, 11, 30))
    )
    assert [row["sum"] for row in rows_after] == pytest.approx([row["sum"] for row in rows_before])


async def test_what_you_paid_versus_the_market(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    short_history: None,
    entity_registry_enabled_by_default: None,
) -> None:
    """Price paid, plain market average and shifting benefit, from the API's own numbers;
    the comparison tariff once it is set."""
    freezer.move_to(berlin(2026, 12, 1, 18, 0))
    entry = await add_entry(ANNA)
    sub = anna_sub(simulator)
    # On the 1st the latest complete day is Nov 30, and the month to date all of November.
    for period, first, end in (
        ("latest_day", date(2026, 11, 30), date(2026, 12, 1)),
        ("month", date(2026, 11, 1), date(2026, 12, 1)),
        ("last_month", date(2026, 11, 1), date(2026, 12, 1)),
    ):
        kwh, eur = await api_totals(simulator, ANNA, sub.id, first, end)
        hours = await api_hourly_prices(simulator, ANNA, sub.id, first, end)
        prices = [price for quarter in hours.values() for price in quarter]
        average = sum(prices) / len(prices)
        paid = float(hass.states.get(anna_sensor(hass, sub, f"{period}_price_paid")).state)
        market = float(hass.states.get(anna_sensor(hass, sub, f"{period}_market_average")).state)
        benefit_state = hass.states.get(anna_sensor(hass, sub, f"{period}_shifting_benefit"))
        benefit = float(benefit_state.state)
        if period == "latest_day":
            assert benefit_state.attributes["date"] == first.isoformat()
        else:
            assert benefit_state.attributes["first_day"] == first.isoformat()
            assert benefit_state.attributes["last_day"] == (end - timedelta(days=1)).isoformat()
        assert paid == pytest.approx(eur / kwh, abs=1e-6)
        assert market == pytest.approx(average, abs=1e-6)
        assert benefit == pytest.approx((average - eur / kwh) * kwh, abs=0.01)
        if period == "latest_day":
            # The day's benefit is a daily statistic too, for graphs over months.
            rows = await hourly_stats(
                hass, "nomos_energy:4x44emkx_shifting_benefit", day_start(first), day_start(end)
            )
            assert [row["state"] for row in rows] == [pytest.approx(benefit, abs=0.005)]
    assert (
        hass.states.get("sensor.nomos_4x44emkx_saved_versus_comparison_tariff_last_month") is None
    )
    await save_options(
        hass, entry, monthly_fixed_charges=12.0, comparison_price_ct=35.0, comparison_base_fee=15.0
    )
    kwh, eur = await api_totals(simulator, ANNA, sub.id, date(2026, 11, 1), date(2026, 12, 1))
    saved = hass.states.get("sensor.nomos_4x44emkx_saved_versus_comparison_tariff_last_month")
    assert saved.attributes["comparison_cost"] == pytest.approx(kwh * 0.35 + 15.0, abs=0.01)
    assert float(saved.state) == pytest.approx(kwh * 0.35 + 15.0 - (eur + 12.0), abs=0.01)


async def daily_rows(hass: HomeAssistant, statistic_id: str) -> list[dict[str, Any]]:
    """Every row of a daily statistic from 1 September to 4 December 2026."""
    return await hourly_stats(
        hass, statistic_id, day_start(date(2026, 9, 1)), day_start(date(2026, 12, 5))
    )


def assert_running_sum(rows: list[dict[str, Any]]) -> None:
    """Each row's sum is the previous sum plus its own value, from zero."""
    sums = list(itertools.accumulate(row["state"] for row in rows))
    assert [row["sum"] for row in rows] == pytest.approx(sums)


async def test_saving_against_the_comparison_tariff_is_a_daily_statistic(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    short_history: None,
) -> None:
    """Each day's saving is a row for graphs over months; new comparison settings rewrite
    every imported day from the cache (no request), turning the comparison off removes it."""
    freezer.move_to(berlin(2026, 12, 4, 18, 0))
    entry = await add_entry(ANNA)
    sub = anna_sub(simulator)
    saved_id = "nomos_energy:4x44emkx_saved_versus_comparison"
    assert await daily_rows(hass, saved_id) == []
    november = await api_totals(simulator, ANNA, sub.id, date(2026, 11, 1), date(2026, 12, 1))
    december_3 = await api_totals(simulator, ANNA, sub.id, date(2026, 12, 3), date(2026, 12, 4))
    simulator.requests.clear()

    for price_ct in (35.0, 30.0):
        await save_options(
            hass,
            entry,
            monthly_fixed_charges=12.0,
            comparison_price_ct=price_ct,
            comparison_base_fee=15.0,
        )
        rows = await daily_rows(hass, saved_id)
        assert len(rows) == 94  # 1 September to 3 December, every imported day
        assert_running_sum(rows)
        kwh, eur = december_3
        assert rows[-1]["state"] == pytest.approx(
            kwh * price_ct / 100 + 15 / 31 - (eur + 12 / 31), abs=1e-6
        )
        kwh, eur = november
        in_november = [
            row["state"]
            for row in rows
            if local_date(datetime.fromtimestamp(row["start"], UTC)).month == 11
        ]
        assert sum(in_november) == pytest.approx(kwh * price_ct / 100 + 15 - (eur + 12), abs=1e-6)
        last_month = hass.states.get(
            "sensor.nomos_4x44emkx_saved_versus_comparison_tariff_last_month"
        )
        assert sum(in_november) == pytest.approx(float(last_month.state), abs=0.005)

    await save_options(hass, entry, monthly_fixed_charges=12.0, comparison_price_ct=0.0)
    await async_wait_recording_done(hass)
    listed = await get_instance(hass).async_add_executor_job(list_statistic_ids, hass)
    assert saved_id not in {item["statistic_id"] for item in listed}
    # Only the options form's base-fee suggestion asked Nomos anything.
    assert set(simulator.requests) == {"GET /plans/{id}"}


async def test_money_figures_of_a_day_or_a_month_keep_no_statistics(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    short_history: None,
) -> None:
    """The day and month money and energy sensors are one period's figure, not running
    totals: no state class, so no long-term statistics of their own as the days pass, and
    the Energy dashboard's own validation rejects them as a cost (the imported cost
    statistic is the one it takes). The averages are measurements. The recorder finds
    nothing to fix."""
    freezer.move_to(berlin(2026, 12, 4, 18, 0))
    entry = await add_entry(ANNA)
    await save_options(hass, entry, comparison_price_ct=35.0, comparison_base_fee=15.0)
    sub = anna_sub(simulator)
    periods = ("latest_day", "month", "last_month")
    money = (
        LATEST_DAY_COST,
        MONTH_COST,
        "sensor.nomos_4x44emkx_cost_last_month",
        *(
            anna_sensor(hass, sub, f"{period}_{figure}")
            for figure in ("shifting_benefit", "saved_versus_comparison")
            for period in periods
        ),
    )
    energy = (LATEST_DAY, MONTH, "sensor.nomos_4x44emkx_consumption_last_month")
    registry = er.async_get(hass)
    for entity_id in (*money, *energy):
        state = hass.states.get(entity_id)
        assert state is not None, entity_id
        assert float(state.state) != 0, entity_id
        assert "state_class" not in state.attributes, entity_id
        assert "last_reset" not in state.attributes, entity_id
        assert registry.async_get(entity_id).capabilities is None, entity_id

    async def compile_at(moment: datetime) -> None:
        await async_wait_recording_done(hass)
        do_adhoc_statistics(hass, start=moment.astimezone(UTC))
        await async_wait_recording_done(hass)

    await compile_at(berlin(2026, 12, 4, 18, 5))
    await walk(hass, freezer, berlin(2026, 12, 5, 18, 0), timedelta(minutes=30))
    assert entry.runtime_data.cache.imported_until[anna_sub(simulator).id] == date(2026, 12, 5)
    assert hass.states.get(LATEST_DAY).attributes["date"] == "2026-12-04"
    await compile_at(berlin(2026, 12, 5, 18, 5))
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        berlin(2026, 12, 4, 0, 0),
        None,
        {*money, *energy},
        "5minute",
        None,
        {"sum", "mean"},
    )
    assert rows == {}
    listed = await get_instance(hass).async_add_executor_job(list_statistic_ids, hass)
    assert not {item["statistic_id"] for item in listed} & {*money, *energy}

    # What the Energy dashboard says when one of them is set as the grid's cost.
    assert await async_setup_component(hass, "energy", {})

    async def cost_issues(cost: str) -> set[str]:
        await set_grid_cost(hass, CONSUMPTION, cost)
        validation = (await energy_validate.async_validate(hass)).as_dict()
        return {
            issue["type"]
            for source in validation["energy_sources"]
            for issue in source
            if any(cost in affected for affected in issue["affected_entities"])
        }

    assert await cost_issues(COST) == set()
    for entity_id in money:
        assert "statistics_not_defined" in await cost_issues(entity_id), entity_id

    # What Developer tools > Statistics lists as issues to fix.
    issues = await get_instance(hass).async_add_executor_job(validate_statistics, hass)
    assert not [entity_id for entity_id in issues if "nomos" in entity_id]
    for period in periods:
        paid = anna_sensor(hass, sub, f"{period}_price_paid")
        assert hass.states.get(paid) is not None  # enabled in tests, disabled by default
        assert registry.async_get(paid).capabilities == {"state_class": "measurement"}


async def set_grid_cost(hass: HomeAssistant, consumption: str, cost: str) -> None:
    """Store Energy preferences with one grid import and its cost, in this HA's format."""
    manager = await energy_data.async_get_manager(hass)
    flow = {"stat_energy_from": consumption, "stat_cost": cost}
    unpriced = {"entity_energy_price": None, "number_energy_price": None}
    if "stat_energy_from" in energy_data.GridSourceType.__annotations__:
        grid: dict[str, object] = {"type": "grid", **flow, **unpriced, "cost_adjustment_day": 0}
    else:  # HA before 2026.10: import and export flows in lists
        grid = {
            "type": "grid",
            "flow_from": [{**flow, **unpriced}],
            "flow_to": [],
            "cost_adjustment_day": 0,
        }
    await manager.async_update({"energy_sources": [grid]})  # type: ignore[typeddict-item]


async def test_the_invoice_is_checked_against_the_meter(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    short_history: None,
) -> None:
    """November's invoice matches the 15-minute data; a wrong one raises a repair issue
    that the corrected invoice clears."""
    from homeassistant.helpers import issue_registry as ir  # noqa: PLC0415

    freezer.move_to(berlin(2026, 12, 4, 18, 0))
    entry = await add_entry(ANNA)
    sub = anna_sub(simulator)
    kwh, eur = await api_totals(simulator, ANNA, sub.id, date(2026, 11, 1), date(2026, 12, 1))
    latest = hass.states.get("sensor.nomos_4x44emkx_latest_invoice")
    period_start = datetime.fromisoformat(latest.attributes["period_start"])
    assert local_date(period_start) == date(2026, 11, 1)
    assert latest.attributes["metered_kwh"] == pytest.approx(kwh, abs=0.01)
    assert latest.attributes["energy_cost"] == pytest.approx(eur, abs=0.01)
    assert latest.attributes["matches_meter"] is True
    issue_id = f"invoice_mismatch_{sub.id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None

    sub.invoice_overrides[date(2026, 11, 1)] = round(kwh + 25, 1)
    await walk(hass, freezer, berlin(2026, 12, 5, 18, 0), timedelta(hours=1))
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    placeholders = issue.translation_placeholders
    assert placeholders["invoice_kwh"] == f"{round(kwh + 25, 1):.1f}"
    # The meter's last days turned final since: the difference is against today's data.
    assert float(placeholders["difference"]) == pytest.approx(
        float(placeholders["invoice_kwh"]) - float(placeholders["metered_kwh"]), abs=0.11
    )
    assert float(placeholders["difference"]) > 20
    response = await hass.services.async_call(
        DOMAIN, "get_invoices", {}, blocking=True, return_response=True
    )
    assert response["invoices"][0]["meter_check"]["matches_meter"] is False
    assert entry.runtime_data.energy.data[sub.id].latest_invoice is not None

    del sub.invoice_overrides[date(2026, 11, 1)]
    await walk(hass, freezer, berlin(2026, 12, 6, 18, 0), timedelta(hours=1))
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_cost_report_for_a_notification(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    short_history: None,
) -> None:
    """Last month in one object, the same numbers as the sensors and the API; a range too."""
    freezer.move_to(berlin(2026, 12, 4, 18, 0))
    entry = await add_entry(ANNA)
    hass.config_entries.async_update_entry(
        entry,
        options={**entry.options, "comparison_price_ct": 33.0, "comparison_base_fee": 10.0},
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    report = await hass.services.async_call(
        DOMAIN, "get_cost_report", {}, blocking=True, return_response=True
    )
    kwh, eur = await api_totals(
        simulator, ANNA, anna_sub(simulator).id, date(2026, 11, 1), date(2026, 12, 1)
    )
    assert (report["start"], report["end"], report["complete"]) == (
        "2026-11-01",
        "2026-11-30",
        True,
    )
    assert report["kwh"] == pytest.approx(kwh, abs=0.001)
    assert report["cost"] == pytest.approx(eur, abs=0.01)
    assert report["price_paid"] == pytest.approx(eur / kwh, abs=1e-5)
    assert report["shifting_benefit"] == pytest.approx(
        float(hass.states.get("sensor.nomos_4x44emkx_shifting_benefit_last_month").state), abs=0.01
    )
    assert report["comparison_cost"] == pytest.approx(kwh * 0.33 + 10, abs=0.01)
    assert report["saved_versus_comparison"] == pytest.approx(kwh * 0.33 + 10 - eur, abs=0.01)
    assert report["invoice"]["number"] == "4X44EMKX-003"
    assert report["invoice"]["matches_meter"] is True
    same = await hass.services.async_call(
        DOMAIN, "get_cost_report", {"month": "2026-11"}, blocking=True, return_response=True
    )
    assert same == report
    week = await hass.services.async_call(
        DOMAIN,
        "get_cost_report",
        {"start": "2026-11-23", "end": "2026-11-30"},
        blocking=True,
        return_response=True,
    )
    assert week["days_imported"] == 7
    assert week["invoice"] is None
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN,
            "get_cost_report",
            {"start": "2026-11-23", "end": "2026-11-20"},
            blocking=True,
            return_response=True,
        )


async def test_restarts_and_reimports_never_change_a_figure(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    short_history: None,
    entity_registry_enabled_by_default: None,
) -> None:
    """Every day, month and insight figure is the same after a reload and a forced re-import."""
    freezer.move_to(berlin(2026, 12, 4, 18, 0))
    entry = await add_entry(ANNA)
    await save_options(hass, entry, comparison_price_ct=31.0, comparison_base_fee=9.0)

    sub = anna_sub(simulator)
    # Consumption, cost and the four insight figures of the latest day, the month so far
    # and last month.
    period_sensors = [
        anna_sensor(hass, sub, f"{period}_{figure}")
        for period in ("latest_day", "month", "last_month")
        for figure in (
            "consumption",
            "cost",
            "price_paid",
            "market_average",
            "shifting_benefit",
            "saved_versus_comparison",
        )
    ]

    def figures() -> dict[str, Any]:
        return {
            entity_id: (state.state, dict(state.attributes))
            for entity_id in period_sensors
            if (state := hass.states.get(entity_id)) is not None
        }

    before = figures()
    assert len(before) == 18
    assert all(state != STATE_UNKNOWN for state, _ in before.values())
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert figures() == before
    daily = (
        "nomos_energy:4x44emkx_shifting_benefit",
        "nomos_energy:4x44emkx_saved_versus_comparison",
    )
    rows_before = [await daily_rows(hass, statistic_id) for statistic_id in daily]
    assert [len(rows) for rows in rows_before] == [94, 94]  # 1 September to 3 December
    await hass.services.async_call(
        DOMAIN, "import_statistics", {"start": "2026-11-01"}, blocking=True, return_response=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert figures() == before
    for statistic_id, rows in zip(daily, rows_before, strict=True):
        rows_after = await daily_rows(hass, statistic_id)
        assert [(r["state"], r["sum"]) for r in rows_after] == pytest.approx(
            [(r["state"], r["sum"]) for r in rows]
        )


async def test_dashboard_and_graph_read_the_same_month_across_dst(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_ws_client: Any,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    short_history: None,
) -> None:
    """October 2026 (25 hours on the 25th) through the recorder's websocket API, as the
    Energy dashboard and a statistics-graph card ask: the month's and that day's kWh and
    cost equal the API's own sums, the price mean the mean of the API's hourly prices."""
    await hass.config.async_set_time_zone("Europe/Berlin")  # months and days as in Germany
    client = await hass_ws_client(hass)  # signed in before the clock goes back a few days
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    await add_entry(ANNA)
    await async_wait_recording_done(hass)
    sub_id = anna_sub(simulator).id

    async def read(start: datetime, end: datetime, period: str) -> dict[str, Any]:
        await client.send_json_auto_id(
            {
                "type": "recorder/statistics_during_period",
                "start_time": start.isoformat(),
                "end_time": end.isoformat(),
                "statistic_ids": [CONSUMPTION, COST, PRICE],
                "period": period,
                "types": ["change", "mean"],
                "units": {"energy": "kWh"},
            }
        )
        response = await client.receive_json()
        assert response["success"], response
        return response["result"]

    for first, end, period in (
        (date(2026, 10, 1), date(2026, 11, 1), "month"),
        (date(2026, 10, 25), date(2026, 10, 26), "day"),
    ):
        result = await read(day_start(first), day_start(end), period)
        kwh, eur = await api_totals(simulator, ANNA, sub_id, first, end)
        hours = await api_hourly_prices(simulator, ANNA, sub_id, first, end)
        assert len(hours) == ((end - first).days * 24 + 1)  # the autumn night has 25 hours
        hourly_means = [sum(prices) / len(prices) for prices in hours.values()]
        begins = day_start(first).timestamp() * 1000

        def row(statistic: str, result: dict[str, Any] = result, begins: float = begins) -> Any:
            return next(row for row in result[statistic] if row["start"] == begins)

        assert row(CONSUMPTION)["change"] == pytest.approx(kwh, abs=0.001)
        assert row(COST)["change"] == pytest.approx(eur, abs=0.001)
        assert row(PRICE)["mean"] == pytest.approx(sum(hourly_means) / len(hourly_means), abs=1e-6)
