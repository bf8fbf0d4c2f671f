"""The get_prices and find_cheapest_window actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import itertools
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion
import yaml

from custom_components.nomos_energy.const import DOMAIN
from custom_components.nomos_energy.services import (
    COMPARE_GRID_FEE_OPTIONS_SCHEMA,
    FIND_WINDOW_SCHEMA,
    GET_CONSUMPTION_SCHEMA,
    GET_COST_REPORT_SCHEMA,
    GET_INVOICES_SCHEMA,
    GET_PRICES_SCHEMA,
    IMPORT_STATISTICS_SCHEMA,
    PLAN_APPLIANCE_RUN_SCHEMA,
    SKIP_APPLIANCE_RUN_SCHEMA,
    SUBMIT_METER_READING_SCHEMA,
)
from nomos_simulator import NomosSimulator
from nomos_simulator.data import Subscription

from .conftest import ANNA, BEN, CLARA, AddEntry
from .timetravel import QUARTER, berlin

PRICES = "GET /subscriptions/{id}/prices"


def anna_sub(simulator: NomosSimulator) -> Subscription:
    return next(sub for sub in simulator.subscriptions.values() if sub.number == "4X44EMKX")


async def call(hass: HomeAssistant, service: str, **data: object) -> dict:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )


@pytest.fixture
async def anna_after_publication(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> MockConfigEntry:
    """Anna's entry at 16:00 Berlin, in a Home Assistant set to Berlin time: both days cached."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 11, 29, 16, 0))
    return await add_entry(ANNA)


async def test_get_prices_from_cache(
    hass: HomeAssistant, simulator: NomosSimulator, anna_after_publication: MockConfigEntry
) -> None:
    """Without a range: today and tomorrow from the cache, in EUR and ct, no request."""
    simulator.requests.clear()
    response = await call(hass, "get_prices")
    assert simulator.requests == {}
    assert response["subscription_number"] == "4X44EMKX"
    assert response["unit"] == "EUR/kWh"
    prices = response["prices"]
    assert len(prices) == 96 * 2
    assert datetime.fromisoformat(prices[0]["start"]) == berlin(2026, 11, 29, 0, 0)
    first = anna_sub(simulator).price_item(berlin(2026, 11, 29, 0, 0))["amount"]
    assert prices[0]["price_ct"] == pytest.approx(first)
    assert prices[0]["price"] == pytest.approx(first / 100)
    assert "components" not in prices[0]


async def test_get_prices_hourly_with_components(
    hass: HomeAssistant, simulator: NomosSimulator, anna_after_publication: MockConfigEntry
) -> None:
    """Hourly averages of the quarter-hours, with components, for a range inside the cache."""
    response = await call(
        hass,
        "get_prices",
        start=berlin(2026, 11, 30, 6, 10).isoformat(),
        end=berlin(2026, 11, 30, 9, 0).isoformat(),
        resolution="hour",
        components=True,
    )
    prices = response["prices"]
    assert [datetime.fromisoformat(item["start"]) for item in prices] == [
        berlin(2026, 11, 30, hour, 0) for hour in (6, 7, 8)
    ]
    sub = anna_sub(simulator)
    quarters = [sub.price_item(berlin(2026, 11, 30, 6, m))["amount"] for m in (0, 15, 30, 45)]
    assert prices[0]["price_ct"] == pytest.approx(sum(quarters) / 4)
    assert prices[0]["components"]["grid"] == pytest.approx(0.0947)


async def test_get_prices_outside_the_cache_fetches(
    hass: HomeAssistant, simulator: NomosSimulator, anna_after_publication: MockConfigEntry
) -> None:
    """A range the cache does not cover is fetched from Nomos."""
    simulator.requests.clear()
    response = await call(
        hass,
        "get_prices",
        start=berlin(2026, 11, 20, 0, 0).isoformat(),
        end=berlin(2026, 11, 21, 0, 0).isoformat(),
    )
    assert simulator.count(PRICES) == 1
    assert len(response["prices"]) == 96
    # Naive times are read in Home Assistant's time zone.
    await hass.config.async_set_time_zone("Europe/Berlin")
    response = await call(
        hass, "get_prices", start="2026-11-30 10:00:00", end="2026-11-30 11:00:00"
    )
    assert datetime.fromisoformat(response["prices"][0]["start"]) == berlin(2026, 11, 30, 10, 0)
    assert len(response["prices"]) == 4


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (
            {"start": "2026-11-30T10:00:00+01:00", "end": "2026-11-30T09:00:00+01:00"},
            "end_before_start",
        ),
        (
            {"start": "2026-01-01T00:00:00+01:00", "end": "2026-11-30T00:00:00+01:00"},
            "range_too_long",
        ),
        ({"device_id": "nope"}, "unknown_device"),
        ({"config_entry_id": "nope"}, "entry_not_loaded"),
    ],
)
async def test_get_prices_validation(
    hass: HomeAssistant, anna_after_publication: MockConfigEntry, data: dict, key: str
) -> None:
    """Bad input gets a translated error that says what is wrong."""
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "get_prices", **data)
    assert err.value.translation_key == key


