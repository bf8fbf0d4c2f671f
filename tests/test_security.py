"""Secrets never leak: not into logs (even at debug level), diagnostics, errors or repairs."""

from __future__ import annotations

import logging

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.nomos_energy.const import DOMAIN
from nomos_simulator import (
    DEMO_CLIENT_SECRET,
    PERSONAL_CLIENT_ID,
    PERSONAL_CLIENT_SECRET,
    NomosSimulator,
)

from .conftest import (
    ANNA,
    BEN,
    AddEntry,
    complete_callback,
    query_of,
    sign_in_flow,
    sign_in_on_nomos,
    start_oauth_flow,
)


def secrets_of(simulator: NomosSimulator) -> list[str]:
    """Every secret the simulator handed out or was shown."""
    return [
        *simulator.access_tokens,
        *simulator.refresh_tokens,
        *simulator.verifiers_seen,
        DEMO_CLIENT_SECRET,
        PERSONAL_CLIENT_SECRET,
    ]


@pytest.mark.usefixtures("current_request_with_host", "setup_credentials")
async def test_no_secret_in_debug_logs(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: NomosSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Sign-in, refresh, personal credentials and failures, all logged at debug level."""
    caplog.set_level(logging.DEBUG)
    result = await sign_in_flow(hass, hass_client_no_auth, ANNA)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    entry = result["result"]
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "token": {**entry.data["token"], "expires_at": 0}}
    )
    await entry.runtime_data.subscriptions.async_refresh()  # refresh and rotation
    simulator.inject("GET /subscriptions", status=500, times=1)
    await entry.runtime_data.subscriptions.async_refresh()
    simulator.revoke(simulator.customer_by_email(ANNA).id)
    await entry.runtime_data.subscriptions.async_refresh()  # 401, refresh fails, reauth
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "personal"}
    )
    await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": PERSONAL_CLIENT_ID, "client_secret": "wrong-secret"}
    )
    await hass.async_block_till_done()
    secrets = secrets_of(simulator)
    assert len(secrets) > 6
    for secret in secrets:
        assert secret not in caplog.text
    assert "wrong-secret" not in caplog.text


@pytest.mark.usefixtures("current_request_with_host", "setup_credentials")
async def test_state_and_verifier_are_unique_per_flow(
    hass: HomeAssistant, simulator: NomosSimulator
) -> None:
    """Ten flows: ten different states and ten different PKCE challenges."""
    urls = [(await start_oauth_flow(hass))["url"] for _ in range(10)]
    assert len({query_of(url)["state"] for url in urls}) == 10
    assert len({query_of(url)["code_challenge"] for url in urls}) == 10
    for url in urls:
        assert "verifier" not in url
        assert DEMO_CLIENT_SECRET not in url


@pytest.mark.usefixtures("current_request_with_host", "setup_credentials")
async def test_replayed_code_is_rejected_cleanly(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, simulator: NomosSimulator
) -> None:
    """A code used once cannot sign in a second flow; the flow ends with a clear reason."""
    first = await start_oauth_flow(hass)
    redirect = await sign_in_on_nomos(first["url"], ANNA)
    await complete_callback(hass, hass_client_no_auth, redirect)
    result = await hass.config_entries.flow.async_configure(first["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    second = await start_oauth_flow(hass)
    code = query_of(redirect)["code"]
    await complete_callback(
        hass,
        hass_client_no_auth,
        f"https://example.com/auth/external/callback?code={code}&state={query_of(second['url'])['state']}",
    )
    result = await hass.config_entries.flow.async_configure(second["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "code_rejected"


async def test_error_messages_and_repairs_hold_no_secret(
    hass: HomeAssistant, simulator: NomosSimulator, add_entry: AddEntry
) -> None:
    """What users see in errors and repairs never contains a token or secret."""
    entry = await add_entry(BEN)
    simulator.revoke(simulator.customer_by_email(BEN).id)
    from custom_components.nomos_energy.nomos_client import NomosError  # noqa: PLC0415

    with pytest.raises(NomosError) as err:
        await entry.runtime_data.client.list_subscriptions()
    texts = [str(err.value)]
    for issue in ir.async_get(hass).issues.values():
        if issue.domain == DOMAIN:
            texts.append(repr(issue.translation_placeholders))
            texts.append(repr(issue.data))
    assert len(texts) > 1
    for secret in secrets_of(simulator):
        for text in texts:
            assert secret not in text
