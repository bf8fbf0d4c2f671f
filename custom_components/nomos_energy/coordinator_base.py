"""What every coordinator of an entry shares: its back-off, recovery and failures.

The coordinators sit on this module and never on each other's entry type:
`coordinator.py` holds what a loaded entry keeps (NomosRuntimeData) and is
imported by the platforms, never by a coordinator.
"""

from __future__ import annotations

from datetime import timedelta
import random

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .access import AccessMonitor
from .backoff import Outage
from .const import DOMAIN, LOGGER, PUBLICATION_SPREAD
from .nomos_client import NomosAuthError, NomosClient, NomosError, NomosRateLimitError


def auth_failed(err: NomosAuthError) -> ConfigEntryAuthFailed:
    """Return the translated error that starts reauth."""
    error = ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="auth_failed")
    error.__cause__ = err
    return error


def update_failed(err: NomosError) -> UpdateFailed | ConfigEntryAuthFailed:
    """Return the translated update failure for a client error (reauth when access is gone)."""
    if isinstance(err, NomosAuthError):
        return auth_failed(err)
    if isinstance(err, NomosRateLimitError):
        return UpdateFailed(
            translation_domain=DOMAIN, translation_key="rate_limited", retry_after=err.retry_after
        )
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="update_failed",
        translation_placeholders={"error": str(err)},
    )


def installation_offset(entry_id: str) -> timedelta:
    """Return this installation's stable offset after the publication time.

    The entry id is random per installation, so thousands of homes spread
    evenly over PUBLICATION_SPREAD instead of asking Nomos in the same minute.
    """
    spread = PUBLICATION_SPREAD.total_seconds()
    return timedelta(seconds=random.Random(entry_id).uniform(0, spread))  # noqa: S311


class NomosCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """A coordinator with its own back-off that recovers when the entry's access does."""

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: NomosClient,
        access: AccessMonitor,
        *,
        concern: str,
        update_interval: timedelta,
        outage: Outage,
    ) -> None:
        """Create the coordinator for one concern of the entry."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {concern}",
            update_interval=update_interval,
        )
        self.client = client
        self.access = access
        self.outage = outage
        entry.async_on_unload(access.add_recovery_listener(self.recover))

    @callback
    def recover(self) -> None:
        """Try again at once when another request of the entry succeeded."""
        if self.outage.failures:
            self.outage.retry_at = None
            self.hass.async_create_task(self.async_request_refresh())
