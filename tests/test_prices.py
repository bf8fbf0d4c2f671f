"""Prices: cache-first fetching, the quarter-hour flip, DST days, outages and restarts."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.energy import data as energy_data, validate as energy_validate
from homeassistant.components.recorder import Recorder
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest

from custom_components.nomos_energy.price_schedule import BERLIN, day_bounds
from nomos_simulator import NomosSimulator
from nomos_simulator.data import Subscription

from .conftest import ANNA, AddEntry
from .timetravel import QUARTER, berlin, travel, walk

PRICES = "GET /subscriptions/{id}/prices"
# The price people read (ct/kWh) and the Energy dashboard's price (EUR/kWh).
CURRENT = "sensor.nomos_4x44emkx_current_price"
CURRENT_EUR = "sensor.nomos_4x44emkx_price_in_eur_kwh"


def anna_subscription(simulator: NomosSimulator) -> Subscription:
    return next(sub for sub in simulator.subscriptions.values() if sub.number == "4X44EMKX")


def price_at(simulator: NomosSimulator, moment: datetime) -> float | None:
    """The all-in price (ct/kWh) the simulator serves for the quarter containing `moment`."""
    start = moment.replace(minute=moment.minute // 15 * 15, second=0, microsecond=0)
    return anna_subscription(simulator).price_item(start)["amount"]


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


def value(hass: HomeAssistant, entity_id: str) -> float:
    return float(state(hass, entity_id))


@pytest.fixture
def publication_at_1420(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove this installation's random offset so tests know the fetch time."""
    monkeypatch.setattr(
        "custom_components.nomos_energy.coordinator_base.PUBLICATION_SPREAD", timedelta(0)
    )


async def test_prices_before_publication(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    entity_registry_enabled_by_default: None,
) -> None:
    """At 10:05 Berlin: today's prices from one request, tomorrow not yet there."""
    now = berlin(2026, 11, 29, 10, 5)
    freezer.move_to(now)
    await add_entry(ANNA)
    expected = price_at(simulator, now)
    assert value(hass, CURRENT) == pytest.approx(expected)
    assert value(hass, CURRENT_EUR) == pytest.approx(expected / 100)
    assert value(hass, "sensor.nomos_4x44emkx_next_price") == pytest.approx(
        price_at(simulator, now + QUARTER)
    )
    hour = [price_at(simulator, berlin(2026, 11, 29, 10, minute)) for minute in (0, 15, 30, 45)]
    assert value(hass, "sensor.nomos_4x44emkx_average_price_this_hour") == pytest.approx(
        sum(hour) / 4, abs=5e-5
    )
    day = [price_at(simulator, day_bounds(date(2026, 11, 29))[0] + i * QUARTER) for i in range(96)]
    assert value(hass, "sensor.nomos_4x44emkx_lowest_price_today") == pytest.approx(min(day))
    assert value(hass, "sensor.nomos_4x44emkx_highest_price_today") == pytest.approx(max(day))
    # States carry a ten-thousandth of a cent (what Nomos sends), not float noise.
    assert value(hass, "sensor.nomos_4x44emkx_average_price_today") == pytest.approx(
        sum(day) / 96, abs=5e-5
    )
    assert len(state(hass, "sensor.nomos_4x44emkx_average_price_today").split(".")[1]) <= 4
    assert len(state(hass, CURRENT_EUR).split(".")[1]) <= 6
    cheapest = day_bounds(date(2026, 11, 29))[0] + day.index(min(day)) * QUARTER
    dearest = day_bounds(date(2026, 11, 29))[0] + day.index(max(day)) * QUARTER
    assert (
        datetime.fromisoformat(state(hass, "sensor.nomos_4x44emkx_time_of_lowest_price_today"))
        == cheapest
    )
    # The day's range: highest minus lowest, the extremes with their local times.
    price_range = hass.states.get("sensor.nomos_4x44emkx_price_range_today")
    assert float(price_range.state) == pytest.approx(max(day) - min(day), abs=5e-5)
    assert price_range.attributes["unit_of_measurement"] == "ct / kWh"
    assert "state_class" not in price_range.attributes
    assert price_range.attributes["lowest"] == pytest.approx(min(day))
    assert price_range.attributes["highest"] == pytest.approx(max(day))
    assert price_range.attributes["average"] == pytest.approx(sum(day) / 96, abs=5e-5)
    for key, moment in (("lowest_at", cheapest), ("highest_at", dearest)):
        local = datetime.fromisoformat(price_range.attributes[key])
        assert local == moment
        # In Home Assistant's time zone, as every attribute.
        assert local.utcoffset() == dt_util.as_local(moment).utcoffset()
    # Not published yet is unknown, not unavailable (which would mean "cannot reach Nomos").
    assert state(hass, "sensor.nomos_4x44emkx_lowest_price_tomorrow") == STATE_UNKNOWN
    assert state(hass, "sensor.nomos_4x44emkx_price_range_tomorrow") == STATE_UNKNOWN
    assert state(hass, "binary_sensor.nomos_4x44emkx_prices_for_tomorrow_available") == STATE_OFF
    assert state(hass, "sensor.nomos_4x44emkx_price_level") in {
        "very_cheap",
        "cheap",
        "normal",
        "expensive",
        "very_expensive",
    }
    # The price people read is ct/kWh without a state class (no long-term
    # statistics); the Energy dashboard's price is EUR/kWh with them.
    current = hass.states.get(CURRENT)
    assert current.attributes["unit_of_measurement"] == "ct / kWh"
    assert "state_class" not in current.attributes
    assert "device_class" not in current.attributes
    for entity_id in (
        "sensor.nomos_4x44emkx_next_price",
        "sensor.nomos_4x44emkx_average_price_this_hour",
        "sensor.nomos_4x44emkx_lowest_price_today",
        "sensor.nomos_4x44emkx_average_price_next_3_hours",
        "sensor.nomos_4x44emkx_lowest_price_next_24_hours",
    ):
        attributes = hass.states.get(entity_id).attributes
        assert attributes["unit_of_measurement"] == "ct / kWh", entity_id
        assert "state_class" not in attributes, entity_id
    eur_price = hass.states.get(CURRENT_EUR)
    assert eur_price.attributes["unit_of_measurement"] == "EUR/kWh"
    assert eur_price.attributes["state_class"] == "measurement"
    assert "device_class" not in eur_price.attributes
    assert simulator.count(PRICES) == 1


async def test_quarter_hour_flip_uses_no_api_call(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """On the boundary the state follows the cache, with no request and no token refresh."""
    freezer.move_to(berlin(2026, 11, 29, 10, 14, 50))
    entry = await add_entry(ANNA)
    # Even an expired access token is not refreshed: no call is about to be made.
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "token": {**entry.data["token"], "expires_at": 0}}
    )
    simulator.requests.clear()
    simulator.token_requests.clear()
    before = value(hass, CURRENT)
    for minute in (15, 30, 45):
        await travel(hass, freezer, berlin(2026, 11, 29, 10, minute, 0, 300000))
        expected = price_at(simulator, berlin(2026, 11, 29, 10, minute))
        assert value(hass, CURRENT) == pytest.approx(expected)
        assert value(hass, CURRENT_EUR) == pytest.approx(expected / 100)
    assert before != value(hass, CURRENT)
    assert simulator.requests == {}
    assert simulator.token_requests == []


async def test_tomorrow_arrives_after_publication(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    publication_at_1420: None,
) -> None:
    """Missing before 14:20, fetched once after; midnight needs no call at all."""
    freezer.move_to(berlin(2026, 11, 29, 13, 0))
    await add_entry(ANNA)
    events: list[str] = []
    await walk(hass, freezer, berlin(2026, 11, 29, 14, 19))
    assert state(hass, "binary_sensor.nomos_4x44emkx_prices_for_tomorrow_available") == STATE_OFF
    assert simulator.count(PRICES) == 1
    await walk(hass, freezer, berlin(2026, 11, 29, 14, 21), timedelta(minutes=1))
    assert state(hass, "binary_sensor.nomos_4x44emkx_prices_for_tomorrow_available") == STATE_ON
    assert simulator.count(PRICES) == 2
    tomorrow = [
        price_at(simulator, day_bounds(date(2026, 11, 30))[0] + i * QUARTER) for i in range(96)
    ]
    assert value(hass, "sensor.nomos_4x44emkx_lowest_price_tomorrow") == pytest.approx(
        min(tomorrow)
    )
    assert value(hass, "sensor.nomos_4x44emkx_average_price_tomorrow") == pytest.approx(
        sum(tomorrow) / 96, abs=5e-5
    )
    tomorrow_range = hass.states.get("sensor.nomos_4x44emkx_price_range_tomorrow")
    assert float(tomorrow_range.state) == pytest.approx(max(tomorrow) - min(tomorrow), abs=5e-5)
    assert tomorrow_range.attributes["lowest"] == pytest.approx(min(tomorrow))
    assert tomorrow_range.attributes["highest"] == pytest.approx(max(tomorrow))
    event = hass.states.get("event.nomos_4x44emkx_prices_for_tomorrow")
    assert event.attributes["event_type"] == "published"
    assert event.attributes["date"] == "2026-11-30"
    assert event.attributes["min_price"] == pytest.approx(min(tomorrow) / 100)
    events.append(event.state)

    # Midnight: tomorrow becomes today without a request; the event stays quiet.
    await walk(hass, freezer, berlin(2026, 11, 30, 0, 30), timedelta(hours=1))
    assert simulator.count(PRICES) == 2
    assert value(hass, "sensor.nomos_4x44emkx_lowest_price_today") == pytest.approx(min(tomorrow))
    assert value(hass, "sensor.nomos_4x44emkx_price_range_today") == pytest.approx(
        max(tomorrow) - min(tomorrow), abs=5e-5
    )
    assert state(hass, "sensor.nomos_4x44emkx_lowest_price_tomorrow") == STATE_UNKNOWN
    assert state(hass, "sensor.nomos_4x44emkx_price_range_tomorrow") == STATE_UNKNOWN
    assert value(hass, CURRENT) == pytest.approx(price_at(simulator, berlin(2026, 11, 30, 0, 30)))
    assert hass.states.get("event.nomos_4x44emkx_prices_for_tomorrow").state == events[0]


