"""Config flow: sign in with Nomos (OAuth2 authorization code + PKCE)."""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigFlowResult,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.config_entry_oauth2_flow import AbstractOAuth2FlowHandler

from .const import DOMAIN, LOGGER
from .nomos_client import NomosAuthError, NomosClient, NomosError, StaticTokenProvider


class OAuth2FlowHandler(AbstractOAuth2FlowHandler, domain=DOMAIN):
    """Sign in on Nomos's hosted page; the Nomos customer is the unique id."""

    DOMAIN = DOMAIN

    @property
    def logger(self) -> logging.Logger:
        """Return the logger."""
        return LOGGER

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Ask the user to sign in again after Nomos revoked access."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm before sending the user to Nomos."""
        if user_input is None:
            return self.async_show_form(
                step_id="reauth_confirm",
                description_placeholders={"name": self._get_reauth_entry().title},
            )
        return await self.async_step_user()

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Sign in again, for example with other application credentials."""
        return await self.async_step_user()

    async def async_oauth_create_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Identify the customer with the new token, then create or update the entry."""
        client = NomosClient(
            async_get_clientsession(self.hass),
            StaticTokenProvider(data["token"]["access_token"]),
        )
        try:
            customers = await client.list_customers()
        except NomosAuthError:
            return self.async_abort(reason="invalid_auth")
        except NomosError as err:
            LOGGER.warning("Could not read the Nomos account after sign-in: %s", err)
            return self.async_abort(reason="cannot_connect")
        if not customers:
            return self.async_abort(reason="no_customer")
        customer = customers[0]

        await self.async_set_unique_id(customer.id)
        if self.source == SOURCE_REAUTH:
            self._abort_if_unique_id_mismatch(reason="wrong_account")
            return self.async_update_reload_and_abort(self._get_reauth_entry(), data=data)
        if self.source == SOURCE_RECONFIGURE:
            self._abort_if_unique_id_mismatch(reason="wrong_account")
            return self.async_update_reload_and_abort(self._get_reconfigure_entry(), data=data)
        self._abort_if_unique_id_configured()
        return self.async_create_entry(title=customer.display_name, data=data)
