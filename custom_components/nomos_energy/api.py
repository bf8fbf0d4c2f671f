"""Bridge Home Assistant's OAuth2 sign-in to the Nomos client's token provider."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import hashlib
import math
import time
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers.config_entry_oauth2_flow import (
    CLOCK_OUT_OF_SYNC_MAX_SEC,
    OAuth2Session,
)
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, LOGGER
from .nomos_client import NomosAuthError, NomosResponseError, NomosTimeoutError

# Nomos rotates the refresh token the moment a refresh arrives, and may answer as late
# as the token request's own timeout (nomos_client.auth.TOKEN_TIMEOUT, 30 s): a refresh
# gets longer than that (waiting for the entry's lock included) before it is given up.
#
# Home Assistant's stop (homeassistant/core.py, the same on every release we support)
# gives shutdown jobs STOPPING_STAGE_SHUTDOWN_TIMEOUT = 20 s, too little for this limit,
# and then waits STOP_STAGE_SHUTDOWN_TIMEOUT = 100 s for the tasks started once
# EVENT_HOMEASSISTANT_STOP fires (tasks started before are cancelled at the very end).
# So the refresh in flight is awaited from a stop listener, in that 100 s stage.
REFRESH_LIMIT: Final = 45.0

# After an unclear refusal (UNAUTHORIZED without an OAuth error; a proxy or a hiccup
# can answer that too) the token endpoint is asked again at most this often, so a dead
# grant is not sent dozens of times a day while the user has not signed in again.
UNCLEAR_REFUSAL_RETRY: Final = 3600.0


@dataclass(frozen=True)
class _Refusal:
    """Nomos refused a refresh token (known by its digest, never by itself)."""

    token_digest: str
    final: bool  # invalid_grant: never again; otherwise asked again after `retry_at`
    retry_at: float
    status: int | None
    code: str | None


@dataclass
class _EntryRefresh:
    """What outlives one load of an entry: its lock, the refresh in flight, a refusal."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    task: asyncio.Task[None] | None = None
    refusal: _Refusal | None = None


_REFRESHES: HassKey[dict[str, _EntryRefresh]] = HassKey(f"{DOMAIN}_token_refreshes")


