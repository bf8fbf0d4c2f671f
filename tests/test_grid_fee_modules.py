"""§14a modules and smart-meter orders: sensors, repairs, daily fetching, refusals, the cache."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
import json
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir, translation
from homeassistant.helpers.json import JSONEncoder
import pytest

from custom_components.nomos_energy.cache import NomosCache
from custom_components.nomos_energy.companion_state import RECHECK_EMPTY, CompanionState
from custom_components.nomos_energy.const import DOMAIN
from custom_components.nomos_energy.diagnostics import async_get_config_entry_diagnostics
from custom_components.nomos_energy.nomos_client.models import Fields, GridFeeReduction, MeterOrder
from custom_components.nomos_energy.price_schedule import local_date
from nomos_simulator import (
    ANALOG_CLIENT_ID,
    ANALOG_CLIENT_SECRET,
    NomosSimulator,
)

from .conftest import ANNA, BEN, DAVID, FELIX, HANNA, AddEntry, personal_flow
from .timetravel import berlin, travel

REDUCTIONS = "GET /grid-fee-reductions"
ORDERS = "GET /meter-orders"
COMPANION = (REDUCTIONS, ORDERS)
FELIX_MODULE = "sensor.nomos_f3l1xh0m_grid_fee_module"
FELIX_ORDER = "sensor.nomos_f3l1xh0m_smart_meter_order"
DAVID_MODULE = "sensor.nomos_d4v1danl_grid_fee_module"
DAVID_ORDER = "sensor.nomos_d4v1danl_smart_meter_order"
START = berlin(2026, 11, 29, 15, 0)


def sub_id(simulator: NomosSimulator, number: str) -> str:
    return next(sub.id for sub in simulator.subscriptions.values() if sub.number == number)


def item_of(simulator: NomosSimulator, number: str, items: dict[str, dict[str, Any]]) -> str:
    wanted = sub_id(simulator, number)
    return next(key for key, item in items.items() if item["subscription"] == wanted)


def companion_issues(hass: HomeAssistant) -> dict[str, dict[str, str]]:
    return {
        issue_id: dict(issue.translation_placeholders or {})
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue_id.startswith(("grid_fee_module", "smart_meter_order"))
    }


def companion_requests(simulator: NomosSimulator) -> list[int]:
    return [simulator.count(route) for route in COMPANION]


async def next_daily_run(hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: Any) -> None:
    """Run the entry's daily imports up to and including the next Berlin day's."""
    today = local_date(datetime.now(UTC))
    while True:
        moment = entry.runtime_data.energy.due_at + timedelta(minutes=1)
        await travel(hass, freezer, moment)
        if local_date(moment) > today:
            return


@pytest.fixture
def add(add_entry: AddEntry, freezer: FrozenDateTimeFactory) -> AddEntry:
    """Add entries at 15:00 Berlin on 29 November 2026 (before the daily import)."""
    freezer.move_to(START)
    return add_entry


async def test_each_contract_with_a_module_or_an_order_gets_its_sensors(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add: AddEntry,
) -> None:
    """Felix's home contract: module 2 ordered after module 1 ended, a held-up order."""
    entry = await add(FELIX)
    module = hass.states.get(FELIX_MODULE)
    assert module.state == "ordered"
    assert module.attributes["module"] == 2
    assert module.attributes["type"] == "enwg-14a-module-2"
    assert module.attributes["modules"] == {"1": "ended", "2": "ordered"}
    assert module.attributes["friendly_name"] == "Nomos F3L1XH0M Grid fee module"
    order = hass.states.get(FELIX_ORDER)
    assert order.state == "placed"
    assert order.attributes["provider"] == "inexogy"
    assert order.attributes["blocked_reason"] == "grid_operator_registration"
    # In Home Assistant's time zone (the tests run in US/Pacific).
    assert order.attributes["blocked"] == "2026-10-05T02:00:00-07:00"
    # The solar contract pays no grid fees: nothing asked about it, no sensors.
    registry = er.async_get(hass)
    keys = {
        e.unique_id.split("-", 1)[1]
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if e.unique_id.startswith(sub_id(simulator, "F3L1XS0L"))
    }
    assert not keys & {"grid_fee_module", "smart_meter_order"}
    asked = [query for route, query in simulator.query_log if route == REDUCTIONS]
    assert asked == [f"limit=100&filter[subscription][in]={sub_id(simulator, 'F3L1XH0M')}"]


