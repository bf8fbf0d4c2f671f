"""The Nomos client (no Home Assistant) against the simulator and raw error bodies."""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator
from datetime import UTC, date, datetime, timedelta

import aiohttp
from hypothesis import given, strategies as st
import pytest

from custom_components.nomos_energy.nomos_client import (
    API_URL_ENV,
    API_VERSION,
    DEFAULT_API_URL,
    NomosApiError,
    NomosAuthError,
    NomosClient,
    NomosConnectionError,
    NomosCredentialsFormatError,
    NomosForbiddenError,
    NomosNotFoundError,
    NomosRateLimitError,
    NomosResponseError,
    NomosServerError,
    NomosTimeoutError,
    StaticTokenProvider,
    api_base_url,
    authorize_url,
    basic_authorization,
    clean_client_credentials,
    request_token,
    token_url,
)
from custom_components.nomos_energy.nomos_client.errors import (
    error_from_response,
    retry_after_seconds,
)
from custom_components.nomos_energy.nomos_client.models import Fields, PriceSeries, Subscription
from nomos_simulator import NomosSimulator

from .conftest import ANNA, BEN, DAVID, EMMA


class RotatingTokens:
    """A token provider that counts invalidations and hands out a new token."""

    def __init__(self, simulator: NomosSimulator, customer_id: str, first: str) -> None:
        self.simulator = simulator
        self.customer_id = customer_id
        self.token = first
        self.invalidated: list[str] = []

    async def access_token(self) -> str:
        return self.token

    async def invalidate(self, token: str) -> None:
        self.invalidated.append(token)
        self.token = self.simulator.issue_tokens(self.customer_id)["access_token"]


@pytest.fixture
async def session(simulator: NomosSimulator) -> AsyncGenerator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


def client_for(
    simulator: NomosSimulator, session: aiohttp.ClientSession, email: str, timeout: float = 10
) -> NomosClient:
    customer = simulator.customer_by_email(email)
    assert customer is not None
    token = simulator.issue_tokens(customer.id)["access_token"]
    return NomosClient(session, StaticTokenProvider(token), timeout=timeout)


def test_base_url_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """NOMOS_ENERGY_API_URL moves the authorize URL, token URL and API calls together."""
    monkeypatch.delenv("NOMOS_ENERGY_API_URL", raising=False)
    assert api_base_url() == DEFAULT_API_URL == "https://api.nomos.energy"
    monkeypatch.setenv("NOMOS_ENERGY_API_URL", "http://127.0.0.1:8765/")
    assert api_base_url() == "http://127.0.0.1:8765"
    assert authorize_url() == "http://127.0.0.1:8765/oauth/authorize"
    assert token_url() == "http://127.0.0.1:8765/oauth/token"


async def test_subscriptions_customer_and_details(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """Lists walk every page; retrieve expands customer, address and meter."""
    client = client_for(simulator, session, BEN)
    subscriptions = await client.list_subscriptions()
    assert {sub.number for sub in subscriptions} == {"B3NFL4T7", "B3N0LD22"}
    assert all(sub.meter is None for sub in subscriptions)
    active = await client.list_subscriptions(status="active")
    assert [sub.number for sub in active] == ["B3NFL4T7"]
    details = await client.get_subscription(active[0].id)
    assert details.customer is not None
    assert details.customer.display_name == "Ben Keller"
    assert details.meter is not None
    assert details.meter.type == "smart"
    assert details.address is not None
    assert details.address.street == "Kastanienallee"
    customers = await client.list_customers()
    assert [customer.email for customer in customers] == ["ben@example.com"]
    assert (await client.get_customer(customers[0].id)) == customers[0]


async def test_pagination_walks_all_pages(
    simulator: NomosSimulator, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Invoices arrive over several cursor pages and come back complete and in order."""
    monkeypatch.setattr("custom_components.nomos_energy.nomos_client.client.PAGE_LIMIT", 3)
    client = client_for(simulator, session, ANNA)
    subscription = (await client.list_subscriptions())[0]
    invoices = await client.list_invoices(subscription.id)
    assert len(invoices) > 6
    assert simulator.count("GET /invoices") == -(-len(invoices) // 3)
    assert len({invoice.id for invoice in invoices}) == len(invoices)
    assert invoices == sorted(invoices, key=lambda invoice: invoice.period_start, reverse=True)


async def test_prices_and_usage(simulator: NomosSimulator, session: aiohttp.ClientSession) -> None:
    """Prices come as 15-minute UTC intervals; usage in kWh with final flags."""
    simulator.clock.set(datetime(2026, 3, 29, 10, tzinfo=UTC))  # 12:00 in Berlin
    client = client_for(simulator, session, ANNA)
    subscription = (await client.list_subscriptions())[0]
    prices = await client.get_prices(subscription.id, date(2026, 3, 29), date(2026, 3, 30))
    assert prices.interval == timedelta(minutes=15)
    assert prices.items is not None
    assert len(prices.items) == 92  # the spring DST day; the 30th is published at 14:20
    assert prices.items[0].start == datetime(2026, 3, 28, 23, tzinfo=UTC)
    for item in prices.items:
        assert item.amount is not None
        parts = [value for value in item.components.values() if value is not None]
        assert round(sum(parts), 2) == item.amount
    usage = await client.get_usage(subscription.id, date(2026, 3, 26), date(2026, 3, 29))
    assert usage.meter_type == "smart"
    assert len(usage.items) == 2 * 96  # the 28th is published on the 29th at 16:00
    assert not any(item.final for item in usage.items)  # still preliminary


async def test_analog_meter_usage_is_monthly(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """Analog meters only have monthly values."""
    client = client_for(simulator, session, DAVID)
    subscription = (await client.list_subscriptions())[0]
    usage = await client.get_usage(subscription.id, date(2025, 4, 1), date(2025, 7, 1), "day")
    assert usage.meter_type == "analog"
    assert usage.resolution == "month"
    assert len(usage.items) == 3


async def test_rejected_token_is_refreshed_once(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """A 401 makes the provider refresh; the call then succeeds."""
    emma = simulator.customer_by_email(EMMA)
    tokens = RotatingTokens(simulator, emma.id, "at_not_valid")
    client = NomosClient(session, tokens)
    assert await client.list_subscriptions() == []
    assert tokens.invalidated == ["at_not_valid"]


async def test_second_401_is_an_auth_error(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """When even a fresh token is rejected, access was revoked."""
    client = NomosClient(session, StaticTokenProvider("at_revoked"))
    with pytest.raises(NomosAuthError) as err:
        await client.list_subscriptions()
    assert err.value.status == 401
    assert err.value.code == "UNAUTHORIZED"
    assert err.value.request_id
    assert "at_revoked" not in str(err.value)
    assert err.value.request_id in str(err.value)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, NomosApiError),
        (403, NomosForbiddenError),
        (404, NomosNotFoundError),
        (422, NomosApiError),
        (500, NomosServerError),
        (502, NomosServerError),
        (503, NomosServerError),
        (504, NomosServerError),
    ],
)
async def test_http_errors_map_to_distinct_exceptions(
    simulator: NomosSimulator,
    session: aiohttp.ClientSession,
    status: int,
    error_class: type[Exception],
) -> None:
    """Each class of failure raises its own exception."""
    simulator.inject("GET /subscriptions", status=status)
    with pytest.raises(error_class) as err:
        await client_for(simulator, session, ANNA).list_subscriptions()
    assert type(err.value) is error_class
    assert f"HTTP {status}" in str(err.value)


async def test_rate_limit_carries_retry_after(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """429 carries how long Nomos wants us to wait."""
    simulator.inject("GET /subscriptions", status=429, retry_after=42)
    with pytest.raises(NomosRateLimitError) as err:
        await client_for(simulator, session, ANNA).list_subscriptions()
    assert err.value.retry_after == 42


async def test_simulator_rate_limit_is_enforced(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """More than ten requests a second get 429 with ratelimit headers."""
    simulator.rate_limit = 10
    client = client_for(simulator, session, EMMA)
    for _ in range(10):
        await client.list_customers()
    with pytest.raises(NomosRateLimitError) as err:
        await client.list_customers()
    assert err.value.retry_after is not None
    assert err.value.retry_after >= 1


async def test_malformed_json(simulator: NomosSimulator, session: aiohttp.ClientSession) -> None:
    """A body that is not JSON is a response error, not a crash."""
    simulator.inject("GET /subscriptions", malformed=True)
    with pytest.raises(NomosResponseError, match="malformed JSON"):
        await client_for(simulator, session, ANNA).list_subscriptions()


async def test_malformed_error_body(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """An error status with a broken body still maps by status."""
    simulator.inject("GET /subscriptions", status=502, body="<html>Bad gateway</html>")
    with pytest.raises(NomosServerError):
        await client_for(simulator, session, ANNA).list_subscriptions()


async def test_dropped_connection(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """A connection that breaks mid-response is a connection error."""
    simulator.inject("GET /subscriptions", drop=True)
    with pytest.raises(NomosConnectionError):
        await client_for(simulator, session, ANNA).list_subscriptions()


async def test_timeout(simulator: NomosSimulator, session: aiohttp.ClientSession) -> None:
    """A slow answer raises a timeout error."""
    simulator.inject("GET /subscriptions", delay=0.5)
    with pytest.raises(NomosTimeoutError):
        await client_for(simulator, session, ANNA, timeout=0.05).list_subscriptions()


async def test_connection_refused(
    session: aiohttp.ClientSession, simulator: NomosSimulator
) -> None:
    """Nobody listening is a connection error."""
    client = NomosClient(session, StaticTokenProvider("x"), base_url="http://127.0.0.1:9")
    with pytest.raises(NomosConnectionError) as err:
        await client.list_subscriptions()
    assert not isinstance(err.value, NomosTimeoutError)


async def test_missing_field_is_named(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """A response without a required field names the field."""
    simulator.inject(
        "GET /subscriptions",
        body={"object": "list", "items": [{"id": "sub_1", "plan": "pln_1"}], "has_more": False},
    )
    with pytest.raises(NomosResponseError, match=r"'items\[0\]\.status' is missing"):
        await client_for(simulator, session, ANNA).list_subscriptions()


async def test_repeated_cursor_is_rejected(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """A server that keeps returning the same cursor cannot trap the client."""
    simulator.inject(
        "GET /customers",
        body={"object": "list", "items": [], "has_more": True, "next_page": "same"},
    )
    with pytest.raises(NomosResponseError, match="repeated a page cursor"):
        await client_for(simulator, session, ANNA).list_customers()


async def test_api_version_header_is_sent(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """Every API call pins the curie version."""
    client = client_for(simulator, session, ANNA)
    await client.list_customers()
    await client.list_subscriptions()
    assert simulator.api_versions == {API_VERSION: 2}


# Error envelopes ---------------------------------------------------------------


FLAT = {
    "code": "BAD_REQUEST",
    "message": "invalid_type in 'end': Required",
    "requestId": "37a04f8f-e791-491c-81e1-86cd304649bb",
    "docs": "https://docs.nomos.energy/api-references/errors/BAD_REQUEST",
    "errors": [{"code": "invalid_type", "field": "end", "message": "Required"}],
}


@pytest.mark.parametrize(
    ("body", "status", "error_class", "code", "request_id"),
    [
        (FLAT, 400, NomosApiError, "BAD_REQUEST", FLAT["requestId"]),
        (
            {"error": {**FLAT, "code": "UNAUTHORIZED"}},
            401,
            NomosAuthError,
            "UNAUTHORIZED",
            FLAT["requestId"],
        ),
        (
            {
                "object": "error",
                "type": "unauthenticated",
                "message": "The access token is expired.",
            },
            401,
            NomosAuthError,
            "UNAUTHORIZED",
            None,
        ),
        (
            {"object": "error", "type": "permissionDenied", "message": "No"},
            403,
            NomosForbiddenError,
            "FORBIDDEN",
            None,
        ),
        (
            {"object": "error", "type": "somethingNew", "message": "?"},
            409,
            NomosApiError,
            "somethingNew",
            None,
        ),
        (None, 503, NomosServerError, None, None),
        ([1, 2], 404, NomosNotFoundError, None, None),
    ],
)
def test_error_envelopes(
    body: object, status: int, error_class: type, code: str | None, request_id: str | None
) -> None:
    """Flat, error-wrapped and legacy envelopes all parse."""
    error = error_from_response(status, body, {})
    assert type(error) is error_class
    assert error.code == code
    assert error.request_id == request_id
    assert error.status == status


def test_error_details_are_parsed() -> None:
    """curie's errors[] array is kept, malformed entries are skipped."""
    body = {
        **FLAT,
        "errors": [
            {"code": "upgrade_api_version", "field": "", "message": "Upgrade"},
            {"code": 5},
            "junk",
        ],
    }
    error = error_from_response(400, body, {})
    assert error.detail_codes == frozenset({"upgrade_api_version"})
    assert error.details[0].message == "Upgrade"


def test_retry_after_forms() -> None:
    """Seconds, HTTP dates and ratelimit-reset are all understood."""
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    assert retry_after_seconds({"Retry-After": "30"}) == 30
    assert retry_after_seconds({"ratelimit-reset": "7"}) == 7
    assert retry_after_seconds({"Retry-After": "Sun, 29 Nov 2026 12:01:00 GMT"}, now) == 60
    assert retry_after_seconds({"Retry-After": "Sun, 29 Nov 2026 11:00:00 GMT"}, now) == 0
    assert retry_after_seconds({"Retry-After": "soon", "ratelimit-reset": "3"}) == 3
    assert retry_after_seconds({"Retry-After": "nan"}) is None
    assert retry_after_seconds({}) is None


# Models --------------------------------------------------------------------------


def price_body(items: object, resolution: str = "15min") -> dict[str, object]:
    return {
        "object": "price",
        "subscription": "sub_1",
        "period": {"start": "2026-11-29", "end": "2026-11-29"},
        "unit": "ct/kWh",
        "currency": "EUR",
        "resolution": resolution,
        "items": items,
    }


def test_price_series_null_zero_negative() -> None:
    """Null means unknown, zero and negative prices are real prices."""
    series = PriceSeries.from_fields(
        Fields(
            price_body(
                [
                    {"timestamp": "2026-11-29T00:15:00Z", "amount": 0, "components": []},
                    {
                        "timestamp": "2026-11-29T00:00:00Z",
                        "amount": None,
                        "components": [{"type": "grid", "amount": None}],
                    },
                    {"timestamp": "2026-11-29T00:30:00.000Z", "amount": -1.5, "components": []},
                ]
            )
        )
    )
    assert series.items is not None
    assert [item.amount for item in series.items] == [None, 0.0, -1.5]
    assert series.items[0].components == {"grid": None}


def test_price_series_hourly_and_inactive() -> None:
    """Hourly data is recognised from the spacing; inactive subscriptions have no items."""
    hourly = PriceSeries.from_fields(
        Fields(
            price_body(
                [
                    {"timestamp": "2026-11-29T00:00:00Z", "amount": 20, "components": []},
                    {"timestamp": "2026-11-29T01:00:00Z", "amount": 21, "components": []},
                ],
                "60min",
            )
        )
    )
    assert hourly.interval == timedelta(hours=1)
    assert PriceSeries.from_fields(Fields(price_body(None))).items is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (price_body([], "5min"), "field 'resolution' must be one of"),
        (
            price_body([{"timestamp": "yesterday", "amount": 1, "components": []}]),
            r"'items\[0\]\.timestamp' must be an ISO-8601",
        ),
        (
            price_body([{"timestamp": "2026-11-29T00:00:00Z", "amount": "1", "components": []}]),
            r"'items\[0\]\.amount' must be a number",
        ),
        (
            price_body([{"timestamp": "2026-11-29T00:00:00Z", "amount": True, "components": []}]),
            "must be a number",
        ),
        (price_body("nope"), "'items' must be a list"),
        (price_body(["nope"]), r"'items\[0\]' must be an object"),
        (
            price_body(
                [
                    {"timestamp": "2026-11-29T00:00:00Z", "amount": 1, "components": []},
                    {"timestamp": "2026-11-29T00:00:00Z", "amount": 2, "components": []},
                ]
            ),
            "two prices",
        ),
    ],
)
def test_price_series_rejects_garbage(body: dict[str, object], message: str) -> None:
    """Garbage never becomes a price: the error names the field."""
    with pytest.raises(NomosResponseError, match=message):
        PriceSeries.from_fields(Fields(body))


