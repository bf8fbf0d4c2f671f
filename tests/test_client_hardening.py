"""The client against hostile or broken answers (security review), driven through the simulator."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
import json
import logging
import math
import threading
from typing import Any

import aiohttp
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from hypothesis import given, settings, strategies as st
import pytest

from custom_components.nomos_energy.backoff import Outage
from custom_components.nomos_energy.nomos_client import (
    ClientCredentialsTokens,
    Invoice,
    NomosAuthError,
    NomosClient,
    NomosClientCredentialsError,
    NomosEndpointUnauthorizedError,
    NomosError,
    NomosForbiddenError,
    NomosInvalidRequestError,
    NomosRateLimitError,
    NomosResponseError,
    NomosServerError,
    NomosTokenEndpointError,
    PriceSeries,
    StaticTokenProvider,
    Subscription,
    request_client_credentials_token,
    request_token,
    transport,
)
from custom_components.nomos_energy.nomos_client.auth import DEFAULT_EXPIRES_IN, token_error
from custom_components.nomos_energy.nomos_client.errors import (
    MAX_RETRY_AFTER,
    retry_after_seconds,
)
from custom_components.nomos_energy.nomos_client.models import Fields
from nomos_simulator import (
    ANALOG_CLIENT_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    PERSONAL_CLIENT_ID,
    PERSONAL_CLIENT_SECRET,
    NomosSimulator,
)

from .conftest import ANNA, DAVID, AddEntry, personal_flow

TOKEN = "POST /oauth/token"
SUBSCRIPTIONS = "GET /subscriptions"
CLIENT_LOGGER = "custom_components.nomos_energy.nomos_client"


def reauth_started(hass: HomeAssistant) -> bool:
    return any(
        flow["context"]["source"] == SOURCE_REAUTH
        for flow in hass.config_entries.flow.async_progress()
    )


async def expire_and_refresh(hass: HomeAssistant, entry: Any) -> None:
    """Let the access token expire and poll once: the sign-in's refresh runs."""
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "token": {**entry.data["token"], "expires_at": 0}}
    )
    await entry.runtime_data.subscriptions.async_refresh()
    await hass.async_block_till_done()


def client_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name.startswith(CLIENT_LOGGER)]


@pytest.fixture
async def session(simulator: NomosSimulator) -> AsyncGenerator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
async def elsewhere(socket_enabled: None) -> AsyncGenerator[NomosSimulator]:
    """A second server on another port: where a redirect would send the request."""
    other = NomosSimulator(rate_limit=None)
    await other.start()
    yield other
    await other.stop()


def token_for(simulator: NomosSimulator, email: str, client_id: str = DEMO_CLIENT_ID) -> str:
    customer = simulator.customer_by_email(email)
    assert customer is not None
    return str(simulator.issue_tokens(customer.id, client_id)["access_token"])


def client_for(
    simulator: NomosSimulator, session: aiohttp.ClientSession, email: str = ANNA
) -> NomosClient:
    return NomosClient(session, StaticTokenProvider(token_for(simulator, email)), timeout=10)


def refresh_token_of(simulator: NomosSimulator, email: str = ANNA) -> str:
    customer = simulator.customer_by_email(email)
    assert customer is not None
    return str(simulator.issue_tokens(customer.id)["refresh_token"])


async def refresh(
    session: aiohttp.ClientSession, simulator: NomosSimulator, refresh_token: str
) -> dict[str, Any]:
    """The sign-in's refresh, as application_credentials sends it."""
    return await request_token(
        session,
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
    )


# 1. Token refusals in every documented shape ------------------------------------

REQUEST_ID = "37a04f8f-e791-491c-81e1-86cd304649bb"
UNAUTHORIZED = {"code": "UNAUTHORIZED", "message": "Invalid refresh token", "requestId": REQUEST_ID}


