"""Repair issues, stale and dynamic devices, and the options flow."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.nomos_energy.const import DOMAIN
from nomos_simulator import NomosSimulator

from .conftest import ANNA, BEN, CLARA, AddEntry
from .timetravel import berlin, walk

PRICES = "GET /subscriptions/{id}/prices"


def issue_ids(hass: HomeAssistant) -> set[str]:
    return {issue_id for (domain, issue_id) in ir.async_get(hass).issues if domain == DOMAIN}


async def test_ended_subscription_offers_to_remove_its_device(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: NomosSimulator,
    add_entry: AddEntry,
) -> None:
    """The ended contract gets a fixable issue; fixing it removes the device for good."""
    assert await async_setup_component(hass, "repairs", {})
    entry = await add_entry(BEN)
    old = next(s for s in simulator.subscriptions.values() if s.number == "B3N0LD22")
    issue_id = f"subscription_ended_{old.id}"
    assert issue_id in issue_ids(hass)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue.is_fixable
    assert issue.translation_placeholders == {"number": "B3N0LD22"}

    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    flow = await response.json()
    assert flow["step_id"] == "confirm"
    assert flow["description_placeholders"] == {"number": "B3N0LD22"}
    response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    assert (await response.json())["type"] == "create_entry"
    await hass.async_block_till_done()
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert [device.name for device in devices] == ["Nomos B3NFL4T7"]
    assert issue_id not in issue_ids(hass)
    # It stays gone after a reload.
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert [device.name for device in devices] == ["Nomos B3NFL4T7"]
    assert issue_id not in issue_ids(hass)


async def test_contract_being_set_up_is_no_repair(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nothing to do while a contract is set up: the entity says so, no repair issue."""
    freezer.move_to(berlin(2026, 11, 29, 10, 0))
    entry = await add_entry(CLARA)
    assert hass.states.get("sensor.nomos_cl4r4new_contract_status").state == "pending"
    assert not [
        i for i in issue_ids(hass) if i.startswith(f"contract_being_set_up_{entry.entry_id}")
    ]


async def test_late_prices_are_logged_once_not_a_repair(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Still no prices for tomorrow at 18:00: the binary sensor and one log line say so."""
    freezer.move_to(berlin(2026, 11, 29, 13, 0))
    await add_entry(ANNA)
    simulator.inject(
        PRICES,
        body={
            "object": "price",
            "subscription": "x",
            "resolution": "15min",
            "unit": "ct/kWh",
            "currency": "EUR",
            "items": [],
        },
    )
    await walk(hass, freezer, berlin(2026, 11, 29, 17, 55), timedelta(minutes=15))
    assert "has not published all prices" not in caplog.text
    await walk(hass, freezer, berlin(2026, 11, 29, 20, 0), timedelta(minutes=15))
    assert caplog.text.count("has not published all prices for 2026-11-30") == 1
    assert (
        hass.states.get("binary_sensor.nomos_4x44emkx_prices_for_tomorrow_available").state == "off"
    )
    assert not [issue for issue in issue_ids(hass) if "tomorrow" in issue]
    simulator.clear_faults()
    await walk(hass, freezer, berlin(2026, 11, 29, 20, 30), timedelta(minutes=15))
    assert (
        hass.states.get("binary_sensor.nomos_4x44emkx_prices_for_tomorrow_available").state == "on"
    )


async def test_upgrade_api_version_issue(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nomos's upgrade_api_version error raises an issue; a later success clears it."""
    freezer.move_to(berlin(2026, 11, 29, 16, 0))
    entry = await add_entry(ANNA)
    simulator.inject(
        "GET /subscriptions",
        status=400,
        body={
            "code": "BAD_REQUEST",
            "message": "This API version is no longer supported",
            "requestId": "r-1",
            "docs": "https://docs.nomos.energy/api-references/errors/BAD_REQUEST",
            "errors": [{"code": "upgrade_api_version", "field": "", "message": "Upgrade"}],
        },
        times=1,
    )
    await entry.runtime_data.subscriptions.async_refresh()
    await hass.async_block_till_done()
    assert "upgrade_api_version" in issue_ids(hass)
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, "upgrade_api_version").severity
        is ir.IssueSeverity.ERROR
    )
    await entry.runtime_data.subscriptions.async_refresh()
    await hass.async_block_till_done()
    assert "upgrade_api_version" not in issue_ids(hass)


async def test_vanished_subscription_device_is_removed(
    hass: HomeAssistant, simulator: NomosSimulator, add_entry: AddEntry
) -> None:
    """A subscription Nomos no longer lists loses its device without a restart."""
    entry = await add_entry(BEN)
    old = next(s for s in simulator.subscriptions.values() if s.number == "B3N0LD22")
    del simulator.subscriptions[old.id]
    await entry.runtime_data.subscriptions.async_refresh()
    await hass.async_block_till_done()
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert [device.name for device in devices] == ["Nomos B3NFL4T7"]


async def test_only_inactive_devices_can_be_deleted(
    hass: HomeAssistant, add_entry: AddEntry
) -> None:
    """Deleting the device of a running contract is refused; an ended one may go."""
    from custom_components.nomos_energy import async_remove_config_entry_device  # noqa: PLC0415

    entry = await add_entry(BEN)
    devices = {
        d.name: d for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    }
    assert not await async_remove_config_entry_device(hass, entry, devices["Nomos B3NFL4T7"])
    assert await async_remove_config_entry_device(hass, entry, devices["Nomos B3N0LD22"])
