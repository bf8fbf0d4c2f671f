"""Application credentials: OAuth2 authorization code + PKCE (S256) for Nomos.

PKCE comes from Home Assistant's own `LocalOAuth2ImplementationWithPkce`
(Home Assistant builds a new implementation object for every flow, so every
sign-in gets its own verifier). What Nomos needs differently is the token
request: HTTP Basic as Nomos documents it, the exact bodies, a timeout. That is
one path, `request_token` of the Nomos client, on every Home Assistant version.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.application_credentials import ClientCredential
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import CREDENTIALS_CONTACT, DEVELOPER_DASHBOARD_URL, LOGGER, MY_REDIRECT_URI
from .nomos_client import NomosAuthError, authorize_url, request_token, token_url


class NomosOAuth2Implementation(config_entry_oauth2_flow.LocalOAuth2ImplementationWithPkce):
    """Authorization code + PKCE (S256); the client secret only as HTTP Basic."""

    def __init__(self, hass: HomeAssistant, auth_domain: str, credential: ClientCredential) -> None:
        """Create the implementation for one set of application credentials."""
        super().__init__(
            hass,
            auth_domain,
            credential.client_id,
            authorize_url(),
            token_url(),
            client_secret=credential.client_secret,
        )
        self._name = credential.name or credential.client_id

    @property
    def name(self) -> str:
        """Name shown when several credentials exist."""
        return self._name

    async def _async_refresh_token(self, token: dict[str, Any]) -> dict[str, Any]:
        """Refresh with exactly the documented body: grant_type and refresh_token.

        A token without a refresh token (an old backup, a hand-edited file) can
        only be replaced by signing in again: NomosAuthError, nothing is sent.
        """
        refresh_token = token.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise NomosAuthError("The stored sign-in has no refresh token: sign in again")
        new_token = await self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )
        return {**token, **new_token}

    async def _token_request(self, data: dict[str, Any]) -> dict[str, Any]:
        """Post a token request: Basic authentication, the body as given, a timeout.

        The code exchange arrives here as grant_type, code, redirect_uri and
        code_verifier (Home Assistant's PKCE class adds the verifier).
        """
        LOGGER.debug("Sending %s token request", data.get("grant_type"))
        return await request_token(
            async_get_clientsession(self.hass),
            self.client_id,
            self.client_secret,
            {key: str(value) for key, value in data.items()},
            url=self.token_url,
        )


async def async_get_auth_implementation(
    hass: HomeAssistant, auth_domain: str, credential: ClientCredential
) -> config_entry_oauth2_flow.AbstractOAuth2Implementation:
    """Return the Nomos OAuth2 implementation."""
    return NomosOAuth2Implementation(hass, auth_domain, credential)


async def async_get_description_placeholders(hass: HomeAssistant) -> dict[str, str]:
    """Tell the user where credentials come from and which redirect URI to register."""
    return {
        "contact": CREDENTIALS_CONTACT,
        "dashboard_url": DEVELOPER_DASHBOARD_URL,
        "redirect_uri": MY_REDIRECT_URI,
    }
