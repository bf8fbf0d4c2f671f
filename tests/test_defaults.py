"""What a homeowner gets by default: a few entities per contract, the rest one click away.

These tests keep entities that start disabled disabled (`default_entities`), as a
new installation has them.
"""

from __future__ import annotations

from collections import defaultdict

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.energy import data as energy_data, validate as energy_validate
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import list_statistic_ids
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.nomos_energy.const import CONF_PRICE_UNIT, PRICE_UNIT_EUR

from .conftest import ANNA, BEN, CLARA, DAVID, FELIX, AddEntry
from .test_prices import set_grid_price_entity
from .timetravel import berlin

pytestmark = pytest.mark.default_entities

# What a homeowner looks at daily, per kind of contract (translation keys).
PRICES = {
    "current_price_ct",
    "current_price",
    "price_level",
    "today_range",
    "tomorrow_range",
    "tomorrow_available",
}
BUYS_POWER = {"cheap_period", "next_cheap_start", "price_calendar"}
SMART_USAGE = {"latest_day_consumption", "latest_day_cost", "month_consumption", "month_cost"}
# What will this month's invoice be? (expected_invoice)
SMART_CONSUMPTION = PRICES | BUYS_POWER | SMART_USAGE | {"invoice_status", "expected_invoice"}
FEED_IN = {
    "current_payout_ct",
    "current_payout",
    "payout_level",
    "today_payout_range",
    "tomorrow_payout_range",
    "tomorrow_available",
    "latest_day_feed_in",
    "latest_day_payout",
    "month_feed_in",
    "month_payout",
    "invoice_status",
}
MOST_ENABLED = 16


def enabled_by_device(hass: HomeAssistant, entry_id: str) -> dict[str, set[str]]:
    """Return the translation keys of the enabled entities, per device name."""
    devices = dr.async_get(hass)
    enabled: dict[str, set[str]] = defaultdict(set)
    for entity in er.async_entries_for_config_entry(er.async_get(hass), entry_id):
        if entity.disabled_by is None:
            device = devices.async_get(entity.device_id or "")
            assert device is not None
            assert entity.translation_key is not None
            enabled[device.name or ""].add(entity.translation_key)
    return dict(enabled)


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        (ANNA, {"Nomos 4X44EMKX": SMART_CONSUMPTION}),
        # The ended contract keeps its last figures and invoices; no prices.
        (
            BEN,
            {
                "Nomos B3NFL4T7": SMART_CONSUMPTION,
                "Nomos B3N0LD22": SMART_USAGE | {"invoice_status"},
            },
        ),
        # An analog meter: the monthly reading instead of daily figures.
        (
            DAVID,
            {
                "Nomos D4V1DANL": PRICES
                | BUYS_POWER
                | {"latest_monthly_consumption", "invoice_status"}
            },
        ),
    ],
)
async def test_a_few_entities_per_contract_are_on_by_default(
    hass: HomeAssistant,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    email: str,
    expected: dict[str, set[str]],
) -> None:
    """Per contract, the daily questions and nothing else; at most 16 entities."""
    freezer.move_to(berlin(2026, 11, 29, 15, 0))
    entry = await add_entry(email)
    enabled = enabled_by_device(hass, entry.entry_id)
    assert enabled == expected
    assert max(len(keys) for keys in enabled.values()) <= MOST_ENABLED
    # Everything else is there, one click away.
    registry = er.async_get(hass)
    assert len(er.async_entries_for_config_entry(registry, entry.entry_id)) > 2 * sum(
        len(keys) for keys in enabled.values()
    )


