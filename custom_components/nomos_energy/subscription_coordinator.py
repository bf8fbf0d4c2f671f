"""The subscriptions coordinator: contract data, cache-first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .access import AccessMonitor
from .backoff import Outage
from .cache import NomosCache
from .const import (
    RETRY_BACKOFF_MAX,
    SUBSCRIPTIONS_PENDING_INTERVAL,
    SUBSCRIPTIONS_RETRY_MAX,
    SUBSCRIPTIONS_UPDATE_INTERVAL,
)
from .coordinator_base import NomosCoordinator, update_failed
from .issues import async_check_api_version
from .nomos_client import NomosClient, NomosError, Subscription


@dataclass(frozen=True)
class SubscriptionData:
    """The customer's subscriptions by id, with customer, address and meter."""

    subscriptions: dict[str, Subscription]

    @property
    def active_ids(self) -> list[str]:
        """Return the ids of subscriptions that are supplied now."""
        return [sub_id for sub_id, sub in self.subscriptions.items() if sub.is_active]


class SubscriptionCoordinator(NomosCoordinator[SubscriptionData]):
    """Keep the list of subscriptions and their contract details current."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: NomosClient,
        cache: NomosCache,
        access: AccessMonitor,
    ) -> None:
        """Create the coordinator."""
        super().__init__(
            hass,
            entry,
            client,
            access,
            concern="subscriptions",
            update_interval=SUBSCRIPTIONS_UPDATE_INTERVAL,
            outage=Outage("subscriptions", RETRY_BACKOFF_MAX, SUBSCRIPTIONS_RETRY_MAX),
        )
        self.cache = cache

    async def _async_update_data(self) -> SubscriptionData:
        """List subscriptions; retrieve details only for new or changed ones.

        When Nomos cannot be reached at startup, the cached subscriptions are
        used so that cached prices keep serving through the outage.
        """
        current: SubscriptionData | None = self.data  # None until the first refresh
        known = current.subscriptions if current else (self.cache.subscriptions or {})
        subscriptions: dict[str, Subscription] = {}
        try:
            for listed in await self.client.list_subscriptions():
                cached = known.get(listed.id)
                if (
                    cached is not None
                    and cached.meter is not None
                    and cached.updated_at == listed.updated_at
                    and cached.status == listed.status
                ):
                    subscriptions[listed.id] = cached
                else:
                    subscriptions[listed.id] = await self.client.get_subscription(listed.id)
        except NomosError as err:
            async_check_api_version(self.hass, err)
            now = dt_util.utcnow()
            self.access.failed(err, now)
            fallback = current.subscriptions if current else self.cache.subscriptions
            if fallback is None:
                raise update_failed(err) from err
            # Contract data changes rarely: keep showing what is known.
            self.update_interval = self.outage.failed(err, now)
            return SubscriptionData(dict(fallback))
        self.outage.succeeded()
        async_check_api_version(self.hass, None)
        self.cache.set_subscriptions(subscriptions, dt_util.utcnow())
        self.update_interval = self._interval(subscriptions)
        return SubscriptionData(subscriptions)

    @staticmethod
    def _interval(subscriptions: dict[str, Subscription]) -> timedelta:
        """Contract data changes rarely; while a contract is set up, look more often."""
        if any(sub.is_pending for sub in subscriptions.values()):
            return SUBSCRIPTIONS_PENDING_INTERVAL
        return SUBSCRIPTIONS_UPDATE_INTERVAL

    def start_from_cache(self) -> bool:
        """Serve the cached subscriptions at once and list them again when due.

        Returns False when there is no cache (the first setup asks Nomos).
        """
        cached = self.cache.subscriptions
        if cached is None:
            return False
        self.data = SubscriptionData(dict(cached))
        now = dt_util.utcnow()
        fetched = self.cache.subscriptions_fetched_at
        due = fetched + self._interval(cached) if fetched else now
        self.update_interval = max(due - now, timedelta(seconds=1))
        return True