async def test_a_normal_week_costs_one_price_request_a_day(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """With the per-installation offset, each day needs exactly one price request."""
    freezer.move_to(berlin(2026, 11, 29, 16, 0))
    entry = await add_entry(ANNA)
    assert simulator.count(PRICES) == 1  # today and tomorrow in one request
    offset = entry.runtime_data.prices.publication_offset
    assert timedelta(0) <= offset < timedelta(minutes=80)
    await walk(hass, freezer, berlin(2026, 12, 6, 16, 0), timedelta(minutes=30))
    assert simulator.count(PRICES) == 1 + 7
    times = [moment for moment, route in simulator.request_log if route == PRICES][1:]
    for moment in times:
        local = moment.astimezone(BERLIN)
        first_try = (
            datetime.combine(local.date(), datetime.min.time(), BERLIN).replace(hour=14, minute=20)
            + offset
        )
        assert timedelta(0) <= moment - first_try < timedelta(minutes=31)


async def test_an_unknown_price_is_asked_for_a_few_times_a_day(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A price Nomos publishes as null is not missing: no request every 15 minutes for it."""
    assert await async_setup_component(hass, "homeassistant", {})
    sub = anna_subscription(simulator)
    unknown = berlin(2026, 11, 29, 22, 0)
    sub.price_overrides[unknown] = None
    freezer.move_to(berlin(2026, 11, 29, 0, 5))
    entry = await add_entry(ANNA)
    # Half a day of polls, and of people pressing "update" on the price entities.
    for hour in range(1, 13):
        await walk(hass, freezer, berlin(2026, 11, 29, hour, 5), timedelta(minutes=15))
        await hass.services.async_call(
            "homeassistant", "update_entity", {"entity_id": CURRENT}, blocking=True
        )
    # The first fetch, then a re-ask every four hours at most (not 48 polls).
    assert 1 < simulator.count(PRICES) <= 1 + 12 // 4
    # Once Nomos knows the price, it arrives within those four hours.
    del sub.price_overrides[unknown]
    await walk(hass, freezer, berlin(2026, 11, 29, 16, 5), timedelta(minutes=15))
    schedule = entry.runtime_data.prices.data[sub.id]
    assert schedule.at(unknown).price_ct == pytest.approx(price_at(simulator, unknown))


@pytest.mark.parametrize(("day", "quarters"), [(date(2026, 3, 29), 92), (date(2026, 10, 25), 100)])
async def test_dst_days(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    day: date,
    quarters: int,
) -> None:
    """Both Berlin DST days: every quarter-hour, the right count, the right averages."""
    start, end = day_bounds(day)
    assert (end - start) / QUARTER == quarters
    freezer.move_to(start + timedelta(minutes=5))
    entry = await add_entry(ANNA)
    schedule = entry.runtime_data.prices.data[anna_subscription(simulator).id]
    assert len(schedule.day(day)) == quarters
    expected = [price_at(simulator, start + i * QUARTER) for i in range(quarters)]
    assert value(hass, "sensor.nomos_4x44emkx_average_price_today") == pytest.approx(
        sum(expected) / quarters, abs=5e-5
    )
    simulator.requests.clear()
    # Walk through the changed hour quarter by quarter; each state matches its interval.
    for index in range(8, 16):
        moment = start + index * QUARTER + timedelta(seconds=1)
        await travel(hass, freezer, moment)
        assert value(hass, CURRENT) == pytest.approx(expected[index]), moment
        assert value(hass, CURRENT_EUR) == pytest.approx(expected[index] / 100), moment
    assert simulator.requests == {}


async def test_null_zero_and_negative_prices(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Null is unknown (never zero); zero and negative prices are real prices."""
    base = berlin(2026, 11, 29, 11, 0)
    sub = anna_subscription(simulator)
    sub.price_overrides.update({base: None, base + QUARTER: 0.0, base + 2 * QUARTER: -1.23})
    freezer.move_to(base + timedelta(minutes=1))
    await add_entry(ANNA)
    assert state(hass, CURRENT) == STATE_UNKNOWN
    assert state(hass, CURRENT_EUR) == STATE_UNKNOWN
    assert state(hass, "sensor.nomos_4x44emkx_price_level") == STATE_UNKNOWN
    assert value(hass, "sensor.nomos_4x44emkx_next_price") == 0.0
    await travel(hass, freezer, base + QUARTER + timedelta(seconds=1))
    assert value(hass, CURRENT) == 0.0
    assert value(hass, CURRENT_EUR) == 0.0
    await travel(hass, freezer, base + 2 * QUARTER + timedelta(seconds=1))
    assert value(hass, CURRENT) == pytest.approx(-1.23)
    assert value(hass, CURRENT_EUR) == pytest.approx(-0.0123)
    assert state(hass, "sensor.nomos_4x44emkx_price_level") == "very_cheap"
    # An hour with an unknown quarter still averages the known ones.
    assert value(hass, "sensor.nomos_4x44emkx_average_price_this_hour") == pytest.approx(
        (0.0 - 1.23 + price_at(simulator, base + 3 * QUARTER)) / 3, abs=5e-5
    )


async def test_24_hour_outage_and_restart(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nomos down for a day, Home Assistant restarted in the middle: prices keep serving."""
    freezer.move_to(berlin(2026, 11, 29, 16, 0))
    entry = await add_entry(ANNA)  # today and tomorrow are now cached
    for route in (PRICES, "GET /subscriptions", "POST /oauth/token", "GET /subscriptions/{id}"):
        simulator.inject(route, status=503)
    simulator.requests.clear()
    caplog.clear()

    await walk(hass, freezer, berlin(2026, 11, 30, 4, 0), timedelta(minutes=15))
    assert value(hass, CURRENT) == pytest.approx(price_at(simulator, berlin(2026, 11, 30, 4, 0)))

    # Restart during the outage: only the persisted cache is left.
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert value(hass, CURRENT) == pytest.approx(price_at(simulator, berlin(2026, 11, 30, 4, 0)))
    assert state(hass, "sensor.nomos_4x44emkx_contract_status") == "active"

    await walk(hass, freezer, berlin(2026, 11, 30, 16, 0), timedelta(minutes=15))
    assert value(hass, CURRENT) == pytest.approx(price_at(simulator, berlin(2026, 11, 30, 16, 0)))
    # Tomorrow (Dec 1) could not be fetched: unknown, while today's keep their values.
    assert state(hass, "sensor.nomos_4x44emkx_lowest_price_tomorrow") == STATE_UNKNOWN
    assert state(hass, "sensor.nomos_4x44emkx_lowest_price_today") != STATE_UNAVAILABLE
    # Back-off keeps the requests bounded during the whole outage.
    # Back-off: 24 hours of outage cost a bounded number of requests in all.
    assert sum(simulator.requests.values()) <= 24
    assert not [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["context"]["source"] == "reauth"
    ]

    simulator.clear_faults()
    await walk(hass, freezer, berlin(2026, 11, 30, 17, 0), timedelta(minutes=5))
    assert state(hass, "binary_sensor.nomos_4x44emkx_prices_for_tomorrow_available") == STATE_ON
    warnings = [
        r
        for r in caplog.records
        if r.levelname == "WARNING"
        and r.name.startswith("custom_components")
        and "prices" in r.getMessage()
    ]
    assert len(warnings) <= 2  # one at the start, one after the restart
    assert any("reachable again" in r.getMessage() for r in caplog.records if r.levelname == "INFO")
    assert not [r for r in caplog.records if r.exc_info]


async def test_rate_limit_retry_after_is_honoured(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    publication_at_1420: None,
) -> None:
    """A 429 on the publication fetch waits at least Retry-After before asking again."""
    freezer.move_to(berlin(2026, 11, 29, 14, 0))
    await add_entry(ANNA)
    simulator.inject(PRICES, status=429, retry_after=1800, times=1)
    await walk(hass, freezer, berlin(2026, 11, 29, 14, 25), timedelta(minutes=1))
    assert simulator.count(PRICES) == 2  # setup, then the 429
    await walk(hass, freezer, berlin(2026, 11, 29, 14, 49), timedelta(minutes=1))
    assert simulator.count(PRICES) == 2
    await walk(hass, freezer, berlin(2026, 11, 29, 14, 52), timedelta(minutes=1))
    assert simulator.count(PRICES) == 3
    assert state(hass, "binary_sensor.nomos_4x44emkx_prices_for_tomorrow_available") == STATE_ON


async def test_garbage_never_overwrites_the_cache(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    publication_at_1420: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A malformed or truncated answer is logged and ignored; cached prices stay."""
    freezer.move_to(berlin(2026, 11, 29, 14, 0))
    entry = await add_entry(ANNA)
    cached = entry.runtime_data.prices.data[anna_subscription(simulator).id]
    simulator.inject(PRICES, malformed=True, times=1)
    await walk(hass, freezer, berlin(2026, 11, 29, 14, 21), timedelta(minutes=1))
    assert "malformed JSON" in caplog.text
    assert entry.runtime_data.prices.data[anna_subscription(simulator).id] == cached
    simulator.inject(
        PRICES,
        body={
            "object": "price",
            "subscription": "x",
            "resolution": "15min",
            "items": [{"timestamp": "2026-11-29T10:00:00Z", "amount": "cheap", "components": []}],
        },
        times=1,
    )
    await walk(hass, freezer, berlin(2026, 11, 29, 14, 40), timedelta(minutes=1))
    assert "'items[0].amount' must be a number" in caplog.text
    assert value(hass, CURRENT) == pytest.approx(price_at(simulator, berlin(2026, 11, 29, 14, 40)))


async def test_revoked_during_price_fetch_starts_reauth(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    publication_at_1420: None,
) -> None:
    """A revoked sign-in found while fetching prices asks the user to sign in again."""
    freezer.move_to(berlin(2026, 11, 29, 14, 0))
    await add_entry(ANNA)
    simulator.revoke(simulator.customer_by_email(ANNA).id)
    await walk(hass, freezer, berlin(2026, 11, 29, 14, 25), timedelta(minutes=1))
    flows = [
        f for f in hass.config_entries.flow.async_progress() if f["context"]["source"] == "reauth"
    ]
    assert len(flows) == 1


async def test_contract_that_starts_gets_prices_at_once(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """When a pending contract becomes active, its price entities appear with prices."""
    from .conftest import CLARA  # noqa: PLC0415

    freezer.move_to(berlin(2026, 11, 29, 10, 0))
    entry = await add_entry(CLARA)
    assert hass.states.get("sensor.nomos_cl4r4new_current_price") is None
    assert hass.states.get("sensor.nomos_cl4r4new_price_in_eur_kwh") is None
    clara = next(sub for sub in simulator.subscriptions.values() if sub.number == "CL4R4NEW")
    clara.start_at = berlin(2026, 11, 29, 0, 0)
    await entry.runtime_data.subscriptions.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    amount = clara.price_item(berlin(2026, 11, 29, 10, 0))["amount"]
    assert value(hass, "sensor.nomos_cl4r4new_current_price") == pytest.approx(amount)
    assert value(hass, "sensor.nomos_cl4r4new_price_in_eur_kwh") == pytest.approx(amount / 100)


@pytest.mark.default_entities
async def test_components_are_disabled_by_default(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The price components are there for those who want them, off by default."""
    from homeassistant.helpers import entity_registry as er  # noqa: PLC0415

    freezer.move_to(berlin(2026, 11, 29, 10, 0))
    await add_entry(ANNA)
    registry = er.async_get(hass)
    for name in ("energy_price", "grid_fee", "levies"):
        entity = registry.async_get(f"sensor.nomos_4x44emkx_current_{name}_component")
        assert entity is not None
        assert entity.disabled_by is er.RegistryEntryDisabler.INTEGRATION


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_components_sum_to_the_price(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Enabled components show the current energy, grid and levies parts."""
    freezer.move_to(berlin(2026, 11, 29, 10, 0))
    await add_entry(ANNA)
    parts = [
        value(hass, f"sensor.nomos_4x44emkx_current_{name}_component")
        for name in ("energy_price", "grid_fee", "levies")
    ]
    assert parts[1] == pytest.approx(9.47)
    assert sum(parts) == pytest.approx(value(hass, CURRENT))
    assert (
        hass.states.get("sensor.nomos_4x44emkx_current_grid_fee_component").attributes[
            "unit_of_measurement"
        ]
        == "ct / kWh"
    )


async def test_damaged_cache_is_ignored(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    setup_credentials: None,
    hass_storage: dict,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A corrupt cache file is logged and replaced, never fatal."""
    from .conftest import entry_for  # noqa: PLC0415

    freezer.move_to(berlin(2026, 11, 29, 10, 0))
    entry = entry_for(simulator, ANNA)
    hass_storage[f"nomos_energy.{entry.entry_id}"] = {
        "version": 1,
        "key": f"nomos_energy.{entry.entry_id}",
        "data": {"subscriptions": [{"id": "sub_x"}], "prices": {"sub_x": [["bad"]]}},
    }
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert "Ignoring the damaged Nomos cache" in caplog.text
    assert value(hass, CURRENT) == pytest.approx(price_at(simulator, berlin(2026, 11, 29, 10, 0)))


async def test_removing_the_entry_deletes_the_cache(
    hass: HomeAssistant, add_entry: AddEntry, hass_storage: dict, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(berlin(2026, 11, 29, 10, 0))
    entry = await add_entry(ANNA)
    await travel(hass, freezer, berlin(2026, 11, 29, 10, 1))  # let the delayed save run
    assert f"nomos_energy.{entry.entry_id}" in hass_storage
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert f"nomos_energy.{entry.entry_id}" not in hass_storage


@pytest.mark.default_entities
async def test_energy_dashboard_accepts_only_the_eur_price(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The Energy dashboard's own validation: the EUR/kWh sensor is clean, the ct/kWh one
    (what people read, enabled by default) is not accepted as the price, so costs can never
    come out 100 times too high."""
    freezer.move_to(berlin(2026, 11, 29, 10, 5))
    await add_entry(ANNA)
    await async_setup_component(hass, "energy", {})
    registry = er.async_get(hass)
    for entity_id in (CURRENT, CURRENT_EUR):
        registered = registry.async_get(entity_id)
        assert registered is not None, entity_id
        assert registered.disabled_by is None, entity_id
    assert registry.async_get(CURRENT).capabilities is None  # no state class: no statistics
    assert hass.states.get(CURRENT).attributes["unit_of_measurement"] == "ct / kWh"
    assert hass.states.get(CURRENT_EUR).attributes["state_class"] == "measurement"
    hass.states.async_set(
        "sensor.house_meter",
        "1234.5",
        {"device_class": "energy", "state_class": "total_increasing", "unit_of_measurement": "kWh"},
    )

    async def issues_of(price_entity: str) -> list[dict[str, object]]:
        await set_grid_price_entity(hass, "sensor.house_meter", price_entity)
        validation = (await energy_validate.async_validate(hass)).as_dict()
        return [
            issue
            for source in validation["energy_sources"]
            for issue in source
            if any(price_entity in affected for affected in issue["affected_entities"])
        ]

    assert await issues_of(CURRENT_EUR) == []
    # The dashboard's price picker lists every sensor and multiplies by the number
    # whatever the currency in the unit: a ct price must not pass its validation.
    assert [issue["type"] for issue in await issues_of(CURRENT)] == [
        "entity_unexpected_unit_energy_price"
    ], "ct accepted as the price: costs 100x too high"


async def set_grid_price_entity(hass: HomeAssistant, meter: str, price_entity: str) -> None:
    """Store Energy preferences with one grid import priced by an entity, in this HA's format."""
    manager = await energy_data.async_get_manager(hass)
    price = {"entity_energy_price": price_entity, "number_energy_price": None, "stat_cost": None}
    if "stat_energy_from" in energy_data.GridSourceType.__annotations__:
        grid: dict[str, object] = {
            "type": "grid",
            "stat_energy_from": meter,
            "cost_adjustment_day": 0,
            **price,
        }
    else:  # HA before 2026.10: import and export flows in lists
        grid = {
            "type": "grid",
            "flow_from": [{"stat_energy_from": meter, **price}],
            "flow_to": [],
            "cost_adjustment_day": 0,
        }
    await manager.async_update({"energy_sources": [grid]})  # type: ignore[typeddict-item]
