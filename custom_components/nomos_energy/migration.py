"""Upgrades of an entry made by an earlier version (config entry minor versions).

1.2 (2026.12): prices people read are ct/kWh without a state class, money
sensors of a day or a month have no state class, and "yesterday" became
"latest day". The long-term statistics those sensors kept would show as
issues in Developer tools > Statistics ("state class removed", "units
changed", "no state"), so they are cleared; the energy and cost history lives
on in the imported `nomos_energy:` statistics.
"""

from __future__ import annotations

from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance

from .const import CONF_CREATE_CT_SENSORS

# Sensors that lost their state class (and, for prices, changed EUR/kWh to ct/kWh).
STATISTICS_DROPPED: Final = frozenset(
    {
        "next_price",
        "current_hour_average",
        "today_min",
        "today_max",
        "today_average",
        "tomorrow_min",
        "tomorrow_max",
        "tomorrow_average",
        "lowest_next_24h",
        "highest_next_24h",
        "average_next_3h",
        "current_electricity_price",
        "current_grid_price",
        "current_levies_price",
        *(
            f"{period}_{figure}"
            for period in ("month", "last_month")
            for figure in ("cost", "shifting_benefit", "saved_versus_comparison")
        ),
    }
)
# Replaced by the latest complete day's sensors (new unique ids).
RETIRED: Final = frozenset(
    f"yesterday_{figure}"
    for figure in (
        "consumption",
        "cost",
        "price_paid",
        "market_average",
        "shifting_benefit",
        "saved_versus_comparison",
    )
)
# The price people read: a disabled twin until 1.2, the main price sensor now.
PROMOTED: Final = "current_price_ct"


def _key(entity: er.RegistryEntry) -> str:
    """Return the description key of one of our entities (unique id "<subscription>-<key>")."""
    return entity.unique_id.partition("-")[2]


async def async_migrate_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Bring an entry made by an earlier version up to this one's minor version."""
    if entry.version > 1:
        # Made by a newer version that changed the entry incompatibly.
        return False
    if entry.minor_version < 2:
        _migrate_to_1_2(hass, entry)
    return True


def _migrate_to_1_2(hass: HomeAssistant, entry: ConfigEntry) -> None:
    registry = er.async_get(hass)
    stale_statistics: list[str] = []
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if entity.domain != Platform.SENSOR:
            continue
        key = _key(entity)
        if key in RETIRED:
            registry.async_remove(entity.entity_id)
            stale_statistics.append(entity.entity_id)
        elif key in STATISTICS_DROPPED:
            stale_statistics.append(entity.entity_id)
        elif key == PROMOTED and entity.disabled_by is er.RegistryEntryDisabler.INTEGRATION:
            registry.async_update_entity(entity.entity_id, disabled_by=None)
    if stale_statistics and "recorder" in hass.config.components:
        get_instance(hass).async_clear_statistics(stale_statistics)
    options = {key: value for key, value in entry.options.items() if key != CONF_CREATE_CT_SENSORS}
    hass.config_entries.async_update_entry(entry, options=options, minor_version=2)
