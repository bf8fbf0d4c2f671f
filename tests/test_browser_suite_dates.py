"""The browser suite's date logic on the dates that break it.

The browser suite runs on the real clock, so on any one run it meets only the date of that
day. Here its monthly question (the comparison tariff's last month, read as a
statistics-graph card reads it) runs at frozen moments: the 1st, the 2nd, the 15th, a
month's last minutes and both DST days.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.nomos_energy.price_schedule import BERLIN
from e2e.statistics import changes_by_start
from nomos_simulator import NomosSimulator

from .conftest import ANNA, AddEntry, save_options
from .timetravel import berlin

pytestmark = pytest.mark.energy_import
SAVED = "sensor.nomos_4x44emkx_saved_versus_comparison_tariff_last_month"
STATISTIC = "nomos_energy:4x44emkx_saved_versus_comparison"


@pytest.mark.parametrize(
    "moment",
    [
        berlin(2026, 12, 1, 0, 5),  # last month's last day is not published yet
        berlin(2026, 12, 2, 17, 0),  # this month has its first row
        berlin(2026, 12, 15, 9, 30),
        berlin(2026, 12, 31, 23, 50),
        berlin(2027, 3, 28, 12, 0),  # 92 quarter-hours
        berlin(2027, 10, 31, 12, 0),  # 100 quarter-hours
        berlin(2027, 11, 1, 17, 0),  # last month is the one with the 25-hour day
    ],
    ids=lambda moment: moment.astimezone(BERLIN).strftime("%Y-%m-%d_%H%M"),
)
async def test_last_month_read_as_the_card_reads_it(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_ws_client: Any,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    moment: datetime,
) -> None:
    """The last-month sensor equals the daily statistic's month as the browser suite asks
    for it (from that month's 1st to the next, period month): on every date."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    # The calendar's HTTP view is registered before the websocket client starts the server.
    assert await async_setup_component(hass, "calendar", {})
    client = await hass_ws_client(hass)  # signed in before the clock moves
    freezer.move_to(moment)
    # Supply since the 1st two months back keeps the backfill short.
    first = moment.astimezone(BERLIN).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    first = (first - timedelta(days=40)).replace(day=1)
    anna = next(sub for sub in simulator.subscriptions.values() if sub.number == "4X44EMKX")
    anna.start_at = first
    entry = await add_entry(ANNA)
    await save_options(hass, entry, comparison_price_ct=32, comparison_base_fee=12)
    await async_wait_recording_done(hass)  # the statistic is written by the recorder's thread

    saved = hass.states.get(SAVED)
    assert saved is not None
    # A month's figure: no state class (never offered as the Energy dashboard's cost), the
    # month in its attributes.
    assert "state_class" not in saved.attributes
    assert "last_reset" not in saved.attributes
    first_day = date.fromisoformat(saved.attributes["first_day"])
    assert first_day.day == 1
    month_start = datetime.combine(first_day, time(), BERLIN)
    this_month = moment.astimezone(BERLIN).date().replace(day=1)
    assert (month_start + timedelta(days=32)).date().replace(day=1) == this_month
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    await client.send_json_auto_id(
        {
            "type": "recorder/statistics_during_period",
            "statistic_ids": [STATISTIC],
            "start_time": month_start.isoformat(),
            "end_time": next_month.isoformat(),
            "period": "month",
            "types": ["change"],
        }
    )
    response = await client.receive_json()
    assert response["success"], response
    by_month = changes_by_start(response["result"][STATISTIC], BERLIN)
    assert by_month[month_start.date()] == pytest.approx(float(saved.state), abs=0.006)
    assert set(by_month) <= {month_start.date(), this_month}