def test_fields_messages() -> None:
    """Every reader names the field path and what was expected."""
    fields = Fields({"a": {"b": "x"}, "n": float("inf"), "s": 3, "e": "purple"})
    with pytest.raises(NomosResponseError, match="'a' must be a string"):
        fields.string("a")
    with pytest.raises(NomosResponseError, match=r"'a\.c' is missing"):
        fields.obj("a").string("c")
    with pytest.raises(NomosResponseError, match="finite"):
        fields.number("n")
    with pytest.raises(NomosResponseError, match="one of red, blue"):
        fields.enum("e", ("red", "blue"))
    with pytest.raises(NomosResponseError, match="'s' must be an object"):
        fields.obj("s")
    with pytest.raises(NomosResponseError, match="'response' must be an object"):
        Fields([1])
    assert fields.opt_obj("missing") is None
    assert fields.opt_obj("a") is not None
    assert fields.has("a")
    assert not fields.has("missing")


# Pasted credentials -----------------------------------------------------------

PRINTABLE = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1)
PASTED_AROUND = st.text(alphabet=" \t\n\u200b\ufeff\u00a0\u2060", max_size=3)


@given(client_id=PRINTABLE, secret=PRINTABLE, before=PASTED_AROUND, after=PASTED_AROUND)
def test_pasted_credentials_are_stripped_or_refused(
    client_id: str, secret: str, before: str, after: str
) -> None:
    """What pasting adds around a value is stripped; a ':' in the id is named."""
    pasted = (before + client_id + after, before + secret + after)
    if ":" in client_id:
        with pytest.raises(NomosCredentialsFormatError) as err:
            clean_client_credentials(*pasted)
        assert (err.value.field, err.value.problem) == ("client_id", "colon")
        return
    assert clean_client_credentials(*pasted) == (client_id, secret)
    header = basic_authorization(*pasted)
    assert base64.b64decode(header.removeprefix("Basic ")).decode() == f"{client_id}:{secret}"


