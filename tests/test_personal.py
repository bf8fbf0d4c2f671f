"""Personal API credentials (client credentials) and meter readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import time

from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.nomos_energy.const import DOMAIN
from nomos_simulator import (
    ANALOG_CLIENT_ID,
    ANALOG_CLIENT_SECRET,
    PERSONAL_CLIENT_ID,
    PERSONAL_CLIENT_SECRET,
    NomosSimulator,
)

from .conftest import ANNA, AddEntry, personal_flow
from .timetravel import walk


@pytest.fixture
async def david_personal(
    hass: HomeAssistant, simulator: NomosSimulator, freezer: FrozenDateTimeFactory
) -> MockConfigEntry:
    """David (analog meter) set up with personal credentials that may write."""
    freezer.move_to(datetime(2026, 11, 29, 9, tzinfo=UTC))
    result = await personal_flow(hass, ANALOG_CLIENT_ID, ANALOG_CLIENT_SECRET)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    return result["result"]


async def test_personal_credentials_create_an_entry(
    hass: HomeAssistant, simulator: NomosSimulator
) -> None:
    """The second way in: client credentials with HTTP Basic; everything else the same."""
    result = await personal_flow(hass, PERSONAL_CLIENT_ID, PERSONAL_CLIENT_SECRET)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Anna Schmidt"
    assert result["data"]["auth_type"] == "personal"
    assert result["data"]["token"]["scope"] == "read:* write:*"
    grant = simulator.token_requests[-1]
    assert grant["grant_type"] == "client_credentials"
    assert grant["basic_auth"] is True
    assert "client_secret" not in grant["body_keys"]
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.nomos_4x44emkx_contract_status").state == "active"


@pytest.mark.parametrize(
    ("fault", "secret", "error"),
    [
        (None, "wrong", "invalid_credentials"),
        ({"status": 503}, PERSONAL_CLIENT_SECRET, "cannot_connect"),
    ],
)
async def test_personal_credentials_errors(
    hass: HomeAssistant, simulator: NomosSimulator, fault: dict | None, secret: str, error: str
) -> None:
    """Wrong credentials and outages are explained on the form; nothing is created."""
    if fault:
        simulator.inject("POST /oauth/token", **fault)
    result = await personal_flow(hass, PERSONAL_CLIENT_ID, secret)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    simulator.clear_faults()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"client_id": PERSONAL_CLIENT_ID, "client_secret": PERSONAL_CLIENT_SECRET},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_personal_token_is_renewed_before_expiry(
    hass: HomeAssistant, simulator: NomosSimulator, david_personal: MockConfigEntry
) -> None:
    """An expiring token is renewed with the client-credentials grant, once for many callers."""
    import asyncio  # noqa: PLC0415

    hass.config_entries.async_update_entry(
        david_personal,
        data={
            **david_personal.data,
            "token": {**david_personal.data["token"], "expires_at": time.time() + 30},
        },
    )
    tokens = david_personal.runtime_data.tokens
    tokens.token = dict(david_personal.data["token"])
    simulator.token_requests.clear()
    client = david_personal.runtime_data.client
    await asyncio.gather(*(client.list_subscriptions() for _ in range(5)))
    assert [r["grant_type"] for r in simulator.token_requests] == ["client_credentials"]
    assert david_personal.data["token"]["expires_at"] > time.time() + 3000


async def test_revoked_personal_credentials_reauth(
    hass: HomeAssistant, simulator: NomosSimulator, david_personal: MockConfigEntry
) -> None:
    """Rejected credentials lead to a reauth form asking for new ones."""
    simulator.clients[ANALOG_CLIENT_ID].secret = "rotated-secret"
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_REAUTH, "entry_id": david_personal.entry_id},
        data=david_personal.data,
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "personal"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": ANALOG_CLIENT_ID, "client_secret": ANALOG_CLIENT_SECRET}
    )
    assert result["errors"] == {"base": "invalid_credentials"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": ANALOG_CLIENT_ID, "client_secret": "rotated-secret"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert david_personal.data["client_secret"] == "rotated-secret"
    # Reconfigure asks for the credentials again too; another account is refused.
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_RECONFIGURE, "entry_id": david_personal.entry_id},
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"client_id": PERSONAL_CLIENT_ID, "client_secret": PERSONAL_CLIENT_SECRET},
    )
    assert result["reason"] == "wrong_account"


async def test_submit_meter_reading(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    david_personal: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """A plausible reading is accepted; Nomos's plausibility errors are translated."""
    response = await hass.services.async_call(
        DOMAIN,
        "submit_meter_reading",
        {"value": 12500, "date": "2026-11-28", "message": "Read in the cellar"},
        blocking=True,
        return_response=True,
    )
    assert response["value"] == 12500
    assert response["date"] == "2026-11-28"
    assert response == snapshot(exclude=props("id"))  # the id is Nomos's, new each time
    for data, key in (
        ({"value": 12500, "date": "2026-11-28"}, "meter_reading_duplicate"),
        ({"value": 99999, "date": "2026-11-29"}, "meter_reading_implausible"),
        ({"value": 12600, "date": "2024-01-01"}, "meter_reading_out_of_period"),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(DOMAIN, "submit_meter_reading", data, blocking=True)
        assert err.value.translation_key == key, data
        assert str(data["value"]) in str(err.value.translation_placeholders)


async def test_meter_readings_need_write_access_and_an_analog_meter(
    hass: HomeAssistant, simulator: NomosSimulator, add_entry: AddEntry
) -> None:
    """OAuth sign-in may only read; smart meters are read automatically."""
    await add_entry(ANNA)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "submit_meter_reading", {"value": 1}, blocking=True)
    assert err.value.translation_key == "meter_reading_smart_meter"


