"""Fault injection against the simulator: what the user sees and what reaches Nomos."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.nomos_energy.const import DOMAIN
from custom_components.nomos_energy.nomos_client.auth import TOKEN_TIMEOUT
from custom_components.nomos_energy.nomos_client.client import DEFAULT_TIMEOUT
from custom_components.nomos_energy.price_schedule import BERLIN
from nomos_simulator import NomosSimulator

from .conftest import ANNA, AddEntry
from .timetravel import berlin, walk

PRICES = "GET /subscriptions/{id}/prices"
CURRENT = "sensor.nomos_4x44emkx_current_price"  # ct/kWh
TOMORROW = "binary_sensor.nomos_4x44emkx_prices_for_tomorrow_available"


def expected(simulator: NomosSimulator, moment: datetime) -> float:
    """The simulator's all-in price (ct/kWh) of the quarter-hour containing `moment`."""
    sub = next(s for s in simulator.subscriptions.values() if s.number == "4X44EMKX")
    start = moment.replace(minute=moment.minute // 15 * 15, second=0, microsecond=0)
    return sub.price_item(start)["amount"]


def reauth_started(hass: HomeAssistant) -> bool:
    return any(
        flow["context"]["source"] == SOURCE_REAUTH
        for flow in hass.config_entries.flow.async_progress()
    )


def our_records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name.startswith("custom_components") and r.levelno == level
    ]


@pytest.fixture
def at_publication(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "custom_components.nomos_energy.coordinator_base.PUBLICATION_SPREAD", timedelta(0)
    )


@pytest.mark.parametrize(
    ("fault", "burst"),
    [
        ({"status": 500}, 1),
        ({"status": 502}, 3),
        ({"status": 503}, 6),
        ({"status": 504}, None),
        ({"status": 429, "retry_after": 600}, 2),
        ({"drop": True}, 4),
    ],
    ids=["500x1", "502x3", "503x6", "504-hour", "429x2", "dropped"],
)
async def test_server_faults_during_the_publication_fetch(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    at_publication: None,
    fault: dict[str, object],
    burst: int | None,
) -> None:
    """Cached prices keep serving, retries back off, no reauth, bounded logs, recovery."""
    freezer.move_to(berlin(2026, 11, 29, 14, 0))
    await add_entry(ANNA)
    simulator.requests.clear()
    caplog.clear()
    simulator.inject(PRICES, times=burst, **fault)
    await walk(hass, freezer, berlin(2026, 11, 29, 15, 20), timedelta(minutes=1))
    # During the fault: today's cached price, never a made-up one.
    assert float(hass.states.get(CURRENT).state) == pytest.approx(
        expected(simulator, datetime.now(UTC))
    )
    assert not reauth_started(hass)
    # Back-off: at most 5 attempts in the first hour of an outage (2, 4, 8, 16, 30 minutes).
    assert simulator.count(PRICES) <= 6
    simulator.clear_faults()
    await walk(hass, freezer, berlin(2026, 11, 29, 16, 0), timedelta(minutes=1))
    assert hass.states.get(TOMORROW).state == STATE_ON
    assert len(our_records(caplog, logging.WARNING)) == 1
    assert (
        len([r for r in our_records(caplog, logging.INFO) if "reachable again" in r.getMessage()])
        == 1
    )
    assert not [r for r in caplog.records if r.exc_info and r.name.startswith("custom_components")]


