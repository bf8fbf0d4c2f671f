"""Actions with response data, for automations: prices, windows, energy, invoices.

A new action is a function and a schema in `prices.py`, `energy.py`, `quotes.py` or
`planners.py`, and a line in ACTIONS (with `admin=True` when it writes to Nomos or the
statistics database).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date, datetime
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers.service import async_register_admin_service
import voluptuous as vol

from ..const import ACTION_DAYS, DOMAIN, LOGGER
from ..nomos_client.const import API_URL_ENV, DEFAULT_API_URL, api_base_url
from .common import service_error
from .energy import (
    GET_CONSUMPTION_SCHEMA,
    GET_COST_REPORT_SCHEMA,
    GET_INVOICES_SCHEMA,
    IMPORT_STATISTICS_SCHEMA,
    SUBMIT_METER_READING_SCHEMA,
    async_get_consumption,
    async_get_cost_report,
    async_get_invoices,
    async_import_statistics,
    async_submit_meter_reading,
)
from .planners import (
    PLAN_APPLIANCE_RUN_SCHEMA,
    SKIP_APPLIANCE_RUN_SCHEMA,
    async_plan_appliance_run,
    async_skip_appliance_run,
)
from .prices import (
    FIND_WINDOW_SCHEMA,
    GET_PRICES_SCHEMA,
    async_find_cheapest_window,
    async_get_prices,
)
from .quotes import COMPARE_GRID_FEE_OPTIONS_SCHEMA, async_compare_grid_fee_options

__all__ = [
    "ACTIONS",
    "COMPARE_GRID_FEE_OPTIONS_SCHEMA",
    "FIND_WINDOW_SCHEMA",
    "GET_CONSUMPTION_SCHEMA",
    "GET_COST_REPORT_SCHEMA",
    "GET_INVOICES_SCHEMA",
    "GET_PRICES_SCHEMA",
    "IMPORT_STATISTICS_SCHEMA",
    "PLAN_APPLIANCE_RUN_SCHEMA",
    "SKIP_APPLIANCE_RUN_SCHEMA",
    "SUBMIT_METER_READING_SCHEMA",
    "async_setup_services",
]


class Action(NamedTuple):
    """An action: its handler and schema, whether it responds, who may call it."""

    handler: Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]
    schema: vol.Schema
    response: SupportsResponse
    # Writes to Nomos or to the statistics database: administrators only.
    admin: bool = False


ACTIONS: dict[str, Action] = {
    "get_prices": Action(async_get_prices, GET_PRICES_SCHEMA, SupportsResponse.ONLY),
    "find_cheapest_window": Action(
        async_find_cheapest_window, FIND_WINDOW_SCHEMA, SupportsResponse.ONLY
    ),
    "get_consumption": Action(async_get_consumption, GET_CONSUMPTION_SCHEMA, SupportsResponse.ONLY),
    "get_invoices": Action(async_get_invoices, GET_INVOICES_SCHEMA, SupportsResponse.ONLY),
    "get_cost_report": Action(async_get_cost_report, GET_COST_REPORT_SCHEMA, SupportsResponse.ONLY),
    "compare_grid_fee_options": Action(
        async_compare_grid_fee_options, COMPARE_GRID_FEE_OPTIONS_SCHEMA, SupportsResponse.ONLY
    ),
    "plan_appliance_run": Action(
        async_plan_appliance_run, PLAN_APPLIANCE_RUN_SCHEMA, SupportsResponse.NONE
    ),
    "skip_appliance_run": Action(
        async_skip_appliance_run, SKIP_APPLIANCE_RUN_SCHEMA, SupportsResponse.NONE
    ),
    "submit_meter_reading": Action(
        async_submit_meter_reading,
        SUBMIT_METER_READING_SCHEMA,
        SupportsResponse.OPTIONAL,
        admin=True,
    ),
    "import_statistics": Action(
        async_import_statistics,
        IMPORT_STATISTICS_SCHEMA,
        SupportsResponse.OPTIONAL,
        admin=True,
    ),
}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (once, from async_setup)."""
    _warn_about_api_override()
    for name, action in ACTIONS.items():
        schema = _checked_schema(action.schema)
        if action.admin:
            async_register_admin_service(
                hass, DOMAIN, name, action.handler, schema, action.response
            )
        else:
            hass.services.async_register(
                DOMAIN, name, action.handler, schema=schema, supports_response=action.response
            )


def _checked_schema(schema: vol.Schema) -> vol.All:
    """Return `schema` that also refuses days and durations no action can compute with.

    Checked here for every action's fields alike, before a handler computes
    with them: a time-zone shift of 0001-01-01, the day after 9999-12-31 or a
    duration of 10^20 days overflows. (Number fields check themselves with
    `common.number`, before their vol.Range.)
    """

    def validate(data: Any) -> Any:
        try:
            validated = schema(data)
        except OverflowError as err:  # Home Assistant's durations overflow on huge numbers
            raise service_error("input_too_large") from err
        for field, value in validated.items():
            day = value.date() if isinstance(value, datetime) else value  # before any shift
            if isinstance(day, date) and not ACTION_DAYS[0] <= day <= ACTION_DAYS[1]:
                raise service_error(
                    "day_out_of_range",
                    field=str(field),
                    first=ACTION_DAYS[0].isoformat(),
                    last=ACTION_DAYS[1].isoformat(),
                )
        return validated

    return vol.All(validate)


def _warn_about_api_override() -> None:
    """Say once per run that another API than Nomos's is in use (the simulator, tests).

    Only the host: the variable may hold a user name or password.
    """
    if (base := api_base_url()) != DEFAULT_API_URL:
        LOGGER.warning(
            "%s is set: Nomos Energy talks to %s instead of Nomos's API "
            "(meant for the simulator and tests only)",
            API_URL_ENV,
            urlsplit(base).hostname,
        )
