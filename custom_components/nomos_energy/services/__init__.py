"""Actions with response data, for automations: prices, windows, energy, invoices.

A new action is a function and a schema in `prices.py` or `energy.py`, and a
line in ACTIONS.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)

from ..const import DOMAIN
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
from .prices import (
    FIND_WINDOW_SCHEMA,
    GET_PRICES_SCHEMA,
    async_find_cheapest_window,
    async_get_prices,
)

__all__ = [
    "ACTIONS",
    "FIND_WINDOW_SCHEMA",
    "GET_CONSUMPTION_SCHEMA",
    "GET_COST_REPORT_SCHEMA",
    "GET_INVOICES_SCHEMA",
    "GET_PRICES_SCHEMA",
    "IMPORT_STATISTICS_SCHEMA",
    "SUBMIT_METER_READING_SCHEMA",
    "async_setup_services",
]

# name: (handler, schema, response)
ACTIONS: dict[
    str, tuple[Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]], Any, SupportsResponse]
] = {
    "get_prices": (async_get_prices, GET_PRICES_SCHEMA, SupportsResponse.ONLY),
    "find_cheapest_window": (
        async_find_cheapest_window,
        FIND_WINDOW_SCHEMA,
        SupportsResponse.ONLY,
    ),
    "get_consumption": (async_get_consumption, GET_CONSUMPTION_SCHEMA, SupportsResponse.ONLY),
    "get_invoices": (async_get_invoices, GET_INVOICES_SCHEMA, SupportsResponse.ONLY),
    "get_cost_report": (async_get_cost_report, GET_COST_REPORT_SCHEMA, SupportsResponse.ONLY),
    "submit_meter_reading": (
        async_submit_meter_reading,
        SUBMIT_METER_READING_SCHEMA,
        SupportsResponse.OPTIONAL,
    ),
    "import_statistics": (
        async_import_statistics,
        IMPORT_STATISTICS_SCHEMA,
        SupportsResponse.OPTIONAL,
    ),
}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (once, from async_setup)."""
    for name, (handler, schema, response) in ACTIONS.items():
        hass.services.async_register(
            DOMAIN, name, handler, schema=schema, supports_response=response
        )
