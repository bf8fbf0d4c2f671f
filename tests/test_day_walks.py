"""Whole days, minute by minute: what a homeowner reads at every moment.

Midnight into the 1st of a month and both DST nights (92 and 100 quarter-hours), and the
days after them (when the 1st and the DST days become the latest day), with restarts
shortly after midnight and at noon. At each minute the price is the simulator's price of
that quarter-hour, the "latest day" is the day before yesterday until Nomos publishes
yesterday, then yesterday (never another day, never unknown, and exactly what Nomos
reported for the day it names), and "month to date" is that day's month through it.
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
PRICE = "sensor.nomos_4x44emkx_current_price"  # ct/kWh
PRICE_EUR = "sensor.nomos_4x44emkx_price_in_eur_kwh"
LATEST_DAY = "sensor.nomos_4x44emkx_latest_daily_consumption"
LATEST_DAY_COST = "sensor.nomos_4x44emkx_latest_daily_cost"
MONTH = "sensor.nomos_4x44emkx_month_to_date_consumption"
LAST_MONTH = "sensor.nomos_4x44emkx_consumption_last_month"
INVOICE = "sensor.nomos_4x44emkx_latest_invoice"
MINUTE = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("day", "quarters"),
    [
        (date(2026, 12, 1), 96),  # midnight into the 1st
        (date(2026, 3, 29), 92),  # spring forward
        (date(2026, 10, 25), 100),  # fall back
        # The latest day turns into the 1st, and into each DST day, in the afternoon.
        (date(2026, 12, 2), 96),
        (date(2026, 3, 30), 96),
        (date(2026, 10, 26), 96),
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
    # What the API reported when the integration imported a day: its kWh and EUR, and the
    # kWh of its month through it (Nomos revises recent days, so not what it says later).
    reported: dict[date, tuple[float, float, float]] = {}

    async def report(shown: date) -> None:
        after = shown + timedelta(days=1)
        kwh, eur = await api_totals(simulator, ANNA, sub.id, shown, after)
        month_kwh, _ = await api_totals(simulator, ANNA, sub.id, shown.replace(day=1), after)
        reported[shown] = (kwh, eur, month_kwh)

    await report(day - timedelta(days=2))  # imported at setup, the evening before

    seen_known_at: datetime | None = None
    restarts = {start + timedelta(minutes=7), start + timedelta(hours=12, minutes=7)}
    moment = start
    while moment < end:
        await travel(hass, freezer, moment)
        quarter = moment.replace(minute=moment.minute // 15 * 15)
        amount = sub.price_item(quarter)["amount"]
        assert float(hass.states.get(PRICE).state) == pytest.approx(amount), moment
        assert float(hass.states.get(PRICE_EUR).state) == pytest.approx(amount / 100), moment
        state = hass.states.get(LATEST_DAY)
        shown = date.fromisoformat(state.attributes["date"])
        if shown == yesterday:
            if seen_known_at is None:
                seen_known_at = moment
                await report(yesterday)  # imported in this minute
        else:
            # Until Nomos publishes yesterday: the day before, complete (not unknown).
            assert seen_known_at is None, f"the latest day went back to {shown} at {moment}"
            assert shown == day - timedelta(days=2), moment
        assert state.state != STATE_UNKNOWN, moment
        assert state.attributes["complete"] is True, moment
        expected_kwh, expected_cost, month_kwh = reported[shown]
        assert float(state.state) == pytest.approx(expected_kwh, abs=0.0005), moment
        cost = hass.states.get(LATEST_DAY_COST)
        assert cost.attributes["date"] == shown.isoformat(), moment
        assert float(cost.state) == pytest.approx(expected_cost, abs=0.005), moment
        # The month of the latest complete day, from its 1st through that day: on the
        # 1st that is last month (its last day once Nomos has published it).
        month = hass.states.get(MONTH)
        assert month.attributes["month"] == shown.strftime("%Y-%m"), moment
        assert month.attributes["first_day"] == shown.replace(day=1).isoformat(), moment
        assert month.attributes["last_day"] == shown.isoformat(), moment
        assert month.attributes["complete"] is True, moment
        assert float(month.state) == pytest.approx(month_kwh, abs=0.0005), moment
        if shown.month != (shown + timedelta(days=1)).month:
            # The whole month is in: the month to date is last month's figure.
            assert month.state == hass.states.get(LAST_MONTH).state, moment
        if moment in restarts:
            # A restart with nothing due: the same figures at once, and not a request.
            before = {
                eid: (hass.states.get(eid).state, hass.states.get(eid).attributes)
                for eid in (PRICE, PRICE_EUR, LATEST_DAY, MONTH, INVOICE)
            }
            simulator.requests.clear()
            await hass.config_entries.async_reload(entry.entry_id)
            await hass.async_block_till_done(wait_background_tasks=True)
            assert {
                eid: (hass.states.get(eid).state, hass.states.get(eid).attributes) for eid in before
            } == before
            assert sum(simulator.requests.values()) == 0
        moment += MINUTE
    # Nomos publishes yesterday after 16:00 (plus this installation's offset of < 80 minutes).
    assert seen_known_at is not None
    local = seen_known_at.astimezone(BERLIN)
    assert 16 * 60 <= local.hour * 60 + local.minute <= 17 * 60 + 21
