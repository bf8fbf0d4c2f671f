"""The action compare_grid_fee_options: what §14a module 1 or 2 or a smart meter would save."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest

from custom_components.nomos_energy.const import DOMAIN
from custom_components.nomos_energy.daily_totals import DayTotal, quarters_in_day
from custom_components.nomos_energy.price_schedule import local_date
from custom_components.nomos_energy.repairs import device_for
from nomos_simulator import NomosSimulator
from nomos_simulator.companion import (
    ANALOG_METERING_MONTH,
    MODULE_2_SHARE,
    grid_kwh,
    module_1_year,
    smart_metering_year,
)

from .conftest import ANNA, DAVID, FELIX, GRETA, AddEntry
from .timetravel import berlin, travel

QUOTE = "GET /plans/{id}/quote"
START = berlin(2026, 11, 29, 15, 0)


async def compare(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    return await hass.services.async_call(
        DOMAIN, "compare_grid_fee_options", data, blocking=True, return_response=True
    )


def quote_queries(simulator: NomosSimulator) -> list[dict[str, str]]:
    return [
        {key: values[0] for key, values in parse_qs(query).items()}
        for route, query in simulator.query_log
        if route == QUOTE
    ]


@pytest.fixture
def add(add_entry: AddEntry, freezer: FrozenDateTimeFactory) -> AddEntry:
    """Add entries at 15:00 Berlin on 29 November 2026 (before the daily import)."""
    freezer.move_to(START)
    return add_entry


async def test_an_analog_meter_compares_both_modules_and_a_smart_meter(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """David: his estimate (no metered year), four quotes; the second call asks nothing."""
    entry = await add(DAVID)
    response = await compare(hass)
    assert response["contract"] == "D4V1DANL"
    assert response["usage_source"] == "estimated_usage"
    assert response["annual_usage_kwh"] == 4200
    assert response["meter_type"] == "analog"
    assert response["active_modules"] == []  # module 2 was rejected
    assert set(response["options"]) == {"module_1", "module_2", "smart_meter"}
    assert response["quoted_on"] == "2026-11-29"
    options = response["options"]
    # Module 1: the operator's flat reduction a year (a month's worth, to the cent, times 12).
    assert 110 <= -options["module_1"]["difference_eur"] <= 190
    assert options["module_1"]["difference_eur"] == pytest.approx(-module_1_year("20095"), abs=0.07)
    # Module 2: 60 % of the grid fee per kWh, at the year's usage.
    saved = (1 - MODULE_2_SHARE) * grid_kwh("20095") * 4200
    assert options["module_2"]["difference_eur"] == pytest.approx(-saved, abs=0.15)
    # A smart meter's metering costs more than the analog meter's.
    extra = smart_metering_year(4200) - ANALOG_METERING_MONTH * 12
    assert options["smart_meter"]["difference_eur"] == pytest.approx(extra, abs=0.15)
    assert options["smart_meter"]["difference_eur"] > 0
    for option in options.values():
        assert option["yearly_eur"] == pytest.approx(
            response["today"]["yearly_eur"] + option["difference_eur"], abs=0.005
        )
    asked = quote_queries(simulator)
    assert sorted((q["meter_type"], "14a_module_1" in q, "14a_module_2" in q) for q in asked) == [
        ("analog", False, False),
        ("analog", False, True),
        ("analog", True, False),
        ("smart", False, False),
    ]
    assert {(q["zip_code"], q["usage"]) for q in asked} == {("20095", "4200")}

    # The same day: the same answer, not a request; also after a restart.
    simulator.requests.clear()
    assert await compare(hass) == response
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert await compare(hass) == response
    assert simulator.count(QUOTE) == 0
    # The next day it is asked again.
    await travel(hass, freezer, berlin(2026, 11, 30, 0, 5))
    again = await compare(hass)
    assert again["quoted_on"] == "2026-11-30"
    assert simulator.count(QUOTE) == 4


async def test_a_smart_meter_with_a_metered_year(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add: AddEntry,
) -> None:
    """Anna: a year of imported days gives the usage; no smart-meter option (she has one)."""
    entry = await add(ANNA)
    sub_id = next(iter(entry.runtime_data.subscriptions.data.subscriptions))
    today = local_date(START)
    days = [today - timedelta(days=n) for n in range(1, 366)]
    entry.runtime_data.cache.day_totals[sub_id] = {
        day: DayTotal(10.0, 3.0, quarters_in_day(day)) for day in days
    }
    response = await compare(hass)
    assert response["usage_source"] == "metered"
    assert response["metered_days"] == 365
    assert response["annual_usage_kwh"] == 3650
    assert response["meter_type"] == "smart"
    assert set(response["options"]) == {"module_1", "module_2"}
    assert simulator.count(QUOTE) == 3
    assert {q["meter_type"] for q in quote_queries(simulator)} == {"smart"}
    assert {q["usage"] for q in quote_queries(simulator)} == {"3650"}
    # Half a year of days is not a year: the estimate is used.
    entry.runtime_data.cache.day_totals[sub_id] = {
        day: DayTotal(10.0, 3.0, quarters_in_day(day)) for day in days[:180]
    }
    entry.runtime_data.cache.quotes.clear()
    response = await compare(hass)
    assert response["usage_source"] == "estimated_usage"
    assert response["annual_usage_kwh"] == 3500


async def test_a_module_already_active_is_today(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add: AddEntry,
) -> None:
    """Greta has module 1 (and 3): module 1 changes nothing, one request fewer."""
    await add(GRETA)
    response = await compare(hass)
    assert response["active_modules"] == [1, 3]
    assert response["options"]["module_1"]["difference_eur"] == 0
    assert simulator.count(QUOTE) == 2


async def test_translated_errors(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add: AddEntry,
) -> None:
    """A feed-in contract has no grid fees to quote; a failed quote says so and is not kept."""
    entry = await add(FELIX)
    solar = next(sub.id for sub in simulator.subscriptions.values() if sub.number == "F3L1XS0L")
    device = device_for(hass, entry.entry_id, solar)
    with pytest.raises(ServiceValidationError) as err:
        await compare(hass, device_id=device.id)
    assert err.value.translation_key == "no_plan_to_quote"
    assert err.value.translation_placeholders == {"number": "F3L1XS0L"}
    home = next(sub.id for sub in simulator.subscriptions.values() if sub.number == "F3L1XH0M")
    device = device_for(hass, entry.entry_id, home)
    simulator.inject(QUOTE, status=500, times=1)
    with pytest.raises(HomeAssistantError) as failed:
        await compare(hass, device_id=device.id)
    assert failed.value.translation_key == "quote_failed"
    assert simulator.count(QUOTE) == 1
    response = await compare(hass, device_id=device.id, config_entry_id=entry.entry_id)
    assert response["contract"] == "F3L1XH0M"
    assert simulator.count(QUOTE) == 4
