"""Config flow: sign in with Nomos (OAuth2 + PKCE), or use personal API credentials."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
import logging
from typing import Any

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET, CONF_NAME
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.config_entry_oauth2_flow import AbstractOAuth2FlowHandler
from homeassistant.helpers.selector import (
    BooleanSelector,
    DurationSelector,
    DurationSelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
    TimeSelector,
)
import voluptuous as vol

from .api import async_wait_for_refreshes, forget_refusal, refresh_in_flight
from .const import (
    AUTH_OAUTH,
    AUTH_PERSONAL,
    CONF_AUTH_TYPE,
    CONF_COMPARISON_BASE_FEE,
    CONF_COMPARISON_PRICE,
    CONF_CREATE_CT_SENSORS,
    CONF_LEVEL_THRESHOLDS,
    CONF_MONTHLY_FIXED_CHARGES,
    CONF_PERIOD_MARGIN,
    CONF_PERIOD_MIN_MINUTES,
    DEFAULT_LEVEL_THRESHOLDS,
    DEFAULT_PERIOD_MARGIN,
    DEFAULT_PERIOD_MIN_MINUTES,
    DOMAIN,
    LEVEL_THRESHOLD_KEYS,
    LOGGER,
)
from .coordinator import NomosRuntimeData
from .entity import shifts_load
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
from .planners import (
    CONF_DEADLINE,
    CONF_DURATION_MINUTES,
    CONF_MAY_PAUSE,
    CONF_POWER_KW,
    CONF_SUBSCRIPTION_ID,
    CONF_WITHIN_MINUTES,
    SUBENTRY_APPLIANCE,
)


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
        """Appliances to plan are added to the account ("Add appliance")."""
        return {SUBENTRY_APPLIANCE: ApplianceFlow}

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


class NomosOptionsFlow(OptionsFlow):
    """Level thresholds, the ct/kWh sensor and fixed charges; applied by a reload (cache stays)."""

    async def _plan_base_fee(self) -> float:
        """Suggest the base fee of the plan until the user enters the fixed charges.

        One request, only while the form opens; grid and metering fees are not in
        the plan's price, so the help text asks to add them from the invoice.
        """
        entry = self.config_entry
        if entry.state is not ConfigEntryState.LOADED:
            return 0.0
        runtime: NomosRuntimeData = entry.runtime_data
        consumption = [
            subscription
            for subscription in runtime.subscriptions.data.subscriptions.values()
            if shifts_load(subscription)
        ]
        if not consumption:
            return 0.0
        try:
            plan = await runtime.client.get_plan(consumption[0].plan_id)
        except NomosError as err:
            LOGGER.debug("The plan's base fee is not available: %s", err)
            return 0.0
        return plan.price or 0.0

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and check the options."""
        errors: dict[str, str] = {}
        if user_input is not None:
            thresholds = [float(user_input[key]) for key in LEVEL_THRESHOLD_KEYS]
            if thresholds != sorted(set(thresholds)):
                errors["base"] = "thresholds_order"
            else:
                return self.async_create_entry(
                    data={
                        CONF_CREATE_CT_SENSORS: user_input[CONF_CREATE_CT_SENSORS],
                        CONF_LEVEL_THRESHOLDS: thresholds,
                        CONF_MONTHLY_FIXED_CHARGES: float(
                            user_input.get(CONF_MONTHLY_FIXED_CHARGES) or 0
                        ),
                        CONF_PERIOD_MARGIN: float(user_input[CONF_PERIOD_MARGIN]),
                        CONF_COMPARISON_PRICE: float(user_input.get(CONF_COMPARISON_PRICE) or 0),
                        CONF_COMPARISON_BASE_FEE: float(
                            user_input.get(CONF_COMPARISON_BASE_FEE) or 0
                        ),
                        CONF_PERIOD_MIN_MINUTES: int(user_input[CONF_PERIOD_MIN_MINUTES]),
                    }
                )
        options = self.config_entry.options
        current = options.get(CONF_LEVEL_THRESHOLDS, DEFAULT_LEVEL_THRESHOLDS)
        percent = NumberSelector(
            NumberSelectorConfig(
                min=1, max=99, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement="%"
            )
        )
        fields: dict[vol.Marker, Any] = {
            vol.Required(CONF_CREATE_CT_SENSORS): BooleanSelector(),
            **{vol.Required(key): percent for key in LEVEL_THRESHOLD_KEYS},
            vol.Optional(CONF_MONTHLY_FIXED_CHARGES): NumberSelector(
                NumberSelectorConfig(
                    min=0,
                    max=500,
                    step=0.01,
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement="EUR",
                )
            ),
        }
        # Defaults: a form sent without them (an older frontend, a script) keeps the options.
        margin = options.get(CONF_PERIOD_MARGIN, DEFAULT_PERIOD_MARGIN)
        min_minutes = options.get(CONF_PERIOD_MIN_MINUTES, DEFAULT_PERIOD_MIN_MINUTES)
        fields[vol.Required(CONF_PERIOD_MARGIN, default=margin)] = NumberSelector(
            NumberSelectorConfig(
                min=1, max=50, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement="%"
            )
        )
        fields[vol.Required(CONF_PERIOD_MIN_MINUTES, default=min_minutes)] = NumberSelector(
            NumberSelectorConfig(
                min=15, max=480, step=15, mode=NumberSelectorMode.BOX, unit_of_measurement="min"
            )
        )
        for key, unit in ((CONF_COMPARISON_PRICE, "ct/kWh"), (CONF_COMPARISON_BASE_FEE, "EUR")):
            fields[vol.Optional(key)] = NumberSelector(
                NumberSelectorConfig(
                    min=0, max=500, step=0.01, mode=NumberSelectorMode.BOX, unit_of_measurement=unit
                )
            )
        schema = vol.Schema(fields)
        fixed_charges = options.get(CONF_MONTHLY_FIXED_CHARGES)
        if fixed_charges is None:
            fixed_charges = await self._plan_base_fee()
        suggested = {
            CONF_CREATE_CT_SENSORS: options.get(CONF_CREATE_CT_SENSORS, True),
            CONF_MONTHLY_FIXED_CHARGES: fixed_charges,
            CONF_PERIOD_MARGIN: margin,
            CONF_COMPARISON_PRICE: options.get(CONF_COMPARISON_PRICE, 0),
            CONF_COMPARISON_BASE_FEE: options.get(CONF_COMPARISON_BASE_FEE, 0),
            CONF_PERIOD_MIN_MINUTES: min_minutes,
            **dict(zip(LEVEL_THRESHOLD_KEYS, current, strict=True)),
        }
        if user_input is not None:
            suggested = user_input
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )


