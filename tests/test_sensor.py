"""Devices and contract sensors per subscription."""

from __future__ import annotations

from datetime import UTC, datetime

from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

from nomos_simulator import NomosSimulator
from nomos_simulator.data import Subscription

from .conftest import ANNA, BEN, CLARA, DAVID, AddEntry


async def test_device_and_sensors_for_active_subscription(
    hass: HomeAssistant, add_entry: AddEntry, simulator: NomosSimulator
) -> None:
    """One device per subscription, named by its number, with translated sensors."""
    entry = await add_entry(ANNA)
    device_registry = dr.async_get(hass)
    devices = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    assert len(devices) == 1
    device = devices[0]
    assert device.name == "Nomos 4X44EMKX"
    assert device.manufacturer == "Nomos"
    assert device.model == "Dynamic tariff, smart meter"
    assert device.entry_type is dr.DeviceEntryType.SERVICE

    status = hass.states.get("sensor.nomos_4x44emkx_contract_status")
    assert status.state == "active"
    assert status.attributes["options"] == ["pending", "active", "ended"]
    assert status.attributes["friendly_name"] == "Nomos 4X44EMKX Contract status"
    start = hass.states.get("sensor.nomos_4x44emkx_supply_start")
    assert datetime.fromisoformat(start.state) == datetime(2024, 12, 31, 23, tzinfo=UTC)
    assert hass.states.get("sensor.nomos_4x44emkx_supply_end").state == STATE_UNKNOWN

    entity_registry = er.async_get(hass)
    assert (
        entity_registry.async_get("sensor.nomos_4x44emkx_supply_start").entity_category
        == "diagnostic"
    )
    assert (
        entity_registry.async_get("sensor.nomos_4x44emkx_contract_status").entity_category is None
    )


async def test_active_and_ended_subscriptions(hass: HomeAssistant, add_entry: AddEntry) -> None:
    """A customer with two contracts gets two devices; the old one shows as ended."""
    entry = await add_entry(BEN)
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert sorted(device.name for device in devices) == ["Nomos B3N0LD22", "Nomos B3NFL4T7"]
    assert hass.states.get("sensor.nomos_b3nfl4t7_contract_status").state == "active"
    assert hass.states.get("sensor.nomos_b3n0ld22_contract_status").state == "ended"
    end = hass.states.get("sensor.nomos_b3n0ld22_supply_end")
    assert datetime.fromisoformat(end.state) == datetime(2025, 6, 30, 22, tzinfo=UTC)


async def test_pending_subscription(hass: HomeAssistant, add_entry: AddEntry) -> None:
    """A contract that is still being set up shows as pending with no supply start."""
    await add_entry(CLARA)
    assert hass.states.get("sensor.nomos_cl4r4new_contract_status").state == "pending"
    assert hass.states.get("sensor.nomos_cl4r4new_supply_start").state == STATE_UNKNOWN


async def test_analog_meter_model(hass: HomeAssistant, add_entry: AddEntry) -> None:
    """The device model tells smart from analog meters."""
    entry = await add_entry(DAVID)
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert [device.model for device in devices] == ["Dynamic tariff, analog meter"]


async def test_new_subscription_appears_without_restart(
    hass: HomeAssistant, add_entry: AddEntry, simulator: NomosSimulator
) -> None:
    """A subscription that starts later gets its device on the next update."""
    entry = await add_entry(ANNA)
    anna = simulator.customer_by_email(ANNA)
    new = Subscription("anna-garage", anna, "G4R4G3XX", "smart", datetime(2026, 1, 1, tzinfo=UTC))
    simulator.subscriptions[new.id] = new
    simulator.requests.clear()
    await entry.runtime_data.subscriptions.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("sensor.nomos_g4r4g3xx_contract_status").state == "active"
    assert len(dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)) == 2
    # Only the new subscription was retrieved again; the known one came from cache.
    assert simulator.count("GET /subscriptions/{id}") == 1
    assert simulator.count("GET /subscriptions") == 1


async def test_status_change_is_picked_up(
    hass: HomeAssistant, add_entry: AddEntry, simulator: NomosSimulator
) -> None:
    """When a contract ends, the status sensor follows on the next update."""
    entry = await add_entry(ANNA)
    anna_sub = next(s for s in simulator.subscriptions.values() if s.number == "4X44EMKX")
    anna_sub.end_at = datetime(2026, 1, 1, tzinfo=UTC)
    await entry.runtime_data.subscriptions.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("sensor.nomos_4x44emkx_contract_status").state == "ended"
