"""Load shifting in Home Assistant: periods, look-ahead, the price feed and the calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.history import get_significant_states
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.nomos_energy import price_coordinator as coordinator_module
from custom_components.nomos_energy.periods import (
    PeriodKind,
    current_or_next,
    find_periods,
    next_start,
)
from custom_components.nomos_energy.price_schedule import PriceInterval, day_bounds
from nomos_simulator import NomosSimulator

from .conftest import ANNA, AddEntry
from .timetravel import QUARTER, berlin, travel

FIXTURES = Path(__file__).parent / "fixtures"
CHEAP = "binary_sensor.nomos_4x44emkx_cheap_period"
EXPENSIVE = "binary_sensor.nomos_4x44emkx_expensive_period"
FEED = "sensor.nomos_4x44emkx_price_feed"
CALENDAR = "calendar.nomos_4x44emkx_prices"


def simulator_intervals(simulator: NomosSimulator, *days: date) -> list[PriceInterval]:
    """The simulator's own prices for whole Berlin days, independent of the integration."""
    sub = next(sub for sub in simulator.subscriptions.values() if sub.number == "4X44EMKX")
    intervals = []
    for day in days:
        start, end = day_bounds(day)
        moment = start
        while moment < end:
            intervals.append(
                PriceInterval(moment, moment + QUARTER, sub.price_item(moment)["amount"])
            )
            moment += QUARTER
    return intervals


def local_iso(moment: datetime | None) -> str | None:
    return dt_util.as_local(moment).isoformat() if moment else None


def timestamp(hass: HomeAssistant, entity_id: str) -> datetime | None:
    state = hass.states.get(entity_id).state
    return None if state == STATE_UNKNOWN else dt_util.parse_datetime(state)


@pytest.fixture
async def berlin_time(hass: HomeAssistant) -> None:
    await hass.config.async_set_time_zone("Europe/Berlin")


async def test_periods_follow_the_prices_quarter_by_quarter(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    berlin_time: None,
) -> None:
    """From 16:00 to the next afternoon, at every quarter-hour: on exactly inside a period,
    attributes and timestamps of the current or next one; no recomputation on a tick."""
    freezer.move_to(berlin(2026, 11, 29, 16, 0))
    await add_entry(ANNA)
    known = simulator_intervals(simulator, date(2026, 11, 29), date(2026, 11, 30))
    expected = {kind: find_periods(known, kind) for kind in PeriodKind}
    assert expected[PeriodKind.CHEAP]
    assert expected[PeriodKind.EXPENSIVE]
    computed: list[object] = []
    original = coordinator_module.find_periods

    def counting(*args: Any, **kwargs: Any) -> Any:
        computed.append(args)
        return original(*args, **kwargs)

    with patch.object(coordinator_module, "find_periods", counting):
        moment = berlin(2026, 11, 29, 16, 0)
        while moment < berlin(2026, 11, 30, 14, 0):
            await travel(hass, freezer, moment)
            for kind, entity_id in ((PeriodKind.CHEAP, CHEAP), (PeriodKind.EXPENSIVE, EXPENSIVE)):
                periods = expected[kind]
                state = hass.states.get(entity_id)
                inside = any(period.contains(moment) for period in periods)
                assert state.state == (STATE_ON if inside else STATE_OFF), (kind, moment)
                shown = current_or_next(periods, moment)
                assert state.attributes["start"] == local_iso(shown.start if shown else None)
                assert state.attributes["end"] == local_iso(shown.end if shown else None)
                if shown:
                    assert state.attributes["average_price"] == pytest.approx(
                        shown.average_ct / 100, abs=1e-6
                    )
                start_entity = f"sensor.nomos_4x44emkx_next_{kind}_period_start"
                end_entity = f"sensor.nomos_4x44emkx_{kind}_period_end"
                assert timestamp(hass, start_entity) == next_start(periods, moment)
                assert timestamp(hass, end_entity) == (shown.end if shown else None)
            moment += QUARTER
    assert computed == []  # the ticks only moved states; no price arrived


async def test_look_ahead(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    berlin_time: None,
    entity_registry_enabled_by_default: None,
) -> None:
    """Lowest and highest of the next 24 hours and the next 3 hours' average, by brute force."""
    freezer.move_to(berlin(2026, 11, 29, 16, 0))
    await add_entry(ANNA)
    known = simulator_intervals(simulator, date(2026, 11, 29), date(2026, 11, 30))
    for moment in (berlin(2026, 11, 29, 16, 7), berlin(2026, 11, 29, 23, 50)):
        await travel(hass, freezer, moment)
        current = next(i for i in known if i.start <= moment < i.end)
        day = [i for i in known if current.start <= i.start < moment + timedelta(hours=24)]
        low = min(day, key=lambda i: (i.price_ct, i.start))
        high = max(day, key=lambda i: (i.price_ct, -i.start.timestamp()))
        three = [
            i.price_ct for i in known if current.start <= i.start < moment + timedelta(hours=3)
        ]
        # ct/kWh, to a ten-thousandth of a cent.
        values = {
            "lowest_price_next_24_hours": low.price_ct,
            "highest_price_next_24_hours": high.price_ct,
            "average_price_next_3_hours": sum(three) / len(three),
        }
        for key, value in values.items():
            state = hass.states.get(f"sensor.nomos_4x44emkx_{key}")
            assert float(state.state) == pytest.approx(value, abs=5e-5), key
            assert state.attributes["unit_of_measurement"] == "ct / kWh", key
        assert timestamp(hass, "sensor.nomos_4x44emkx_time_of_lowest_price_next_24_hours") == (
            low.start
        )
        assert timestamp(hass, "sensor.nomos_4x44emkx_time_of_highest_price_next_24_hours") == (
            high.start
        )
    tomorrow = [i for i in known if i.start >= day_bounds(date(2026, 11, 30))[0]]
    assert (
        timestamp(hass, "sensor.nomos_4x44emkx_time_of_lowest_price_tomorrow")
        == min(tomorrow, key=lambda i: (i.price_ct, i.start)).start
    )