@pytest.mark.parametrize(
    ("status", "body", "error_class"),
    [
        (400, {"error": "invalid_grant"}, NomosAuthError),
        (401, {"error": "invalid_grant", "error_description": "expired"}, NomosAuthError),
        (401, UNAUTHORIZED, NomosAuthError),
        (400, UNAUTHORIZED, NomosAuthError),
        (401, {"error": UNAUTHORIZED}, NomosAuthError),
        (400, {"error": UNAUTHORIZED}, NomosAuthError),
        (401, {"object": "error", "type": "unauthenticated", "message": "x"}, NomosAuthError),
        (401, {"error": "invalid_client"}, NomosClientCredentialsError),
        # The OAuth error decides when there is one, the Nomos code otherwise.
        (400, {"error": "invalid_request", "code": "UNAUTHORIZED"}, NomosTokenEndpointError),
        (401, {"error": {"code": "FORBIDDEN", "message": "x"}}, NomosTokenEndpointError),
        (403, {"error": UNAUTHORIZED}, NomosTokenEndpointError),
        (404, {"error": {"code": "NOT_FOUND"}}, NomosTokenEndpointError),
        (401, None, NomosTokenEndpointError),
        (503, {"error": {"code": "UNAUTHORIZED"}}, NomosServerError),
    ],
)
def test_token_error_reads_oauth_and_nomos_shapes(
    status: int, body: object, error_class: type[NomosError]
) -> None:
    """`error` is an OAuth string or Nomos's wrapped object; each is classified by what it says."""
    error = token_error(status, body, {})
    assert type(error) is error_class
    assert error.status == status
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        assert error.code == body["error"].get("code")


REFUSALS = [
    pytest.param({"status": 400, "envelope": "oauth"}, id="oauth-400"),
    pytest.param({"status": 401, "envelope": "oauth"}, id="oauth-401"),
    pytest.param({"status": 401, "envelope": "flat"}, id="flat"),
    pytest.param({"status": 401, "envelope": "wrapped"}, id="wrapped"),
    pytest.param({"status": 400, "body": {"error": UNAUTHORIZED}}, id="wrapped-400"),
    pytest.param({"status": 401, "envelope": "legacy"}, id="legacy"),
]


@pytest.mark.parametrize("fault", REFUSALS)
async def test_refused_refresh_is_an_auth_error_in_every_shape(
    simulator: NomosSimulator, session: aiohttp.ClientSession, fault: dict[str, Any]
) -> None:
    """The sign-in's refresh refused in any documented shape means: sign in again."""
    refresh_token = refresh_token_of(simulator)
    simulator.inject(TOKEN, **fault)
    with pytest.raises(NomosAuthError) as err:
        await refresh(session, simulator, refresh_token)
    assert err.value.status == fault["status"]
    assert refresh_token not in str(err.value)
    assert DEMO_CLIENT_SECRET not in str(err.value)
    assert simulator.count(TOKEN) == 1


@pytest.mark.parametrize("fault", REFUSALS)
async def test_refused_personal_credentials_are_an_auth_error_in_every_shape(
    simulator: NomosSimulator, session: aiohttp.ClientSession, fault: dict[str, Any]
) -> None:
    """Personal credentials refused in any documented shape: ask for new ones (reauth)."""
    simulator.inject(TOKEN, **fault)
    with pytest.raises(NomosAuthError) as err:
        await request_client_credentials_token(session, PERSONAL_CLIENT_ID, PERSONAL_CLIENT_SECRET)
    assert PERSONAL_CLIENT_SECRET not in str(err.value)


@pytest.mark.parametrize("envelope", ["wrapped", "flat", "legacy", "oauth"])
async def test_refused_sign_in_refresh_starts_reauth_in_home_assistant(
    hass: HomeAssistant, simulator: NomosSimulator, add_entry: AddEntry, envelope: str
) -> None:
    """Through application_credentials: the refused refresh asks the user to sign in again."""
    entry = await add_entry(ANNA)
    simulator.inject(TOKEN, status=401, envelope=envelope)
    await expire_and_refresh(hass, entry)
    assert simulator.count(TOKEN) == 1
    assert reauth_started(hass)


