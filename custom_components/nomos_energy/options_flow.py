"""Options flow: the price unit, price levels, periods, fixed charges and a comparison."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult, OptionsFlow
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import voluptuous as vol

from .const import (
    CONF_COMPARISON_BASE_FEE,
    CONF_COMPARISON_PRICE,
    CONF_IMPORT_LIMIT_KW,
    CONF_LEVEL_THRESHOLDS,
    CONF_MONTHLY_FIXED_CHARGES,
    CONF_PERIOD_MARGIN,
    CONF_PERIOD_MIN_MINUTES,
    CONF_PRICE_UNIT,
    DEFAULT_LEVEL_THRESHOLDS,
    DEFAULT_PERIOD_MARGIN,
    DEFAULT_PERIOD_MIN_MINUTES,
    LEVEL_THRESHOLD_KEYS,
    LOGGER,
    PRICE_UNIT_CT,
    PRICE_UNIT_EUR,
)
from .coordinator import NomosRuntimeData
from .entity import shifts_load
from .nomos_client import NomosError


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
                        CONF_PRICE_UNIT: user_input.get(CONF_PRICE_UNIT, PRICE_UNIT_CT),
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
                        CONF_IMPORT_LIMIT_KW: float(user_input[CONF_IMPORT_LIMIT_KW])
                        if user_input.get(CONF_IMPORT_LIMIT_KW)
                        else None,
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
            vol.Required(CONF_PRICE_UNIT): SelectSelector(
                SelectSelectorConfig(
                    options=[PRICE_UNIT_CT, PRICE_UNIT_EUR],
                    translation_key=CONF_PRICE_UNIT,
                    mode=SelectSelectorMode.LIST,
                )
            ),
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
        fields[vol.Optional(CONF_IMPORT_LIMIT_KW)] = NumberSelector(
            NumberSelectorConfig(
                min=1, max=100, step=0.1, mode=NumberSelectorMode.BOX, unit_of_measurement="kW"
            )
        )
        schema = vol.Schema(fields)
        fixed_charges = options.get(CONF_MONTHLY_FIXED_CHARGES)
        if fixed_charges is None:
            fixed_charges = await self._plan_base_fee()
        suggested = {
            CONF_PRICE_UNIT: options.get(CONF_PRICE_UNIT, PRICE_UNIT_CT),
            CONF_MONTHLY_FIXED_CHARGES: fixed_charges,
            CONF_PERIOD_MARGIN: margin,
            CONF_COMPARISON_PRICE: options.get(CONF_COMPARISON_PRICE, 0),
            CONF_COMPARISON_BASE_FEE: options.get(CONF_COMPARISON_BASE_FEE, 0),
            CONF_PERIOD_MIN_MINUTES: min_minutes,
            CONF_IMPORT_LIMIT_KW: options.get(CONF_IMPORT_LIMIT_KW),
            **dict(zip(LEVEL_THRESHOLD_KEYS, current, strict=True)),
        }
        if user_input is not None:
            suggested = user_input
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )
