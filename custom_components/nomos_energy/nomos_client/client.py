"""Async client for the Nomos API, built on an injected aiohttp session."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
import logging
from typing import Any, Protocol

import aiohttp

from .const import API_VERSION, MAX_PAGES, PAGE_LIMIT, api_base_url
from .errors import (
    NomosAuthError,
    NomosEndpointUnauthorizedError,
    NomosInvalidRequestError,
    NomosResponseError,
    error_from_response,
)
from .models import (
    Customer,
    Fields,
    GridFeeReduction,
    Invoice,
    MeterOrder,
    MeterReading,
    Plan,
    PriceSeries,
    Quote,
    Subscription,
    Usage,
    finite_number,
)
from .transport import MALFORMED, send

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0


class TokenProvider(Protocol):
    """Supplies access tokens; Home Assistant's OAuth2Session plugs in here."""

    async def access_token(self) -> str:
        """Return a valid access token, refreshing it first when needed."""

    async def invalidate(self, token: str) -> None:
        """Forget `token` after Nomos rejected it, so the next call refreshes."""


class StaticTokenProvider:
    """A token provider for a token that is known to be fresh."""

    def __init__(self, token: str) -> None:
        """Store the token."""
        self._token = token

    async def access_token(self) -> str:
        """Return the token."""
        return self._token

    async def invalidate(self, token: str) -> None:
        """Nothing to refresh: the next call fails with the same token."""