DEADLINE_DAILY = "daily"
DEADLINE_WITHIN = "within"
MAX_RUN = timedelta(hours=12)


class ApplianceFlow(ConfigSubentryFlow):
    """Add or change an appliance planner: what runs, how long, done by when."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Ask for the appliance."""
        return await self._form("user", user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change an appliance."""
        return await self._form("reconfigure", user_input)

    async def _form(self, step_id: str, user_input: dict[str, Any] | None) -> SubentryFlowResult:
        entry = self._get_entry()
        if entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        runtime: NomosRuntimeData = entry.runtime_data
        choices = {
            subscription.id: f"Nomos {subscription.display_number}"
            for subscription in runtime.subscriptions.data.subscriptions.values()
            if shifts_load(subscription)
        }
        if not choices:
            return self.async_abort(reason="no_active_subscription")
        errors: dict[str, str] = {}
        if user_input is not None:
            data, error = _appliance_data(user_input, choices)
            if error is None:
                title = str(user_input[CONF_NAME]).strip()
                if step_id == "reconfigure":
                    return self.async_update_and_abort(
                        entry, self._get_reconfigure_subentry(), title=title, data=data
                    )
                return self.async_create_entry(title=title, data=data)
            errors["base"] = error
        suggested: dict[str, Any] = dict(user_input or {})
        if user_input is None and step_id == "reconfigure":
            subentry = self._get_reconfigure_subentry()
            suggested = _form_values(subentry.title, dict(subentry.data))
        fields: dict[vol.Marker, Any] = {vol.Required(CONF_NAME): TextSelector()}
        if len(choices) > 1:
            fields[vol.Required(CONF_SUBSCRIPTION_ID)] = SelectSelector(
                SelectSelectorConfig(
                    options=[SelectOptionDict(value=k, label=v) for k, v in choices.items()]
                )
            )
        fields.update(
            {
                vol.Required("duration", default={"hours": 2, "minutes": 0}): DurationSelector(
                    DurationSelectorConfig(enable_day=False)
                ),
                vol.Required("deadline_mode", default=DEADLINE_DAILY): SelectSelector(
                    SelectSelectorConfig(
                        options=[DEADLINE_DAILY, DEADLINE_WITHIN],
                        translation_key="deadline_mode",
                    )
                ),
                vol.Optional(CONF_DEADLINE, default="07:00:00"): TimeSelector(),
                vol.Optional("within_hours", default=12): NumberSelector(
                    NumberSelectorConfig(min=1, max=48, step=1, mode=NumberSelectorMode.BOX)
                ),
                vol.Required(CONF_MAY_PAUSE, default=False): BooleanSelector(),
                vol.Optional(CONF_POWER_KW): NumberSelector(
                    NumberSelectorConfig(
                        min=0.05,
                        max=50,
                        step=0.05,
                        mode=NumberSelectorMode.BOX,
                        unit_of_measurement="kW",
                    )
                ),
            }
        )
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(vol.Schema(fields), suggested),
            errors=errors,
        )


def _appliance_data(
    user_input: dict[str, Any], choices: dict[str, str]
) -> tuple[dict[str, Any], str | None]:
    """Return the subentry data from the form, or a translation key of what is wrong."""
    duration = timedelta(**{k: float(v) for k, v in user_input["duration"].items()})
    if not str(user_input.get(CONF_NAME, "")).strip():
        return {}, "name_missing"
    if not timedelta(minutes=15) <= duration <= MAX_RUN:
        return {}, "duration_range"
    daily = user_input["deadline_mode"] == DEADLINE_DAILY
    within = timedelta(hours=float(user_input.get("within_hours") or 0))
    if not daily and within < duration:
        return {}, "within_too_short"
    subscription_id = user_input.get(CONF_SUBSCRIPTION_ID) or next(iter(choices))
    data = {
        CONF_SUBSCRIPTION_ID: subscription_id,
        CONF_DURATION_MINUTES: int(duration.total_seconds() // 60),
        CONF_DEADLINE: user_input.get(CONF_DEADLINE, "07:00:00") if daily else None,
        CONF_WITHIN_MINUTES: None if daily else int(within.total_seconds() // 60),
        CONF_MAY_PAUSE: bool(user_input.get(CONF_MAY_PAUSE)),
        CONF_POWER_KW: user_input.get(CONF_POWER_KW),
    }
    return data, None


def _form_values(title: str, data: dict[str, Any]) -> dict[str, Any]:
    """Return the form's values for a stored appliance (reconfigure)."""
    minutes = int(data[CONF_DURATION_MINUTES])
    values: dict[str, Any] = {
        CONF_NAME: title,
        CONF_SUBSCRIPTION_ID: data[CONF_SUBSCRIPTION_ID],
        "duration": {"hours": minutes // 60, "minutes": minutes % 60},
        "deadline_mode": DEADLINE_DAILY if data.get(CONF_DEADLINE) else DEADLINE_WITHIN,
        CONF_MAY_PAUSE: data.get(CONF_MAY_PAUSE, False),
    }
    if data.get(CONF_DEADLINE):
        values[CONF_DEADLINE] = data[CONF_DEADLINE]
    if data.get(CONF_WITHIN_MINUTES):
        values["within_hours"] = int(data[CONF_WITHIN_MINUTES]) // 60
    if data.get(CONF_POWER_KW):
        values[CONF_POWER_KW] = data[CONF_POWER_KW]
    return values
