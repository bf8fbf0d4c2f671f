"""Config flow: sign in with Nomos (OAuth2 + PKCE), or use personal API credentials.

The options flow is in options_flow.py, the appliance subentry flow in appliance_flow.py,
the cost tracker subentry flow in tracker_flow.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import logging
from typing import Any

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlowResult,
    ConfigSubentryFlow,
)
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.config_entry_oauth2_flow import AbstractOAuth2FlowHandler
from homeassistant.helpers.selector import TextSelector, TextSelectorConfig, TextSelectorType
import voluptuous as vol

from .api import async_wait_for_refreshes, forget_refusal, refresh_in_flight
from .appliance_flow import ApplianceFlow
from .const import AUTH_OAUTH, AUTH_PERSONAL, CONF_AUTH_TYPE, DOMAIN, LOGGER
from .nomos_client import (
    NomosApiError,
    NomosAuthError,
    NomosClient,
    NomosClientCredentialsError,
    NomosCredentialsFormatError,
    NomosError,
    StaticTokenProvider,
    clean_client_credentials,
    request_client_credentials_token,
)
from .options_flow import NomosOptionsFlow
from .planner_config import SUBENTRY_APPLIANCE
from .tracker_flow import CostTrackerFlow
from .tracker_manager import SUBENTRY_COST_TRACKER


class AccountNotIdentified(Exception):
    """The sign-in does not lead to exactly one Nomos customer."""

    def __init__(self, reason: str) -> None:
        """Store the abort reason (`no_customer` or `several_customers`)."""
        super().__init__(reason)
        self.reason = reason


PERSONAL_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_CLIENT_ID): TextSelector(),
        vol.Required(CONF_CLIENT_SECRET): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        ),
    }
)


class OAuth2FlowHandler(AbstractOAuth2FlowHandler, domain=DOMAIN):
    """Sign in on Nomos's hosted page; the Nomos customer is the unique id."""

    DOMAIN = DOMAIN
    # 1.2: ct/kWh display prices, latest complete day (see migration.py).
    MINOR_VERSION = 2
    # Reauth and reconfigure: the new sign-in's entry data, stored once no refresh
    # of the old sign-in runs, and the task that waits for that.
    _new_sign_in: dict[str, Any] | None = None
    _old_refresh: asyncio.Task[None] | None = None

    @property
    def logger(self) -> logging.Logger:
        """Return the logger."""
        return LOGGER

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> NomosOptionsFlow:
        """Return the options flow."""
        return NomosOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Appliances to plan and energy sensors to price are added to the account."""
        return {SUBENTRY_APPLIANCE: ApplianceFlow, SUBENTRY_COST_TRACKER: CostTrackerFlow}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Offer the recommended sign-in and, for those who have them, personal credentials."""
        return self.async_show_menu(
            step_id="user", menu_options=["pick_implementation", "personal"]
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Ask the user to sign in again after Nomos revoked access."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm before sending the user to Nomos (or asking for new credentials)."""
        entry = self._get_reauth_entry()
        if entry.data.get(CONF_AUTH_TYPE) == AUTH_PERSONAL:
            return await self.async_step_personal()
        if user_input is None:
            return self.async_show_form(
                step_id="reauth_confirm", description_placeholders={"name": entry.title}
            )
        return await self.async_step_pick_implementation()

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Sign in again, for example with other credentials."""
        if self._get_reconfigure_entry().data.get(CONF_AUTH_TYPE) == AUTH_PERSONAL:
            return await self.async_step_personal()
        return await self.async_step_pick_implementation()

    async def async_step_personal(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Sign in with personal API credentials from Nomos support (client credentials)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                client_id, client_secret = clean_client_credentials(
                    user_input[CONF_CLIENT_ID], user_input[CONF_CLIENT_SECRET]
                )
                token = await request_client_credentials_token(
                    async_get_clientsession(self.hass), client_id, client_secret
                )
                customer = await self._identify(token["access_token"])
            except NomosCredentialsFormatError as err:
                errors[err.field] = f"credentials_{err.problem}"
            except NomosAuthError:
                errors["base"] = "invalid_credentials"
            except AccountNotIdentified as err:
                return self.async_abort(reason=err.reason)
            except NomosError as err:
                LOGGER.warning("Could not check the personal API credentials: %s", err)
                errors["base"] = "cannot_connect"
            else:
                return await self._finish(
                    customer,
                    {
                        CONF_AUTH_TYPE: AUTH_PERSONAL,
                        CONF_CLIENT_ID: client_id,
                        CONF_CLIENT_SECRET: client_secret,
                        "token": token,
                    },
                )
        return self.async_show_form(
            step_id="personal",
            data_schema=self.add_suggested_values_to_schema(
                PERSONAL_SCHEMA, {CONF_CLIENT_ID: (user_input or {}).get(CONF_CLIENT_ID)}
            ),
            errors=errors,
        )

    async def _identify(self, access_token: str) -> tuple[str, str]:
        """Return the id and name of the one customer the token acts for.

        This is the test before configure.

        `/customers` is not among what Nomos documents an OAuth token may read,
        so when it refuses or lists nobody, the subscriptions (which carry the
        customer) decide. Anything but exactly one customer is refused.
        """
        client = NomosClient(async_get_clientsession(self.hass), StaticTokenProvider(access_token))
        try:
            customers = await client.list_customers()
        except NomosApiError as err:
            LOGGER.debug("Nomos does not list customers for this token (%s)", err.status)
            customers = []
        if len(customers) > 1:
            raise AccountNotIdentified("several_customers")
        if customers:
            return customers[0].id, customers[0].display_name
        subscriptions = await client.list_subscriptions()
        customer_ids = {subscription.customer_id for subscription in subscriptions}
        if len(customer_ids) > 1:
            raise AccountNotIdentified("several_customers")
        if not customer_ids:
            raise AccountNotIdentified("no_customer")
        expanded = await client.get_subscription(subscriptions[0].id)
        if expanded.customer is not None:
            return expanded.customer.id, expanded.customer.display_name
        return expanded.customer_id, f"Nomos {expanded.display_number}"

    async def _finish(self, customer: tuple[str, str], data: dict[str, Any]) -> ConfigFlowResult:
        """Create the entry, or update the one being re-authenticated or reconfigured."""
        customer_id, title = customer
        await self.async_set_unique_id(customer_id)
        if self.source in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
            self._abort_if_unique_id_mismatch(reason="wrong_account")
            self._new_sign_in = data
            return await self.async_step_finish_old_refresh()
        self._abort_if_unique_id_configured()
        return self.async_create_entry(title=title, data=data)

    def _signed_in_entry(self) -> ConfigEntry:
        """Return the entry being re-authenticated or reconfigured."""
        if self.source == SOURCE_REAUTH:
            return self._get_reauth_entry()
        return self._get_reconfigure_entry()

    async def async_step_finish_old_refresh(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let a refresh of the old sign-in end before the new one is stored.

        Nomos has rotated its token already; when it ends, it stores that token.
        After the new sign-in it would replace it. Each refresh ends within
        api.REFRESH_LIMIT; meanwhile the dialog says what it waits for.
        """
        entry_id = self._signed_in_entry().entry_id
        if self._old_refresh is None:
            if not refresh_in_flight(self.hass, entry_id):
                return await self.async_step_store_sign_in()
            self._old_refresh = self.hass.async_create_task(
                async_wait_for_refreshes(self.hass, entry_id), f"{DOMAIN} finish old refresh"
            )
        if not self._old_refresh.done():
            return self.async_show_progress(
                step_id="finish_old_refresh",
                progress_action="finish_old_refresh",
                progress_task=self._old_refresh,
            )
        return self.async_show_progress_done(next_step_id="store_sign_in")

    async def async_step_store_sign_in(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Store the new sign-in and reload the entry with it."""
        entry = self._signed_in_entry()
        assert self._new_sign_in is not None
        forget_refusal(self.hass, entry.entry_id)
        # The entry's update listener is for options and appliances (a token refresh
        # must not reload); new credentials reload it from here.
        result = self.async_update_and_abort(entry, data=self._new_sign_in)
        self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return result

    async def async_step_creation(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Exchange the code; say what went wrong instead of "Unknown error"."""
        try:
            return await super().async_step_creation(user_input)
        except NomosCredentialsFormatError as err:
            return self.async_abort(reason=f"credentials_{err.problem}")
        except NomosClientCredentialsError:
            return self.async_abort(reason="oauth_unauthorized")
        except NomosAuthError:
            return self.async_abort(reason="code_rejected")
        except NomosError as err:
            LOGGER.warning("Nomos did not issue a token: %s", err)
            return self.async_abort(reason="cannot_connect")

    async def async_oauth_create_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Identify the customer with the new token, then create or update the entry."""
        try:
            customer = await self._identify(data["token"]["access_token"])
        except AccountNotIdentified as err:
            return self.async_abort(reason=err.reason)
        except NomosAuthError:
            return self.async_abort(reason="invalid_auth")
        except NomosError as err:
            LOGGER.warning("Could not read the Nomos account after sign-in: %s", err)
            return self.async_abort(reason="cannot_connect")
        return await self._finish(customer, {**data, CONF_AUTH_TYPE: AUTH_OAUTH})