def _retrieve_error(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()


def _digest(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()


def _says_invalid_grant(err: NomosAuthError) -> bool:
    """Return whether Nomos said `invalid_grant`: the grant is gone for good.

    Nomos documents only "a failed refresh returns UNAUTHORIZED"; that alone
    is taken as unclear.
    """
    return err.oauth_error == "invalid_grant"


def _entry_refreshes(hass: HomeAssistant) -> dict[str, _EntryRefresh]:
    """Return the refresh state of every entry; the first call also listens for the stop."""
    refreshes = hass.data.get(_REFRESHES)
    if refreshes is None:
        refreshes = hass.data[_REFRESHES] = {}

        async def finish_refreshes(_: Event) -> None:
            """Let refreshes in flight store their rotated token (see REFRESH_LIMIT)."""
            running = [r.task for r in refreshes.values() if r.task and not r.task.done()]
            if running:
                await asyncio.wait(running)

        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, finish_refreshes)
    return refreshes


def forget_refreshes(hass: HomeAssistant, entry_id: str) -> None:
    """Drop the refresh state of a removed entry."""
    hass.data.get(_REFRESHES, {}).pop(entry_id, None)


def refresh_in_flight(hass: HomeAssistant, entry_id: str) -> bool:
    """Return whether a refresh of the entry's sign-in is running."""
    refresh = hass.data.get(_REFRESHES, {}).get(entry_id)
    return refresh is not None and refresh.task is not None and not refresh.task.done()


async def async_wait_for_refreshes(hass: HomeAssistant, entry_id: str) -> None:
    """Wait until no refresh of the entry's sign-in runs (each within REFRESH_LIMIT).

    Its outcome is its callers' business; the waiter only needs it over.
    """
    refresh = hass.data.get(_REFRESHES, {}).get(entry_id)
    while refresh is not None and refresh.task is not None and not refresh.task.done():
        await asyncio.wait([refresh.task])


def forget_refusal(hass: HomeAssistant, entry_id: str) -> None:
    """Forget what Nomos said about the entry's old sign-in: a new one is stored."""
    if (refresh := hass.data.get(_REFRESHES, {}).get(entry_id)) is not None:
        refresh.refusal = None


def _fresh(token: dict[str, Any]) -> bool:
    """Return whether the stored access token can be sent (as Home Assistant judges it).

    Anything unusable (no access token, no expiry, an expiry that is not a
    number) counts as expired: the refresh replaces it.
    """
    access_token = token.get("access_token")
    expires_at = token.get("expires_at")
    if not isinstance(access_token, str) or not access_token:
        return False
    if isinstance(expires_at, bool) or not isinstance(expires_at, int | float):
        return False
    try:
        return math.isfinite(expires_at) and expires_at > time.time() + CLOCK_OUT_OF_SYNC_MAX_SEC
    except OverflowError:  # an int beyond float range
        return False


class OAuthTokenProvider:
    """Supply access tokens from the entry's sign-in (Home Assistant's OAuth2 implementation).

    Nomos rotates the refresh token on every use, so a refresh that was sent
    must be stored whatever happens to its caller: it runs in a task of its
    own that callers only await (a reload, an options change or a shutdown
    cancels the caller, never the refresh), and one lock per config entry,
    kept across reloads, serialises refreshes of old and new session objects.
    A refresh token Nomos refused is not sent again (see `_Refusal`).
    Failures arrive as the Nomos client's errors (see `request_token`).
    """

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, session: OAuth2Session) -> None:
        """Wrap the session."""
        self._hass = hass
        self._entry = entry
        self.session = session
        self._refresh = _entry_refreshes(hass).setdefault(entry.entry_id, _EntryRefresh())

    def _token(self) -> dict[str, Any]:
        """Return the stored token; none at all means signing in again."""
        token = self._entry.data.get("token")
        if not isinstance(token, dict):
            raise NomosAuthError("No token is stored for this sign-in: sign in again")
        return token

    def _sendable_refresh_token(self, token: dict[str, Any]) -> str:
        """Return the refresh token to send, or raise NomosAuthError without a request.

        Missing or not text (an old backup, a hand-edited file), or refused by
        Nomos: only a new sign-in helps.
        """
        refresh_token = token.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise NomosAuthError("The stored sign-in has no refresh token: sign in again")
        refusal = self._refresh.refusal
        if (
            refusal is not None
            and refusal.token_digest == _digest(refresh_token)
            and (refusal.final or time.time() < refusal.retry_at)
        ):
            answer = " ".join(str(part) for part in (refusal.status, refusal.code) if part)
            raise NomosAuthError(
                f"Nomos refused this sign-in earlier (HTTP {answer}); "
                + (
                    "not asking again until the user signs in again"
                    if refusal.final
                    else "asking again an hour later at the earliest"
                ),
                status=refusal.status,
                code=refusal.code,
            )
        return refresh_token

    async def access_token(self) -> str:
        """Return a valid access token, refreshing only when it is about to expire."""
        token = self._token()
        if _fresh(token):
            return str(token["access_token"])
        self._sendable_refresh_token(token)  # fails at once when nothing may be sent
        refresh = self._refresh
        if refresh.task is None or refresh.task.done():
            task = self._hass.async_create_task(self._refresh_now(), f"{DOMAIN} token refresh")
            refresh.task = task
            # Its caller may be gone by the time it fails: retrieve the error.
            task.add_done_callback(_retrieve_error)
        await asyncio.shield(refresh.task)
        return str(self._token()["access_token"])

    async def _refresh_now(self) -> None:
        """Refresh under the entry's lock and store the rotated token at once."""
        try:
            async with asyncio.timeout(REFRESH_LIMIT):
                async with self._refresh.lock:
                    await self._refresh_locked()
        except TimeoutError:
            raise NomosTimeoutError(
                f"The token refresh did not finish within {REFRESH_LIMIT:.0f} s"
            ) from None

    async def _refresh_locked(self) -> None:
        token = self._token()
        if _fresh(token):  # another refresh stored one meanwhile
            return
        sent = self._sendable_refresh_token(token)
        try:
            new_token = await self.session.implementation.async_refresh_token(dict(token))
        except NomosAuthError as err:
            final = _says_invalid_grant(err)
            self._refresh.refusal = _Refusal(
                _digest(sent),
                final,
                time.time() + UNCLEAR_REFUSAL_RETRY,
                err.status,
                err.code,
            )
            LOGGER.debug(
                "Nomos refused the refresh token (%s); %s",
                "invalid_grant" if final else "unclear",
                "not sending it again" if final else "asking again in an hour at the earliest",
            )
            raise
        if not isinstance(new_token.get("access_token"), str):
            raise NomosResponseError("Nomos issued a token without an access token")
        self._refresh.refusal = None
        stored = self._entry.data.get("token")
        if not isinstance(stored, dict) or stored.get("refresh_token") != sent:
            # A new sign-in was stored meanwhile: this answer belongs to the old grant.
            LOGGER.debug("Not storing the old sign-in's token over a new sign-in")
            return
        self._hass.config_entries.async_update_entry(
            self._entry, data={**self._entry.data, "token": new_token}
        )

    @property
    def scopes(self) -> frozenset[str]:
        """Return the scopes granted to the current token."""
        token = self._entry.data.get("token")
        scope = token.get("scope") if isinstance(token, dict) else None
        return frozenset(str(scope or "").split())

    async def invalidate(self, token: str) -> None:
        """Mark `token` expired after Nomos rejected it, so the next call refreshes.

        Only the token that failed is invalidated: when several callers see the
        same 401, the first refresh serves them all.
        """
        current = self._entry.data.get("token")
        if not isinstance(current, dict) or current.get("access_token") != token:
            return
        self._hass.config_entries.async_update_entry(
            self._entry, data={**self._entry.data, "token": {**current, "expires_at": 0}}
        )