@given(
    value=st.text(min_size=1).filter(
        lambda text: any(not ("!" <= char <= "~") for char in text.strip("\u200b\ufeff "))
    )
)
def test_invisible_or_foreign_characters_inside_are_refused(value: str) -> None:
    """A character that is not printable ASCII inside a value never reaches aiohttp."""
    with pytest.raises(NomosCredentialsFormatError):
        clean_client_credentials("id", "a" + value + "b")


async def test_unsendable_credentials_make_no_request(simulator: NomosSimulator) -> None:
    """A zero-width space in the secret is refused before anything is sent."""
    async with aiohttp.ClientSession() as session:
        with pytest.raises(NomosCredentialsFormatError):
            await request_token(session, "id", "sec\u200bret", {"grant_type": "client_credentials"})
    assert simulator.token_requests == []


@pytest.mark.parametrize(
    ("url", "honoured"),
    [
        ("https://api.sandbox.nomos.energy", True),
        ("http://127.0.0.1:8765", True),
        ("http://localhost:8765/", True),
        ("http://[::1]:8765", True),
        ("http://api.nomos.energy", False),
        ("http://192.168.1.20:8765", False),
        ("ftp://127.0.0.1", False),
        ("api.nomos.energy", False),
    ],
)
def test_api_url_override_only_for_https_or_loopback(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, url: str, honoured: bool
) -> None:
    """A typo in NOMOS_ENERGY_API_URL never sends a secret over plain HTTP to a stranger."""
    monkeypatch.setenv(API_URL_ENV, url)
    assert (api_base_url() == url.rstrip("/")) is honoured
    if not honoured:
        assert api_base_url() == DEFAULT_API_URL
        assert token_url() == f"{DEFAULT_API_URL}/oauth/token"
        assert "Ignoring NOMOS_ENERGY_API_URL" in caplog.text


@pytest.mark.parametrize(
    ("status", "meter", "kind", "expected"),
    [
        ("active", "smart", "consumption", {"is_active", "has_smart_meter"}),
        ("pending", None, "consumption", {"is_pending", "has_smart_meter"}),
        ("ended", "analog", "consumption", {"is_ended", "is_analog"}),
        ("active", "smart", "feed_in", {"is_active", "has_smart_meter", "is_feed_in"}),
    ],
)
def test_subscription_predicates(
    status: str, meter: str | None, kind: str, expected: set[str]
) -> None:
    """The predicates say what the status, meter and contract type mean."""
    fields = {
        "id": "sub_1",
        "number": "N1",
        "status": status,
        "plan": "pln_1",
        "customer": "cus_1",
        "type": kind,
        "created_at": "2026-01-01T00:00:00Z",
    }
    if meter:
        fields["meter"] = {"id": "mtr_1", "number": "1", "type": meter}
    subscription = Subscription.from_fields(Fields(fields))
    predicates = (
        "is_active",
        "is_pending",
        "is_ended",
        "is_analog",
        "is_feed_in",
        "has_smart_meter",
    )
    assert {name for name in predicates if getattr(subscription, name)} == expected
