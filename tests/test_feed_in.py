"""Feed-in contracts: energy sent to the grid and its payout, never mistaken for consumption."""

from __future__ import annotations

from datetime import date

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.energy import data as energy_data, validate as energy_validate
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import async_list_statistic_ids
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest

from custom_components.nomos_energy.price_schedule import day_bounds
from nomos_simulator import NomosSimulator

from .conftest import FELIX, AddEntry
from .test_energy import hourly_stats
from .timetravel import QUARTER, berlin, travel

pytestmark = pytest.mark.energy_import
SOLAR = "f3l1xs0l"
HOME = "f3l1xh0m"


@pytest.fixture
def felix_since_november(simulator: NomosSimulator) -> None:
    """Both contracts start on 1 November, so the backfill stays short."""
    for sub in simulator.subscriptions.values():
        if sub.customer.email == FELIX:
            sub.start_at = berlin(2026, 11, 1, 0, 0)


async def test_feed_in_is_production_and_payout(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    felix_since_november: None,
) -> None:
    """The solar contract gets payout names and Return-to-grid statistics; the home one not."""
    freezer.move_to(berlin(2026, 11, 30, 18, 0))
    await add_entry(FELIX)
    payout_ct = hass.states.get(f"sensor.nomos_{SOLAR}_current_payout")
    payout_eur = hass.states.get(f"sensor.nomos_{SOLAR}_payout_in_eur_kwh")
    assert payout_ct.attributes["unit_of_measurement"] == "ct / kWh"
    assert payout_eur.attributes["unit_of_measurement"] == "EUR/kWh"
    assert float(payout_eur.state) == pytest.approx(float(payout_ct.state) / 100)
    assert hass.states.get(f"sensor.nomos_{SOLAR}_current_price") is None
    assert hass.states.get(f"sensor.nomos_{SOLAR}_price_in_eur_kwh") is None
    assert hass.states.get(f"sensor.nomos_{SOLAR}_current_grid_fee_component") is None
    assert hass.states.get(f"sensor.nomos_{SOLAR}_current_levies_component") is None
    assert hass.states.get(f"sensor.nomos_{HOME}_current_grid_fee_component") is not None
    assert hass.states.get(f"sensor.nomos_{HOME}_current_price") is not None
    assert hass.states.get(f"sensor.nomos_{HOME}_current_payout") is None
    # The latest complete day: yesterday, as Nomos published it this afternoon.
    fed_in = hass.states.get(f"sensor.nomos_{SOLAR}_latest_daily_feed_in")
    payout = hass.states.get(f"sensor.nomos_{SOLAR}_latest_daily_payout")
    assert hass.states.get(f"sensor.nomos_{SOLAR}_latest_daily_consumption") is None
    assert float(fed_in.state) > 0
    assert float(payout.state) != 0
    assert fed_in.attributes["date"] == "2026-11-29"
    assert payout.attributes["date"] == "2026-11-29"
    month = hass.states.get(f"sensor.nomos_{SOLAR}_month_to_date_feed_in")
    assert month.attributes["month"] == "2026-11"
    assert month.attributes["last_day"] == "2026-11-29"

    listed = {item["statistic_id"]: item for item in await async_list_statistic_ids(hass, None)}
    assert f"nomos_energy:{SOLAR}_production" in listed
    assert f"nomos_energy:{SOLAR}_compensation" in listed
    assert f"nomos_energy:{SOLAR}_consumption" not in listed
    assert f"nomos_energy:{HOME}_consumption" in listed
    assert listed[f"nomos_energy:{SOLAR}_production"]["name"] == "Nomos F3L1XS0L feed-in"
    # The day's production statistic sums to what the sensor shows for that day.
    start, end = day_bounds(date(2026, 11, 29))
    rows = await hourly_stats(hass, f"nomos_energy:{SOLAR}_production", start, end)
    assert sum(row["state"] for row in rows) == pytest.approx(float(fed_in.state), abs=0.002)

    await async_setup_component(hass, "energy", {})
    await set_grid(hass, SOLAR)
    validation = (await energy_validate.async_validate(hass)).as_dict()
    assert validation["energy_sources"] == [[]]


async def test_payout_level_reads_high_when_the_payout_is_high(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    felix_since_november: None,
) -> None:
    """A high payout is good news: the level says "very high", not "very expensive"."""
    freezer.move_to(berlin(2026, 11, 30, 0, 5))
    await add_entry(FELIX)
    level = f"sensor.nomos_{SOLAR}_payout_level"
    assert hass.states.get(level).attributes["options"] == [
        "very_low",
        "low",
        "normal",
        "high",
        "very_high",
    ]
    extremes = sorted(
        (dt_util.parse_datetime(hass.states.get(entity).state), expected)
        for entity, expected in (
            (f"sensor.nomos_{SOLAR}_highest_payout_time_today", "very_high"),
            (f"sensor.nomos_{SOLAR}_lowest_payout_time_today", "very_low"),
        )
    )
    for moment, expected in extremes:
        await travel(hass, freezer, moment + QUARTER / 3)
        assert hass.states.get(level).state == expected


async def set_grid(hass: HomeAssistant, number: str) -> None:
    """Energy preferences: the home contract bought, the solar one under Return to grid."""
    manager = await energy_data.async_get_manager(hass)
    bought = {"stat_energy_from": f"nomos_energy:{HOME}_consumption"}
    cost = {"stat_cost": f"nomos_energy:{HOME}_cost"}
    returned = {"stat_energy_to": f"nomos_energy:{number}_production"}
    paid = {"stat_compensation": f"nomos_energy:{number}_compensation"}
    if "stat_energy_from" in energy_data.GridSourceType.__annotations__:
        grid: dict[str, object] = {
            "type": "grid",
            **bought,
            **cost,
            **returned,
            **paid,
            "cost_adjustment_day": 0,
        }
    else:  # HA before 2026.10: import and export flows in lists
        grid = {
            "type": "grid",
            "flow_from": [
                {**bought, **cost, "entity_energy_price": None, "number_energy_price": None}
            ],
            "flow_to": [
                {**returned, **paid, "entity_energy_price": None, "number_energy_price": None}
            ],
            "cost_adjustment_day": 0,
        }
    await manager.async_update({"energy_sources": [grid]})  # type: ignore[typeddict-item]