async def test_rejected_secret_by_the_simulator_itself(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """A wrong secret: the sign-in's credentials are rejected, personal ones ask for reauth."""
    with pytest.raises(NomosClientCredentialsError):
        await request_token(
            session, DEMO_CLIENT_ID, "wrong", {"grant_type": "refresh_token", "refresh_token": "x"}
        )
    with pytest.raises(NomosAuthError):
        await request_client_credentials_token(session, PERSONAL_CLIENT_ID, "wrong")


# 2. A 200 token answer is never thrown away for its expires_in --------------------


@pytest.mark.parametrize(
    "expires_in",
    [
        pytest.param(..., id="missing"),
        pytest.param(None, id="null"),
        pytest.param(float("inf"), id="Infinity"),
        pytest.param(float("-inf"), id="-Infinity"),
        pytest.param(float("nan"), id="NaN"),
        pytest.param(10**400, id="beyond-float"),
        pytest.param("3600", id="string"),
        pytest.param(True, id="boolean"),
        pytest.param(0, id="zero"),
        pytest.param(-60, id="negative"),
    ],
)
async def test_token_without_usable_expires_in_keeps_the_new_refresh_token(
    simulator: NomosSimulator,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    expires_in: object,
) -> None:
    """The rotated refresh token survives; the lifetime becomes the documented default."""
    answer: dict[str, Any] = {
        "access_token": "at_new",
        "token_type": "Bearer",
        "refresh_token": "rt_rotated",
    }
    if expires_in is not ...:
        answer["expires_in"] = expires_in
    simulator.inject(TOKEN, body=answer)
    token = await refresh(session, simulator, refresh_token_of(simulator))
    assert token["refresh_token"] == "rt_rotated"
    assert token["access_token"] == "at_new"
    assert token["expires_in"] == DEFAULT_EXPIRES_IN == 3600
    assert "assuming 3600 s" in caplog.text
    assert "rt_rotated" not in caplog.text
    # What Home Assistant's OAuth2 helper does with it next (int(), then add) must work.
    assert int(token["expires_in"]) == 3600
    personal = await request_client_credentials_token(
        session, PERSONAL_CLIENT_ID, PERSONAL_CLIENT_SECRET
    )
    assert math.isfinite(personal["expires_at"])
    assert personal["refresh_token"] == "rt_rotated"


async def test_usable_expires_in_is_kept(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """A normal lifetime is taken as Nomos sends it."""
    simulator.token_lifetime = 1800
    token = await refresh(session, simulator, refresh_token_of(simulator))
    assert token["expires_in"] == 1800


@pytest.mark.parametrize("access_token", [..., None, 42, {"jwt": "x"}])
async def test_token_answer_without_a_string_access_token_is_refused(
    simulator: NomosSimulator, session: aiohttp.ClientSession, access_token: object
) -> None:
    """Without an access token the answer is of no use: a response error, not a crash."""
    answer: dict[str, Any] = {"expires_in": 3600, "refresh_token": "rt_rotated"}
    if access_token is not ...:
        answer["access_token"] = access_token
    simulator.inject(TOKEN, body=answer)
    with pytest.raises(NomosResponseError, match="no access_token"):
        await refresh(session, simulator, refresh_token_of(simulator))


# 3. Personal credentials: reauth only on Nomos's own words -------------------------


@pytest.mark.parametrize("status", [400, 401, 403])
async def test_proxy_page_on_personal_credentials_is_transient(
    simulator: NomosSimulator, session: aiohttp.ClientSession, status: int
) -> None:
    """An HTML page from a proxy says nothing about the credentials: retried, no reauth."""
    simulator.inject(TOKEN, status=status, html="<html><h1>Access denied</h1></html>")
    with pytest.raises(NomosTokenEndpointError) as err:
        await request_client_credentials_token(session, PERSONAL_CLIENT_ID, PERSONAL_CLIENT_SECRET)
    assert not isinstance(err.value, NomosAuthError)
    assert err.value.status == status
    assert "Access denied" not in str(err.value)


@pytest.mark.parametrize("status", [400, 403])
async def test_proxy_page_in_the_personal_flow_is_not_wrong_credentials(
    hass: HomeAssistant, simulator: NomosSimulator, status: int
) -> None:
    """The form says Nomos could not be reached, not that the credentials are wrong."""
    simulator.inject(TOKEN, status=status, html="<html>Forbidden by proxy</html>")
    result = await personal_flow(hass, PERSONAL_CLIENT_ID, PERSONAL_CLIENT_SECRET)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 400, "envelope": "oauth", "oauth_error": "unauthorized_client"},
        {"status": 403, "envelope": "oauth", "oauth_error": "unauthorized_client"},
        {"status": 403, "envelope": "flat"},
        {"status": 403, "envelope": "wrapped"},
        {"status": 403, "envelope": "legacy"},
    ],
    ids=["400-oauth", "403-oauth", "403-flat", "403-wrapped", "403-legacy"],
)
async def test_refusal_in_nomos_words_on_personal_credentials_asks_for_reauth(
    simulator: NomosSimulator, session: aiohttp.ClientSession, fault: dict[str, Any]
) -> None:
    """An OAuth error or a Nomos error code on 400/403: these credentials may not do this."""
    simulator.inject(TOKEN, **fault)
    with pytest.raises(NomosAuthError):
        await request_client_credentials_token(session, PERSONAL_CLIENT_ID, PERSONAL_CLIENT_SECRET)


