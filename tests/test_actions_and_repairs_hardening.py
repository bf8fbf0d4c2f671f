"""Actions and repairs hold up: users without rights, absurd input, hostile text from the API.

Also: diagnostics keep only what support needs, and the log says when another API than
Nomos's is in use.
"""

from __future__ import annotations

from datetime import UTC, datetime
import json
import logging
from pathlib import Path
import re
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.json import JSONEncoder
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.nomos_energy.const import DOMAIN
from custom_components.nomos_energy.diagnostics import async_get_config_entry_diagnostics
from custom_components.nomos_energy.invoice_check import InvoiceCheck
from custom_components.nomos_energy.issues import (
    async_update_invoice_issue,
    error_reference,
    markdown_safe,
)
from custom_components.nomos_energy.nomos_client import (
    Invoice,
    NomosServerError,
    NomosTimeoutError,
)
from custom_components.nomos_energy.services import ACTIONS
from nomos_simulator import ANALOG_CLIENT_ID, ANALOG_CLIENT_SECRET, DEMO_CLIENT_ID, NomosSimulator

from .conftest import ANNA, BEN, AddEntry, personal_flow, unescaped_markdown
from .timetravel import berlin

TRANSLATIONS = Path(__file__).parents[1] / "custom_components/nomos_energy/translations"
METER_READINGS = "POST /meter-readings"
# Text an API could send where a name or number belongs.
HOSTILE = "[link](http://evil) **bold** <img src=x>\nsecond line `code` www.evil.example"


# What an appliance's own buttons do as well (skip, plan again): open to every user.
PLANNER_ACTIONS = {"plan_appliance_run", "skip_appliance_run"}


async def call(
    hass: HomeAssistant, action: str, data: dict[str, Any], user: MockUser | None = None
) -> Any:
    return await hass.services.async_call(
        DOMAIN,
        action,
        data,
        blocking=True,
        # The planner's actions answer nothing: asking them for a response is an error.
        return_response=action not in PLANNER_ACTIONS,
        context=Context(user_id=user.id) if user else None,
    )