async def test_get_prices_fetch_failure(
    hass: HomeAssistant, simulator: NomosSimulator, anna_after_publication: MockConfigEntry
) -> None:
    """A Nomos error while fetching is reported, not swallowed."""
    simulator.inject(PRICES, status=503)
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass, "get_prices", start="2026-11-01T00:00:00+01:00", end="2026-11-02T00:00:00+01:00"
        )
    assert err.value.translation_key == "cannot_reach_nomos"


async def test_get_prices_revoked_starts_reauth(
    hass: HomeAssistant, simulator: NomosSimulator, anna_after_publication: MockConfigEntry
) -> None:
    simulator.revoke(simulator.customer_by_email(ANNA).id)
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass, "get_prices", start="2026-11-01T00:00:00+01:00", end="2026-11-02T00:00:00+01:00"
        )
    assert err.value.translation_key == "auth_failed"
    await hass.async_block_till_done()
    assert any(
        f["context"]["source"] == "reauth" for f in hass.config_entries.flow.async_progress()
    )


async def test_device_selects_the_subscription(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """With two active subscriptions, the device picks one; without it the error says so."""
    freezer.move_to(berlin(2026, 11, 29, 16, 0))
    ben = simulator.customer_by_email(BEN)
    extra = Subscription("ben-garage", ben, "G4R4G3BN", "smart", datetime(2026, 1, 1, tzinfo=UTC))
    simulator.subscriptions[extra.id] = extra
    entry = await add_entry(BEN)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "get_prices")
    assert err.value.translation_key == "choose_subscription"
    device = next(
        device
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if (DOMAIN, extra.id) in device.identifiers
    )
    response = await call(hass, "get_prices", device_id=device.id, config_entry_id=entry.entry_id)
    assert response["subscription_number"] == "G4R4G3BN"


async def test_no_active_subscription(hass: HomeAssistant, add_entry: AddEntry) -> None:
    await add_entry(CLARA)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "find_cheapest_window", duration={"hours": 1})
    assert err.value.translation_key == "no_active_subscription"


def brute_force_best(prices: list[float], needed: int, most_expensive: bool) -> float:
    sign = -1 if most_expensive else 1
    sums = [sum(prices[i : i + needed]) for i in range(len(prices) - needed + 1)]
    return sign * min(sign * total for total in sums) / needed


@pytest.mark.parametrize("mode", ["cheapest", "most_expensive"])
async def test_find_cheapest_window_matches_brute_force(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    anna_after_publication: MockConfigEntry,
    mode: str,
) -> None:
    """The 2.5-hour window found equals a brute-force search over the known prices."""
    response = await call(
        hass, "find_cheapest_window", duration={"hours": 2, "minutes": 30}, mode=mode
    )
    now = berlin(2026, 11, 29, 16, 0)
    end = berlin(2026, 12, 1, 0, 0)
    sub = anna_sub(simulator)
    starts = [now + i * QUARTER for i in range(int((end - now) / QUARTER))]
    prices = [sub.price_item(start)["amount"] for start in starts]
    best = brute_force_best(prices, 10, mode == "most_expensive")
    assert response["average_price_ct"] == pytest.approx(best, abs=1e-4)
    assert response["average_price"] == pytest.approx(best / 100, abs=1e-6)
    window_start = datetime.fromisoformat(response["start"])
    assert datetime.fromisoformat(response["end"]) - window_start == timedelta(hours=2, minutes=30)
    assert len(response["intervals"]) == 10
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(response["intervals"]))


