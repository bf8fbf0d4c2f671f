"""Benchmark (script/bench): token requests in the 24 hours after Nomos refuses a refresh.

A day minute by minute (every timer fires when due), with the daily import on:
after `invalid_grant` (target 0 further requests: nothing can succeed until the
user signs in again), after a bare UNAUTHORIZED (unclear: asked again at most
hourly), and through a six-hour outage of the token endpoint (503) that then
ends. The figures go into the summary; this file runs after test_bench_prices,
so it prints the whole summary again as its last line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
import json

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.nomos_energy.price_schedule import BERLIN
from nomos_simulator import NomosSimulator

from ..conftest import ANNA
from .test_bench_prices import RESULTS

pytestmark = [pytest.mark.bench, pytest.mark.energy_import]
AddEntry = Callable[..., Awaitable[MockConfigEntry]]
TOKEN = "POST /oauth/token"
DAY = timedelta(days=1)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


async def walk_minutes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, start: datetime, end: datetime
) -> None:
    """Real time, minute by minute: every timer fires when it is due."""
    moment = start
    while moment < end:
        moment += timedelta(minutes=1)
        freezer.move_to(moment)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


def token_requests(simulator: NomosSimulator, start: datetime) -> list[datetime]:
    return [when for when, route in simulator.request_log if route == TOKEN and when >= start]


def busiest_hour(asked: list[datetime]) -> int:
    """Return the most token requests in any one clock hour."""
    hours: dict[datetime, int] = {}
    for when in asked:
        hour = when.replace(minute=0, second=0, microsecond=0)
        hours[hour] = hours.get(hour, 0) + 1
    return max(hours.values(), default=0)


async def refused_day(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    refusal: str,
) -> tuple[int, int]:
    """Return token requests after the first refusal in 24 hours, and the busiest hour."""
    freezer.move_to(berlin(2026, 11, 29, 12, 0))
    await add_entry(ANNA)
    if refusal == "invalid_grant":
        simulator.revoke(simulator.customer_by_email(ANNA).id)  # 401 invalid_grant
    else:
        simulator.inject(
            TOKEN,
            status=401,
            body={"code": "UNAUTHORIZED", "message": "We were unable to authorize your request."},
        )
    start = berlin(2026, 11, 29, 12, 0)
    # The first refusal comes with the first request after the access token expired
    # (13:00), at the latest with tomorrow's prices (by 15:40): 28 hours cover its day.
    await walk_minutes(hass, freezer, start, start + timedelta(hours=28))
    first = token_requests(simulator, start)[0]
    after = [when for when in token_requests(simulator, start) if first < when < first + DAY]
    return len(after), busiest_hour(after)


async def test_day_after_invalid_grant(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nomos answers `invalid_grant`: token requests in the next 24 hours (target 0)."""
    after, _ = await refused_day(hass, simulator, add_entry, freezer, "invalid_grant")
    print(
        f"\nafter invalid_grant: {after} more token requests in 24 hours "
        "(target 0: only signing in again helps)"
    )
    RESULTS["tokens_24h_after_invalid_grant"] = after


async def test_day_after_unclear_refusal(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A bare UNAUTHORIZED for a whole day: token requests (at most one an hour)."""
    after, hourly = await refused_day(hass, simulator, add_entry, freezer, "unclear")
    print(
        f"\nafter an unclear UNAUTHORIZED all day: {after} more token requests in 24 hours, "
        f"at most {hourly} in any hour (bound: 24, one an hour)"
    )
    RESULTS["tokens_24h_after_unclear_refusal"] = after


async def test_day_with_a_token_endpoint_outage(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The token endpoint answers 503 for six hours, then works: requests in that day."""
    freezer.move_to(berlin(2026, 11, 29, 12, 0))
    entry = await add_entry(ANNA)
    start = berlin(2026, 11, 29, 13, 5)  # the access token has expired
    freezer.move_to(start)
    simulator.inject(TOKEN, status=503)
    await walk_minutes(hass, freezer, start, start + timedelta(hours=6))
    during = token_requests(simulator, start)
    simulator.clear_faults()
    await walk_minutes(hass, freezer, start + timedelta(hours=6), start + DAY)
    day = token_requests(simulator, start)
    print(
        f"\ntoken endpoint down (503) for 6 hours: {len(during)} token requests meanwhile "
        f"(at most {busiest_hour(during)} in an hour), {len(day)} in the whole day; "
        f"recovered: {entry.runtime_data.prices.last_update_success}"
    )
    RESULTS["tokens_6h_token_outage"] = len(during)
    RESULTS["tokens_24h_with_6h_token_outage"] = len(day)
    assert entry.runtime_data.prices.last_update_success


def test_zz_tokens_summary() -> None:
    """Print the figures of every bench as one JSON object (the last line)."""
    print("\n" + json.dumps(RESULTS, sort_keys=True))
