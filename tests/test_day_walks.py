"""Whole days, minute by minute: what a homeowner reads at every moment.

Midnight into the 1st of a month and both DST nights (92 and 100 quarter-hours),
with restarts shortly after midnight and at noon. At each minute the price is the simulator's
price of that quarter-hour, "yesterday" is yesterday (or unknown until Nomos
publishes it, then exactly what Nomos reports), and "this month" is this month.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
import pytest

from custom_components.nomos_energy.price_schedule import BERLIN, day_bounds
from nomos_simulator import NomosSimulator

from .conftest import ANNA, AddEntry
from .test_energy import anna_sub, api_totals
from .timetravel import berlin, travel

pytestmark = pytest.mark.energy_import
PRICE = "sensor.nomos_4x44emkx_current_price"
YESTERDAY = "sensor.nomos_4x44emkx_consumption_yesterday"
YESTERDAY_COST = "sensor.nomos_4x44emkx_cost_yesterday"
MONTH = "sensor.nomos_4x44emkx_consumption_this_month"
INVOICE = "sensor.nomos_4x44emkx_latest_invoice"
MINUTE = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("day", "quarters"),
    [
        (date(2026, 12, 1), 96),  # midnight into the 1st
        (date(2026, 3, 29), 92),  # spring forward
        (date(2026, 10, 25), 100),  # fall back
    ],
)
async def test_a_whole_day_minute_by_minute(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    day: date,
    quarters: int,
) -> None:
    """Every minute of the day, every figure means what its name says."""
    sub = anna_sub(simulator)
    sub.start_at = berlin(day.year, day.month, 1, 0, 0) - timedelta(days=40)
    start, end = day_bounds(day)
    assert (end - start) // timedelta(minutes=15) == quarters
    freezer.move_to(start - timedelta(hours=2))
    entry = await add_entry(ANNA)
    yesterday = day - timedelta(days=1)
    expected_kwh = expected_cost = 0.0
    month_start = day.replace(day=1)
    seen_known_at: datetime | None = None
    restarts = {start + timedelta(minutes=7), start + timedelta(hours=12, minutes=7)}
    moment = start
    while moment < end:
        await travel(hass, freezer, moment)
        quarter = moment.replace(minute=moment.minute // 15 * 15)
        assert float(hass.states.get(PRICE).state) == pytest.approx(
            sub.price_item(quarter)["amount"] / 100
        ), moment
        state = hass.states.get(YESTERDAY)
        assert state.attributes["date"] == yesterday.isoformat(), moment
        if state.state == STATE_UNKNOWN:
            assert seen_known_at is None, f"yesterday went unknown again at {moment}"
            assert state.attributes["complete"] is False
        else:
            if seen_known_at is None:
                seen_known_at = moment
                # What the API itself reports for yesterday, now that it is published.
                expected_kwh, expected_cost = await api_totals(
                    simulator, ANNA, sub.id, yesterday, day
                )
            assert float(state.state) == pytest.approx(expected_kwh, abs=0.0005), moment
            assert float(hass.states.get(YESTERDAY_COST).state) == pytest.approx(
                expected_cost, abs=0.005
            )
        month = hass.states.get(MONTH)
        assert month.attributes["month"] == day.strftime("%Y-%m"), moment
        if day == month_start:
            assert month.state == STATE_UNKNOWN  # no day of this month has ended yet
        if moment in restarts:
            # A restart with nothing due: the same figures at once, and not a request.
            before = {eid: hass.states.get(eid).state for eid in (PRICE, YESTERDAY, MONTH, INVOICE)}
            simulator.requests.clear()
            await hass.config_entries.async_reload(entry.entry_id)
            await hass.async_block_till_done(wait_background_tasks=True)
            assert {eid: hass.states.get(eid).state for eid in before} == before
            assert sum(simulator.requests.values()) == 0
        moment += MINUTE
    # Nomos publishes yesterday after 16:00 (plus this installation's offset of < 80 minutes).
    assert seen_known_at is not None
    local = seen_known_at.astimezone(BERLIN)
    assert 16 * 60 <= local.hour * 60 + local.minute <= 17 * 60 + 21
