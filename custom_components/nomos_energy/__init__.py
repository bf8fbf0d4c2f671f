"""The Nomos Energy integration: dynamic 15-minute electricity prices from Nomos."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.config_entry_oauth2_flow import (
    ImplementationUnavailableError,
    OAuth2Session,
    async_get_config_entry_implementation,
)
from homeassistant.helpers.typing import ConfigType

from .access import AccessMonitor
from .api import OAuthTokenProvider, forget_refreshes
from .cache import NomosCache
from .const import AUTH_PERSONAL, CONF_AUTH_TYPE, CONF_IMPORT_LIMIT_KW, DOMAIN
from .coordinator import (
    NomosConfigEntry,
    NomosRuntimeData,
    PriceCoordinator,
    SubscriptionCoordinator,
)
from .energy_coordinator import EnergyCoordinator
from .migration import async_migrate_entry as async_migrate_entry  # Home Assistant calls it
from .nomos_client import ClientCredentialsTokens, NomosClient
from .planner_config import subentry_signature
from .planners import PlannerManager
from .repairs import async_remove_notices, async_update_subscription_issues
from .services import async_setup_services
from .tracker_manager import TrackerManager

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CALENDAR,
    Platform.EVENT,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TIME,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, once for all entries."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: NomosConfigEntry) -> bool:
    """Set up Nomos Energy from a config entry."""
    tokens = await _async_token_provider(hass, entry)
    access = AccessMonitor(hass, entry)
    client = NomosClient(async_get_clientsession(hass), tokens, on_success=access.succeeded)
    cache = NomosCache(hass, entry.entry_id)
    await cache.async_load()
    # With a cache, Home Assistant's startup never waits on Nomos: everything is
    # served from it at once, and what is due is fetched in the background.
    subscriptions = SubscriptionCoordinator(hass, entry, client, cache, access)
    if not subscriptions.start_from_cache():
        await subscriptions.async_config_entry_first_refresh()
    prices = PriceCoordinator(hass, entry, client, subscriptions, cache)
    prices_cached = prices.start_from_cache()
    if not prices_cached:
        await prices.async_config_entry_first_refresh()
    energy = EnergyCoordinator(hass, entry, client, subscriptions, prices, cache)
    energy_cached = energy.start_from_cache()
    energy.companion.start()  # §14a modules and meter orders: from the cache, or fetched now

    planners = PlannerManager(
        prices, cache, dict(entry.subentries), entry.options.get(CONF_IMPORT_LIMIT_KW)
    )
    trackers = TrackerManager(hass, entry, prices)
    await trackers.async_load()
    entry.runtime_data = NomosRuntimeData(
        client=client,
        tokens=tokens,
        cache=cache,
        access=access,
        subscriptions=subscriptions,
        prices=prices,
        energy=energy,
        planners=planners,
        trackers=trackers,
    )
    # Before the platforms: the plans are current when the entities read them.
    entry.async_on_unload(planners.start())
    entry.async_on_unload(trackers.start(entry))
    entry.async_on_unload(entry.add_update_listener(_reload_on_new_settings(entry)))

    active = set(subscriptions.data.active_ids)

    @callback
    def subscriptions_changed() -> None:
        """Fetch prices for a newly active subscription; tidy devices and repairs."""
        nonlocal active
        now_active = set(subscriptions.data.active_ids)
        if now_active - active:
            entry.async_create_background_task(
                hass, prices.async_request_refresh(), "nomos_energy new subscription prices"
            )
        active = now_active
        _remove_stale_devices(hass, entry)
        async_update_subscription_issues(hass, entry)

    entry.async_on_unload(subscriptions.async_add_listener(subscriptions_changed))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    _remove_stale_devices(hass, entry)
    async_update_subscription_issues(hass, entry)  # after the platforms made the devices
    async_remove_notices(hass, entry.entry_id)
    if prices_cached:  # asks Nomos only for what is missing
        entry.async_create_background_task(hass, prices.async_refresh(), "nomos_energy prices")
    if not energy_cached:
        # The first import can take a while (up to two years of usage): never block setup on it.
        entry.async_create_background_task(
            hass, energy.async_refresh(), "nomos_energy first import"
        )
    # After new comparison options, their daily statistic is rewritten (from the cache).
    entry.async_create_background_task(
        hass, energy.async_sync_comparisons(), "nomos_energy comparison statistic"
    )
    return True


def _reload_on_new_settings(
    entry: NomosConfigEntry,
) -> Callable[[HomeAssistant, NomosConfigEntry], Coroutine[Any, Any, None]]:
    """Reload (from the cache) when the options or the planners change.

    Every token refresh updates the entry as well; that must not reload it.
    """
    settings = (dict(entry.options), subentry_signature(dict(entry.subentries)))

    async def reload(hass: HomeAssistant, changed: NomosConfigEntry) -> None:
        if (dict(changed.options), subentry_signature(dict(changed.subentries))) != settings:
            hass.config_entries.async_schedule_reload(changed.entry_id)
        elif changed.state is ConfigEntryState.LOADED:
            changed.runtime_data.planners.apply(dict(changed.subentries))

    return reload


@callback
def _remove_stale_devices(hass: HomeAssistant, entry: NomosConfigEntry) -> None:
    """Remove devices of subscriptions Nomos no longer lists, and of removed planners."""
    known = set(entry.runtime_data.subscriptions.data.subscriptions) | set(entry.subentries)
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        ids = {identifier for domain, identifier in device.identifiers if domain == DOMAIN}
        if ids and not ids & known:
            registry.async_remove_device(device.id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: NomosConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete a device, unless its subscription is supplied now."""
    subscriptions = entry.runtime_data.subscriptions.data.subscriptions
    for domain, sub_id in device.identifiers:
        if domain == DOMAIN and sub_id in subscriptions:
            if subscriptions[sub_id].is_active:
                return False
            entry.runtime_data.cache.hide(sub_id)
    return True


async def _async_token_provider(
    hass: HomeAssistant, entry: NomosConfigEntry
) -> OAuthTokenProvider | ClientCredentialsTokens:
    """Return the entry's one token provider: OAuth sign-in or personal credentials."""
    if entry.data.get(CONF_AUTH_TYPE) == AUTH_PERSONAL:
        credentials = (entry.data[CONF_CLIENT_ID], entry.data[CONF_CLIENT_SECRET])

        def store(token: dict[str, Any]) -> None:
            # Not over a reconfigure with other credentials that finished meanwhile.
            if (entry.data.get(CONF_CLIENT_ID), entry.data.get(CONF_CLIENT_SECRET)) == credentials:
                hass.config_entries.async_update_entry(entry, data={**entry.data, "token": token})

        return ClientCredentialsTokens(
            async_get_clientsession(hass),
            *credentials,
            entry.data.get("token"),
            on_token=store,
        )
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
    return OAuthTokenProvider(hass, entry, OAuth2Session(hass, entry, implementation))


async def async_unload_entry(hass: HomeAssistant, entry: NomosConfigEntry) -> bool:
    """Unload a config entry, writing the cache first."""
    await entry.runtime_data.cache.async_flush()
    await entry.runtime_data.trackers.async_flush()
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: NomosConfigEntry) -> None:
    """Delete the cached prices and subscriptions of a removed entry."""
    await NomosCache(hass, entry.entry_id).async_remove()
    await TrackerManager.async_remove_store(hass, entry.entry_id)
    forget_refreshes(hass, entry.entry_id)