async def test_oauth_token_may_not_write(
    hass: HomeAssistant, simulator: NomosSimulator, add_entry: AddEntry
) -> None:
    from .conftest import DAVID  # noqa: PLC0415

    await add_entry(DAVID)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "submit_meter_reading", {"value": 12100}, blocking=True
        )
    assert err.value.translation_key == "meter_reading_not_allowed"


@pytest.mark.parametrize(
    ("client_id", "secret", "errors"),
    [
        ("anna:personal", PERSONAL_CLIENT_SECRET, {"client_id": "credentials_colon"}),
        (
            PERSONAL_CLIENT_ID,
            "anna-\u200bpersonal-secret",
            {"client_secret": "credentials_characters"},
        ),
        ("\u200b ", PERSONAL_CLIENT_SECRET, {"client_id": "credentials_empty"}),
    ],
    ids=["colon", "zero-width-space", "empty"],
)
async def test_pasted_credentials_get_a_named_error(
    hass: HomeAssistant, simulator: NomosSimulator, client_id: str, secret: str, errors: dict
) -> None:
    """A pasting accident is named on its field, nothing is sent, and the form recovers."""
    result = await personal_flow(hass, client_id, secret)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert simulator.token_requests == []
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        # What an e-mail adds around the values is stripped.
        {
            "client_id": f"\u200b{PERSONAL_CLIENT_ID} ",
            "client_secret": f" {PERSONAL_CLIENT_SECRET}\n",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["client_id"] == PERSONAL_CLIENT_ID
    assert result["data"]["client_secret"] == PERSONAL_CLIENT_SECRET


async def test_stored_unsendable_personal_credentials_ask_to_sign_in_again(
    hass: HomeAssistant, simulator: NomosSimulator
) -> None:
    """Credentials stored with a pasted character (by an older release) lead to reauth."""
    anna = simulator.customer_by_email(ANNA)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=anna.id,
        data={
            "auth_type": "personal",
            "client_id": PERSONAL_CLIENT_ID,
            "client_secret": "anna-\u200bpersonal-secret",
        },
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert simulator.token_requests == []
    assert [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["context"]["source"] == "reauth"
    ]


async def test_refused_personal_credentials_are_asked_again_hourly_not_every_poll(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    david_personal: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Rotated at Nomos: reauth is asked for once, and the refused secret is sent at most
    once an hour (not on every poll) until Nomos accepts it again."""
    simulator.clients[ANALOG_CLIENT_ID].secret = "rotated-secret"
    tokens = david_personal.runtime_data.tokens
    tokens.token = {**tokens.token, "expires_at": 0}
    simulator.token_requests.clear()
    start = datetime.now(UTC)
    await walk(hass, freezer, start + timedelta(hours=24), timedelta(minutes=5))
    refused = len(simulator.token_requests)
    assert 1 <= refused <= 25  # one an hour at most (every poll: about 50 a day)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [config_entries.SOURCE_REAUTH]
    # Nomos takes the old secret back: found within the hour, reauth withdrawn.
    simulator.clients[ANALOG_CLIENT_ID].secret = ANALOG_CLIENT_SECRET
    await walk(hass, freezer, start + timedelta(hours=25, minutes=5), timedelta(minutes=5))
    assert david_personal.state is ConfigEntryState.LOADED
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []
