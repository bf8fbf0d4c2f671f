"""Projected annual usage against the contract's estimate (issue #23, section 3)."""

from __future__ import annotations

from datetime import date, timedelta
import math

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from hypothesis import given, strategies as st
import pytest

from custom_components.nomos_energy.annual_usage import (
    MIN_DAYS,
    MONTH_SHARES,
    YEAR,
    annual_outlook,
    day_share,
)
from custom_components.nomos_energy.const import DOMAIN
from custom_components.nomos_energy.daily_totals import DayTotal, quarters_in_day
from custom_components.nomos_energy.price_schedule import local_date
from nomos_simulator import NomosSimulator

from .conftest import ANNA, DAVID, AddEntry
from .test_energy import anna_sub, api_totals
from .timetravel import berlin, travel

PROJECTED = "sensor.nomos_4x44emkx_projected_annual_usage"


def full(kwh: float, day: date) -> DayTotal:
    return DayTotal(kwh, None, quarters_in_day(day))


def typical_year(annual_kwh: float, days: list[date]) -> dict[date, DayTotal]:
    """Days of a household that uses exactly the typical share of `annual_kwh` each day."""
    return {day: full(annual_kwh * day_share(day), day) for day in days}


def test_the_shares_make_a_year_with_more_in_winter() -> None:
    assert math.fsum(MONTH_SHARES) == pytest.approx(1.0)
    assert MONTH_SHARES[11] > MONTH_SHARES[5] * 1.3
    # A whole year of typical days is the year (leap days aside).
    start = date(2025, 3, 1)
    assert math.fsum(day_share(start + timedelta(days=n)) for n in range(YEAR)) == pytest.approx(
        1.0, abs=1e-9
    )


@given(
    annual=st.floats(min_value=500, max_value=20_000),
    today=st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)),
    span=st.integers(min_value=MIN_DAYS, max_value=YEAR - 1),
    dropped=st.sets(st.integers(min_value=1, max_value=400), max_size=30),
)
def test_a_typical_household_is_projected_to_its_year_from_any_part_of_it(
    annual: float, today: date, span: int, dropped: set[int]
) -> None:
    """Whatever days are metered (winter or summer, with gaps), a household that uses
    the typical share each day is on track for exactly its year."""
    last = today - timedelta(days=1)
    days = [last - timedelta(days=n) for n in range(span) if n == 0 or n not in dropped]
    if len(days) < MIN_DAYS:
        return
    outlook = annual_outlook(typical_year(annual, days), today, annual)
    assert outlook is not None
    assert outlook.basis == "scaled_by_season"
    assert outlook.projected_kwh == pytest.approx(annual, rel=1e-9)
    assert outlook.versus_estimate_percent == pytest.approx(0.0, abs=1e-6)
    assert outlook.days == len(days)
    assert outlook.last_day == last


@given(
    daily=st.lists(st.floats(min_value=0, max_value=60), min_size=YEAR + 40, max_size=YEAR + 40),
    today=st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)),
)
def test_a_metered_year_is_its_sum(daily: list[float], today: date) -> None:
    """With all of the last 365 days metered the projection is their sum; older days and
    today's unfinished day do not count."""
    dates = [today - timedelta(days=n) for n in range(len(daily))]
    days = {day: full(kwh, day) for day, kwh in zip(dates, daily, strict=True)}
    outlook = annual_outlook(days, today, 4000)
    assert outlook is not None
    assert outlook.basis == "last_365_days"
    expected = math.fsum(daily[1 : YEAR + 1])
    assert outlook.projected_kwh == pytest.approx(expected, abs=1e-6)
    assert outlook.versus_estimate_percent == pytest.approx((expected / 4000 - 1) * 100)


def test_too_few_or_incomplete_days_give_no_projection() -> None:
    """Two weeks at least, and only days with every quarter-hour metered."""
    today = date(2026, 3, 30)  # the day after the spring change: 29 March has 92 quarters
    days = [today - timedelta(days=n) for n in range(1, MIN_DAYS + 1)]
    totals = typical_year(3000, days)
    assert annual_outlook(totals, today, 3000) is not None
    spring = date(2026, 3, 29)
    # 29 March with 96 quarters would be complete on another day; here it lacks none.
    assert totals[spring].quarters == 92
    totals[spring] = DayTotal(5.0, None, 91)  # a quarter missing: not a whole day
    assert annual_outlook(totals, today, 3000) is None
    assert annual_outlook({}, today, 3000) is None


def test_no_estimate_gives_no_difference() -> None:
    today = date(2026, 12, 1)
    days = [today - timedelta(days=n) for n in range(1, 31)]
    outlook = annual_outlook(typical_year(2500, days), today, None)
    assert outlook is not None
    assert outlook.versus_estimate_percent is None


@pytest.mark.energy_import
@pytest.mark.parametrize(
    "moment",
    [(2026, 12, 1, 0, 5), (2026, 12, 2, 17, 0), (2026, 11, 30, 23, 50)],
    ids=["1st-after-midnight", "2nd", "month-end"],
)
async def test_the_sensor_projects_the_metered_days(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    moment: tuple[int, int, int, int, int],
) -> None:
    """From the days Nomos has published (all of them complete), scaled by the season,
    with the contract's estimate and the difference beside it; a restart keeps it."""
    anna = anna_sub(simulator)
    anna.start_at = berlin(2026, 9, 1, 0, 0)
    freezer.move_to(berlin(*moment))
    entry = await add_entry(ANNA)
    state = hass.states.get(PROJECTED)
    attributes = state.attributes
    first, last = (
        date.fromisoformat(attributes["first_day"]),
        date.fromisoformat(attributes["last_day"]),
    )
    assert first == date(2026, 9, 1)
    # Nomos publishes a day the next afternoon: the latest complete day is one or two back.
    today = local_date(berlin(*moment))
    assert last in (today - timedelta(days=1), today - timedelta(days=2))
    kwh, _ = await api_totals(simulator, ANNA, anna.id, first, last + timedelta(days=1))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    expected = kwh / math.fsum(day_share(day) for day in days)
    assert float(state.state) == round(expected)
    assert attributes["basis"] == "scaled_by_season"
    assert attributes["days"] == len(days)
    assert attributes["estimated_usage"] == anna.estimated_usage
    assert attributes["versus_estimate_percent"] == pytest.approx(
        (expected / anna.estimated_usage - 1) * 100, abs=0.06
    )
    assert attributes["unit_of_measurement"] == "kWh"
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(PROJECTED).state == state.state


@pytest.mark.default_entities
async def test_one_click_away_and_named_in_german(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Disabled by default (not a daily question); an analog meter has none (no days)."""
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    await add_entry(ANNA)
    await add_entry(DAVID)
    registry = er.async_get(hass)
    ours = [
        entry
        for entry in registry.entities.values()
        if entry.platform == DOMAIN and entry.translation_key == "projected_annual_usage"
    ]
    assert [entry.entity_id for entry in ours] == [PROJECTED]
    assert ours[0].disabled_by is er.RegistryEntryDisabler.INTEGRATION


async def test_unknown_until_two_weeks_are_metered(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A new contract: unknown, with the estimate shown, until enough days are in."""
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    await add_entry(ANNA)
    # The daily import is left out of this test (no `energy_import`): no day is metered.
    state = hass.states.get(PROJECTED)
    assert state.state == STATE_UNKNOWN
    assert state.attributes["estimated_usage"] == anna_sub(simulator).estimated_usage
    await travel(hass, freezer, berlin(2026, 11, 30, 0, 5))
    assert hass.states.get(PROJECTED).state == STATE_UNKNOWN
