"""Time travel for tests: Berlin wall-clock times, and moving the frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.nomos_energy.price_schedule import BERLIN

QUARTER = timedelta(minutes=15)


def berlin(*args: int) -> datetime:
    """Return an aware UTC datetime from Berlin wall-clock parts."""
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


async def travel(hass: HomeAssistant, freezer: FrozenDateTimeFactory, moment: datetime) -> None:
    """Move the clock (Home Assistant's and the simulator's) and run what is due."""
    freezer.move_to(moment)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def walk(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, until: datetime, step: timedelta = QUARTER
) -> None:
    """Advance in steps, running the timers due at each, as real time would."""
    moment = datetime.now(UTC)
    while moment < until:
        moment = min(moment + step, until)
        await travel(hass, freezer, moment)
