"""The sign-in's token over its life: broken tokens, refusals, slow refreshes, new sign-ins.

Everything runs against the simulator; time is frozen and moved by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from urllib.parse import urlsplit

from freezegun.api import FrozenDateTimeFactory
from homeassistant import core as ha_core
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.nomos_energy import api
from custom_components.nomos_energy.const import DOMAIN
from custom_components.nomos_energy.nomos_client.auth import TOKEN_TIMEOUT
from nomos_simulator import NomosSimulator
from nomos_simulator.token_faults import hold_refresh_answers

from .conftest import (
    ANNA,
    AddEntry,
    complete_callback,
    entry_for,
    sign_in_on_nomos,
    unescaped_markdown,
)
from .timetravel import berlin, walk

TOKEN = "POST /oauth/token"
STATUS_SENSOR = "sensor.nomos_4x44emkx_contract_status"
TOMORROW = "binary_sensor.nomos_4x44emkx_prices_for_tomorrow_available"
# Nomos's documented answer to a failed refresh: a 401 envelope, no OAuth error. It may
# also come from a proxy or a hiccup, so it does not prove the grant is gone.
UNCLEAR_REFUSAL: dict[str, Any] = {
    "status": 401,
    "body": {"code": "UNAUTHORIZED", "message": "We were unable to authorize your request."},
}


def reauth_flows(hass: HomeAssistant) -> list[Any]:
    """Return the reauth flows in progress."""
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_REAUTH
    ]


def expire_locally(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Let the stored access token be due for a refresh."""
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "token": {**entry.data["token"], "expires_at": 0}}
    )


def token_requests_since(simulator: NomosSimulator, start: datetime) -> list[datetime]:
    """Return when token requests reached Nomos from `start` on."""
    return [when for when, route in simulator.request_log if route == TOKEN and when >= start]


# 1. A stored token without a usable refresh token ------------------------------

MISSING = object()


@pytest.mark.parametrize(
    "refresh_token",
    [MISSING, None, "", 42, ["rt_in_a_list"]],
    ids=["missing", "null", "empty", "number", "list"],
)
async def test_token_without_refresh_token_asks_to_sign_in_again(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    setup_credentials: None,
    refresh_token: object,
) -> None:
    """An expired token with nothing to refresh it with: reauth at once, nothing sent."""
    template = entry_for(simulator, ANNA, expires_at=0)
    token = {k: v for k, v in template.data["token"].items() if k != "refresh_token"}
    if refresh_token is not MISSING:
        token["refresh_token"] = refresh_token
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=template.title,
        unique_id=template.unique_id,
        data={**template.data, "token": token},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert len(reauth_flows(hass)) == 1
    assert simulator.count(TOKEN) == 0


async def test_entry_without_token_asks_to_sign_in_again(
    hass: HomeAssistant, simulator: NomosSimulator, setup_credentials: None
) -> None:
    """An entry whose token is gone altogether (a hand-edited file): reauth, no crash."""
    template = entry_for(simulator, ANNA)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=template.title,
        unique_id=template.unique_id,
        data={"auth_implementation": DOMAIN},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert len(reauth_flows(hass)) == 1
    assert simulator.count(TOKEN) == 0


async def test_refresh_token_lost_later_asks_once_not_on_every_poll(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The refresh token disappears from a running entry: one reauth, no error per poll."""
    freezer.move_to(berlin(2026, 11, 29, 12, 0))
    entry = await add_entry(ANNA)
    token = {k: v for k, v in entry.data["token"].items() if k != "refresh_token"}
    hass.config_entries.async_update_entry(entry, data={**entry.data, "token": token})
    simulator.requests.clear()
    caplog.clear()
    await walk(hass, freezer, berlin(2026, 11, 30, 16, 0), timedelta(minutes=15))
    assert len(reauth_flows(hass)) == 1
    assert simulator.count(TOKEN) == 0
    assert "Unexpected error" not in caplog.text
    assert "KeyError" not in caplog.text
    assert hass.states.get(STATUS_SENSOR).state == "active"  # the cache keeps serving


@pytest.mark.parametrize(
    "broken",
    [
        {"expires_at": "soon"},
        {"expires_at": None},
        {"expires_at": True},
        {"expires_at": float("inf")},
        {"expires_at": 10**400},
        {"access_token": None},
    ],
    ids=["text", "null", "bool", "inf", "huge", "no_access_token"],
)
async def test_garbled_token_is_renewed(
    hass: HomeAssistant, simulator: NomosSimulator, add_entry: AddEntry, broken: dict[str, Any]
) -> None:
    """A stored token with a garbled expiry or access token: one refresh, and it works."""
    entry = await add_entry(ANNA)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "token": {**entry.data["token"], **broken}}
    )
    simulator.requests.clear()
    await entry.runtime_data.subscriptions.async_refresh()
    assert entry.runtime_data.subscriptions.last_update_success
    assert simulator.count(TOKEN) == 1
    assert entry.data["token"]["access_token"] in simulator.access_tokens
    assert not reauth_flows(hass)


# 2. A slow refresh and Home Assistant stopping ----------------------------------


def test_refresh_limit_fits_the_stop_stage() -> None:
    """The refresh outlasts its own request and fits the stage Home Assistant waits in."""
    assert TOKEN_TIMEOUT < api.REFRESH_LIMIT < ha_core.STOP_STAGE_SHUTDOWN_TIMEOUT


async def test_stop_while_nomos_answers_a_refresh_late_keeps_the_rotated_token(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Nomos rotates, then answers only after the 20 s Home Assistant gives shutdown jobs.

    The rotated refresh token still ends up in the entry and on disk, so the next
    start signs in with a token Nomos accepts.
    """
    entry = await add_entry(ANNA)
    hold = hold_refresh_answers(simulator)
    expire_locally(hass, entry)
    hass.async_create_task(entry.runtime_data.subscriptions.async_refresh())
    await hold.rotated.wait()

    @callback
    def nomos_answers(_: Event) -> None:
        hold.release()

    # Integrations are told to stop once the shutdown jobs' stage is over.
    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, nomos_answers)
    stopping = hass.async_create_task(hass.async_stop())
    # The shutdown jobs' stage gives up after 20 s: let that time pass.
    async_fire_time_changed(
        hass,
        dt_util.utcnow() + timedelta(seconds=ha_core.STOPPING_STAGE_SHUTDOWN_TIMEOUT + 1),
    )
    await stopping

    stored = entry.data["token"]["refresh_token"]
    assert not simulator.refresh_tokens[stored].used
    assert not simulator.refresh_tokens[stored].revoked
    on_disk = {e["entry_id"]: e for e in hass_storage["core.config_entries"]["data"]["entries"]}
    assert on_disk[entry.entry_id]["data"]["token"]["refresh_token"] == stored


