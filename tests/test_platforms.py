"""Every entity of every platform, as a user and an automation see it: one snapshot each.

The snapshot holds what must not change by accident: entity ids, unique ids,
names, device classes, units, state classes, categories, states and
attributes. It is written in a shape that is the same on every release line
(Home Assistant's own registry serialisation gains fields between releases).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from syrupy.assertion import SnapshotAssertion

from .conftest import BEN, AddEntry
from .timetravel import berlin


def plain(value: Any) -> Any:
    """Strings for string enums, recursively: releases differ in which keys are enums."""
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def describe(hass: HomeAssistant, entry_id: str) -> dict[str, Any]:
    """Return every entity of the entry: registry facts and the current state."""
    registry = er.async_get(hass)
    described: dict[str, Any] = {}
    for entity in sorted(
        er.async_entries_for_config_entry(registry, entry_id), key=lambda e: e.entity_id
    ):
        state = hass.states.get(entity.entity_id)
        assert state is not None, entity.entity_id
        described[entity.entity_id] = {
            "unique_id": entity.unique_id,
            "translation_key": entity.translation_key,
            "device_class": entity.device_class or entity.original_device_class,
            "unit": entity.unit_of_measurement,
            "entity_category": entity.entity_category,
            "capabilities": entity.capabilities,
            "state": state.state,
            "attributes": dict(state.attributes),
        }
    return plain(described)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize(
    "platform", [Platform.SENSOR, Platform.BINARY_SENSOR, Platform.CALENDAR, Platform.EVENT]
)
async def test_platform(
    hass: HomeAssistant,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    """An active and an ended contract at 15:00 Berlin, tomorrow's prices published."""
    freezer.move_to(berlin(2026, 11, 29, 15, 0))
    with patch("custom_components.nomos_energy.PLATFORMS", [platform]):
        entry = await add_entry(BEN)
    assert describe(hass, entry.entry_id) == snapshot