@pytest.fixture
async def anna(
    hass: HomeAssistant, add_entry: AddEntry, freezer: FrozenDateTimeFactory
) -> MockConfigEntry:
    """Anna (smart meter) at 16:00 Berlin: today's and tomorrow's prices cached."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(berlin(2026, 11, 29, 16, 0))
    return await add_entry(ANNA)


@pytest.fixture
async def david_writes(
    hass: HomeAssistant, simulator: NomosSimulator, freezer: FrozenDateTimeFactory
) -> MockConfigEntry:
    """David (analog meter) with personal credentials that may submit meter readings."""
    freezer.move_to(datetime(2026, 11, 29, 9, tzinfo=UTC))
    result = await personal_flow(hass, ANALOG_CLIENT_ID, ANALOG_CLIENT_SECRET)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    return result["result"]


def assert_translated(error: ServiceValidationError, key: str) -> None:
    """The error is ours, and both languages say it with every placeholder filled."""
    assert error.translation_domain == DOMAIN
    assert error.translation_key == key
    for language in ("en", "de"):
        message = json.loads((TRANSLATIONS / f"{language}.json").read_text())["exceptions"][key][
            "message"
        ]
        assert set(re.findall(r"{(\w+)}", message)) == set(error.translation_placeholders or {})


# 1. Actions that change something are for administrators -----------------------------


async def test_a_read_only_user_cannot_submit_a_meter_reading(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    david_writes: MockConfigEntry,
    hass_read_only_user: MockUser,
    hass_admin_user: MockUser,
) -> None:
    """The reading reaches Nomos only when an administrator sends it."""
    reading = {"value": 12500, "date": "2026-11-28"}
    with pytest.raises(Unauthorized):
        await call(hass, "submit_meter_reading", reading, hass_read_only_user)
    assert simulator.count(METER_READINGS) == 0
    response = await call(hass, "submit_meter_reading", reading, hass_admin_user)
    assert response["value"] == 12500
    assert simulator.count(METER_READINGS) == 1


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("submit_meter_reading", {"value": 12500}),
        ("import_statistics", {"start": "2026-11-01"}),
    ],
)
async def test_changing_actions_refuse_users_who_are_not_administrators(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    anna: MockConfigEntry,
    hass_read_only_user: MockUser,
    action: str,
    data: dict[str, Any],
) -> None:
    """Refused before anything is asked of Nomos or written to the statistics."""
    simulator.requests.clear()
    with pytest.raises(Unauthorized):
        await call(hass, action, data, hass_read_only_user)
    assert simulator.requests == {}


READ_ONLY_CALLS = {
    "get_prices": {},
    "find_cheapest_window": {"duration": "01:00:00"},
    "get_consumption": {"start": "2026-11-20", "end": "2026-11-22"},
    "get_invoices": {},
    "get_cost_report": {"start": "2026-11-20", "end": "2026-11-22"},
    "compare_grid_fee_options": {},
}


def test_only_actions_that_change_something_are_for_administrators() -> None:
    """Every action is read-only (below), a planner's (as its buttons), or for administrators:
    those write to Nomos or to the statistics."""
    assert {name for name, action in ACTIONS.items() if action.admin} == {
        "submit_meter_reading",
        "import_statistics",
    }
    assert set(ACTIONS) - set(READ_ONLY_CALLS) - PLANNER_ACTIONS == {
        "submit_meter_reading",
        "import_statistics",
    }


@pytest.mark.parametrize(("action", "data"), READ_ONLY_CALLS.items(), ids=list(READ_ONLY_CALLS))
async def test_read_only_actions_stay_open_to_every_user(
    hass: HomeAssistant,
    anna: MockConfigEntry,
    hass_read_only_user: MockUser,
    action: str,
    data: dict[str, Any],
) -> None:
    """Asking is allowed to everyone who may use Home Assistant: an answer, not Unauthorized."""
    response = await call(hass, action, data, hass_read_only_user)
    assert response.get("unit") in ("EUR/kWh", "kWh") or response.get("currency") == "EUR"


# 2. Input that overflows or is no number gives a translated error, and no request ------

OUT_OF_RANGE = [
    ("get_prices", {"start": "0001-01-01T00:00:00+05:00"}, "day_out_of_range"),
    ("get_prices", {"end": "9999-12-31T23:59:59-05:00"}, "day_out_of_range"),
    ("get_prices", {"start": "2000-01-01 00:00", "end": "2099-12-31 00:00"}, "range_too_long"),
    (
        "find_cheapest_window",
        {"duration": "01:00", "earliest_start": "0001-01-01T00:00:00+05:00"},
        "day_out_of_range",
    ),
    (
        "find_cheapest_window",
        {"duration": "01:00", "latest_end": "9999-12-31T23:59:59-14:00"},
        "day_out_of_range",
    ),
    ("find_cheapest_window", {"duration": {"days": 1e10}}, "input_too_large"),
    ("find_cheapest_window", {"duration": "99999999999:00"}, "input_too_large"),
    ("find_cheapest_window", {"duration": "inf"}, "input_too_large"),
    ("find_cheapest_window", {"duration": 1e20}, "input_too_large"),
    ("find_cheapest_window", {"duration": "01:00", "power": float("nan")}, "number_out_of_range"),
    ("find_cheapest_window", {"duration": "01:00", "power": "inf"}, "number_out_of_range"),
    ("find_cheapest_window", {"duration": "01:00", "power": 10**400}, "number_out_of_range"),
    ("find_cheapest_window", {"duration": "01:00", "power": 1e300}, "number_out_of_range"),
    (
        "find_cheapest_window",
        {
            "duration": {"days": 40000},
            "earliest_start": "2000-01-01 00:00",
            "latest_end": "2099-12-31 00:00",
        },
        "window_longer_than_range",
    ),
    ("get_consumption", {"start": "0001-01-01", "end": "2026-11-01"}, "day_out_of_range"),
    ("get_consumption", {"start": "2026-11-01", "end": "9999-12-31"}, "day_out_of_range"),
    ("get_consumption", {"start": "2000-01-01", "end": "2099-12-31"}, "range_too_long"),
    ("get_cost_report", {"month": "9999-12"}, "day_out_of_range"),
    ("get_cost_report", {"month": "1999-12"}, "day_out_of_range"),
    ("get_cost_report", {"start": "0001-01-01"}, "day_out_of_range"),
    ("get_cost_report", {"start": "2000-01-01", "end": "2099-12-31"}, "range_too_long"),
    ("import_statistics", {"start": "0001-01-01"}, "day_out_of_range"),
    ("import_statistics", {"start": "2026-11-01", "end": "9999-12-31"}, "day_out_of_range"),
    ("import_statistics", {"start": "2000-01-01"}, "range_too_long"),
    ("submit_meter_reading", {"value": float("nan")}, "number_out_of_range"),
    ("submit_meter_reading", {"value": "nan"}, "number_out_of_range"),
    ("submit_meter_reading", {"value": float("inf")}, "number_out_of_range"),
    ("submit_meter_reading", {"value": "-inf"}, "number_out_of_range"),
    ("submit_meter_reading", {"value": "1e400"}, "number_out_of_range"),
    ("submit_meter_reading", {"value": 10**400}, "number_out_of_range"),
    ("submit_meter_reading", {"value": -5}, "number_out_of_range"),
    ("submit_meter_reading", {"value": 12500, "date": "9999-12-31"}, "day_out_of_range"),
    ("plan_appliance_run", {"device_id": "x", "done_by": "9999-12-31 23:00"}, "day_out_of_range"),
    (
        "plan_appliance_run",
        {"device_id": "x", "done_by": "2026-12-01 23:00", "not_before": "0001-01-01 00:00"},
        "day_out_of_range",
    ),
    ("skip_appliance_run", {"device_id": "x", "day": "0001-01-01"}, "day_out_of_range"),
]


def test_every_action_with_numbers_or_times_is_tried() -> None:
    """get_invoices and compare_grid_fee_options have no number, day or time to check."""
    assert {action for action, _, _ in OUT_OF_RANGE} == set(ACTIONS) - {
        "get_invoices",
        "compare_grid_fee_options",
    }


@pytest.mark.parametrize(
    ("action", "data", "key"),
    OUT_OF_RANGE,
    ids=[f"{action}-{'-'.join(map(str, data.values()))[:40]}" for action, data, _ in OUT_OF_RANGE],
)
async def test_out_of_range_input_is_refused_with_a_translated_error(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    anna: MockConfigEntry,
    action: str,
    data: dict[str, Any],
    key: str,
) -> None:
    simulator.requests.clear()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, action, data)
    assert_translated(err.value, key)
    assert simulator.requests == {}


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), "-inf", "1e400", 10**400],
    ids=["nan", "inf", "-inf", "1e400", "10**400"],
)
async def test_a_meter_reading_that_is_no_number_never_reaches_nomos(
    hass: HomeAssistant, simulator: NomosSimulator, david_writes: MockConfigEntry, value: Any
) -> None:
    """With credentials that could send it: refused before any request."""
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "submit_meter_reading", {"value": value, "date": "2026-11-28"})
    assert_translated(err.value, "number_out_of_range")
    assert err.value.translation_placeholders == {"field": "value", "largest": "99999999"}
    assert simulator.count(METER_READINGS) == 0


async def test_the_first_and_last_accepted_days_still_work(
    hass: HomeAssistant, anna: MockConfigEntry
) -> None:
    """Far out, but within the range: an answer, not a crash."""
    response = await call(
        hass,
        "get_prices",
        {"start": "2099-12-31T23:00:00+14:00", "end": "2099-12-31T23:45:00+14:00"},
    )
    assert response["unit"] == "EUR/kWh"
    response = await call(hass, "get_cost_report", {"month": "2099-12"})
    assert response["end"] == "2099-12-31"


# 3. Text from the API is literal text in Repairs ---------------------------------------


def test_markdown_safe() -> None:
    """One short line of literal text: no link, image, emphasis, tag or second line."""
    safe = markdown_safe(HOSTILE)
    assert unescaped_markdown(safe) == []
    assert "\n" not in safe
    assert safe.startswith(r"\[link\]\(http\://evil\) \*\*bold\*\* \<img src=x\> second line")
    long = markdown_safe(HOSTILE * 3)  # cut to 80 characters as shown
    assert len(long.replace("\\", "")) == 80
    assert long.endswith("…")
    assert unescaped_markdown(long) == []
    assert markdown_safe("B3NFL4T7-001") == "B3NFL4T7-001"  # ordinary numbers stay as they are
    assert markdown_safe("a\u202eb\u0000c\td", limit=5) == "abc d"


def test_error_reference_shows_code_and_request_id_only() -> None:
    """What support needs of a failed request, never Nomos's free text."""
    error = NomosServerError(HOSTILE, status=503, code="unavailable", request_id="req_1*2")
    assert error_reference(error) == r"HTTP 503 unavailable \(req\_1\*2\)"
    assert error_reference(NomosTimeoutError(HOSTILE)) == "NomosTimeoutError"


async def test_a_contract_number_from_the_api_is_literal_in_its_repair(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: NomosSimulator,
    add_entry: AddEntry,
) -> None:
    """The ended contract's issue and its fix flow show the number as text."""
    assert await async_setup_component(hass, "repairs", {})
    old = next(sub for sub in simulator.subscriptions.values() if sub.number == "B3N0LD22")
    old.number = HOSTILE
    await add_entry(BEN)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"subscription_ended_{old.id}")
    assert issue is not None
    number = issue.translation_placeholders["number"]
    assert number == markdown_safe(HOSTILE)
    assert unescaped_markdown(number) == []
    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue.issue_id}
    )
    flow = await response.json()
    assert flow["description_placeholders"] == {"number": markdown_safe(HOSTILE)}


async def test_an_invoice_number_from_the_api_is_literal_in_its_repair(
    hass: HomeAssistant,
) -> None:
    invoice = Invoice(
        id="inv_1",
        subscription_id="sub_1",
        number=HOSTILE,
        type="usage",
        status="open",
        year=2026,
        month=11,
        period_number=1,
        period_start=berlin(2026, 11, 1, 0, 0),
        period_end=berlin(2026, 12, 1, 0, 0),
        usage=250.0,
        total=80.0,
        issued_at=None,
        paid_at=None,
        voids=None,
    )
    check = InvoiceCheck(invoice_kwh=250.0, metered_kwh=200.0, energy_cost_eur=None)
    async_update_invoice_issue(hass, "sub_1", "**4X44EMKX**", invoice, check)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "invoice_mismatch_sub_1")
    assert issue is not None
    placeholders = issue.translation_placeholders
    assert placeholders["invoice"] == markdown_safe(HOSTILE)
    assert placeholders["number"] == r"\*\*4X44EMKX\*\*"
    assert placeholders["difference"] == "+50.0"  # our own numbers stay as they are


# 4. Diagnostics: what support needs, nothing that identifies the customer --------------


async def test_diagnostics_leave_out_what_identifies_the_customer(
    hass: HomeAssistant, simulator: NomosSimulator, add_entry: AddEntry
) -> None:
    """Ids, contract numbers and the client id in the credentials' name stay home."""
    entry = await add_entry(BEN)
    # Application credentials added in the UI are named after their client id.
    ui_named = f"{DOMAIN}_{DEMO_CLIENT_ID.lower()}"
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "auth_implementation": ui_named}
    )
    diagnostics = json.loads(
        json.dumps(await async_get_config_entry_diagnostics(hass, entry), cls=JSONEncoder)
    )
    text = json.dumps(diagnostics)
    customer = simulator.customer_by_email(BEN)
    assert customer is not None
    subscriptions = [s for s in simulator.subscriptions.values() if s.customer.id == customer.id]
    for identifying in (
        DEMO_CLIENT_ID.lower(),
        customer.id,
        *(sub.id for sub in subscriptions),
        *(sub.number for sub in subscriptions),
    ):
        assert identifying not in text.lower()
    # What support needs is still there.
    assert [sub["status"] for sub in diagnostics["subscriptions"]] == ["active", "ended"]
    assert [sub["plan_id"] for sub in diagnostics["subscriptions"]] == [
        sub.plan_id for sub in entry.runtime_data.subscriptions.data.subscriptions.values()
    ]
    assert diagnostics["entry"]["data"]["token"]["scope"] == "read:*"
    first = diagnostics["subscriptions"][0]["subscription"]
    assert diagnostics["prices"]["schedules"][first]["intervals"] > 0


async def test_diagnostics_show_the_last_failure_without_its_text(
    hass: HomeAssistant, add_entry: AddEntry
) -> None:
    """Kind, status and request id for support; the text names the contract's request."""
    entry = await add_entry(ANNA)
    sub_id = next(iter(entry.runtime_data.subscriptions.data.subscriptions))
    cause = NomosServerError(
        f"Nomos answered GET /subscriptions/{sub_id} with HTTP 503",
        status=503,
        code="unavailable",
        request_id="req_42",
    )
    failure = UpdateFailed("Could not update from Nomos")
    failure.__cause__ = cause
    entry.runtime_data.subscriptions.last_exception = failure
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["coordinator"]["last_exception"] == {
        "type": "NomosServerError",
        "status": 503,
        "code": "unavailable",
        "request_id": "req_42",
    }
    assert sub_id not in json.dumps(diagnostics, cls=JSONEncoder)


# 5. The log says when another API than Nomos's is in use -------------------------------


def override_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and "NOMOS_ENERGY_API_URL" in record.getMessage()
    ]


async def test_the_log_says_once_that_another_api_is_in_use(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add_entry: AddEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One warning per run, however many entries are set up, naming the host."""
    await add_entry(ANNA)
    await add_entry(BEN)
    warnings = override_warnings(caplog)
    assert len(warnings) == 1
    assert "127.0.0.1" in warnings[0]


async def test_the_warning_names_the_host_only(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never a user name or password that the URL may hold."""
    monkeypatch.setenv("NOMOS_ENERGY_API_URL", "https://demo:s3cret@sandbox.example:8443/v1")
    assert await async_setup_component(hass, DOMAIN, {})
    assert override_warnings(caplog) == [
        "NOMOS_ENERGY_API_URL is set: Nomos Energy talks to sandbox.example instead of "
        "Nomos's API (meant for the simulator and tests only)"
    ]
    assert "s3cret" not in caplog.text


async def test_nothing_is_said_while_the_real_api_is_in_use(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOMOS_ENERGY_API_URL", raising=False)
    assert await async_setup_component(hass, DOMAIN, {})
    assert override_warnings(caplog) == []
