"""Setup, unload and the token lifecycle against the simulator."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.nomos_energy.const import DOMAIN, SUBSCRIPTIONS_UPDATE_INTERVAL
from custom_components.nomos_energy.nomos_client import basic_authorization
from nomos_simulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, NomosSimulator

from .conftest import ANNA, EMMA, AddEntry, entry_for
from .timetravel import berlin

PRICES = "GET /subscriptions/{id}/prices"
STATUS_SENSOR = "sensor.nomos_4x44emkx_contract_status"


def reauth_flows(hass: HomeAssistant) -> list[object]:
    """Return the reauth flows in progress."""
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_REAUTH
    ]


async def test_setup_and_unload(hass: HomeAssistant, add_entry: AddEntry) -> None:
    """An entry loads, creates its device and unloads cleanly."""
    entry = await add_entry(ANNA)
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(STATUS_SENSOR).state == "active"
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get(STATUS_SENSOR).state == STATE_UNAVAILABLE


async def test_customer_without_subscription_loads(
    hass: HomeAssistant, add_entry: AddEntry
) -> None:
    """A customer with no subscription yet still loads, without devices."""
    entry = await add_entry(EMMA)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.subscriptions.data.subscriptions == {}


async def test_expired_token_refreshes_and_rotation_is_stored(
    hass: HomeAssistant, simulator: NomosSimulator, add_entry: AddEntry
) -> None:
    """A refresh stores the rotated refresh token at once; the old one is dead."""
    entry = await add_entry(ANNA, expires_at=0)
    assert entry.state is ConfigEntryState.LOADED
    refreshes = [r for r in simulator.token_requests if r["grant_type"] == "refresh_token"]
    assert len(refreshes) == 1
    # Exactly the documented body; the client only in the Basic header.
    assert refreshes[0]["basic_auth"] is True
    assert refreshes[0]["body_keys"] == ["grant_type", "refresh_token"]

    new_token = entry.data["token"]
    assert new_token["access_token"] in simulator.access_tokens
    old_refresh = [rt for rt, record in simulator.refresh_tokens.items() if record.used]
    assert len(old_refresh) == 1
    assert new_token["refresh_token"] != old_refresh[0]

    # Replaying the old refresh token fails: it was rotated away.
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"{simulator.url}/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": old_refresh[0]},
            headers={"Authorization": basic_authorization(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)},
        )
        assert response.status == 401
        assert (await response.json())["code"] == "UNAUTHORIZED"


async def test_concurrent_calls_at_expiry_refresh_once(
    hass: HomeAssistant, simulator: NomosSimulator, add_entry: AddEntry
) -> None:
    """Many callers hitting an expired token cause exactly one refresh."""
    entry = await add_entry(ANNA)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "token": {**entry.data["token"], "expires_at": 0}}
    )
    simulator.token_requests.clear()
    client = entry.runtime_data.client
    results = await asyncio.gather(*(client.list_subscriptions() for _ in range(8)))
    assert all(len(subscriptions) == 1 for subscriptions in results)
    assert [r["grant_type"] for r in simulator.token_requests] == ["refresh_token"]


async def _start_slow_refresh(
    hass: HomeAssistant, simulator: NomosSimulator, entry: MockConfigEntry
) -> asyncio.Task[object]:
    """Let a refresh reach Nomos, which rotates the token and then answers slowly."""
    simulator.refresh_answer_delay = 0.3
    simulator.token_requests.clear()
    simulator.refresh_rotated.clear()
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "token": {**entry.data["token"], "expires_at": 0}}
    )
    refresh = hass.async_create_task(entry.runtime_data.subscriptions.async_refresh())
    await simulator.refresh_rotated.wait()  # Nomos has rotated; its answer is on the way
    return refresh


def _assert_rotated_token_stored(simulator: NomosSimulator, entry: MockConfigEntry) -> None:
    """Exactly one refresh was sent, and the entry holds the refresh token it returned."""
    assert [r["grant_type"] for r in simulator.token_requests] == ["refresh_token"]
    stored = simulator.refresh_tokens[entry.data["token"]["refresh_token"]]
    assert not stored.used
    assert not stored.revoked


async def test_reload_during_refresh_keeps_the_rotated_token(
    hass: HomeAssistant, simulator: NomosSimulator, add_entry: AddEntry
) -> None:
    """A reload (an options change, say) while Nomos rotates the token loses nothing."""
    entry = await add_entry(ANNA)
    refresh = await _start_slow_refresh(hass, simulator, entry)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    refresh.cancel()
    assert entry.state is ConfigEntryState.LOADED
    _assert_rotated_token_stored(simulator, entry)
    assert not reauth_flows(hass)
    assert hass.states.get(STATUS_SENSOR).state == "active"


async def test_stop_during_refresh_keeps_the_rotated_token(
    hass: HomeAssistant, simulator: NomosSimulator, add_entry: AddEntry
) -> None:
    """Home Assistant stopping while Nomos rotates the token: the new token is stored."""
    entry = await add_entry(ANNA)
    await _start_slow_refresh(hass, simulator, entry)
    await hass.async_stop()
    _assert_rotated_token_stored(simulator, entry)

    # What the next start reads is a refresh token Nomos still accepts.
    assert entry.data["token"]["access_token"] in simulator.access_tokens
    assert entry.data["token"]["expires_at"] > 0


async def test_rejected_access_token_is_refreshed_once(
    hass: HomeAssistant, simulator: NomosSimulator, add_entry: AddEntry
) -> None:
    """An access token Nomos no longer accepts is refreshed, not a reason for reauth."""
    entry = await add_entry(ANNA)
    anna = simulator.customer_by_email(ANNA)
    simulator.expire_tokens(anna.id)  # the server says expired, our clock does not
    simulator.token_requests.clear()
    await entry.runtime_data.subscriptions.async_refresh()
    await hass.async_block_till_done()
    assert entry.runtime_data.subscriptions.last_update_success
    assert [r["grant_type"] for r in simulator.token_requests] == ["refresh_token"]
    assert not reauth_flows(hass)


@pytest.mark.parametrize("expire_locally", [True, False])
async def test_revoked_access_starts_reauth(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    expire_locally: bool,
) -> None:
    """Revoked access: Home Assistant asks to sign in again; cached data keeps showing."""
    entry = await add_entry(ANNA)
    assert hass.states.get(STATUS_SENSOR).state == "active"
    anna = simulator.customer_by_email(ANNA)
    simulator.revoke(anna.id)
    if expire_locally:
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, "token": {**entry.data["token"], "expires_at": 0}}
        )
    refresh_token = entry.data["token"]["refresh_token"]
    freezer.tick(SUBSCRIPTIONS_UPDATE_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(STATUS_SENSOR).state == "active"
    assert len(reauth_flows(hass)) == 1
    # The stored refresh token is kept (not wiped) for diagnostics and a later retry.
    assert entry.data["token"]["refresh_token"] == refresh_token


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
async def test_transient_refresh_failure_never_starts_reauth(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    status: int,
) -> None:
    """5xx and 429 on the token endpoint keep the refresh token, the data, and retry later."""
    entry = await add_entry(ANNA)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "token": {**entry.data["token"], "expires_at": 0}}
    )
    refresh_token = entry.data["token"]["refresh_token"]
    simulator.inject("POST /oauth/token", status=status)
    freezer.tick(SUBSCRIPTIONS_UPDATE_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert simulator.count("POST /oauth/token") >= 1  # a refresh was tried
    assert hass.states.get(STATUS_SENSOR).state == "active"  # cached contract data stays
    assert not reauth_flows(hass)
    assert entry.data["token"]["refresh_token"] == refresh_token

    simulator.clear_faults()
    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.runtime_data.subscriptions.outage.failures == 0
    assert entry.data["token"]["refresh_token"] != refresh_token


async def test_token_endpoint_unreachable_is_transient(
    hass: HomeAssistant, simulator: NomosSimulator, add_entry: AddEntry
) -> None:
    """A dropped connection on refresh is a network error, not a revocation."""
    simulator.inject("POST /oauth/token", drop=True)
    entry = await add_entry(ANNA, expires_at=0)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert not reauth_flows(hass)


@pytest.mark.parametrize(
    "fault", [{"status": 503}, {"status": 500}, {"drop": True}, {"status": 429, "retry_after": 30}]
)
async def test_network_error_at_setup_retries(
    hass: HomeAssistant, simulator: NomosSimulator, add_entry: AddEntry, fault: dict[str, object]
) -> None:
    """Setup retries on server and network errors instead of asking for reauth."""
    simulator.inject("GET /subscriptions", **fault)
    entry = await add_entry(ANNA)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert not reauth_flows(hass)


async def test_connection_refused_at_setup_retries(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    setup_credentials: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing listening at all is also only a reason to retry."""
    entry = entry_for(simulator, ANNA)
    await simulator.stop()
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert not reauth_flows(hass)