async def test_refresh_nomos_never_answers_is_given_up_after_the_limit(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A refresh that outlasts REFRESH_LIMIT is given up as a transient failure (no reauth).

    Nomos has rotated the token by then, so this loses the grant: the limit is
    well beyond the token request's own timeout.
    """
    entry = await add_entry(ANNA)
    # Only the refresh's own limit is left to end it.
    monkeypatch.setattr("custom_components.nomos_energy.nomos_client.auth.TOKEN_TIMEOUT", 3600)
    hold = hold_refresh_answers(simulator)
    expire_locally(hass, entry)
    refreshing = hass.async_create_task(entry.runtime_data.subscriptions.async_refresh())
    await hold.rotated.wait()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=api.REFRESH_LIMIT + 1))
    await refreshing
    assert "did not finish within 45 s" in caplog.text
    assert not reauth_flows(hass)
    assert hass.states.get(STATUS_SENSOR).state == "active"
    assert not api.refresh_in_flight(hass, entry.entry_id)
    hold.release()


async def test_refresh_ending_after_a_new_token_was_stored_keeps_the_new_one(
    hass: HomeAssistant, simulator: NomosSimulator, add_entry: AddEntry
) -> None:
    """Whatever stored a new sign-in meanwhile, the old grant's answer does not replace it."""
    entry = await add_entry(ANNA)
    hold = hold_refresh_answers(simulator)
    expire_locally(hass, entry)
    hass.async_create_task(entry.runtime_data.subscriptions.async_refresh())
    await hold.rotated.wait()
    new_token = simulator.issue_tokens(simulator.customer_by_email(ANNA).id)
    new_token["expires_at"] = dt_util.utcnow().timestamp() + new_token["expires_in"]
    hass.config_entries.async_update_entry(entry, data={**entry.data, "token": new_token})
    hold.release()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.data["token"] == new_token


# 3. Refusals: no dead token sent again, unclear ones asked again rarely ----------


@pytest.mark.usefixtures("current_request_with_host")
@pytest.mark.parametrize("refusal", ["revoked", "invalid_grant_400"])
async def test_refused_grant_is_not_sent_again_until_the_user_signs_in(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    refusal: str,
) -> None:
    """After `invalid_grant` nothing goes to the token endpoint for a day, nor after a
    reload; signing in again brings refreshes back."""
    freezer.move_to(berlin(2026, 11, 29, 12, 0))
    entry = await add_entry(ANNA)
    if refusal == "revoked":
        simulator.revoke(simulator.customer_by_email(ANNA).id)
    else:
        simulator.inject(
            TOKEN,
            status=400,
            body={"error": "invalid_grant", "error_description": "The refresh token expired"},
        )
    start = berlin(2026, 11, 29, 12, 0)
    await walk(hass, freezer, start + timedelta(days=1), timedelta(minutes=10))
    assert len(token_requests_since(simulator, start)) == 1
    assert len(reauth_flows(hass)) == 1
    assert hass.states.get(STATUS_SENSOR).state == "active"

    # A reload (an options change, say) remembers that the grant is gone.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await walk(hass, freezer, start + timedelta(days=1, hours=3), timedelta(minutes=10))
    assert len(token_requests_since(simulator, start)) == 1

    # Signing in again ends it: the new sign-in's token is refreshed as usual.
    simulator.clear_faults()
    result = await hass.config_entries.flow.async_configure(reauth_flows(hass)[0]["flow_id"], {})
    redirect = await sign_in_on_nomos(result["url"], ANNA)
    await complete_callback(hass, hass_client_no_auth, redirect)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    asked = len(token_requests_since(simulator, start))  # the sign-in's code exchange too
    freezer.tick(timedelta(hours=1, minutes=1))  # the new access token has expired
    await entry.runtime_data.subscriptions.async_refresh()
    assert entry.runtime_data.subscriptions.last_update_success
    assert len(token_requests_since(simulator, start)) == asked + 1
    assert not reauth_flows(hass)


async def test_unclear_refusal_is_asked_again_at_most_hourly(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A bare 401 from the token endpoint for a day: at most one try an hour, and when it
    passes, everything recovers without the user."""
    freezer.move_to(berlin(2026, 11, 29, 12, 0))
    entry = await add_entry(ANNA)
    simulator.inject(TOKEN, **UNCLEAR_REFUSAL)
    start = berlin(2026, 11, 29, 13, 5)  # the access token has expired
    freezer.move_to(start)
    await walk(hass, freezer, start + timedelta(days=1), timedelta(minutes=5))
    asked = token_requests_since(simulator, start)
    assert 1 <= len(asked) <= 25
    assert all(later - earlier >= timedelta(hours=1) for earlier, later in pairwise(asked))
    assert len(reauth_flows(hass)) == 1  # just in case it is for good

    simulator.clear_faults()
    # By 16:05 tomorrow's prices are published (14:20 plus up to 80 minutes' spread).
    await walk(hass, freezer, start + timedelta(days=1, hours=3), timedelta(minutes=5))
    assert not reauth_flows(hass)
    assert hass.states.get(TOMORROW).state == "on"
    assert entry.runtime_data.prices.last_update_success


# 4. Reauth asked for by an action ------------------------------------------------


async def get_prices(hass: HomeAssistant) -> dict[str, Any]:
    """Ask for a range the cache does not hold, so the action asks Nomos."""
    response = await hass.services.async_call(
        DOMAIN,
        "get_prices",
        {"start": "2026-11-01T00:00:00+01:00", "end": "2026-11-02T00:00:00+01:00"},
        blocking=True,
        return_response=True,
    )
    assert isinstance(response, dict)
    return response


async def test_reauth_asked_by_an_action_is_withdrawn_when_nomos_accepts_again(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An action meets a refused refresh: reauth is asked; the next action that works
    withdraws it, as for the entry's own polling."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 11, 29, 16, 0))
    entry = await add_entry(ANNA)
    expire_locally(hass, entry)
    simulator.inject(TOKEN, **UNCLEAR_REFUSAL, times=1)
    with pytest.raises(HomeAssistantError) as err:
        await get_prices(hass)
    assert err.value.translation_key == "auth_failed"
    await hass.async_block_till_done()
    assert len(reauth_flows(hass)) == 1

    freezer.tick(timedelta(hours=1, minutes=1))
    response = await get_prices(hass)
    assert len(response["prices"]) == 96
    await hass.async_block_till_done()
    assert not reauth_flows(hass)


# 5. A new sign-in while the old grant's refresh is in flight ----------------------


@pytest.mark.usefixtures("current_request_with_host")
@pytest.mark.parametrize("source", ["reauth", "reconfigure"])
async def test_new_sign_in_during_a_slow_refresh_is_what_stays(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    source: str,
) -> None:
    """The old grant's refresh ends after the new sign-in: the new sign-in's token stays."""
    entry = await add_entry(ANNA)
    hold = hold_refresh_answers(simulator)
    expire_locally(hass, entry)
    hass.async_create_task(entry.runtime_data.subscriptions.async_refresh())
    await hold.rotated.wait()

    if source == "reauth":
        result = await entry.start_reauth_flow(hass)
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    else:
        result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    redirect = await sign_in_on_nomos(result["url"], ANNA)
    # Home Assistant's callback page, without waiting for every task (the refresh is held).
    client = await hass_client_no_auth()
    response = await client.get(f"{urlsplit(redirect).path}?{urlsplit(redirect).query}")
    assert response.status == 200
    before = set(simulator.refresh_tokens)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    (new_sign_in,) = set(simulator.refresh_tokens) - before

    hold.release()  # Nomos's answer to the old grant's refresh arrives
    await hass.async_block_till_done(wait_background_tasks=True)
    if result["type"] is FlowResultType.SHOW_PROGRESS:  # it waited for that answer
        result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == f"{source}_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.data["token"]["refresh_token"] == new_sign_in
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(STATUS_SENSOR).state == "active"


# 6. The day-long outage repair shows Nomos's code, never its text -----------------


def unescape(markdown: str) -> str:
    """Return the text a reader sees (backslash escapes resolved)."""
    out, escaped = [], False
    for char in markdown:
        if escaped or char != "\\":
            out.append(char)
            escaped = False
        else:
            escaped = True
    return "".join(out)


HOSTILE_MESSAGE = "Maintenance. [Sign in again here](https://phish.example) <b>now</b>"


@pytest.mark.parametrize(
    ("body", "seen"),
    [
        (
            {
                "code": "SERVICE_UNAVAILABLE",
                "message": HOSTILE_MESSAGE,
                "requestId": "req_[x](https://evil.example)<b>1</b>",
            },
            "HTTP 503 SERVICE_UNAVAILABLE (req_[x](https://evil.example)<b>1</b>)",
        ),
        ({"code": "*" * 300, "message": HOSTILE_MESSAGE, "requestId": "req_1"}, None),
    ],
    ids=["markdown", "long"],
)
async def test_day_long_outage_repair_names_the_code_not_the_message(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
    body: dict[str, str],
    seen: str | None,
) -> None:
    """The repair quotes the status, code and request id, escaped and short."""
    freezer.move_to(berlin(2026, 11, 29, 12, 0))
    entry = await add_entry(ANNA)
    simulator.inject(TOKEN, status=503, body=body)
    freezer.move_to(berlin(2026, 11, 29, 13, 5))  # the access token has expired
    # The first failure is the fetch of tomorrow's prices (by 15:40); a day later, a repair.
    await walk(hass, freezer, berlin(2026, 11, 30, 17, 30), timedelta(minutes=30))
    issue = issue_registry.async_get_issue(DOMAIN, f"nomos_unreachable_{entry.entry_id}")
    assert issue is not None
    answer = issue.translation_placeholders["answer"]
    assert "Maintenance" not in answer
    assert "phish" not in answer
    assert unescaped_markdown(answer) == []
    assert len(unescape(answer)) <= 80
    if seen is not None:
        assert unescape(answer) == seen
    else:
        assert unescape(answer).startswith("HTTP 503 ***")
        assert unescape(answer).endswith("…")