# 4. Retry-After is bounded ----------------------------------------------------------


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "1e308"}, MAX_RETRY_AFTER),
        ({"Retry-After": "1e400"}, MAX_RETRY_AFTER),
        ({"Retry-After": "99999999999"}, MAX_RETRY_AFTER),
        ({"Retry-After": "inf"}, MAX_RETRY_AFTER),
        ({"Retry-After": "Infinity"}, MAX_RETRY_AFTER),
        ({"Retry-After": "-inf"}, 0.0),
        ({"Retry-After": "-30"}, 0.0),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "nan", "ratelimit-reset": "12"}, 12.0),
        ({"ratelimit-reset": "1e308"}, MAX_RETRY_AFTER),
        ({"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}, MAX_RETRY_AFTER),
        ({"Retry-After": "Mon, 01 Jan 0001 00:00:00 GMT"}, 0.0),
        ({"Retry-After": "Fri, 31 Dec 99999 23:59:59 GMT"}, None),
        ({"Retry-After": "Fri, 31 Dec 9999 23:59:59 +9999"}, None),
    ],
)
def test_retry_after_is_bounded(headers: dict[str, str], expected: float | None) -> None:
    """A huge, infinite, negative or far-future wait is bounded to 0..one hour."""
    assert MAX_RETRY_AFTER == 3600
    assert retry_after_seconds(headers) == expected


def test_retry_after_http_date_within_the_bound() -> None:
    """An HTTP date a minute and a half ahead means about 90 s."""
    now = datetime.now(UTC).replace(microsecond=0)
    assert retry_after_seconds({"Retry-After": http_date(now + timedelta(seconds=90))}, now) == 90


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["Retry-After", "ratelimit-reset"]),
        st.one_of(
            st.text(max_size=40),
            st.floats().map(repr),
            st.integers().map(str),
            st.datetimes(timezones=st.just(UTC)).map(http_date),
        ),
    )
)
def test_retry_after_never_escapes_its_bound(headers: dict[str, str]) -> None:
    """Whatever the header says, the wait is None or within 0..MAX_RETRY_AFTER."""
    wait = retry_after_seconds(headers)
    assert wait is None or 0 <= wait <= MAX_RETRY_AFTER


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("1e308", MAX_RETRY_AFTER),
        ("99999999999", MAX_RETRY_AFTER),
        ("inf", MAX_RETRY_AFTER),
        ("nan", None),
        ("-5", 0.0),
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER),
    ],
)
async def test_huge_retry_after_through_the_client_never_stops_polling(
    simulator: NomosSimulator,
    session: aiohttp.ClientSession,
    header: str,
    expected: float | None,
) -> None:
    """A 429 with an absurd Retry-After is a rate-limit error; the next try is within an hour."""
    simulator.inject(SUBSCRIPTIONS, status=429, headers={"Retry-After": header})
    with pytest.raises(NomosRateLimitError) as err:
        await client_for(simulator, session).list_subscriptions()
    assert err.value.retry_after == expected
    outage = Outage("subscriptions", timedelta(minutes=1), timedelta(minutes=30))
    now = datetime.now(UTC)
    delay = outage.failed(err.value, now)
    assert delay <= timedelta(hours=1)
    assert outage.due(now + timedelta(hours=1))


def test_rate_limit_error_bounds_what_it_is_given() -> None:
    """Whoever builds the error, its wait stays usable."""
    assert NomosRateLimitError("x", retry_after=float("inf")).retry_after == MAX_RETRY_AFTER
    assert NomosRateLimitError("x", retry_after=float("nan")).retry_after is None
    assert NomosRateLimitError("x", retry_after=-1).retry_after == 0


# 5. Response size cap; large bodies parsed off the event loop ------------------------


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_oversized_answer_is_not_read(
    simulator: NomosSimulator,
    session: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
    chunked: bool,
) -> None:
    """More than the cap: a response error that names neither the body nor its content."""
    monkeypatch.setattr(transport, "MAX_BODY_BYTES", 64 * 1024)
    simulator.inject(SUBSCRIPTIONS, oversize=1024 * 1024, chunked=chunked)
    with pytest.raises(NomosResponseError, match="was not read") as err:
        await client_for(simulator, session).list_subscriptions()
    assert "[" not in str(err.value)


async def test_ten_megabytes_is_the_cap(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """Exactly the cap is read (and parsed off the loop); one byte more is refused."""
    assert transport.MAX_BODY_BYTES == 10 * 1024 * 1024
    url = f"{simulator.url}/subscriptions"
    simulator.inject(SUBSCRIPTIONS, oversize=transport.MAX_BODY_BYTES, chunked=True)
    answer = await transport.send(session, "GET", url, limit=30, what="GET /subscriptions")
    assert answer.body == []
    simulator.inject(SUBSCRIPTIONS, oversize=transport.MAX_BODY_BYTES + 1, chunked=True)
    with pytest.raises(NomosResponseError, match="was not read"):
        await transport.send(session, "GET", url, limit=30, what="GET /subscriptions")


async def test_oversized_error_answer_keeps_its_status(
    simulator: NomosSimulator, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A huge error page (a proxy's) still means what its status says."""
    monkeypatch.setattr(transport, "MAX_BODY_BYTES", 64 * 1024)
    simulator.inject(SUBSCRIPTIONS, status=503, oversize=1024 * 1024, chunked=True)
    with pytest.raises(NomosServerError):
        await client_for(simulator, session).list_subscriptions()


async def test_large_json_is_parsed_off_the_event_loop(
    simulator: NomosSimulator, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the inline limit the JSON is decoded in a worker thread; small answers inline."""
    decoded_in: list[int] = []
    decode = transport._decode

    def spy(raw: bytes) -> Any:
        decoded_in.append(threading.get_ident())
        return decode(raw)

    monkeypatch.setattr(transport, "_decode", spy)
    url = f"{simulator.url}/subscriptions"
    simulator.inject(SUBSCRIPTIONS, oversize=transport.INLINE_JSON_BYTES + 1)
    assert (await transport.send(session, "GET", url, limit=10, what="x")).body == []
    simulator.inject(SUBSCRIPTIONS, oversize=transport.INLINE_JSON_BYTES)
    assert (await transport.send(session, "GET", url, limit=10, what="x")).body == []
    assert decoded_in[0] != threading.get_ident()
    assert decoded_in[1] == threading.get_ident()


async def test_deeply_nested_json_is_malformed_not_a_crash(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """Nesting too deep for the parser is malformed JSON, not a RecursionError."""
    simulator.inject(SUBSCRIPTIONS, raw="[" * 200_000 + "]" * 200_000)
    with pytest.raises(NomosResponseError, match="malformed JSON"):
        await client_for(simulator, session).list_subscriptions()


# 6. Redirects are never followed ------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_token_request_is_not_redirected(
    simulator: NomosSimulator,
    elsewhere: NomosSimulator,
    session: aiohttp.ClientSession,
    status: int,
) -> None:
    """A redirect would re-send the refresh token (and Basic credentials) to another host."""
    refresh_token = refresh_token_of(simulator)
    simulator.inject(TOKEN, status=status, redirect=f"{elsewhere.url}/oauth/token")
    with pytest.raises(NomosResponseError, match="redirects are not followed") as err:
        await refresh(session, simulator, refresh_token)
    assert not isinstance(err.value, NomosAuthError)
    assert f"HTTP {status}" in str(err.value)
    assert elsewhere.url not in str(err.value)
    assert sum(elsewhere.requests.values()) == 0
    assert elsewhere.token_requests == []
    with pytest.raises(NomosResponseError, match="redirects are not followed"):
        await request_client_credentials_token(session, PERSONAL_CLIENT_ID, PERSONAL_CLIENT_SECRET)
    assert sum(elsewhere.requests.values()) == 0


@pytest.mark.parametrize("status", [307, 308])
async def test_api_request_is_not_redirected(
    simulator: NomosSimulator,
    elsewhere: NomosSimulator,
    session: aiohttp.ClientSession,
    status: int,
) -> None:
    """An API call redirected elsewhere would carry the access token there."""
    simulator.inject(SUBSCRIPTIONS, status=status, redirect=f"{elsewhere.url}/subscriptions")
    with pytest.raises(NomosResponseError, match="redirects are not followed"):
        await client_for(simulator, session).list_subscriptions()
    assert sum(elsewhere.requests.values()) == 0


# 7. A 401 right after a refresh is about the endpoint, not the grant -----------------


class RenewingTokens:
    """A provider whose invalidate really renews (like the sign-in's refresh)."""

    def __init__(self, simulator: NomosSimulator, email: str) -> None:
        self.simulator = simulator
        self.email = email
        self.token = token_for(simulator, email)
        self.invalidated: list[str] = []

    async def access_token(self) -> str:
        return self.token

    async def invalidate(self, token: str) -> None:
        self.invalidated.append(token)
        self.token = token_for(self.simulator, self.email)


async def test_401_with_a_fresh_token_is_an_endpoint_error(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """Nomos answers 401 for paths it does not serve: a refresh happened, the grant stays."""
    tokens = RenewingTokens(simulator, ANNA)
    first = tokens.token
    client = NomosClient(session, tokens)
    simulator.inject(SUBSCRIPTIONS, status=401)
    with pytest.raises(NomosEndpointUnauthorizedError) as err:
        await client.list_subscriptions()
    assert isinstance(err.value, NomosForbiddenError)
    assert not isinstance(err.value, NomosAuthError)
    assert err.value.status == 401
    assert err.value.code == "UNAUTHORIZED"
    assert "GET /subscriptions" in str(err.value)
    assert tokens.invalidated == [first]
    for token in (first, tokens.token):
        assert token not in str(err.value)
    assert simulator.count(SUBSCRIPTIONS) == 2
    # The unknown path itself: the same answer.
    with pytest.raises(NomosEndpointUnauthorizedError):
        await client._request("GET", "/no-such-endpoint")


async def test_endpoint_refusing_a_fresh_token_does_not_start_reauth(
    hass: HomeAssistant, simulator: NomosSimulator, add_entry: AddEntry
) -> None:
    """In Home Assistant: one refresh (the grant works), the data stays, no reauth."""
    entry = await add_entry(ANNA)
    refresh_token = entry.data["token"]["refresh_token"]
    simulator.inject(SUBSCRIPTIONS, status=401)
    await entry.runtime_data.subscriptions.async_refresh()
    await hass.async_block_till_done()
    assert [r["grant_type"] for r in simulator.token_requests] == ["refresh_token"]
    assert entry.data["token"]["refresh_token"] != refresh_token  # the rotated one is kept
    assert not reauth_started(hass)
    assert entry.runtime_data.subscriptions.outage.failures == 1  # transient, retried
    assert hass.states.get("sensor.nomos_4x44emkx_contract_status").state == "active"
    simulator.clear_faults()
    await entry.runtime_data.subscriptions.async_refresh()
    assert entry.runtime_data.subscriptions.outage.failures == 0


async def test_401_for_a_token_that_cannot_be_renewed_is_an_auth_error(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """With no refresh behind the provider, the same token twice is gone for good."""
    client = NomosClient(session, StaticTokenProvider("at_revoked"))
    with pytest.raises(NomosAuthError) as err:
        await client.list_subscriptions()
    assert not isinstance(err.value, NomosForbiddenError)


async def test_only_a_refused_renewal_means_the_grant_is_gone(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """Personal credentials: a 401 renews the token; a refused renewal is the auth error."""
    tokens = ClientCredentialsTokens(session, PERSONAL_CLIENT_ID, PERSONAL_CLIENT_SECRET)
    client = NomosClient(session, tokens)
    assert await client.list_subscriptions()
    simulator.inject(SUBSCRIPTIONS, status=401, times=1)
    assert await client.list_subscriptions()  # renewed once, then served
    simulator.inject(SUBSCRIPTIONS, status=401)
    with pytest.raises(NomosEndpointUnauthorizedError):
        await client.list_subscriptions()
    simulator.clients[PERSONAL_CLIENT_ID].secret = "rotated"
    with pytest.raises(NomosAuthError) as err:
        await client.list_subscriptions()
    assert not isinstance(err.value, NomosForbiddenError)


# 8. Numbers and timestamps out of range ------------------------------------------------

OUT_OF_RANGE_TIMESTAMPS = [
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:30:00+00:45",
    "9999-12-31T23:00:00-05:00",
    "9999-12-31T23:59:59.999999-00:01",
]
OUT_OF_RANGE_NUMBERS = [float("inf"), float("-inf"), float("nan"), 10**400, -(10**400)]


@pytest.mark.parametrize("value", OUT_OF_RANGE_TIMESTAMPS)
def test_timestamp_beyond_utc(value: str, caplog: pytest.LogCaptureFixture) -> None:
    """Required: a response error naming the field; optional: unknown, with one log line."""
    fields = Fields({"at": value})
    with pytest.raises(NomosResponseError, match="'at' must be an ISO-8601 timestamp"):
        fields.timestamp("at")
    with caplog.at_level(logging.DEBUG, CLIENT_LOGGER):
        assert fields.opt_timestamp("at") is None
    assert [r.levelno for r in client_records(caplog)] == [logging.WARNING]
    assert "'at'" in caplog.text


@pytest.mark.parametrize(
    "value", OUT_OF_RANGE_NUMBERS, ids=["inf", "-inf", "nan", "1e400", "-1e400"]
)
def test_number_beyond_float(value: float, caplog: pytest.LogCaptureFixture) -> None:
    """Required: a response error naming the field; optional: unknown, with one log line."""
    fields = Fields({"n": value})
    with pytest.raises(NomosResponseError, match="'n' must be a finite number"):
        fields.number("n")
    with caplog.at_level(logging.WARNING, CLIENT_LOGGER):
        assert fields.opt_number("n") is None
    assert len(client_records(caplog)) == 1


def test_one_log_line_per_response(caplog: pytest.LogCaptureFixture) -> None:
    """Many values out of range in one answer: one warning, the rest at debug level."""
    item = {
        "id": "sub_1",
        "status": "active",
        "plan": "pln_1",
        "customer": "cus_1",
        "estimated_usage": float("inf"),
        "start_at": "0001-01-01T00:00:00+01:00",
        "end_at": "9999-12-31T23:00:00-05:00",
        "updated_at": "2026-11-29T10:00:00Z",
    }
    with caplog.at_level(logging.WARNING, CLIENT_LOGGER):
        subs = [Subscription.from_fields(f) for f in Fields({"items": [item] * 5}).objects("items")]
    assert all(sub.end_at is None and sub.estimated_usage is None for sub in subs)
    assert subs[0].updated_at == datetime(2026, 11, 29, 10, tzinfo=UTC)
    assert len(client_records(caplog)) == 1


def test_required_whole_number_beyond_float_is_a_response_error() -> None:
    """An invoice's year of 10**400 is refused by name instead of an OverflowError."""
    invoice = {
        "id": "inv_1",
        "subscription": "sub_1",
        "invoice_number": "1",
        "type": "usage",
        "status": "open",
        "year": 10**400,
        "month": 11,
        "period_number": 1,
        "period_start": "2026-11-01T00:00:00Z",
        "period_end": "2026-12-01T00:00:00Z",
        "total": 10,
    }
    with pytest.raises(NomosResponseError, match="'year' must be a finite number"):
        Invoice.from_fields(Fields(invoice))


async def test_overflowing_values_through_the_simulator(
    simulator: NomosSimulator, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """1e400 and a year-9999 end shifted past UTC: the contract is read, those values unknown."""
    client = client_for(simulator, session, DAVID)
    listed = await client.list_subscriptions()
    item = {
        **listed[0].to_json(),
        "customer": listed[0].customer_id,
        "estimated_usage": "__HUGE__",
        "end_at": "9999-12-31T23:30:00-02:00",
    }
    listing = json.dumps({"object": "list", "items": [item], "has_more": False})
    text = listing.replace('"__HUGE__"', "1e400")
    simulator.inject(SUBSCRIPTIONS, raw=text)
    with caplog.at_level(logging.WARNING, CLIENT_LOGGER):
        (sub,) = await client.list_subscriptions()
    assert sub.id == listed[0].id
    assert sub.estimated_usage is None
    assert sub.end_at is None
    assert len(client_records(caplog)) == 1
    prices = {
        "object": "price",
        "subscription": sub.id,
        "resolution": "15min",
        "items": [{"timestamp": "9999-12-31T23:45:00-01:00", "amount": 1}],
    }
    simulator.inject("GET /subscriptions/{id}/prices", body=prices)
    with pytest.raises(NomosResponseError, match=r"items\[0\]\.timestamp"):
        await client.get_prices(sub.id, datetime.now(UTC).date(), datetime.now(UTC).date())


def iso_with_offset(moment: datetime, minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{moment.isoformat()}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.datetimes(),
        st.datetimes(max_value=datetime(1, 1, 2)),
        st.datetimes(min_value=datetime(9999, 12, 30)),
    ),
    st.integers(-(24 * 60 - 1), 24 * 60 - 1),
)
def test_any_timestamp_and_offset_parses_or_is_refused(moment: datetime, offset: int) -> None:
    """Every moment of datetime's range at every offset: aware UTC, unknown, or a response error."""
    fields = Fields({"at": iso_with_offset(moment, offset)})
    try:
        parsed = fields.timestamp("at")
    except NomosResponseError:
        assert fields.opt_timestamp("at") is None
    else:
        assert parsed.utcoffset() == timedelta(0)
        assert fields.opt_timestamp("at") == parsed


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.floats(), st.integers(), st.integers(10**300, 10**400)))
def test_any_number_is_finite_or_refused(value: float) -> None:
    """Any JSON number: a finite float, or a response error (required) / unknown (optional)."""
    fields = Fields({"n": value})
    try:
        number = fields.number("n")
    except NomosResponseError:
        assert fields.opt_number("n") is None
    else:
        assert math.isfinite(number)
        assert fields.opt_number("n") == number


def test_price_amount_out_of_range_is_unknown() -> None:
    """A price of 1e400 is not a price: unknown, like null."""
    body = {
        "subscription": "sub_1",
        "resolution": "15min",
        "items": [
            {"timestamp": "2026-11-29T00:00:00Z", "amount": json.loads("1e400"), "components": []}
        ],
    }
    series = PriceSeries.from_fields(Fields(body))
    assert series.items is not None
    assert series.items[0].amount is None


# 9. Request bodies are strict JSON ----------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), float("-inf"), 10**400],
    ids=["nan", "inf", "-inf", "1e400"],
)
async def test_meter_reading_that_json_cannot_carry_is_refused_before_sending(
    simulator: NomosSimulator, session: aiohttp.ClientSession, value: float
) -> None:
    """NaN or infinity never reaches Nomos; the error is a ValueError naming the field."""
    david = simulator.customer_by_email(DAVID)
    sub = simulator.subscriptions_of(david.id)[0]
    token = token_for(simulator, DAVID, ANALOG_CLIENT_ID)
    client = NomosClient(session, StaticTokenProvider(token))
    with pytest.raises(NomosInvalidRequestError) as err:
        await client.submit_meter_reading(sub.id, value, datetime.now(UTC))
    assert isinstance(err.value, ValueError)
    assert err.value.field == "value"
    assert simulator.count("POST /meter-readings") == 0


async def test_json_bodies_are_strict(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """Any JSON body with NaN (here nested) is refused before a connection is made."""
    with pytest.raises(NomosInvalidRequestError, match="not valid JSON"):
        await transport.send(
            session,
            "POST",
            f"{simulator.url}/meter-readings",
            limit=10,
            what="POST /meter-readings",
            json_body={"value": 1, "extra": [float("nan")]},
        )
    assert simulator.count("POST /meter-readings") == 0
    assert transport.encode_json({"value": 1.5}, "x") == b'{"value":1.5}'


async def test_simulator_refuses_non_json_numbers(
    simulator: NomosSimulator, session: aiohttp.ClientSession
) -> None:
    """The simulator parses like Nomos: NaN in a body is malformed JSON."""
    token = token_for(simulator, DAVID, ANALOG_CLIENT_ID)
    async with session.post(
        f"{simulator.url}/meter-readings",
        data=b'{"subscription": "x", "value": NaN}',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    ) as response:
        assert response.status == 400
        assert (await response.json())["message"] == "Malformed JSON body"
