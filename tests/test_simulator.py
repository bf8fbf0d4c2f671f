"""The Nomos simulator itself: hosted pages, token endpoint, controls, spec conformance."""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator
import copy
from datetime import UTC, date, datetime, timedelta
import hashlib
import json
from pathlib import Path
import re
import secrets
from typing import Any
from urllib.parse import urlencode

import aiohttp
from openapi_schema_validator import OAS30Validator
import pytest

from custom_components.nomos_energy.nomos_client import (
    API_VERSION as CLIENT_API_VERSION,
    basic_authorization,
)
from nomos_simulator import (
    API_VERSION,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    PERSONAL_CLIENT_ID,
    PERSONAL_CLIENT_SECRET,
    NomosSimulator,
)
from nomos_simulator.data import quarters_of_day

from .conftest import (
    ANNA,
    BEN,
    CLARA,
    DAVID,
    EMMA,
    FELIX,
    GRETA,
    HANNA,
    JONAS,
    query_of,
    sign_in_on_nomos,
)

# Nomos's spec of the version the simulator serves (and the client pins, see below).
SPEC_PATH = Path(__file__).parent / "fixtures" / f"openapi.{API_VERSION}.json"
REDIRECT = "https://example.com/auth/external/callback"
BASIC = {"Authorization": basic_authorization(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)}


@pytest.fixture
async def http(simulator: NomosSimulator) -> AsyncGenerator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=simulator.url) as session:
        yield session


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)[:64]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode()
    return verifier, challenge.rstrip("=")


def authorize_url(simulator: NomosSimulator, **overrides: str) -> str:
    params = {
        "response_type": "code",
        "client_id": DEMO_CLIENT_ID,
        "redirect_uri": REDIRECT,
        "state": "xyz",
        **overrides,
    }
    return f"{simulator.url}/oauth/authorize?{urlencode(params)}"


async def get_code(simulator: NomosSimulator, email: str = ANNA, **overrides: str) -> str:
    redirect = await sign_in_on_nomos(authorize_url(simulator, **overrides), email)
    params = query_of(redirect)
    assert params["state"] == "xyz"
    return params["code"]


async def exchange(
    http: aiohttp.ClientSession,
    code: str,
    verifier: str | None = None,
    auth: dict[str, str] | None = BASIC,
) -> aiohttp.ClientResponse:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    if verifier is not None:
        data["code_verifier"] = verifier
    return await http.post("/oauth/token", data=data, headers=auth)


# Hosted pages --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"client_id": "stranger"}, "Unknown client_id"),
        ({"redirect_uri": "https://evil.example.net/callback"}, "redirect_uri is not registered"),
        ({"response_type": "token"}, "response_type must be"),
        ({"code_challenge": "abc", "code_challenge_method": "S512"}, "S256 or plain"),
    ],
)
async def test_bad_authorize_requests_get_an_error_page(
    simulator: NomosSimulator, http: aiohttp.ClientSession, overrides: dict[str, str], message: str
) -> None:
    """Unknown clients and unregistered redirects never get redirected."""
    response = await http.get(authorize_url(simulator, **overrides), allow_redirects=False)
    assert response.status == 400
    assert message in await response.text()


async def test_sign_in_pages_reject_wrong_input(
    simulator: NomosSimulator, http: aiohttp.ClientSession
) -> None:
    """Unknown e-mail and wrong codes are explained on the page."""
    page = await (await http.get(authorize_url(simulator))).text()
    login = re.search(r"name='login' value='([^']+)'", page)[1]
    page = await (
        await http.post("/oauth/authorize/email", data={"login": login, "email": "nobody@x.de"})
    ).text()
    assert "No Nomos contract uses this e-mail address" in page
    # Skipping ahead without an e-mail goes back to the e-mail page.
    page = await (
        await http.post("/oauth/authorize/verify", data={"login": login, "otp": "1"})
    ).text()
    assert "name='email'" in page
    page = await (
        await http.post("/oauth/authorize/consent", data={"login": login, "decision": "approve"})
    ).text()
    assert "name='email'" in page
    page = await (
        await http.post("/oauth/authorize/email", data={"login": login, "email": ANNA})
    ).text()
    code = re.search(r"id='otp-code'>(\d{6})<", page)[1]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    page = await (
        await http.post("/oauth/authorize/verify", data={"login": login, "otp": wrong})
    ).text()
    assert "That code is not right." in page
    response = await http.post("/oauth/authorize/verify", data={"login": "expired", "otp": code})
    assert response.status == 400
    assert "expired" in await response.text()


async def test_sign_in_pages_speak_german_to_a_german_browser(
    simulator: NomosSimulator, http: aiohttp.ClientSession
) -> None:
    """Nomos is German: a browser asking for German gets every page and message in German."""
    german = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"}
    page = await (await http.get(authorize_url(simulator), headers=german)).text()
    assert "<html lang='de'>" in page
    assert "Bei Nomos anmelden" in page
    login = re.search(r"name='login' value='([^']+)'", page)[1]
    page = await (
        await http.post(
            "/oauth/authorize/email", data={"login": login, "email": "x@y.de"}, headers=german
        )
    ).text()
    assert "Zu dieser E-Mail-Adresse gibt es keinen Nomos-Vertrag." in page
    page = await (
        await http.post(
            "/oauth/authorize/email", data={"login": login, "email": ANNA}, headers=german
        )
    ).text()
    assert "Einmalcode" in page
    code = re.search(r"id='otp-code'>(\d{6})<", page)[1]
    page = await (
        await http.post(
            "/oauth/authorize/verify", data={"login": login, "otp": code}, headers=german
        )
    ).text()
    assert "Erlauben" in page
    assert "deine Rechnungen" in page
    for english in ("Sign in", "Continue", "Approve", "Deny", "your "):
        assert english not in page
    # Without the header (or asking for English) the pages stay English.
    assert "Sign in to Nomos" in await (await http.get(authorize_url(simulator))).text()


# Token endpoint --------------------------------------------------------------------


async def test_code_exchange_with_s256(
    simulator: NomosSimulator, http: aiohttp.ClientSession
) -> None:
    """The happy path: a verified S256 code gives a token pair that works."""
    verifier, challenge = pkce_pair()
    code = await get_code(simulator, code_challenge=challenge, code_challenge_method="S256")
    response = await exchange(http, code, verifier)
    assert response.status == 200
    token = await response.json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    api = await http.get("/customers", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert (await api.json())["items"][0]["email"] == ANNA


async def test_code_is_single_use(simulator: NomosSimulator, http: aiohttp.ClientSession) -> None:
    """A replayed code is rejected."""
    verifier, challenge = pkce_pair()
    code = await get_code(simulator, code_challenge=challenge, code_challenge_method="S256")
    assert (await exchange(http, code, verifier)).status == 200
    replay = await exchange(http, code, verifier)
    assert replay.status == 400
    assert (await replay.json())["error"] == "invalid_grant"


async def test_wrong_or_missing_verifier_fails(
    simulator: NomosSimulator, http: aiohttp.ClientSession
) -> None:
    """PKCE is enforced."""
    _, challenge = pkce_pair()
    other_verifier, _ = pkce_pair()
    code = await get_code(simulator, code_challenge=challenge, code_challenge_method="S256")
    assert (await exchange(http, code, other_verifier)).status == 400
    code = await get_code(simulator, code_challenge=challenge, code_challenge_method="S256")
    assert (await exchange(http, code, None)).status == 400


async def test_plain_pkce(simulator: NomosSimulator, http: aiohttp.ClientSession) -> None:
    """The plain method compares the verifier itself."""
    verifier, _ = pkce_pair()
    code = await get_code(simulator, code_challenge=verifier, code_challenge_method="plain")
    assert (await exchange(http, code, verifier)).status == 200


async def test_expired_code(simulator: NomosSimulator, http: aiohttp.ClientSession) -> None:
    """Codes last ten minutes."""
    code = await get_code(simulator)
    simulator.clock.set(datetime.now(UTC) + timedelta(minutes=11))
    response = await exchange(http, code)
    assert response.status == 400
    assert "expired" in (await response.json())["message"]


async def test_client_authentication(
    simulator: NomosSimulator, http: aiohttp.ClientSession
) -> None:
    """Basic is required; a secret in the body or a wrong secret fails."""
    code = await get_code(simulator)
    assert (await exchange(http, code, auth=None)).status == 401
    assert (
        await exchange(
            http, code, auth={"Authorization": basic_authorization(DEMO_CLIENT_ID, "wrong")}
        )
    ).status == 401
    response = await http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_secret": DEMO_CLIENT_SECRET,
        },
        headers=BASIC,
    )
    assert response.status == 400
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": "other"},
        headers=BASIC,
    )
    assert response.status == 400
    # As strict as the spec: not even the matching client id next to Basic.
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": DEMO_CLIENT_ID},
        headers=BASIC,
    )
    assert response.status == 400
    assert (await response.json())["error"] == "invalid_request"
    response = await http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=BASIC
    )
    assert response.status == 400
    response = await http.post(
        "/oauth/token", data="{broken", headers={"Content-Type": "application/json", **BASIC}
    )
    assert response.status == 400
    response = await http.post(
        "/oauth/token", headers={"Authorization": "Basic !!!"}, data={"grant_type": "refresh_token"}
    )
    assert response.status == 401


