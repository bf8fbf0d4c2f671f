"""Upgrading an entry made before 2026.12 leaves no issue in Developer tools > Statistics."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.models import StatisticData, StatisticMetaData
from homeassistant.components.recorder.statistics import (
    StatisticMeanType,
    async_import_statistics,
    get_metadata,
    validate_statistics,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.nomos_energy.const import DOMAIN
from nomos_simulator import NomosSimulator

from .conftest import ANNA, OPTIONS_FORM, entry_for
from .timetravel import berlin

pytestmark = pytest.mark.default_entities

# Sensors of the earlier version, as their long-term statistics knew them:
# (key, entity id suffix, unit, mean or sum).
EARLIER = [
    ("current_price", "current_price", "EUR/kWh", "mean"),  # unchanged: keeps its history
    ("next_price", "next_price", "EUR/kWh", "mean"),  # now ct/kWh without state class
    ("today_min", "lowest_price_today", "EUR/kWh", "mean"),
    ("month_cost", "cost_this_month", "EUR", "sum"),  # money of a month: no state class
    ("last_month_shifting_benefit", "shifting_benefit_last_month", "EUR", "sum"),
    ("yesterday_cost", "cost_yesterday", "EUR", "sum"),  # replaced by the latest day
    ("yesterday_consumption", "consumption_yesterday", "kWh", None),  # no statistics
]


def earlier_entry(simulator: NomosSimulator, version: int, minor_version: int) -> MockConfigEntry:
    """Return ANNA's entry as another version of the integration stored it."""
    current = entry_for(simulator, ANNA)
    return MockConfigEntry(
        domain=DOMAIN,
        title=current.title,
        unique_id=current.unique_id,
        data=dict(current.data),
        version=version,
        minor_version=minor_version,
    )


def _earlier_statistics(hass: HomeAssistant, entity_id: str, unit: str, kind: str) -> None:
    start = berlin(2026, 11, 28, 0, 0)
    async_import_statistics(
        hass,
        StatisticMetaData(
            mean_type=StatisticMeanType.ARITHMETIC if kind == "mean" else StatisticMeanType.NONE,
            has_sum=kind == "sum",
            name=None,
            source="recorder",
            statistic_id=entity_id,
            unit_class=None,
            unit_of_measurement=unit,
        ),
        [
            StatisticData(start=start + timedelta(hours=hour), mean=0.25, min=0.2, max=0.3)
            if kind == "mean"
            else StatisticData(start=start + timedelta(hours=hour), state=1.5, sum=1.5 * hour)
            for hour in range(3)
        ],
    )


async def test_upgrade_leaves_no_statistics_issue(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: NomosSimulator,
    setup_credentials: None,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Statistics of sensors whose unit or state class changed are cleared, the rest kept.

    "Yesterday" entities are removed, the ct/kWh price (a disabled twin before)
    is enabled, and the option that created it is gone.
    """
    freezer.move_to(berlin(2026, 11, 29, 15, 0))
    entry = earlier_entry(simulator, version=1, minor_version=1)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, options={**OPTIONS_FORM, "create_ct_sensors": True}
    )
    customer = simulator.customer_by_email(ANNA)
    assert customer is not None
    [subscription] = simulator.subscriptions_of(customer.id)
    registry = er.async_get(hass)
    for key, suffix, unit, kind in EARLIER:
        entity_id = f"sensor.nomos_4x44emkx_{suffix}"
        registry.async_get_or_create(
            "sensor",
            DOMAIN,
            f"{subscription.id}-{key}",
            suggested_object_id=f"nomos_4x44emkx_{suffix}",
            config_entry=entry,
        )
        if kind is not None:
            _earlier_statistics(hass, entity_id, unit, kind)
    twin = registry.async_get_or_create(
        "sensor",
        DOMAIN,
        f"{subscription.id}-current_price_ct",
        suggested_object_id="nomos_4x44emkx_current_price_ct_kwh",
        config_entry=entry,
        disabled_by=er.RegistryEntryDisabler.INTEGRATION,
    )
    await async_wait_recording_done(hass)

    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)

    assert entry.minor_version == 2
    assert "create_ct_sensors" not in entry.options
    issues = await recorder_mock.async_add_executor_job(validate_statistics, hass)
    assert {entity_id: found for entity_id, found in issues.items() if "nomos" in entity_id} == {}
    # The Energy dashboard's price keeps its history; the others start afresh.
    metadata = await recorder_mock.async_add_executor_job(get_metadata, hass)
    assert "sensor.nomos_4x44emkx_current_price" in metadata
    assert "sensor.nomos_4x44emkx_next_price" not in metadata
    assert registry.async_get("sensor.nomos_4x44emkx_cost_yesterday") is None
    assert registry.async_get("sensor.nomos_4x44emkx_consumption_yesterday") is None
    promoted = registry.async_get(twin.entity_id)
    assert promoted is not None
    assert promoted.disabled_by is None
    assert hass.states.get(twin.entity_id).attributes["unit_of_measurement"] == "ct / kWh"
    # Ids are kept: automations written against them go on working.
    assert (
        hass.states.get("sensor.nomos_4x44emkx_current_price").attributes["unit_of_measurement"]
        == "EUR/kWh"
    )
    assert (
        hass.states.get("sensor.nomos_4x44emkx_next_price").attributes["unit_of_measurement"]
        == "ct / kWh"
    )


async def test_entry_from_a_newer_major_version_is_refused(
    hass: HomeAssistant, simulator: NomosSimulator, setup_credentials: None
) -> None:
    """An entry a future version changed incompatibly is left alone, not half-loaded."""
    entry = earlier_entry(simulator, version=2, minor_version=1)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state.recoverable is False