class NomosClient:
    """Typed access to the endpoints the integration uses."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        tokens: TokenProvider,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        on_success: Callable[[], None] | None = None,
    ) -> None:
        """Create a client; `base_url` defaults to `api_base_url()`.

        `on_success` is called after every request Nomos answered successfully.
        """
        self._session = session
        self._tokens = tokens
        self._base_url = (base_url or api_base_url()).rstrip("/")
        self._timeout = timeout
        self._on_success = on_success

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one request and return the decoded JSON body.

        A 401 makes the token provider refresh once and the request is sent
        again. A 401 for the same token again means it cannot be renewed
        (NomosAuthError); a 401 for a new token does not mean the grant is gone
        (Nomos answers 401 for paths it does not serve, and a refused refresh
        raises from the token provider): NomosEndpointUnauthorizedError.
        """
        url = f"{self._base_url}{path}"
        rejected: str | None = None
        for attempt in range(2):
            token = await self._tokens.access_token()
            headers = {
                "Authorization": f"Bearer {token}",
                "X-API-Version": API_VERSION,
                "Accept": "application/json",
            }
            exchange = await send(
                self._session,
                method,
                url,
                limit=self._timeout,
                what=f"{method} {path}",
                params=params,
                json_body=json_body,
                headers=headers,
            )
            status, body = exchange.status, exchange.body
            if status >= 400:
                error = error_from_response(
                    status, body if body is not MALFORMED else None, exchange.headers
                )
                if isinstance(error, NomosAuthError):
                    if attempt == 0:
                        _LOGGER.debug("Nomos rejected the access token; refreshing once")
                        await self._tokens.invalidate(token)
                        rejected = token
                        continue
                    if token != rejected:
                        raise NomosEndpointUnauthorizedError(
                            f"Nomos answered {method} {path} with HTTP {status} even for "
                            "a new access token: this endpoint is not available to this sign-in",
                            status=status,
                            code=error.code,
                            request_id=error.request_id,
                            details=error.details,
                        )
                raise error
            if body is MALFORMED:
                raise NomosResponseError(
                    f"Nomos answered {method} {path} with malformed JSON (HTTP {status})"
                )
            if self._on_success is not None:
                self._on_success()
            return body
        raise AssertionError("unreachable")  # pragma: no cover

    async def _paginate(self, path: str, params: Mapping[str, str] | None = None) -> list[Fields]:
        """Walk every cursor page of a list endpoint."""
        query = {"limit": str(PAGE_LIMIT), **(params or {})}
        items: list[Fields] = []
        seen_cursors: set[str] = set()
        for _ in range(MAX_PAGES):
            page = Fields(await self._request("GET", path, params=query))
            items.extend(page.objects("items"))
            cursor = page.opt_string("next_page")
            if not page.raw("has_more") or cursor is None:
                return items
            if cursor in seen_cursors:
                raise NomosResponseError(
                    f"Invalid response from Nomos: {path} repeated a page cursor"
                )
            seen_cursors.add(cursor)
            query = {**query, "cursor": cursor}
        raise NomosResponseError(f"Invalid response from Nomos: {path} has too many pages")

    async def list_customers(self) -> list[Customer]:
        """List the customers the token may see (a customer token: itself)."""
        return [Customer.from_fields(item) for item in await self._paginate("/customers")]

    async def get_customer(self, customer_id: str) -> Customer:
        """Retrieve one customer."""
        return Customer.from_fields(Fields(await self._request("GET", f"/customers/{customer_id}")))

    async def list_subscriptions(self, status: str | None = None) -> list[Subscription]:
        """List every subscription, walking all cursor pages."""
        params = {"filter[status][eq]": status} if status else None
        return [
            Subscription.from_fields(item)
            for item in await self._paginate("/subscriptions", params)
        ]

    async def get_subscription(self, subscription_id: str) -> Subscription:
        """Retrieve a subscription with customer, address and meter expanded."""
        return Subscription.from_fields(
            Fields(await self._request("GET", f"/subscriptions/{subscription_id}"))
        )

    async def get_plan(self, plan_id: str) -> Plan:
        """Retrieve a tariff plan (its monthly base fee)."""
        return Plan.from_fields(Fields(await self._request("GET", f"/plans/{plan_id}")))

    async def get_prices(self, subscription_id: str, start: date, end: date) -> PriceSeries:
        """Return the price series from `start` to `end` (Berlin dates, inclusive)."""
        return PriceSeries.from_fields(
            Fields(
                await self._request(
                    "GET",
                    f"/subscriptions/{subscription_id}/prices",
                    params={"start": start.isoformat(), "end": end.isoformat()},
                )
            )
        )

    async def get_usage(
        self,
        subscription_id: str,
        start: date,
        end: date,
        resolution: str = "15min",
    ) -> Usage:
        """Return metered usage from `start` (inclusive) to `end` (exclusive)."""
        return Usage.from_fields(
            Fields(
                await self._request(
                    "GET",
                    f"/subscriptions/{subscription_id}/usage",
                    params={
                        "start": start.isoformat(),
                        "end": end.isoformat(),
                        "resolution": resolution,
                    },
                )
            )
        )

    async def submit_meter_reading(
        self,
        subscription_id: str,
        value: float,
        timestamp: datetime,
        message: str | None = None,
    ) -> MeterReading:
        """Submit an analog meter reading (cumulative kWh) for a subscription.

        A value that is not a finite number raises NomosInvalidRequestError
        (a ValueError) before anything is sent.
        """
        if finite_number(value) is None:
            raise NomosInvalidRequestError(
                "The meter reading must be a finite number of kWh", field="value"
            )
        body: dict[str, Any] = {
            "subscription": subscription_id,
            "value": value,
            "timestamp": timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if message:
            body["message"] = message
        return MeterReading.from_fields(
            Fields(await self._request("POST", "/meter-readings", json_body=body))
        )

    async def list_invoices(self, subscription_id: str) -> list[Invoice]:
        """List every invoice of a subscription, walking all pages."""
        return [
            Invoice.from_fields(item)
            for item in await self._paginate(
                "/invoices", {"filter[subscription][eq]": subscription_id}
            )
        ]

    async def list_grid_fee_reductions(
        self, subscription_ids: Sequence[str] | None = None
    ) -> list[GridFeeReduction]:
        """List the §14a EnWG modules, of the given subscriptions only when named."""
        return [
            GridFeeReduction.from_fields(item)
            for item in await self._paginate("/grid-fee-reductions", _of(subscription_ids))
        ]

    async def list_meter_orders(
        self, subscription_ids: Sequence[str] | None = None
    ) -> list[MeterOrder]:
        """List the smart-meter orders, of the given subscriptions only when named."""
        return [
            MeterOrder.from_fields(item)
            for item in await self._paginate("/meter-orders", _of(subscription_ids))
        ]

    async def get_quote(
        self,
        plan_id: str,
        zip_code: str,
        usage: float,
        *,
        meter_type: str = "analog",
        module_1: bool = False,
        module_2: bool = False,
    ) -> Quote:
        """Price a plan for a month at a zip code and an annual usage (kWh, 100-50000)."""
        params = {"zip_code": zip_code, "usage": f"{usage:.0f}", "meter_type": meter_type}
        if module_1:
            params["14a_module_1"] = "true"
        if module_2:
            params["14a_module_2"] = "true"
        return Quote.from_fields(
            Fields(await self._request("GET", f"/plans/{plan_id}/quote", params=params))
        )


def _of(subscription_ids: Sequence[str] | None) -> dict[str, str] | None:
    """Return the filter for some subscriptions (one request for all of them)."""
    if not subscription_ids:
        return None
    return {"filter[subscription][in]": ",".join(subscription_ids)}