@pytest.mark.parametrize(
    ("language", "order_ids", "names"),
    [
        (
            "en",
            "smart_meter_order",
            ["Created", "Site check submitted", "Site check reviewed", "Installed"],
        ),
        (
            "de",
            "bestellung_des_intelligenten_messsystems",
            [
                "Angelegt",
                "Vor-Ort-Prüfung eingereicht",
                "Vor-Ort-Prüfung abgeschlossen",
                "Eingebaut",
            ],
        ),
    ],
)
async def test_every_order_step_reads_as_words(
    hass: HomeAssistant, add: AddEntry, language: str, order_ids: str, names: list[str]
) -> None:
    """Hanna's four flats: an order just created, its site check submitted and reviewed,
    and a meter installed but not yet switched on, each a translated state."""
    hass.config.language = language
    await add(HANNA)
    steps = ["created", "check_submitted", "check_reviewed", "installed"]
    flats = ["h4nn4eg1", "h4nn4og2", "h4nn4og3", "h4nn4dg4"]
    states = [hass.states.get(f"sensor.nomos_{flat}_{order_ids}") for flat in flats]
    assert [state.state for state in states] == steps
    translated = await translation.async_get_translations(hass, language, "entity", [DOMAIN])
    prefix = f"component.{DOMAIN}.entity.sensor.smart_meter_order.state."
    assert [translated[prefix + step] for step in steps] == names
    # Installed, not yet switched on: the installation is there, the activation not.
    assert states[3].attributes["installed"] is not None
    assert states[3].attributes.get("activated") is None


@pytest.mark.default_entities
async def test_they_start_disabled_and_only_where_there_is_something(
    hass: HomeAssistant, add: AddEntry
) -> None:
    """Not daily questions: disabled by default; Anna and Ben have none at all."""
    david = await add(DAVID)
    registry = er.async_get(hass)
    for entity_id in (DAVID_MODULE, DAVID_ORDER):
        assert registry.async_get(entity_id).disabled_by is er.RegistryEntryDisabler.INTEGRATION
    for email in (ANNA, BEN):
        entry = await add(email)
        unique_ids = [
            e.unique_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        ]
        assert not [u for u in unique_ids if u.endswith(("grid_fee_module", "smart_meter_order"))]
    assert david.state is ConfigEntryState.LOADED


async def test_order_walks_to_activation_and_its_repairs_follow(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Blocked: a repair; unblocked and on through every milestone: none; one state a day."""
    entry = await add(FELIX)
    home = sub_id(simulator, "F3L1XH0M")
    assert companion_issues(hass) == {
        f"smart_meter_order_blocked_{home}": {
            "number": "F3L1XH0M",
            "contact": "support@nomos.energy",
            "provider": "inexogy",
            "reason": "grid\\_operator\\_registration",  # literal text, never Markdown
        }
    }
    order = item_of(simulator, "F3L1XH0M", simulator.meter_orders)
    simulator.update_companion(order, blocked_reason=None, status="check_submitted")
    await next_daily_run(hass, freezer, entry)
    assert hass.states.get(FELIX_ORDER).state == "check_submitted"
    assert hass.states.get(FELIX_ORDER).attributes["blocked"] is None
    assert companion_issues(hass) == {}
    for status in ("check_reviewed", "scheduled", "installed", "activated"):
        simulator.update_companion(order, status=status)
        await next_daily_run(hass, freezer, entry)
        assert hass.states.get(FELIX_ORDER).state == status
        assert companion_issues(hass) == {}
    attributes = hass.states.get(FELIX_ORDER).attributes
    assert attributes["installed"] is not None
    assert attributes["activated"] is not None
    # Blocked again (the check is missing): the repair is back with the new reason.
    simulator.update_companion(order, blocked_reason="check_missing")
    await next_daily_run(hass, freezer, entry)
    assert companion_issues(hass)[f"smart_meter_order_blocked_{home}"]["reason"] == (
        "check\\_missing"
    )


async def test_rejected_module_and_cancelled_order_raise_repairs_until_they_change(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """David: module 2 rejected (a repair) until ordered again; his order cancelled, then new."""
    entry = await add(DAVID)
    david = sub_id(simulator, "D4V1DANL")
    rejected = f"grid_fee_module_rejected_{david}_2"
    assert set(companion_issues(hass)) == {rejected}
    assert companion_issues(hass)[rejected]["module"] == "2"
    assert hass.states.get(DAVID_MODULE).state == "rejected"

    # Ordered again after the rejection: the newest reduction of module 2 counts.
    module = simulator.add_reduction(
        david, "enwg-14a-module-2", "ordered", created_at="2026-11-29T20:00:00Z"
    )
    order = item_of(simulator, "D4V1DANL", simulator.meter_orders)
    simulator.update_companion(order, status="cancelled")
    await next_daily_run(hass, freezer, entry)
    assert hass.states.get(DAVID_MODULE).state == "ordered"
    assert hass.states.get(DAVID_MODULE).attributes["modules"] == {"2": "ordered"}
    assert hass.states.get(DAVID_ORDER).state == "cancelled"
    assert hass.states.get(DAVID_ORDER).attributes["cancelled_reason"] == "customer_request"
    assert set(companion_issues(hass)) == {f"smart_meter_order_cancelled_{david}"}

    # A new order replaces the cancelled one; the module is activated, then ends.
    simulator.add_meter_order(david, "metrify", "created", created_at="2026-12-01T09:00:00Z")
    simulator.update_companion(module, status="activated")
    await next_daily_run(hass, freezer, entry)
    assert hass.states.get(DAVID_ORDER).state == "created"
    assert hass.states.get(DAVID_ORDER).attributes["provider"] == "metrify"
    assert hass.states.get(DAVID_MODULE).state == "activated"
    assert hass.states.get(DAVID_MODULE).attributes["valid_from"] is not None
    assert companion_issues(hass) == {}
    simulator.update_companion(module, status="ended")
    await next_daily_run(hass, freezer, entry)
    assert hass.states.get(DAVID_MODULE).state == "ended"
    assert hass.states.get(DAVID_MODULE).attributes["valid_until"] is not None


async def test_at_most_one_request_a_day_and_none_where_there_is_nothing(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Felix: once a day per endpoint. Anna (nothing there): not daily, again after 30 days."""
    felix = await add(FELIX)
    anna = await add(ANNA)
    anna_sub = sub_id(simulator, "4X44EMKX")

    def asked_for(subscription: str) -> int:
        return sum(
            1
            for route, query in simulator.query_log
            if route in COMPANION and subscription in query
        )

    assert asked_for(anna_sub) == 2
    assert asked_for(sub_id(simulator, "F3L1XH0M")) == 2
    # A reload and a manual update the same day ask nothing.
    await hass.config_entries.async_reload(felix.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await felix.runtime_data.energy.companion.async_refresh()
    await felix.runtime_data.energy.companion.async_daily()
    assert asked_for(sub_id(simulator, "F3L1XH0M")) == 2
    for day in range(1, 5):
        await next_daily_run(hass, freezer, felix)  # Anna's import runs on the way
        assert asked_for(sub_id(simulator, "F3L1XH0M")) == 2 + 2 * day
        assert asked_for(anna_sub) == 2
    # A smart-meter order placed meanwhile shows up when the month is over.
    simulator.add_meter_order(anna_sub, "metrify", "created")
    first_asked = anna.runtime_data.energy.companion.data.asked_at["meter_orders"]
    for _ in range(40):
        await next_daily_run(hass, freezer, anna)
        if asked_for(anna_sub) > 2:
            break
    assert asked_for(anna_sub) == 4
    assert RECHECK_EMPTY <= datetime.now(UTC) - first_asked < RECHECK_EMPTY + timedelta(days=1)
    assert hass.states.get("sensor.nomos_4x44emkx_smart_meter_order").state == "created"


@pytest.mark.parametrize("status", [403, 404])
async def test_a_sign_in_that_may_not_read_them_turns_the_feature_off_quietly(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add: AddEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    """One log line, no repair, no retry the same day, a diagnostics flag; back when allowed."""
    simulator.refuse_companion("sign-in", status)
    caplog.set_level(logging.INFO, logger="custom_components.nomos_energy")
    entry = await add(DAVID)
    lines = [
        record
        for record in caplog.records
        if record.name.startswith("custom_components.nomos_energy")
        and "/grid-fee-reductions" in record.getMessage()
    ]
    assert len(lines) == 1
    assert lines[0].levelno == logging.INFO
    assert f"HTTP {status}" in lines[0].getMessage()
    for secret in (entry.data["token"]["access_token"], entry.data["token"]["refresh_token"]):
        assert secret not in caplog.text
    assert companion_issues(hass) == {}
    assert hass.states.get(DAVID_MODULE) is None
    assert companion_requests(simulator) == [1, 1]
    diagnostics = json.loads(
        json.dumps(await async_get_config_entry_diagnostics(hass, entry), cls=JSONEncoder)
    )
    assert diagnostics["companion"]["grid_fee_reductions"]["refused"] == status
    assert diagnostics["companion"]["meter_orders"]["refused"] == status

    # No retry before the next day: the evening, a reload, a manual refresh.
    await travel(hass, freezer, berlin(2026, 11, 29, 23, 30))
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await entry.runtime_data.energy.async_refresh()
    assert companion_requests(simulator) == [1, 1]
    # The next day once more; still refused: no second log line.
    caplog.clear()
    await next_daily_run(hass, freezer, entry)
    assert companion_requests(simulator) == [2, 2]
    assert "grid-fee-reductions" not in caplog.text
    # Allowed again: the sensors and the repair appear with the next day's import.
    simulator.refuse_companion("sign-in", None)
    await next_daily_run(hass, freezer, entry)
    assert hass.states.get(DAVID_MODULE).state == "rejected"
    assert set(companion_issues(hass)) == {
        f"grid_fee_module_rejected_{sub_id(simulator, 'D4V1DANL')}_2"
    }
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["companion"]["grid_fee_reductions"]["refused"] is None
    assert diagnostics["companion"]["grid_fee_reductions"]["items"] == ["rejected"]


async def test_personal_api_credentials_read_them(
    hass: HomeAssistant, simulator: NomosSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Where the sign-in's tokens are refused, David's personal credentials are not."""
    simulator.refuse_companion("sign-in", 403)
    freezer.move_to(START)
    result = await personal_flow(hass, ANALOG_CLIENT_ID, ANALOG_CLIENT_SECRET)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert result["result"].state is ConfigEntryState.LOADED
    assert hass.states.get(DAVID_MODULE).state == "rejected"
    assert hass.states.get(DAVID_ORDER).state == "scheduled"
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_cached_after_a_restart_with_nomos_unreachable(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add: AddEntry,
    hass_storage: dict[str, Any],
) -> None:
    """The same states and repairs at once; not a request."""
    entry = await add(FELIX)
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    stored = hass_storage[f"{DOMAIN}.{entry.entry_id}"]["data"]["companion"]
    assert stored["asked_at"].keys() == {"grid_fee_reductions", "meter_orders"}
    simulator.requests.clear()
    for route in (*COMPANION, "GET /subscriptions", "POST /oauth/token"):
        simulator.inject(route, status=503)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(FELIX_MODULE).state == "ordered"
    assert hass.states.get(FELIX_ORDER).state == "placed"
    assert set(companion_issues(hass)) == {
        f"smart_meter_order_blocked_{sub_id(simulator, 'F3L1XH0M')}"
    }
    assert companion_requests(simulator) == [0, 0]


async def test_a_damaged_section_is_dropped_alone_and_fetched_again(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add: AddEntry,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unreadable companion section: one warning, the rest of the cache kept, asked again."""
    entry = await add(FELIX)
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    key = f"{DOMAIN}.{entry.entry_id}"
    data = copy.deepcopy(hass_storage[key])
    data["data"]["companion"]["meter_orders"][0]["status"] = 7
    hass_storage[key] = data
    simulator.requests.clear()
    caplog.clear()
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "Ignoring the damaged Nomos cache parts: companion" in warnings
    assert simulator.count("GET /subscriptions") == 0  # the subscriptions came from the cache
    assert companion_requests(simulator) == [1, 1]
    assert hass.states.get(FELIX_ORDER).state == "placed"


async def test_cache_form_and_unknown_values(hass: HomeAssistant) -> None:
    """Statuses a newer API adds are kept and shown as unknown; the cache form reads back."""
    reduction = GridFeeReduction.from_fields(
        Fields(
            {
                "id": "gfr_1",
                "subscription": "sub_a",
                "type": "enwg-14b-smart-grid",
                "status": "paused",
                "valid_from": None,
                "valid_until": None,
            }
        )
    )
    assert (reduction.status, reduction.module, reduction.created_at) == ("paused", None, None)
    order = MeterOrder.from_fields(
        Fields({"id": "prdo_1", "subscription": "sub_a", "provider": "new", "status": "x"})
    )
    state = CompanionState(reductions=(reduction,), orders=(order,), refused={"meter_orders": 404})
    assert CompanionState.from_json(json.loads(json.dumps(state.to_json()))) == state
    with pytest.raises(TypeError):
        CompanionState.from_json([])
    cache = NomosCache(hass, "x")
    cache.companion = state
    assert cache._data_to_save()["companion"] == state.to_json()


async def test_an_unknown_status_shows_as_unknown(
    hass: HomeAssistant,
    simulator: NomosSimulator,
    add: AddEntry,
) -> None:
    """A status a newer API version sends: the sensor is unknown, nothing fails."""
    order = item_of(simulator, "D4V1DANL", simulator.meter_orders)
    simulator.update_companion(order, status="rescheduled", provider="someone-new")
    entry = await add(DAVID)
    assert hass.states.get(DAVID_ORDER).state == STATE_UNKNOWN
    assert hass.states.get(DAVID_ORDER).attributes["provider"] == "someone-new"
    assert entry.state is ConfigEntryState.LOADED
