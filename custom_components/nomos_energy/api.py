"""Bridge Home Assistant's OAuth2Session to the Nomos client's token provider."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HassJob, HomeAssistant
from homeassistant.helpers.config_entry_oauth2_flow import OAuth2Session
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN


@dataclass
class _EntryRefresh:
    """What outlives one load of an entry: its refresh lock and the refresh in flight."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    task: asyncio.Task[None] | None = None


def _retrieve_error(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()


def forget_refreshes(hass: HomeAssistant, entry_id: str) -> None:
    """Drop the refresh state of a removed entry."""
    hass.data.get(_REFRESHES, {}).pop(entry_id, None)


_REFRESHES: HassKey[dict[str, _EntryRefresh]] = HassKey(f"{DOMAIN}_token_refreshes")


class OAuthTokenProvider:
    """Supply access tokens from the entry's one OAuth2Session.

    Nomos rotates the refresh token on every use, so a refresh that was sent
    must be stored whatever happens to its caller: it runs in a task of its
    own that callers only await (a reload, an options change or a shutdown
    cancels the caller, never the refresh), and one lock per config entry,
    kept across reloads, serialises refreshes of old and new session objects.
    Failures arrive as the Nomos client's errors (see `request_token`).
    """

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, session: OAuth2Session) -> None:
        """Wrap the session."""
        self._hass = hass
        self._entry = entry
        self.session = session
        self._refresh = hass.data.setdefault(_REFRESHES, {}).setdefault(
            entry.entry_id, _EntryRefresh()
        )

    async def access_token(self) -> str:
        """Return a valid access token, refreshing only when it is about to expire."""
        if not self.session.valid_token:
            refresh = self._refresh
            if refresh.task is None or refresh.task.done():
                task = self._hass.async_create_task(
                    self._refresh_token(), f"{DOMAIN} token refresh"
                )
                refresh.task = task

                async def finish_refresh() -> None:
                    await asyncio.wait([task])

                # Home Assistant stopping waits for it (tasks older than the
                # stop are not waited for), so the rotated token is stored.
                remove_shutdown_job = self._hass.async_add_shutdown_job(
                    HassJob(finish_refresh, f"{DOMAIN} finish token refresh")
                )
                task.add_done_callback(lambda _: remove_shutdown_job())
                # Its caller may be gone by the time it fails: retrieve the error.
                task.add_done_callback(_retrieve_error)
            await asyncio.shield(refresh.task)
        return str(self.session.token["access_token"])

    async def _refresh_token(self) -> None:
        """Refresh under the entry's lock; the session stores the rotated token at once."""
        async with self._refresh.lock:
            await self.session.async_ensure_token_valid()

    @property
    def scopes(self) -> frozenset[str]:
        """Return the scopes granted to the current token."""
        return frozenset(str(self.session.token.get("scope") or "").split())

    async def invalidate(self, token: str) -> None:
        """Mark `token` expired after Nomos rejected it, so the next call refreshes.

        Only the token that failed is invalidated: when several callers see the
        same 401, the first refresh serves them all.
        """
        current = self.session.token
        if current.get("access_token") != token:
            return
        self._hass.config_entries.async_update_entry(
            self._entry, data={**self._entry.data, "token": {**current, "expires_at": 0}}
        )