async def test_price_feed_has_nord_pools_shape(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    berlin_time: None,
) -> None:
    """What evcc and chart cards read: the same keys and types as Nord Pool's sensor."""
    nordpool = json.loads((FIXTURES / "nordpool_attributes.json").read_text())
    freezer.move_to(berlin(2026, 11, 29, 12, 0))
    await add_entry(ANNA)
    attributes = hass.states.get(FEED).attributes
    for key in ("currency", "unit", "today", "tomorrow", "raw_today", "raw_tomorrow"):
        assert type(attributes[key]) is type(nordpool[key]), key
    assert attributes["currency"] == nordpool["currency"]
    assert attributes["unit"] == nordpool["unit"]
    assert set(attributes["raw_today"][0]) == set(nordpool["raw_today"][0])
    assert attributes["tomorrow_valid"] is False
    assert attributes["raw_tomorrow"] == []
    known = simulator_intervals(simulator, date(2026, 11, 29))
    assert [item["value"] for item in attributes["raw_today"]] == pytest.approx(
        [i.price_ct / 100 for i in known]
    )
    assert attributes["raw_today"][0]["start"] == "2026-11-29T00:00:00+01:00"
    assert attributes["today"] == [item["value"] for item in attributes["raw_today"]]
    await travel(hass, freezer, berlin(2026, 11, 29, 16, 0))
    attributes = hass.states.get(FEED).attributes
    assert attributes["tomorrow_valid"] is True
    assert len(attributes["raw_tomorrow"]) == 96
    assert float(hass.states.get(FEED).state) == pytest.approx(
        next(i.price_ct for i in known if i.start <= berlin(2026, 11, 29, 16, 0) < i.end) / 100
    )


async def test_the_recorder_never_stores_the_lists(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    berlin_time: None,
) -> None:
    """Today and a 100-quarter-hour tomorrow: live attributes over the recorder's 16 KiB
    limit, the recorded ones a few hundred bytes."""
    freezer.move_to(berlin(2026, 10, 24, 16, 0))
    await add_entry(ANNA)
    live = hass.states.get(FEED).attributes
    assert len(live["raw_tomorrow"]) == 100
    assert len(json.dumps(dict(live))) > 16 * 1024
    await async_wait_recording_done(hass)
    history = await get_instance(hass).async_add_executor_job(
        get_significant_states, hass, berlin(2026, 10, 24, 0, 0), None, [FEED]
    )
    recorded = history[FEED][-1].attributes
    assert "raw_today" not in recorded
    assert "raw_tomorrow" not in recorded
    assert "today" not in recorded
    assert recorded["tomorrow_valid"] is True
    assert len(json.dumps(dict(recorded))) < 512


async def test_calendar_answers_any_range_from_the_cache(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    berlin_time: None,
) -> None:
    """Events for ranges inside, across and outside the known prices, without a request."""
    freezer.move_to(berlin(2026, 11, 29, 16, 0))
    await add_entry(ANNA)
    known = simulator_intervals(simulator, date(2026, 11, 29), date(2026, 11, 30))
    everything = sorted(
        (period for kind in PeriodKind for period in find_periods(known, kind)),
        key=lambda period: period.start,
    )
    simulator.requests.clear()
    for start, end in (
        (berlin(2026, 11, 29, 0, 0), berlin(2026, 12, 1, 0, 0)),
        (berlin(2026, 11, 29, 18, 10), berlin(2026, 11, 30, 7, 5)),
        (berlin(2026, 11, 30, 12, 0), berlin(2026, 11, 30, 12, 15)),
        (berlin(2026, 12, 5, 0, 0), berlin(2026, 12, 6, 0, 0)),
    ):
        response = await hass.services.async_call(
            "calendar",
            "get_events",
            {"entity_id": CALENDAR, "start_date_time": start, "end_date_time": end},
            blocking=True,
            return_response=True,
        )
        events = response[CALENDAR]["events"]
        wanted = [p for p in everything if p.start < end and p.end > start]
        assert [(e["start"], e["end"]) for e in events] == [
            (local_iso(p.start), local_iso(p.end)) for p in wanted
        ]
        for event, period in zip(events, wanted, strict=True):
            label = "Cheap" if period.kind is PeriodKind.CHEAP else "Expensive"
            assert event["summary"] == f"{label} · Ø {period.average_ct:.1f} ct"
    assert simulator.requests == {}
    now = hass.states.get(CALENDAR)
    first = current_or_next(everything, berlin(2026, 11, 29, 16, 0))
    assert now.attributes["start_time"] == dt_util.as_local(first.start).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    assert now.state == (STATE_ON if first.contains(berlin(2026, 11, 29, 16, 0)) else STATE_OFF)
    hass.config.language = "de"
    german = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": CALENDAR,
            "start_date_time": berlin(2026, 11, 29, 0, 0),
            "end_date_time": berlin(2026, 12, 1, 0, 0),
        },
        blocking=True,
        return_response=True,
    )
    summary = german[CALENDAR]["events"][0]["summary"]
    assert summary.startswith(("Günstig · Ø ", "Teuer · Ø "))
    assert "," in summary