async def test_find_non_contiguous_and_bounds(
    hass: HomeAssistant, simulator: NomosSimulator, anna_after_publication: MockConfigEntry
) -> None:
    """Non-contiguous picks the cheapest quarters anywhere between the bounds."""
    response = await call(
        hass,
        "find_cheapest_window",
        duration={"hours": 1},
        contiguous=False,
        earliest_start=berlin(2026, 11, 30, 0, 0).isoformat(),
        latest_end=berlin(2026, 11, 30, 12, 0).isoformat(),
    )
    sub = anna_sub(simulator)
    prices = sorted(
        sub.price_item(berlin(2026, 11, 30, 0, 0) + i * QUARTER)["amount"] for i in range(48)
    )
    assert response["average_price_ct"] == pytest.approx(sum(prices[:4]) / 4, abs=1e-4)
    starts = [item["start"] for item in response["intervals"]]
    assert starts == sorted(starts)
    assert all(
        berlin(2026, 11, 30, 0, 0) <= datetime.fromisoformat(start) < berlin(2026, 11, 30, 12, 0)
        for start in starts
    )


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (
            {"duration": {"hours": 3}, "latest_end": "2026-11-29T18:00:00+01:00"},
            "window_longer_than_range",
        ),
        ({"duration": {"hours": 1}, "latest_end": "2026-11-29T16:00:00+01:00"}, "end_before_start"),
    ],
)
async def test_find_window_invalid_input(
    hass: HomeAssistant, anna_after_publication: MockConfigEntry, data: dict, key: str
) -> None:
    """Input that can never work fails with a translated error that says why."""
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "find_cheapest_window", **data)
    assert err.value.translation_key == key


async def test_window_beyond_the_known_prices_is_an_answer(
    hass: HomeAssistant, anna_after_publication: MockConfigEntry
) -> None:
    """No prices known for the range yet: `found: false` and what is known, no failure."""
    response = await call(
        hass,
        "find_cheapest_window",
        duration={"hours": 3},
        earliest_start="2026-12-01T00:00:00+01:00",
        latest_end="2026-12-01T06:00:00+01:00",
    )
    assert response["found"] is False
    assert response["reason"] == "no_prices"
    assert response["known_start"] is None


async def test_window_does_not_fit_around_unknown_prices(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Unknown prices are never chosen and break contiguous windows."""
    freezer.move_to(berlin(2026, 11, 29, 10, 0))
    sub = anna_sub(simulator)
    for hour in range(10, 24):
        sub.price_overrides[berlin(2026, 11, 29, hour, 30)] = None
    await add_entry(ANNA)
    response = await call(hass, "find_cheapest_window", duration={"hours": 2})
    assert response["found"] is False
    assert response["reason"] == "window_does_not_fit"
    # Known runs between the unknown half-hours are three quarters long.
    assert response["intervals_usable"] == 3
    assert datetime.fromisoformat(response["known_end"]) == berlin(2026, 11, 30, 0, 0)
    response = await call(hass, "find_cheapest_window", duration={"hours": 13}, contiguous=False)
    assert response["found"] is False
    assert response["reason"] == "not_enough_prices"
    response = await call(hass, "find_cheapest_window", duration={"minutes": 45})
    assert len(response["intervals"]) == 3
    assert all(item["price"] is not None for item in response["intervals"])


def test_services_yaml_matches_the_registered_actions() -> None:
    """Every action and field in services.yaml exists in the schemas, and back."""
    path = Path(__file__).parents[1] / "custom_components/nomos_energy/services.yaml"
    described = yaml.safe_load(path.read_text())
    schemas = {
        "get_prices": GET_PRICES_SCHEMA,
        "find_cheapest_window": FIND_WINDOW_SCHEMA,
        "get_consumption": GET_CONSUMPTION_SCHEMA,
        "get_invoices": GET_INVOICES_SCHEMA,
        "get_cost_report": GET_COST_REPORT_SCHEMA,
        "import_statistics": IMPORT_STATISTICS_SCHEMA,
        "submit_meter_reading": SUBMIT_METER_READING_SCHEMA,
        "compare_grid_fee_options": COMPARE_GRID_FEE_OPTIONS_SCHEMA,
        "plan_appliance_run": PLAN_APPLIANCE_RUN_SCHEMA,
        "skip_appliance_run": SKIP_APPLIANCE_RUN_SCHEMA,
    }
    assert set(described) == set(schemas)
    for name, schema in schemas.items():
        assert set(described[name]["fields"]) == {str(key) for key in schema.schema}, name


async def test_actions_are_registered(
    hass: HomeAssistant, anna_after_publication: MockConfigEntry
) -> None:
    assert set(hass.services.async_services_for_domain(DOMAIN)) == {
        "get_prices",
        "find_cheapest_window",
        "get_consumption",
        "get_invoices",
        "get_cost_report",
        "import_statistics",
        "submit_meter_reading",
        "compare_grid_fee_options",
        "plan_appliance_run",
        "skip_appliance_run",
    }


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("get_prices", {"resolution": "hour", "components": True}),
        ("find_cheapest_window", {"duration": "02:00:00"}),
        ("find_cheapest_window", {"duration": "01:00:00", "contiguous": False}),
        ("find_cheapest_window", {"duration": "00:45:00", "mode": "most_expensive"}),
        ("get_consumption", {"start": "2026-11-20", "end": "2026-11-22"}),
        ("get_consumption", {"start": "2026-11-01", "end": "2026-11-28", "resolution": "month"}),
        ("get_invoices", {}),
    ],
    ids=lambda value: value if isinstance(value, str) else "-".join(map(str, value.values())),
)
async def test_action_responses(
    hass: HomeAssistant,
    anna_after_publication: MockConfigEntry,
    snapshot: SnapshotAssertion,
    action: str,
    data: dict[str, object],
) -> None:
    """What automations get back from each action, whole."""
    assert await call(hass, action, **data) == snapshot


async def test_time_trigger_at_the_quarter_gets_that_quarter(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An automation at 22:00:00 runs a moment later; the 22:00-22:15 quarter still counts."""
    sub = anna_sub(simulator)
    # Make 22:00-22:15 by far the cheapest quarter of the evening.
    sub.price_overrides[berlin(2026, 11, 29, 22, 0)] = -50.0
    freezer.move_to(berlin(2026, 11, 29, 21, 30))
    await add_entry(ANNA)
    freezer.move_to(berlin(2026, 11, 29, 22, 0, 0) + timedelta(milliseconds=300))
    response = await call(hass, "find_cheapest_window", duration={"minutes": 15})
    assert datetime.fromisoformat(response["start"]) == berlin(2026, 11, 29, 22, 0)
    # Two minutes late, the quarter in progress counts only when asked for.
    freezer.move_to(berlin(2026, 11, 29, 22, 2))
    response = await call(hass, "find_cheapest_window", duration={"minutes": 15})
    assert datetime.fromisoformat(response["start"]) >= berlin(2026, 11, 29, 22, 15)
    response = await call(
        hass, "find_cheapest_window", duration={"minutes": 15}, include_current=True
    )
    assert datetime.fromisoformat(response["start"]) == berlin(2026, 11, 29, 22, 0)


async def test_non_contiguous_segments_and_run_estimate(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    anna_after_publication: MockConfigEntry,
) -> None:
    """Segments switch on and off exactly around the gaps; the power gives the run's cost."""
    start, end = berlin(2026, 11, 30, 0, 0), berlin(2026, 11, 30, 12, 0)
    response = await call(
        hass,
        "find_cheapest_window",
        duration={"hours": 2},
        contiguous=False,
        earliest_start=start.isoformat(),
        latest_end=end.isoformat(),
        power=2.0,
    )
    assert response["found"] is True
    chosen = {
        datetime.fromisoformat(item["start"]).astimezone(UTC) for item in response["intervals"]
    }
    covered = set()
    for segment in response["segments"]:
        # Times as people read them: in Home Assistant's time zone.
        assert segment["start"].endswith("+01:00")
        moment = datetime.fromisoformat(segment["start"]).astimezone(UTC)
        while moment < datetime.fromisoformat(segment["end"]):
            covered.add(moment)
            moment += QUARTER
    assert covered == chosen  # exactly the chosen quarters, not the gaps between them
    prices = {moment: anna_sub(simulator).price_item(moment)["amount"] / 100 for moment in chosen}
    assert response["energy_kwh"] == pytest.approx(4.0)
    assert response["cost"] == pytest.approx(
        sum(2.0 * 0.25 * p for p in prices.values()), abs=0.005
    )
    all_prices = [
        anna_sub(simulator).price_item(start + i * QUARTER)["amount"] / 100 for i in range(48)
    ]
    average_cost = 4.0 * sum(all_prices) / len(all_prices)
    assert response["cost_at_average_price"] == pytest.approx(average_cost, abs=0.005)
    assert response["saving"] == pytest.approx(average_cost - response["cost"], abs=0.011)
    assert response["saving"] > 0
