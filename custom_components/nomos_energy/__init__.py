"""The Nomos Energy integration: dynamic 15-minute electricity prices from Nomos."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.config_entry_oauth2_flow import (
    ImplementationUnavailableError,
    OAuth2Session,
    async_get_config_entry_implementation,
)

from .api import OAuthTokenProvider
from .const import DOMAIN
from .coordinator import NomosConfigEntry, NomosRuntimeData, SubscriptionCoordinator
from .nomos_client import NomosClient

PLATFORMS: list[Platform] = [Platform.SENSOR]


async def async_setup_entry(hass: HomeAssistant, entry: NomosConfigEntry) -> bool:
    """Set up Nomos Energy from a config entry."""
    try:
        implementation = await async_get_config_entry_implementation(hass, entry)
    except ImplementationUnavailableError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="implementation_unavailable"
        ) from err
    except ValueError as err:
        # The application credentials this entry was created with are gone.
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="implementation_missing"
        ) from err

    tokens = OAuthTokenProvider(hass, entry, OAuth2Session(hass, entry, implementation))
    client = NomosClient(async_get_clientsession(hass), tokens)
    subscriptions = SubscriptionCoordinator(hass, entry, client)
    await subscriptions.async_config_entry_first_refresh()

    entry.runtime_data = NomosRuntimeData(client=client, tokens=tokens, subscriptions=subscriptions)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: NomosConfigEntry) -> bool:
    """Unload a config entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