async def test_revoked_at_setup_starts_reauth(
    hass: HomeAssistant, simulator: NomosSimulator, setup_credentials: None
) -> None:
    """A refresh token Nomos no longer accepts at startup leads straight to reauth."""
    entry = entry_for(simulator, ANNA, expires_at=0)
    simulator.revoke(simulator.customer_by_email(ANNA).id)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert len(reauth_flows(hass)) == 1


async def test_missing_credentials_start_reauth(
    hass: HomeAssistant, simulator: NomosSimulator, setup_credentials: None
) -> None:
    """An entry whose application credentials were removed asks to sign in again."""
    entry = entry_for(simulator, ANNA)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=entry.unique_id,
        data={**entry.data, "auth_implementation": "removed_credentials"},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert len(reauth_flows(hass)) == 1


async def test_unavailable_implementation_retries(
    hass: HomeAssistant, simulator: NomosSimulator, setup_credentials: None
) -> None:
    """A provider that cannot be reached right now is retried, not re-authenticated."""
    from unittest.mock import patch  # noqa: PLC0415

    from homeassistant.helpers.config_entry_oauth2_flow import (  # noqa: PLC0415
        ImplementationUnavailableError,
    )

    entry = entry_for(simulator, ANNA)
    entry.add_to_hass(hass)
    with patch(
        "custom_components.nomos_energy.async_get_config_entry_implementation",
        side_effect=ImplementationUnavailableError,
    ):
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert not reauth_flows(hass)


@pytest.mark.parametrize("nomos", ["answering", "slow", "unreachable"])
async def test_restart_serves_the_cache_without_waiting_on_nomos(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    nomos: str,
) -> None:
    """A restart with a fresh cache: the same states at once, and no request when none is due."""
    freezer.move_to(berlin(2026, 11, 29, 16, 0))  # today's and tomorrow's prices are cached
    entry = await add_entry(ANNA)
    before = {
        state.entity_id: state.state
        for state in hass.states.async_all()
        if state.entity_id.startswith(("sensor.nomos", "binary_sensor.nomos"))
    }
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    simulator.requests.clear()
    if nomos == "slow":
        for route in ("GET /subscriptions", "POST /oauth/token", PRICES):
            simulator.inject(route, delay=10)
    elif nomos == "unreachable":
        await simulator.stop()
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED
    await hass.async_block_till_done()
    after = {entity_id: hass.states.get(entity_id).state for entity_id in before}
    assert after == before
    assert sum(simulator.requests.values()) == 0