async def test_redirect_uri_must_match(
    simulator: NomosSimulator, http: aiohttp.ClientSession
) -> None:
    """A code is bound to the redirect URI it was issued for."""
    code = await get_code(simulator)
    response = await http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://example.com/other",
        },
        headers=BASIC,
    )
    assert response.status == 400


async def test_refresh_rotation(simulator: NomosSimulator, http: aiohttp.ClientSession) -> None:
    """A refresh token works once; reusing it fails with 401 UNAUTHORIZED."""
    anna = simulator.customer_by_email(ANNA)
    first = simulator.issue_tokens(anna.id)
    data = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    response = await http.post("/oauth/token", json=data, headers=BASIC)  # JSON bodies work too
    assert response.status == 200
    second = await response.json()
    assert second["refresh_token"] != first["refresh_token"]
    reuse = await http.post("/oauth/token", data=data, headers=BASIC)
    assert reuse.status == 401
    assert (await reuse.json())["code"] == "UNAUTHORIZED"
    unknown = await http.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "x"}, headers=BASIC
    )
    assert unknown.status == 401


async def test_client_credentials_for_personal_clients(
    simulator: NomosSimulator, http: aiohttp.ClientSession
) -> None:
    """Personal credentials act for their customer and may write."""
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic_authorization(PERSONAL_CLIENT_ID, PERSONAL_CLIENT_SECRET)},
    )
    assert response.status == 200
    token = await response.json()
    assert token["scope"] == "read:* write:*"
    customers = await http.get(
        "/customers", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert (await customers.json())["items"][0]["email"] == ANNA


async def test_token_lifetime_is_configurable(socket_enabled: None) -> None:
    """Access tokens last as long as configured."""
    simulator = NomosSimulator(token_lifetime=120)
    token = simulator.issue_tokens(next(iter(simulator.customers)))
    assert token["expires_in"] == 120


# API behaviour ---------------------------------------------------------------------


def bearer(simulator: NomosSimulator, email: str) -> dict[str, str]:
    customer = simulator.customer_by_email(email)
    return {"Authorization": f"Bearer {simulator.issue_tokens(customer.id)['access_token']}"}


async def test_tomorrow_appears_at_1420_berlin(
    simulator: NomosSimulator, http: aiohttp.ClientSession
) -> None:
    """Tomorrow's prices are missing before 14:20 Berlin time and present after."""
    headers = bearer(simulator, ANNA)
    sub = next(s for s in simulator.subscriptions.values() if s.number == "4X44EMKX")
    url = f"/subscriptions/{sub.id}/prices?start=2026-10-25&end=2026-10-26"
    simulator.clock.set(datetime(2026, 10, 25, 13, 19, tzinfo=UTC))  # 14:19 CET
    assert len((await (await http.get(url, headers=headers)).json())["items"]) == 100
    simulator.clock.set(datetime(2026, 10, 25, 13, 20, tzinfo=UTC))  # 14:20 CET
    assert len((await (await http.get(url, headers=headers)).json())["items"]) == 100 + 96


async def test_pending_subscription_has_null_prices(
    simulator: NomosSimulator, http: aiohttp.ClientSession
) -> None:
    """A contract that has not started returns items: null."""
    headers = bearer(simulator, CLARA)
    sub = next(s for s in simulator.subscriptions.values() if s.number == "CL4R4NEW")
    body = await (
        await http.get(
            f"/subscriptions/{sub.id}/prices?start=2026-11-01&end=2026-11-01", headers=headers
        )
    ).json()
    assert body["items"] is None


async def test_other_customers_data_is_hidden(
    simulator: NomosSimulator, http: aiohttp.ClientSession
) -> None:
    """A customer token sees only its own subscriptions and customer."""
    headers = bearer(simulator, EMMA)
    ben_sub = next(s for s in simulator.subscriptions.values() if s.customer.email == BEN)
    assert (await http.get(f"/subscriptions/{ben_sub.id}", headers=headers)).status == 404
    assert (await http.get(f"/customers/{ben_sub.customer.id}", headers=headers)).status == 404
    assert (await http.get("/unknown/path", headers=headers)).status == 401


@pytest.mark.parametrize(
    "query",
    [
        "start=2026-11-01",
        "start=2026-13-01&end=2026-11-01",
        "start=2026-11-02&end=2026-11-01",
        "start=2024-01-01&end=2026-01-01",
    ],
)
async def test_price_query_validation(
    simulator: NomosSimulator, http: aiohttp.ClientSession, query: str
) -> None:
    """Bad price queries get 400 with the documented envelope."""
    headers = bearer(simulator, ANNA)
    sub = next(s for s in simulator.subscriptions.values() if s.number == "4X44EMKX")
    response = await http.get(f"/subscriptions/{sub.id}/prices?{query}", headers=headers)
    assert response.status == 400
    assert (await response.json())["code"] == "BAD_REQUEST"


async def test_price_overrides_and_dst_days(simulator: NomosSimulator) -> None:
    """Price overrides for tests; DST days have 92 and 100 quarter-hours."""
    assert len(quarters_of_day(date(2026, 3, 29))) == 92
    assert len(quarters_of_day(date(2026, 10, 25))) == 100
    sub = next(s for s in simulator.subscriptions.values() if s.number == "4X44EMKX")
    moment = quarters_of_day(date(2026, 11, 29))[0]
    sub.price_overrides[moment] = None
    assert sub.price_item(moment)["amount"] is None
    sub.price_overrides[moment] = -2.5
    item = sub.price_item(moment)
    assert item["amount"] == -2.5
    assert round(sum(c["amount"] for c in item["components"]), 2) == -2.5


async def test_usage_resolutions(simulator: NomosSimulator, http: aiohttp.ClientSession) -> None:
    """Usage sums the same kWh at every resolution and publishes D+1 at 16:00."""
    headers = bearer(simulator, ANNA)
    sub = next(s for s in simulator.subscriptions.values() if s.number == "4X44EMKX")
    simulator.clock.set(datetime(2026, 11, 3, 15, 30, tzinfo=UTC))  # 16:30 CET
    totals = {}
    for resolution in ("15min", "hour", "day", "week", "month", "auto"):
        body = await (
            await http.get(
                f"/subscriptions/{sub.id}/usage?start=2026-10-01&end=2026-11-03&resolution={resolution}",
                headers=headers,
            )
        ).json()
        totals[resolution] = round(sum(item["usage"] for item in body["data"]), 1)
        if resolution == "15min":
            assert body["data"][-1]["start"] == "2026-11-02T22:45:00.000Z"
            assert body["data"][-1]["type"] == "preliminary"
            assert body["data"][0]["type"] == "final"
    assert len(set(totals.values())) == 1, totals
    default = await (await http.get(f"/subscriptions/{sub.id}/usage", headers=headers)).json()
    assert len(default["data"]) == 96
    bad = await http.get(f"/subscriptions/{sub.id}/usage?resolution=year", headers=headers)
    assert bad.status == 400


async def test_analog_usage_months(simulator: NomosSimulator, http: aiohttp.ClientSession) -> None:
    """Analog meters report one value per complete month."""
    headers = bearer(simulator, DAVID)
    sub = next(s for s in simulator.subscriptions.values() if s.number == "D4V1DANL")
    simulator.clock.set(datetime(2025, 8, 15, tzinfo=UTC))
    body = await (await http.get(f"/subscriptions/{sub.id}/usage", headers=headers)).json()
    assert body["meter_type"] == "analog"
    assert [item["start"] for item in body["data"]] == [
        "2025-03-31T22:00:00.000Z",
        "2025-04-30T22:00:00.000Z",
        "2025-05-31T22:00:00.000Z",
        "2025-06-30T22:00:00.000Z",
    ]


async def test_bad_pagination_parameters(
    simulator: NomosSimulator, http: aiohttp.ClientSession
) -> None:
    """limit and cursor are validated."""
    headers = bearer(simulator, ANNA)
    for query in ("limit=0", "limit=abc", "cursor=notbase64json"):
        response = await http.get(f"/invoices?{query}", headers=headers)
        assert response.status == 400, query


# Controls --------------------------------------------------------------------------


async def test_admin_api(simulator: NomosSimulator, http: aiohttp.ClientSession) -> None:
    """Clock, faults, tokens, expiry, revocation and counters over HTTP."""
    state = await (await http.get("/_sim/state")).json()
    assert {account["email"] for account in state["accounts"]} == {
        ANNA,
        BEN,
        CLARA,
        DAVID,
        EMMA,
        FELIX,
        GRETA,
        HANNA,
        JONAS,
    }
    clock = await (await http.post("/_sim/clock", json={"now": "2026-06-01T10:00:00Z"})).json()
    assert clock["now"] == "2026-06-01T10:00:00Z"
    running = await (
        await http.post("/_sim/clock", json={"now": "2026-06-01T10:00:00Z", "running": True})
    ).json()
    assert running["now"].startswith("2026-06-01T10:00")
    await http.post("/_sim/clock", json={"now": None})
    token = await (await http.post("/_sim/tokens", json={"email": ANNA})).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert (await http.post("/_sim/tokens", json={"email": "nobody@x"})).status == 404
    await http.post("/_sim/faults", json={"route": "GET /customers", "status": 503, "times": 1})
    assert (await http.get("/customers", headers=headers)).status == 503
    assert (await http.get("/customers", headers=headers)).status == 200
    await http.post("/_sim/faults", json={"route": "GET /customers", "status": 500})
    await http.delete("/_sim/faults")
    assert (await http.get("/customers", headers=headers)).status == 200
    counts = await (await http.get("/_sim/requests")).json()
    assert counts["GET /customers"] == 3
    await http.delete("/_sim/requests")
    assert await (await http.get("/_sim/requests")).json() == {}
    anna = simulator.customer_by_email(ANNA)
    await http.post(f"/_sim/customers/{anna.id}/expire")
    assert (await http.get("/customers", headers=headers)).status == 401
    token = await (await http.post("/_sim/tokens", json={"customer": anna.id})).json()
    await http.post(f"/_sim/customers/{anna.id}/revoke")
    response = await http.get(
        "/customers", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert response.status == 401
    await http.post("/_sim/reset")
    assert simulator.access_tokens == {}


async def test_clock_advances(simulator: NomosSimulator) -> None:
    """The clock can be fixed, advanced and reset."""
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    simulator.clock.set(moment)
    simulator.clock.advance(timedelta(hours=2))
    assert simulator.clock.now() == moment + timedelta(hours=2)
    simulator.clock.set(moment, running=True)
    simulator.clock.advance(timedelta(days=1))
    assert simulator.clock.now() - (moment + timedelta(days=1)) < timedelta(seconds=5)


# Conformance with the official curie spec -------------------------------------------


def resolve_refs(node: Any, spec: dict[str, Any]) -> Any:
    """Inline `$ref`s so the OpenAPI 3.0 validator sees plain schemas."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return resolve_refs(copy.deepcopy(target), spec)
        # Discriminator mappings hold refs the validator would chase; oneOf suffices.
        return {
            key: resolve_refs(value, spec) for key, value in node.items() if key != "discriminator"
        }
    if isinstance(node, list):
        return [resolve_refs(item, spec) for item in node]
    return node


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC_PATH.exists():
        pytest.fail(f"The curie spec is missing at {SPEC_PATH}")
    return json.loads(SPEC_PATH.read_text())


def schema_for(spec: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any]:
    response = spec["paths"][path][method.lower()]["responses"][str(status)]
    return resolve_refs(response["content"]["application/json"]["schema"], spec)


async def test_responses_conform_to_curie_spec(
    simulator: NomosSimulator, http: aiohttp.ClientSession, spec: dict[str, Any]
) -> None:
    """Every kind of simulator response validates against the official curie spec."""
    simulator.clock.set(datetime(2026, 11, 29, 15, tzinfo=UTC))
    checked: list[tuple[str, int]] = []

    async def check(method: str, path: str, url: str, status: int = 200, **kwargs: Any) -> Any:
        response = await http.request(method, url, **kwargs)
        assert response.status == status, await response.text()
        body = await response.json()
        OAS30Validator(schema_for(spec, method, path, status)).validate(body)
        checked.append((path, status))
        return body

    for email in (ANNA, BEN, CLARA, DAVID, EMMA, FELIX, GRETA, HANNA):
        headers = bearer(simulator, email)
        await check("GET", "/customers", "/customers", headers=headers)
        customer = simulator.customer_by_email(email)
        await check("GET", "/customers/{id}", f"/customers/{customer.id}", headers=headers)
        listed = await check("GET", "/subscriptions", "/subscriptions?limit=1", headers=headers)
        for sub in simulator.subscriptions_of(customer.id):
            await check("GET", "/subscriptions/{id}", f"/subscriptions/{sub.id}", headers=headers)
            await check("GET", "/plans/{id}", f"/plans/{sub.plan_id}", headers=headers)
            await check(
                "GET",
                "/subscriptions/{id}/prices",
                f"/subscriptions/{sub.id}/prices?start=2026-11-29&end=2026-11-30",
                headers=headers,
            )
            for resolution in ("15min", "hour", "day", "month"):
                await check(
                    "GET",
                    "/subscriptions/{id}/usage",
                    f"/subscriptions/{sub.id}/usage?start=2026-10-01&end=2026-11-28&resolution={resolution}",
                    headers=headers,
                )
            await check(
                "GET",
                "/invoices",
                f"/invoices?limit=5&filter[subscription][eq]={sub.id}",
                headers=headers,
            )
        assert listed["object"] == "list"

    headers = bearer(simulator, ANNA)
    await check("GET", "/subscriptions", "/subscriptions", 401)
    await check("GET", "/subscriptions/{id}", "/subscriptions/sub_unknown", 404, headers=headers)
    await check(
        "GET",
        "/subscriptions/{id}/prices",
        "/subscriptions/sub_unknown/prices?start=x&end=y",
        404,
        headers=headers,
    )
    sub_id = next(s.id for s in simulator.subscriptions_of(simulator.customer_by_email(ANNA).id))
    await check(
        "GET",
        "/subscriptions/{id}/prices",
        f"/subscriptions/{sub_id}/prices?start=2026-11-29",
        400,
        headers=headers,
    )
    simulator.inject("GET /invoices", status=500)
    await check("GET", "/invoices", "/invoices", 500, headers=headers)
    simulator.inject("GET /invoices", status=429, retry_after=5)
    await check("GET", "/invoices", "/invoices", 429, headers=headers)
    token = simulator.issue_tokens(simulator.customer_by_email(ANNA).id)
    await check(
        "POST",
        "/oauth/token",
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        headers=BASIC,
    )
    assert len(checked) > 50
    well_known = await (await http.get("/.well-known/oauth-authorization-server")).json()
    assert well_known["token_endpoint_auth_methods_supported"] == ["client_secret_basic"]
    assert well_known["code_challenge_methods_supported"] == ["S256", "plain"]


def test_simulator_serves_the_version_the_client_pins() -> None:
    """One API version: what the integration sends is what the simulator (and spec) speak."""
    assert CLIENT_API_VERSION == API_VERSION
    assert SPEC_PATH.exists()
