"""A heat pump's SG Ready mode: boost in its planned runs, block in expensive periods (two
hours at most), normal otherwise; checked minute by minute, and through Home Assistant."""

from __future__ import annotations

from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from hypothesis import given, settings, strategies as st

from custom_components.nomos_energy.appliance_plan import Plan
from custom_components.nomos_energy.periods import Period, PeriodKind
from custom_components.nomos_energy.sg_ready import MAX_BLOCK, SgReadyMode, sg_ready_mode

from .conftest import ANNA, AddEntry
from .test_planners import add_appliance
from .timetravel import QUARTER, berlin, travel

DAY = berlin(2026, 10, 25, 0, 0)  # the 25-hour day
quarter_spans = st.lists(st.tuples(st.integers(0, 99), st.integers(1, 16)), max_size=4).map(
    lambda spans: [(DAY + a * QUARTER, DAY + (a + n) * QUARTER) for a, n in spans]
)


def disjoint(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    kept: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if not kept or start >= kept[-1][1]:
            kept.append((start, end))
    return kept


@settings(max_examples=200, deadline=None)
@given(runs=quarter_spans, expensive=quarter_spans, minute=st.integers(0, 25 * 60 - 1))
def test_the_mode_at_any_minute(
    runs: list[tuple[datetime, datetime]],
    expensive: list[tuple[datetime, datetime]],
    minute: int,
) -> None:
    """Boost inside a run; block in an expensive period's first two hours; else normal. The
    mode holds until the moment it says, and not one minute less."""
    segments = tuple(disjoint(runs))
    periods = [
        Period(PeriodKind.EXPENSIVE, start, end, 40.0, int((end - start) / QUARTER))
        for start, end in disjoint(expensive)
    ]
    plan = (
        Plan(segments, segments[-1][1], DAY, "cheapest", prices_complete=True) if segments else None
    )
    now = DAY + timedelta(minutes=minute)

    def expected(moment: datetime) -> SgReadyMode:
        if any(start <= moment < end for start, end in segments):
            return SgReadyMode.BOOST
        if any(p.start <= moment < min(p.end, p.start + MAX_BLOCK) for p in periods):
            return SgReadyMode.BLOCK
        return SgReadyMode.NORMAL

    mode, until = sg_ready_mode(plan, periods, now)
    assert mode is expected(now)
    if until is None:
        assert all(expected(now + timedelta(minutes=m)) is mode for m in range(0, 26 * 60, 15))
        return
    assert until > now
    moment = now
    while moment < until:
        assert expected(moment) is mode, moment
        moment += timedelta(minutes=1)


async def test_a_heat_pump_boosts_in_its_run(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A daily one-hour boost with SG Ready: boost exactly in the planned run, in German too."""
    hass.config.language = "de"
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 12, 3, 20, 0))
    entry = await add_entry(ANNA)
    await add_appliance(
        hass, entry, name="Wärmepumpe", duration={"hours": 1, "minutes": 0}, sg_ready=True
    )
    sensor = "sensor.warmepumpe_sg_ready_betriebszustand"
    run_now = hass.states.get("binary_sensor.warmepumpe_jetzt_einschalten")
    start = datetime.fromisoformat(run_now.attributes["segments"][0]["start"])
    assert hass.states.get(sensor).state in ("normal", "block")
    await travel(hass, freezer, start + timedelta(minutes=1))
    state = hass.states.get(sensor)
    assert state.state == "boost"
    assert datetime.fromisoformat(state.attributes["until"]) == start + timedelta(hours=1)
    await travel(hass, freezer, start + timedelta(hours=1, minutes=1))
    assert hass.states.get(sensor).state in ("normal", "block")
