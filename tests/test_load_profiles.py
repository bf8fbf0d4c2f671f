"""Power profiles: typed as a homeowner types them, planned exactly (brute force), chosen in
the appliance's form or from the dashboard."""

from __future__ import annotations

from datetime import datetime, timedelta
import itertools

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from hypothesis import given, settings, strategies as st
import pytest

from custom_components.nomos_energy.appliance_plan import ApplianceSpec, make_plan
from custom_components.nomos_energy.load_profiles import (
    PRESETS,
    ProfileError,
    format_profile,
    parse_profile,
    preset_of,
)

from .conftest import ANNA, AddEntry
from .test_planners import add_appliance, change_appliance, quarters, suggested
from .timetravel import QUARTER, berlin

kw = st.floats(min_value=0.05, max_value=11, allow_nan=False).map(lambda x: round(x, 2))
steps = st.lists(st.lists(kw, min_size=1, max_size=4), min_size=1, max_size=4)


@given(steps=steps)
def test_a_profile_reads_back_as_written(steps: list[list[float]]) -> None:
    """Written with | between steps, read back: the same powers and pauses."""
    text = " | ".join(", ".join(f"{value:g}" for value in step) for step in steps)
    profile = parse_profile(text)
    assert list(profile.kw) == [value for step in steps for value in step]
    assert parse_profile(format_profile(profile)) == profile
    assert profile.quarters == sum(len(step) for step in steps)
    # A pause only between steps; with no steps marked, anywhere; never without "may pause".
    firsts = list(itertools.accumulate(len(step) for step in steps[:-1]))
    pausable = profile.pausable(may_pause=True)
    if len(steps) > 1:
        assert [i for i, p in enumerate(pausable) if p] == firsts
    else:
        assert pausable == (False, *(True,) * (profile.quarters - 1))
    assert not any(profile.pausable(may_pause=False))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2.0, two", "profile_not_a_number"),
        ("2.0, 0", "profile_power_range"),
        ("60", "profile_power_range"),
        (", ".join(["1"] * 49), "profile_too_long"),
        ("2.0 || 0.5", "profile_empty_step"),
    ],
)
def test_what_cannot_be_read_says_why(text: str, reason: str) -> None:
    with pytest.raises(ProfileError) as refused:
        parse_profile(text)
    assert refused.value.reason == reason


def test_presets_are_recognised() -> None:
    for name, text in PRESETS.items():
        assert preset_of(text) == name
        assert preset_of(format_profile(parse_profile(text))) == name
    assert preset_of(None) == "none"
    assert preset_of("1, 2") == "custom"
    assert preset_of("1, x") == "custom"


prices = st.one_of(st.none(), st.floats(min_value=-20, max_value=60, allow_nan=False))


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(prices, min_size=3, max_size=14),
    steps=st.lists(st.lists(kw, min_size=1, max_size=2), min_size=1, max_size=3),
    may_pause=st.booleans(),
)
def test_a_program_is_planned_at_its_cheapest(
    values: list[float | None], steps: list[list[float]], may_pause: bool
) -> None:
    """Brute force over every way to place the program's quarter-hours (in order, a pause
    only where allowed, never on an unknown price): the plan costs the least."""
    start = berlin(2026, 10, 25, 1, 0)  # across the autumn change
    known = quarters(start, values)
    profile = parse_profile(" | ".join(", ".join(f"{v:g}" for v in step) for step in steps))
    spec = ApplianceSpec("p", profile.quarters * QUARTER, may_pause=may_pause, profile=profile)
    plan = make_plan(spec, known, start, known[-1].end)
    pausable = profile.pausable(may_pause)
    best = None
    for chosen in itertools.combinations(range(len(known)), profile.quarters):
        if any(known[i].price_ct is None for i in chosen):
            continue
        if any(not pausable[j] and chosen[j] != chosen[j - 1] + 1 for j in range(1, len(chosen))):
            continue
        cost = sum(k * (known[i].price_ct or 0.0) for k, i in zip(profile.kw, chosen, strict=True))
        best = cost if best is None else min(best, cost)
    if best is None:
        assert plan.reason != "cheapest"
        return
    assert plan.reason == "cheapest"
    assert plan.cost_eur == pytest.approx(best / 4 / 100, abs=1e-9)
    planned = [q for segment_start, end in plan.segments for q in _quarters(segment_start, end)]
    assert len(planned) == profile.quarters


def _quarters(start: datetime, end: datetime) -> list[datetime]:
    return [start + n * QUARTER for n in range((end - start) // QUARTER)]


async def test_a_washing_machine_program_from_the_form_and_the_dashboard(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Picked in the form: two hours, its cost from the profile; the form shows the preset;
    the Program select on the dashboard switches to the dryer (two and a half hours)."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 12, 3, 20, 0))
    entry = await add_entry(ANNA)
    result = await add_appliance(hass, entry, name="Washer", profile="washing_machine")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    run_now = hass.states.get("binary_sensor.washer_run_now").attributes
    begin = datetime.fromisoformat(run_now["segments"][0]["start"])
    end = datetime.fromisoformat(run_now["segments"][-1]["end"])
    assert end - begin == timedelta(hours=2)
    schedule = entry.runtime_data.prices.schedule(
        next(iter(entry.subentries.values())).data["subscription_id"]
    )
    by_start = {i.start: i.price_ct for i in schedule.between(begin, end)}
    expected = sum(
        k * (by_start[begin + n * QUARTER] or 0.0)
        for n, k in enumerate(parse_profile(PRESETS["washing_machine"]).kw)
    )
    cost = float(hass.states.get("sensor.washer_estimated_cost").state)
    assert cost == pytest.approx(expected / 400, abs=0.006)
    assert hass.states.get("select.washer_program").state == "washing_machine"
    form = await change_appliance(hass, entry, next(iter(entry.subentries)), "daily")
    assert suggested(form)["advanced"]["profile"] == "washing_machine"
    hass.config_entries.subentries.async_abort(form["flow_id"])
    runtime = entry.runtime_data
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": "select.washer_program", "option": "dryer"},
        blocking=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.runtime_data is runtime  # another program: planned at once, no reload
    assert hass.states.get("select.washer_program").state == "dryer"
    assert next(iter(entry.subentries.values())).data["profile"] == PRESETS["dryer"]
    run_now = hass.states.get("binary_sensor.washer_run_now").attributes
    begin = datetime.fromisoformat(run_now["segments"][0]["start"])
    end = datetime.fromisoformat(run_now["segments"][-1]["end"])
    assert end - begin == timedelta(hours=2, minutes=30)


async def test_an_own_profile_that_cannot_be_read_is_said(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(berlin(2026, 12, 3, 20, 0))
    entry = await add_entry(ANNA)
    result = await add_appliance(hass, entry, profile="2.0, two")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "profile_not_a_number"}
    result = await add_appliance(hass, entry, profile="2.0, 2.0 | 0.2")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert hass.states.get("select.dishwasher_program").state == "custom"
    assert next(iter(entry.subentries.values())).data["duration_minutes"] == 45
