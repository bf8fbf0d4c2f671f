"""Coordinators that fetch from Nomos."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api import OAuthTokenProvider
from .const import DOMAIN, LOGGER, SUBSCRIPTIONS_UPDATE_INTERVAL
from .nomos_client import (
    NomosAuthError,
    NomosClient,
    NomosError,
    NomosRateLimitError,
    Subscription,
)


@dataclass
class NomosRuntimeData:
    """What a loaded entry holds: one token provider, one client, the coordinators."""

    client: NomosClient
    tokens: OAuthTokenProvider
    subscriptions: SubscriptionCoordinator


type NomosConfigEntry = ConfigEntry[NomosRuntimeData]


@dataclass(frozen=True)
class SubscriptionData:
    """The customer's subscriptions by id, with customer, address and meter."""

    subscriptions: dict[str, Subscription]


def raise_for_nomos_error(err: NomosError) -> None:
    """Turn a client error into what Home Assistant expects from an update."""
    if isinstance(err, NomosAuthError):
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="auth_failed"
        ) from err
    if isinstance(err, NomosRateLimitError):
        raise UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="rate_limited",
            retry_after=err.retry_after,
        ) from err
    raise UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="update_failed",
        translation_placeholders={"error": str(err)},
    ) from err


class SubscriptionCoordinator(DataUpdateCoordinator[SubscriptionData]):
    """Keep the list of subscriptions and their contract details current."""

    config_entry: NomosConfigEntry

    def __init__(self, hass: HomeAssistant, entry: NomosConfigEntry, client: NomosClient) -> None:
        """Create the coordinator."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} subscriptions",
            update_interval=SUBSCRIPTIONS_UPDATE_INTERVAL,
        )
        self.client = client

    async def _async_update_data(self) -> SubscriptionData:
        """List subscriptions; retrieve details only for new or changed ones."""
        known = self.data.subscriptions if self.data else {}
        subscriptions: dict[str, Subscription] = {}
        try:
            for listed in await self.client.list_subscriptions():
                cached = known.get(listed.id)
                if (
                    cached is not None
                    and cached.updated_at == listed.updated_at
                    and cached.status == listed.status
                ):
                    subscriptions[listed.id] = cached
                else:
                    subscriptions[listed.id] = await self.client.get_subscription(listed.id)
        except NomosError as err:
            raise_for_nomos_error(err)
        return SubscriptionData(subscriptions)
