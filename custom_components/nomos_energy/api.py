"""Bridge Home Assistant's OAuth2Session to the Nomos client's token provider."""

from __future__ import annotations

from aiohttp import ClientError, ClientResponseError
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.config_entry_oauth2_flow import OAuth2Session

from .nomos_client import (
    NomosAuthError,
    NomosConnectionError,
    NomosRateLimitError,
    NomosServerError,
    NomosTimeoutError,
)


class OAuthTokenProvider:
    """Supply access tokens from the entry's one OAuth2Session.

    The session's lock makes concurrent callers at expiry share one refresh,
    and the session stores each rotated refresh token in the entry at once.
    Refresh failures become client errors: a 4xx other than 429 means access
    was revoked; everything else is transient and never starts reauth.
    """

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, session: OAuth2Session) -> None:
        """Wrap the session."""
        self._hass = hass
        self._entry = entry
        self.session = session

    async def access_token(self) -> str:
        """Return a valid access token, refreshing only when it is about to expire."""
        try:
            await self.session.async_ensure_token_valid()
        except ClientResponseError as err:
            if err.status == 429:
                raise NomosRateLimitError(
                    "Nomos rate-limited the token refresh", retry_after=None, status=429
                ) from None
            if 400 <= err.status < 500:
                raise NomosAuthError(
                    f"Nomos rejected the refresh token (HTTP {err.status})", status=err.status
                ) from None
            raise NomosServerError(
                f"Nomos could not refresh the token (HTTP {err.status})", status=err.status
            ) from None
        except TimeoutError:
            raise NomosTimeoutError("Nomos did not answer the token refresh in time") from None
        except ClientError as err:
            raise NomosConnectionError(
                f"Could not reach Nomos to refresh the token: {type(err).__name__}"
            ) from None
        return str(self.session.token["access_token"])

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
