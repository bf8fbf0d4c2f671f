"""The contract companion: §14a modules and smart-meter orders, with the daily import.

The modules and orders are fetched at setup when none are cached, then by the
daily import through `async_daily` (at most one request per endpoint a day; see
companion_state.py), cached, and served from the cache at once after a restart.
A sign-in that Nomos does not let read them (403, 404) turns the feature off
quietly for the entry: one log line, no repair, asked again the next day, a flag
in the diagnostics. Personal API credentials may read them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .cache import NomosCache
from .companion_state import ENDPOINTS, REDUCTIONS, CompanionState
from .const import LOGGER
from .issues import async_update_companion_issues
from .nomos_client import (
    NomosClient,
    NomosError,
    NomosForbiddenError,
    NomosNotFoundError,
    Subscription,
)
from .subscription_coordinator import SubscriptionCoordinator

PATHS = {REDUCTIONS: "/grid-fee-reductions", "meter_orders": "/meter-orders"}


def asked_about(subscription: Subscription) -> bool:
    """Return whether a contract can have modules or orders: one that buys and has not ended."""
    return not subscription.is_feed_in and not subscription.is_ended


class ContractCompanion(DataUpdateCoordinator[CompanionState]):
    """Holds the entry's §14a modules and smart-meter orders; never polls on its own."""

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: NomosClient,
        cache: NomosCache,
        subscriptions: SubscriptionCoordinator,
    ) -> None:
        """Serve what the cache holds."""
        super().__init__(hass, LOGGER, config_entry=entry, name="nomos_energy companion")
        self.client = client
        self.cache = cache
        self.subscriptions = subscriptions
        self.data = cache.companion or CompanionState()
        self._lock = asyncio.Lock()

    async def _async_update_data(self) -> CompanionState:
        """Asking again is the daily import's: a manual update shows what is known."""
        return self.data

    @property
    def contracts(self) -> dict[str, Subscription]:
        """Return the contracts that can have modules or orders, by id."""
        return {
            sub_id: subscription
            for sub_id, subscription in self.subscriptions.data.subscriptions.items()
            if asked_about(subscription)
        }

    def start(self) -> None:
        """Raise the cached repairs; fetch modules and orders now when none are cached."""
        self._update_issues()
        if self.cache.companion is None:
            self.config_entry.async_create_background_task(
                self.hass, self.async_daily(), "nomos_energy modules and meter orders"
            )

    async def async_daily(self, now: datetime | None = None) -> None:
        """Ask each endpoint that is due (once a day at most), then tell the entities."""
        async with self._lock:
            moment = now or dt_util.utcnow()
            ids = sorted(self.contracts)
            if not ids:
                return
            state = self.data
            for endpoint in ENDPOINTS:
                if state.due(endpoint, moment):
                    state = await self._ask(state, endpoint, ids, moment)
            if state == self.data:
                return
            newly_refused = sorted(set(state.refused) - set(self.data.refused))
            if newly_refused:
                # Once, not at every daily retry; no token or id in it.
                LOGGER.info(
                    "Nomos does not let this sign-in read %s (HTTP %s): the §14a module and "
                    "smart-meter order sensors stay empty; asked again tomorrow. Personal API "
                    "credentials may read them",
                    " and ".join(PATHS[name] for name in newly_refused),
                    state.refused[newly_refused[0]],
                )
            self.cache.set_companion(state)
            self.async_set_updated_data(state)
            self._update_issues()

    async def _ask(
        self, state: CompanionState, endpoint: str, ids: list[str], now: datetime
    ) -> CompanionState:
        """Ask one endpoint; a failure keeps the last answer until tomorrow."""
        asked = {**state.asked_at, endpoint: now}
        try:
            if endpoint == REDUCTIONS:
                reductions = await self.client.list_grid_fee_reductions(ids)
                found: dict[str, Any] = {
                    "reductions": tuple(r for r in reductions if r.subscription_id in ids)
                }
            else:
                orders = await self.client.list_meter_orders(ids)
                found = {"orders": tuple(o for o in orders if o.subscription_id in ids)}
        except (NomosForbiddenError, NomosNotFoundError) as err:
            return replace(
                state, asked_at=asked, refused={**state.refused, endpoint: err.status or 403}
            )
        except NomosError as err:
            LOGGER.debug("Could not read %s (%s); asked again tomorrow", PATHS[endpoint], err)
            return replace(state, asked_at=asked)
        refused = {name: status for name, status in state.refused.items() if name != endpoint}
        return replace(state, asked_at=asked, refused=refused, **found)

    @callback
    def _update_issues(self) -> None:
        numbers: Mapping[str, str] = {
            sub_id: subscription.display_number
            for sub_id, subscription in self.subscriptions.data.subscriptions.items()
        }
        async_update_companion_issues(self.hass, numbers, self.data)

    def diagnostics(self) -> dict[str, Any]:
        """Return whether each endpoint may be read, when it was asked, and how much it held."""
        return {
            endpoint: {
                "refused": self.data.refused.get(endpoint),
                "asked_at": None
                if (asked := self.data.asked_at.get(endpoint)) is None
                else asked.isoformat(),
                "items": None
                if (items := self.data.items(endpoint)) is None
                else [item.status for item in items],
            }
            for endpoint in ENDPOINTS
        }
