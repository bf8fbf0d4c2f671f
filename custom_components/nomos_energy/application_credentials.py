"""Application credentials: OAuth2 authorization code + PKCE (S256) for Nomos.

The client secret travels only as HTTP Basic on the token endpoint, and every
authorize URL gets its own PKCE verifier (Home Assistant's stock PKCE class
keeps one verifier per implementation object).
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import aiohttp
from homeassistant.components.application_credentials import ClientCredential
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from yarl import URL

from .const import CREDENTIALS_CONTACT, DEVELOPER_DASHBOARD_URL, LOGGER, MY_REDIRECT_URI
from .nomos_client import authorize_url, token_url

# Home Assistant >= 2026.11 sends HTTP Basic itself when asked to.
_NATIVE_BASIC_AUTH = hasattr(
    config_entry_oauth2_flow.LocalOAuth2Implementation, "token_auth_method"
)
_VERIFIER_LENGTH = 128
# A token request that hangs must not hang the update that needs it.
TOKEN_REQUEST_TIMEOUT = 30.0


class NomosOAuth2Implementation(config_entry_oauth2_flow.LocalOAuth2Implementation):
    """Authorization code + PKCE (S256); client secret via HTTP Basic."""

    token_auth_method = "client_secret_basic"  # noqa: S105 - read by Home Assistant >= 2026.11

    def __init__(self, hass: HomeAssistant, auth_domain: str, credential: ClientCredential) -> None:
        """Create the implementation for one set of application credentials."""
        super().__init__(
            hass,
            auth_domain,
            credential.client_id,
            credential.client_secret,
            authorize_url(),
            token_url(),
        )
        self._verifiers: dict[str, str] = {}
        self._name = credential.name or credential.client_id

    @property
    def name(self) -> str:
        """Name shown when several credentials exist."""
        return self._name

    async def async_generate_authorize_url(self, flow_id: str) -> str:
        """Return the authorize URL with a verifier made for this flow alone."""
        verifier = (
            config_entry_oauth2_flow.LocalOAuth2ImplementationWithPkce.generate_code_verifier(
                _VERIFIER_LENGTH
            )
        )
        self._verifiers[flow_id] = verifier
        url = await super().async_generate_authorize_url(flow_id)
        challenge = (
            config_entry_oauth2_flow.LocalOAuth2ImplementationWithPkce.compute_code_challenge(
                verifier
            )
        )
        return str(URL(url).update_query(code_challenge=challenge, code_challenge_method="S256"))

    async def async_resolve_external_data(self, external_data: Any) -> dict[str, Any]:
        """Exchange the code, proving possession of this flow's verifier."""
        flow_id = external_data["state"]["flow_id"]
        verifier = self._verifiers.pop(flow_id, None)
        request: dict[str, Any] = {
            "grant_type": "authorization_code",
            "code": external_data["code"],
            "redirect_uri": external_data["state"]["redirect_uri"],
        }
        if verifier is not None:
            request["code_verifier"] = verifier
        return await self._token_request(request)

    async def _token_request(self, data: dict[str, Any]) -> dict[str, Any]:
        """Post a token request with HTTP Basic client authentication."""
        if _NATIVE_BASIC_AUTH:  # pragma: no cover - Home Assistant >= 2026.11
            return cast(dict[str, Any], await super()._token_request(data))
        # Nomos documents client_id in the body only for public clients.
        body = {key: value for key, value in data.items() if key != "client_secret"}
        session = async_get_clientsession(self.hass)
        LOGGER.debug("Sending %s token request", body.get("grant_type"))
        async with asyncio.timeout(TOKEN_REQUEST_TIMEOUT):
            response = await session.post(
                self.token_url,
                data=body,
                auth=aiohttp.BasicAuth(self.client_id, self.client_secret),
            )
            if response.status >= 400:
                LOGGER.debug("Token request failed with HTTP %s", response.status)
            response.raise_for_status()
            return cast(dict[str, Any], await response.json())


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