async def test_feed_in_and_pending_contracts(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A feed-in contract shows its payout; a pending one nothing yet but its device."""
    freezer.move_to(berlin(2026, 11, 29, 15, 0))
    felix = enabled_by_device(hass, (await add_entry(FELIX)).entry_id)
    assert [keys for keys in felix.values() if "current_payout_ct" in keys] == [FEED_IN]
    assert all(len(keys) <= MOST_ENABLED for keys in felix.values())
    clara = await add_entry(CLARA)
    assert enabled_by_device(hass, clara.entry_id) == {}
    assert dr.async_entries_for_config_entry(dr.async_get(hass), clara.entry_id)


async def test_prices_show_in_ct_unless_the_options_say_eur(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The price people read is ct/kWh; the option switches it (and the range) to EUR/kWh.

    The Energy dashboard's price stays EUR/kWh either way.
    """
    freezer.move_to(berlin(2026, 11, 29, 15, 0))
    entry = await add_entry(ANNA)
    current = hass.states.get("sensor.nomos_4x44emkx_current_price")
    in_eur = hass.states.get("sensor.nomos_4x44emkx_price_in_eur_kwh")
    today = hass.states.get("sensor.nomos_4x44emkx_price_range_today")
    assert current.attributes["unit_of_measurement"] == "ct / kWh"
    assert "state_class" not in current.attributes
    assert in_eur.attributes["unit_of_measurement"] == "EUR/kWh"
    assert in_eur.attributes["state_class"] == "measurement"
    assert float(current.state) == pytest.approx(float(in_eur.state) * 100)
    spread = float(today.state)
    assert spread == pytest.approx(today.attributes["highest"] - today.attributes["lowest"])
    assert today.attributes["lowest"] <= today.attributes["average"] <= today.attributes["highest"]

    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_PRICE_UNIT: PRICE_UNIT_EUR}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    current = hass.states.get("sensor.nomos_4x44emkx_current_price")
    assert current.attributes["unit_of_measurement"] == "EUR/kWh"
    assert "state_class" not in current.attributes
    assert float(current.state) == pytest.approx(float(in_eur.state))
    today = hass.states.get("sensor.nomos_4x44emkx_price_range_today")
    assert float(today.state) == pytest.approx(spread / 100)
    assert (
        hass.states.get("sensor.nomos_4x44emkx_price_in_eur_kwh").attributes["unit_of_measurement"]
        == "EUR/kWh"
    )


async def test_energy_dashboard_takes_the_eur_price_and_no_daily_money(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Home Assistant's energy validation: "Price in EUR/kWh" is clean as the grid price.

    The ct/kWh price and the day's and month's money keep no long-term statistics,
    so the statistic pickers (total cost, compensation) never offer them; given as
    the cost statistic anyway, the validation refuses them.
    """
    freezer.move_to(berlin(2026, 11, 29, 10, 5))
    await add_entry(ANNA)
    await async_setup_component(hass, "energy", {})
    meter = "sensor.house_meter"
    hass.states.async_set(
        meter,
        "1234.5",
        {"device_class": "energy", "state_class": "total_increasing", "unit_of_measurement": "kWh"},
    )
    price = "sensor.nomos_4x44emkx_price_in_eur_kwh"
    await set_grid_price_entity(hass, meter, price)
    validation = (await energy_validate.async_validate(hass)).as_dict()
    assert [
        issue
        for source in validation["energy_sources"]
        for issue in source
        if any(price in affected for affected in issue["affected_entities"])
    ] == []

    money = [
        "sensor.nomos_4x44emkx_latest_daily_cost",
        "sensor.nomos_4x44emkx_month_to_date_cost",
    ]
    for entity_id in [*money, "sensor.nomos_4x44emkx_current_price"]:
        assert "state_class" not in hass.states.get(entity_id).attributes, entity_id
    await async_wait_recording_done(hass)
    recorded = {
        row["statistic_id"]
        for row in await recorder_mock.async_add_executor_job(list_statistic_ids, hass)
    }
    assert price in recorded
    assert not recorded & {*money, "sensor.nomos_4x44emkx_current_price"}

    manager = await energy_data.async_get_manager(hass)
    for cost in money:
        await set_grid_price_entity(hass, meter, price)
        prefs = manager.data
        assert prefs is not None
        grid = dict(prefs["energy_sources"][0])
        if "flow_from" in grid:  # HA before 2026.10
            grid["flow_from"] = [
                {**grid["flow_from"][0], "entity_energy_price": None, "stat_cost": cost}
            ]
        else:
            grid.update(entity_energy_price=None, stat_cost=cost)
        await manager.async_update({"energy_sources": [grid]})  # type: ignore[typeddict-item]
        validation = (await energy_validate.async_validate(hass)).as_dict()
        types = {
            issue["type"]
            for source in validation["energy_sources"]
            for issue in source
            if any(cost in affected for affected in issue["affected_entities"])
        }
        assert {"statistics_not_defined", "entity_unexpected_state_class"} <= types, cost