async def test_connection_refused_for_hours(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    at_publication: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing listening at all: the same calm back-off, then recovery when Nomos returns."""
    freezer.move_to(berlin(2026, 11, 29, 14, 0))
    entry = await add_entry(ANNA)
    url = simulator.url
    entry.runtime_data.client._base_url = "http://127.0.0.1:9"  # nobody listens there
    caplog.clear()
    await walk(hass, freezer, berlin(2026, 11, 29, 18, 0), timedelta(minutes=5))
    assert float(hass.states.get(CURRENT).state) == pytest.approx(
        expected(simulator, datetime.now(UTC))
    )
    # Four hours: at most 5 attempts in the first hour, then 2 an hour.
    assert entry.runtime_data.prices.outage.failures <= 11
    assert not reauth_started(hass)
    entry.runtime_data.client._base_url = url
    await walk(hass, freezer, berlin(2026, 11, 29, 18, 40), timedelta(minutes=5))
    assert hass.states.get(TOMORROW).state == STATE_ON
    # One warning per kind of request that failed (prices; the daily contract check), and
    # one saying tomorrow's prices are late (after 18:00), no more.
    warnings = [record.getMessage() for record in our_records(caplog, logging.WARNING)]
    assert len(warnings) == 3, warnings
    assert sum("prices for 2026-11-30" in message for message in warnings) == 1


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"object": "price", "subscription": "s", "items": []}, "'resolution' is missing"),
        (
            {"object": "price", "subscription": "s", "resolution": "5min", "items": []},
            "'resolution' must be one of",
        ),
        (
            {
                "object": "price",
                "subscription": "s",
                "resolution": "15min",
                "items": [{"amount": 1, "components": []}],
            },
            "'items[0].timestamp' is missing",
        ),
        (
            {
                "object": "price",
                "subscription": "s",
                "resolution": "15min",
                "items": [{"timestamp": "2026-11-30T10:00:00Z", "amount": "12", "components": []}],
            },
            "'items[0].amount' must be a number",
        ),
        (
            {
                "object": "price",
                "subscription": "s",
                "resolution": "15min",
                "items": [
                    {"timestamp": "2026-11-30T10:00:00Z", "amount": 1, "components": []},
                    {"timestamp": "2026-11-30T10:00:00Z", "amount": 2, "components": []},
                ],
            },
            "two prices for 2026-11-30T10:00:00",
        ),
        (
            {"object": "price", "subscription": "s", "resolution": "15min", "items": "truncated"},
            "'items' must be a list",
        ),
    ],
    ids=[
        "missing-field",
        "unknown-resolution",
        "missing-timestamp",
        "mistyped-amount",
        "duplicate",
        "mistyped-items",
    ],
)
async def test_garbage_is_named_in_the_log_and_never_shown(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    at_publication: None,
    body: dict[str, object],
    problem: str,
) -> None:
    """A clear log line names the problem; the cache and the states stay right."""
    freezer.move_to(berlin(2026, 11, 29, 14, 0))
    entry = await add_entry(ANNA)
    before = dict(entry.runtime_data.prices.data)
    simulator.inject(PRICES, body=body)
    await walk(hass, freezer, berlin(2026, 11, 29, 14, 30), timedelta(minutes=5))
    assert problem in caplog.text
    assert entry.runtime_data.prices.data == before
    assert float(hass.states.get(CURRENT).state) == pytest.approx(
        expected(simulator, datetime.now(UTC))
    )


async def test_empty_truncated_and_reordered_series(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    at_publication: None,
) -> None:
    """An empty answer changes nothing; part of tomorrow is kept and the rest asked for;
    intervals out of order are put in order."""
    freezer.move_to(berlin(2026, 11, 29, 14, 0))
    entry = await add_entry(ANNA)
    sub = next(s for s in simulator.subscriptions.values() if s.number == "4X44EMKX")
    items = [
        sub.price_item(berlin(2026, 11, 30, 0, 0) + i * timedelta(minutes=15)) for i in range(40)
    ]
    simulator.inject(
        PRICES,
        body={"object": "price", "subscription": sub.id, "resolution": "15min", "items": []},
        times=1,
    )
    await walk(hass, freezer, berlin(2026, 11, 29, 14, 21), timedelta(minutes=1))
    simulator.inject(
        PRICES,
        body={
            "object": "price",
            "subscription": sub.id,
            "resolution": "15min",
            "items": list(reversed(items)),
        },
        times=1,
    )
    await walk(hass, freezer, berlin(2026, 11, 29, 14, 40), timedelta(minutes=1))
    schedule = entry.runtime_data.prices.data[sub.id]
    tomorrow = schedule.day(berlin(2026, 11, 30, 12, 0).astimezone(BERLIN).date())
    assert len(tomorrow) == 40
    assert [i.start for i in tomorrow] == sorted(i.start for i in tomorrow)
    assert hass.states.get(TOMORROW).state != STATE_ON
    await walk(hass, freezer, berlin(2026, 11, 29, 15, 0), timedelta(minutes=5))
    assert hass.states.get(TOMORROW).state == STATE_ON


GRANT_GONE = "grant gone"
CREDENTIALS_REJECTED = "credentials rejected"
TRANSIENT = "transient"


@pytest.mark.parametrize(
    ("fault", "meaning"),
    [
        ({"status": 400, "body": {"error": "invalid_grant"}}, GRANT_GONE),
        (
            {"status": 401, "body": {"code": "UNAUTHORIZED", "message": "Invalid refresh token"}},
            GRANT_GONE,
        ),
        ({"status": 401, "body": {"error": "invalid_client"}}, CREDENTIALS_REJECTED),
        ({"status": 403, "html": "<html><h1>403 Forbidden</h1></html>"}, TRANSIENT),
        ({"status": 404}, TRANSIENT),
        ({"status": 408}, TRANSIENT),
        ({"status": 400, "body": {"error": "invalid_request"}}, TRANSIENT),
        ({"status": 500}, TRANSIENT),
        ({"status": 503}, TRANSIENT),
        ({"status": 429}, TRANSIENT),
    ],
    ids=lambda value: value if isinstance(value, str) else str(value.get("status")),
)
async def test_token_endpoint_failures(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    at_publication: None,
    issue_registry: ir.IssueRegistry,
    fault: dict[str, Any],
    meaning: str,
) -> None:
    """Reauth only when Nomos says the grant is gone; the cache keeps serving in every case."""
    freezer.move_to(berlin(2026, 11, 29, 14, 0))
    entry = await add_entry(ANNA)
    refresh_token = entry.data["token"]["refresh_token"]
    simulator.inject("POST /oauth/token", **fault)
    freezer.move_to(berlin(2026, 11, 29, 15, 30))  # the access token has expired
    await walk(hass, freezer, berlin(2026, 11, 29, 15, 40), timedelta(minutes=5))
    assert reauth_started(hass) is (meaning == GRANT_GONE)
    credentials_issue = issue_registry.async_get_issue(
        DOMAIN, f"application_credentials_rejected_{entry.entry_id}"
    )
    assert (credentials_issue is not None) is (meaning == CREDENTIALS_REJECTED)
    assert entry.data["token"]["refresh_token"] == refresh_token
    assert float(hass.states.get(CURRENT).state) == pytest.approx(
        expected(simulator, datetime.now(UTC))
    )


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 401, "body": {"code": "UNAUTHORIZED", "message": "Invalid refresh token"}},
        {"status": 401, "body": {"error": "invalid_client"}},
    ],
    ids=["grant", "client"],
)
async def test_recovery_without_the_user(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    at_publication: None,
    issue_registry: ir.IssueRegistry,
    fault: dict[str, Any],
) -> None:
    """Two hours of 401s from the token endpoint, then it answers again: all recovers by itself."""
    freezer.move_to(berlin(2026, 11, 29, 12, 0))
    entry = await add_entry(ANNA)
    simulator.inject("POST /oauth/token", **fault)
    freezer.move_to(berlin(2026, 11, 29, 13, 5))  # the access token has expired
    await walk(hass, freezer, berlin(2026, 11, 29, 15, 5), timedelta(minutes=5))
    assert reauth_started(hass) or issue_registry.async_get_issue(
        DOMAIN, f"application_credentials_rejected_{entry.entry_id}"
    )
    simulator.clear_faults()
    await walk(hass, freezer, berlin(2026, 11, 29, 16, 0), timedelta(minutes=5))
    assert not reauth_started(hass)
    assert not [issue for issue in issue_registry.issues.values() if issue.domain == DOMAIN]
    assert hass.states.get(TOMORROW).state == STATE_ON  # tomorrow's prices came in after all
    for coordinator in (entry.runtime_data.subscriptions, entry.runtime_data.prices):
        assert coordinator.last_update_success
        assert coordinator.outage.failures == 0


async def test_persistent_outage_is_reported_after_a_day(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
    at_publication: None,
) -> None:
    """A transient answer that lasts more than a day gets a repair issue naming it."""
    freezer.move_to(berlin(2026, 11, 29, 12, 0))
    entry = await add_entry(ANNA)
    simulator.inject("POST /oauth/token", status=403, html="<html>Forbidden by proxy</html>")
    issue_id = f"nomos_unreachable_{entry.entry_id}"
    # The first request that fails is for tomorrow's prices at 14:20.
    freezer.move_to(berlin(2026, 11, 29, 13, 5))
    await walk(hass, freezer, berlin(2026, 11, 30, 14, 0), timedelta(minutes=30))
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    await walk(hass, freezer, berlin(2026, 11, 30, 15, 30), timedelta(minutes=30))
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert "HTTP 403" in issue.translation_placeholders["answer"]
    assert not reauth_started(hass)
    simulator.clear_faults()
    await walk(hass, freezer, berlin(2026, 11, 30, 16, 30), timedelta(minutes=10))
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.parametrize("route", ["GET /subscriptions", "POST /oauth/token"])
async def test_timeouts_are_transient(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    route: str,
) -> None:
    """An API call or a token refresh that does not answer in time: cached data, no reauth."""
    entry = await add_entry(ANNA)
    entry.runtime_data.client._timeout = 0.05
    monkeypatch.setattr("custom_components.nomos_energy.nomos_client.auth.TOKEN_TIMEOUT", 0.05)
    if route == "POST /oauth/token":
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, "token": {**entry.data["token"], "expires_at": 0}}
        )
    refresh_token = entry.data["token"]["refresh_token"]
    simulator.inject(route, delay=0.5)
    await entry.runtime_data.subscriptions.async_refresh()
    await hass.async_block_till_done()
    assert "did not answer" in caplog.text
    assert hass.states.get("sensor.nomos_4x44emkx_contract_status").state == "active"
    assert not reauth_started(hass)
    assert entry.data["token"]["refresh_token"] == refresh_token
    simulator.clear_faults()
    # Ordinary time limits again: 50 ms is too little for a busy machine.
    entry.runtime_data.client._timeout = DEFAULT_TIMEOUT
    monkeypatch.setattr(
        "custom_components.nomos_energy.nomos_client.auth.TOKEN_TIMEOUT", TOKEN_TIMEOUT
    )
    await entry.runtime_data.subscriptions.async_refresh()
    assert entry.runtime_data.subscriptions.outage.failures == 0


async def test_unknown_enum_value_keeps_the_cached_contract(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A status Nomos never documented is named in the log; the known one stays."""
    entry = await add_entry(ANNA)
    listed = await entry.runtime_data.client.list_subscriptions()
    item = {**listed[0].to_json(), "status": "suspended", "customer": listed[0].customer_id}
    simulator.inject(
        "GET /subscriptions", body={"object": "list", "items": [item], "has_more": False}, times=1
    )
    await entry.runtime_data.subscriptions.async_refresh()
    await hass.async_block_till_done()
    assert (
        "'items[0].status' must be one of pending, active, ended (got 'suspended')" in caplog.text
    )
    assert hass.states.get("sensor.nomos_4x44emkx_contract_status").state == "active"
