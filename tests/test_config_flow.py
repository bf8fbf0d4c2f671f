"""The sign-in flow, end to end through Home Assistant's callback view and the simulator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.nomos_energy.const import DOMAIN
from nomos_simulator import (
    DEMO_CLIENT_ID,
    ORGANISATION_CLIENT_ID,
    ORGANISATION_CLIENT_SECRET,
    NomosSimulator,
)
from nomos_simulator.api import PLANS

from .conftest import (
    ANNA,
    BEN,
    EMMA,
    REDIRECT_URI,
    AddEntry,
    complete_callback,
    personal_flow,
    query_of,
    sign_in_flow,
    sign_in_on_nomos,
    start_oauth_flow,
)
from .timetravel import berlin

pytestmark = pytest.mark.usefixtures("current_request_with_host", "setup_credentials")


@pytest.fixture(autouse=True, params=[None, 403], ids=["customers-readable", "customers-forbidden"])
def customers_for_oauth(request: pytest.FixtureRequest, simulator: NomosSimulator) -> int | None:
    """Run every flow both ways: Nomos may refuse `GET /customers` to sign-in tokens."""
    simulator.customers_for_oauth = request.param
    return request.param


async def test_full_flow_creates_entry(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: NomosSimulator,
) -> None:
    """A person signs in; the entry is titled and identified by the Nomos customer."""
    result = await start_oauth_flow(hass)
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    authorize = urlsplit(result["url"])
    params = query_of(result["url"])
    assert f"{authorize.scheme}://{authorize.netloc}" == simulator.url
    assert authorize.path == "/oauth/authorize"
    assert params["client_id"] == DEMO_CLIENT_ID
    assert params["redirect_uri"] == REDIRECT_URI
    assert params["response_type"] == "code"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert "client_secret" not in result["url"]

    redirect = await sign_in_on_nomos(result["url"], ANNA)
    await complete_callback(hass, hass_client_no_auth, redirect)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Anna Schmidt"
    anna = simulator.customer_by_email(ANNA)
    assert anna is not None
    assert result["result"].unique_id == anna.id
    token = result["data"]["token"]
    assert token["access_token"] in simulator.access_tokens
    assert token["refresh_token"] in simulator.refresh_tokens
    # The code exchange authenticated with HTTP Basic and carried the verifier.
    # Exactly the documented body; the client authenticates only with Basic.
    exchange = simulator.token_requests[-1]
    assert exchange["basic_auth"] is True
    assert exchange["body_keys"] == ["code", "code_verifier", "grant_type", "redirect_uri"]
    assert exchange["body"]["grant_type"] == "authorization_code"
    assert exchange["body"]["redirect_uri"] == REDIRECT_URI
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED


async def test_each_flow_gets_its_own_verifier(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: NomosSimulator,
) -> None:
    """Two flows never share a PKCE verifier: a code from one fails in the other."""
    first = await start_oauth_flow(hass)
    second = await start_oauth_flow(hass)
    assert query_of(first["url"])["code_challenge"] != query_of(second["url"])["code_challenge"]

    # Sign in through the first flow's page, but hand the code to the second flow.
    redirect = await sign_in_on_nomos(first["url"], ANNA)
    code = query_of(redirect)["code"]
    second_state = query_of(second["url"])["state"]
    await complete_callback(
        hass, hass_client_no_auth, f"{REDIRECT_URI}?code={code}&state={second_state}"
    )
    result = await hass.config_entries.flow.async_configure(second["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "code_rejected"
    assert simulator.token_requests[-1]["grant_type"] == "authorization_code"
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_consent_denied(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """Choosing Deny on Nomos's page ends the flow with a clear message."""
    result = await sign_in_flow(hass, hass_client_no_auth, ANNA, approve=False)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "user_rejected_authorize"
    assert result["description_placeholders"] == {"error": "access_denied"}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_same_account_twice_aborts(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    add_entry: Callable[..., Awaitable[MockConfigEntry]],
) -> None:
    """The same Nomos account cannot be added twice."""
    await add_entry(ANNA)
    result = await sign_in_flow(hass, hass_client_no_auth, ANNA)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_customer_without_subscription_can_sign_in(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    customers_for_oauth: int | None,
) -> None:
    """A customer whose contract is not set up yet gets an entry when Nomos names them.

    Without `/customers` and without a subscription nothing identifies the
    account: the flow says so instead of creating a nameless entry.
    """
    result = await sign_in_flow(hass, hass_client_no_auth, EMMA)
    if customers_for_oauth is not None:
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "no_customer"
        return
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Emma Fischer"
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED


async def test_reauth_success_updates_and_reloads(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: NomosSimulator,
    add_entry: Callable[..., Awaitable[MockConfigEntry]],
) -> None:
    """Signing in again with the same account refreshes the stored token."""
    entry = await add_entry(ANNA)
    old_refresh = entry.data["token"]["refresh_token"]
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"] == {"name": "Anna Schmidt"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    redirect = await sign_in_on_nomos(result["url"], ANNA)
    await complete_callback(hass, hass_client_no_auth, redirect)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data["token"]["refresh_token"] != old_refresh
    assert entry.state is ConfigEntryState.LOADED


async def test_reauth_with_other_account_aborts(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    add_entry: Callable[..., Awaitable[MockConfigEntry]],
) -> None:
    """Signing in as somebody else during reauth changes nothing."""
    entry = await add_entry(ANNA)
    token_before = dict(entry.data["token"])
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    redirect = await sign_in_on_nomos(result["url"], BEN)
    await complete_callback(hass, hass_client_no_auth, redirect)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert entry.data["token"] == token_before


async def test_reconfigure_signs_in_again(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    add_entry: Callable[..., Awaitable[MockConfigEntry]],
) -> None:
    """Reconfigure runs the sign-in again and keeps the entry."""
    entry = await add_entry(ANNA)
    old_access = entry.data["token"]["access_token"]
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    redirect = await sign_in_on_nomos(result["url"], ANNA)
    await complete_callback(hass, hass_client_no_auth, redirect)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["token"]["access_token"] != old_access

    result = await entry.start_reconfigure_flow(hass)
    redirect = await sign_in_on_nomos(result["url"], BEN)
    await complete_callback(hass, hass_client_no_auth, redirect)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["reason"] == "wrong_account"


@pytest.mark.parametrize("refusal", [401, 403, 404, 0], ids=["401", "403", "404", "empty"])
async def test_sign_in_without_customers_endpoint(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: NomosSimulator,
    refusal: int,
) -> None:
    """The subscriptions identify the account when `/customers` refuses or lists nobody."""
    simulator.customers_for_oauth = refusal
    result = await sign_in_flow(hass, hass_client_no_auth, BEN)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    ben = simulator.customer_by_email(BEN)
    assert ben is not None
    assert result["result"].unique_id == ben.id
    assert result["title"] == f"{ben.first_name} {ben.last_name}"


@pytest.mark.parametrize(
    ("fault", "reason"),
    [({"status": 401}, "invalid_auth"), ({"status": 503}, "cannot_connect")],
)
async def test_account_lookup_failure_after_sign_in(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: NomosSimulator,
    fault: dict[str, int],
    reason: str,
) -> None:
    """Test before configure: a failing account lookup creates no entry."""
    simulator.customers_for_oauth = 403
    simulator.inject("GET /subscriptions", **fault)
    result = await sign_in_flow(hass, hass_client_no_auth, ANNA)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_account_lookup_without_customer(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: NomosSimulator,
) -> None:
    """Nobody to identify (no customer listed, no subscription) creates no nameless entry."""
    simulator.customers_for_oauth = 0
    result = await sign_in_flow(hass, hass_client_no_auth, EMMA)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_customer"


async def test_subscriptions_of_several_customers_are_refused(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: NomosSimulator,
) -> None:
    """A token that sees other people's contracts is not tied to whichever comes first."""
    simulator.customers_for_oauth = 404
    now = simulator.clock.now()
    mixed = [
        simulator.subscriptions_of(customer.id)[0].to_json(now, expanded=False)
        for customer in simulator.customers.values()
        if simulator.subscriptions_of(customer.id)
    ]
    simulator.inject(
        "GET /subscriptions",
        body={"object": "list", "items": mixed, "has_more": False, "next_page": None},
    )
    result = await sign_in_flow(hass, hass_client_no_auth, BEN)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "several_customers"


async def test_expired_code_is_rejected(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: NomosSimulator,
) -> None:
    """A code older than ten minutes fails cleanly."""
    result = await start_oauth_flow(hass)
    redirect = await sign_in_on_nomos(result["url"], ANNA)
    code = simulator.codes[query_of(redirect)["code"]]
    code.expires_at = simulator.clock.now()
    await complete_callback(hass, hass_client_no_auth, redirect)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "code_rejected"


async def test_organisation_credentials_are_refused(
    hass: HomeAssistant, simulator: NomosSimulator
) -> None:
    """Personal credentials that see several customers get a clear message."""
    result = await personal_flow(hass, ORGANISATION_CLIENT_ID, ORGANISATION_CLIENT_SECRET)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "several_customers"
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_rejected_application_credentials_are_named(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, simulator: NomosSimulator
) -> None:
    """Nomos refusing the client id and secret says so, not "Unknown error"."""
    simulator.clients[DEMO_CLIENT_ID].secret = "rotated-by-nomos"
    result = await sign_in_flow(hass, hass_client_no_auth, ANNA)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "oauth_unauthorized"


async def test_unsendable_application_credentials_are_named(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, simulator: NomosSimulator
) -> None:
    """A client id that HTTP Basic cannot carry is named before anything is sent."""
    result = await start_oauth_flow(hass)
    redirect = await sign_in_on_nomos(result["url"], ANNA)
    hass.config_entries.flow._progress[result["flow_id"]].flow_impl.client_id = "nomos:demo"
    simulator.token_requests.clear()
    await complete_callback(hass, hass_client_no_auth, redirect)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "credentials_colon"
    assert simulator.token_requests == []


async def test_token_endpoint_outage_during_sign_in(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, simulator: NomosSimulator
) -> None:
    """Nomos down at the moment of the code exchange: a clear message to try again."""
    result = await start_oauth_flow(hass)
    redirect = await sign_in_on_nomos(result["url"], ANNA)
    simulator.inject("POST /oauth/token", status=503)
    await complete_callback(hass, hass_client_no_auth, redirect)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"


async def test_options_thresholds_and_price_unit(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Options are validated, applied by a reload, and the cached prices stay."""
    freezer.move_to(berlin(2026, 11, 29, 10, 0))
    entry = await add_entry(ANNA)
    in_ct = float(hass.states.get("sensor.nomos_4x44emkx_current_price").state)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "price_unit": "eur",
            "very_cheap_below": 50,
            "cheap_below": 40,
            "normal_below": 60,
            "expensive_below": 80,
        },
    )
    assert result["errors"] == {"base": "thresholds_order"}
    simulator.requests.clear()
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "price_unit": "eur",
            "very_cheap_below": 90,
            "cheap_below": 95,
            "normal_below": 97,
            "expensive_below": 99,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.options["level_thresholds"] == [90, 95, 97, 99]
    # The same entity, now in EUR/kWh: no second entity to enable (or to forget).
    current = hass.states.get("sensor.nomos_4x44emkx_current_price")
    assert current.attributes["unit_of_measurement"] == "EUR/kWh"
    assert float(current.state) == pytest.approx(in_ct / 100)
    assert entry.options["price_unit"] == "eur"
    # With "very cheap" up to the 90th percentile most of the day is very cheap.
    level = hass.states.get("sensor.nomos_4x44emkx_price_level").state
    assert level in {"very_cheap", "cheap", "normal", "expensive", "very_expensive"}
    schedule = entry.runtime_data.prices.data[next(iter(entry.runtime_data.prices.data))]
    assert level == schedule.level(datetime.now(UTC), (0.9, 0.95, 0.97, 0.99))
    # The reload served prices from the cache: no price request.
    assert simulator.count("GET /subscriptions/{id}/prices") == 0
    assert hass.states.get("sensor.nomos_4x44emkx_current_price").state not in (
        "unknown",
        "unavailable",
    )


def suggested_fixed_charges(result: Any) -> object:
    for marker in result["data_schema"].schema:
        if marker == "monthly_fixed_charges":
            return (marker.description or {}).get("suggested_value")
    raise AssertionError("no fixed charges field")


async def test_options_suggest_the_plans_base_fee_until_one_is_entered(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The form offers the plan's monthly base fee from Nomos; what the user enters wins."""
    freezer.move_to(berlin(2026, 11, 29, 10, 0))
    entry = await add_entry(ANNA)
    anna = next(sub for sub in simulator.subscriptions.values() if sub.number == "4X44EMKX")
    plan = PLANS[anna.plan_id]
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert suggested_fixed_charges(result) == plan["price"] > 0
    simulator.inject("GET /plans/{id}", status=503)
    assert (
        suggested_fixed_charges(await hass.config_entries.options.async_init(entry.entry_id)) == 0
    )
    simulator.clear_faults()
    await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "price_unit": "ct",
            "very_cheap_below": 20,
            "cheap_below": 40,
            "normal_below": 60,
            "expensive_below": 80,
            "monthly_fixed_charges": 25.5,
        },
    )
    await hass.async_block_till_done()
    simulator.requests.clear()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert suggested_fixed_charges(result) == 25.5
    assert simulator.count("GET /plans/{id}") == 0
