"""The simulator's §14a modules, meter orders and quotes: curie shapes, controls, refusals."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime
import json
from typing import Any

import aiohttp
from openapi_schema_validator import OAS30Validator
import pytest

from custom_components.nomos_energy.nomos_client import NomosClient, StaticTokenProvider
from custom_components.nomos_energy.nomos_client.models import (
    GRID_FEE_REDUCTION_STATUSES,
    METER_ORDER_STATUSES,
)
from nomos_simulator import ORGANISATION_CLIENT_ID, NomosSimulator

from .conftest import ANNA, BEN, CLARA, DAVID, EMMA, FELIX, GRETA
from .test_simulator import SPEC_PATH, bearer, schema_for

EVERYONE = (ANNA, BEN, CLARA, DAVID, EMMA, FELIX, GRETA)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())


@pytest.fixture
async def http(simulator: NomosSimulator) -> AsyncGenerator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=simulator.url) as session:
        yield session


async def test_responses_conform_to_curie_spec(
    simulator: NomosSimulator, http: aiohttp.ClientSession, spec: dict[str, Any]
) -> None:
    """Lists, single items, quotes and refusals validate against Nomos's curie spec."""
    simulator.clock.set(datetime(2026, 11, 29, 15, tzinfo=UTC))
    checked: list[tuple[str, int]] = []

    async def check(path: str, url: str, status: int = 200, **kwargs: Any) -> Any:
        response = await http.get(url, **kwargs)
        assert response.status == status, await response.text()
        body = await response.json()
        OAS30Validator(schema_for(spec, "GET", path, status)).validate(body)
        checked.append((path, status))
        return body

    seen: dict[str, set[str]] = {"reductions": set(), "orders": set()}
    for email in EVERYONE:
        headers = bearer(simulator, email)
        for name, path in (("reductions", "/grid-fee-reductions"), ("orders", "/meter-orders")):
            listed = await check(path, f"{path}?limit=1", headers=headers)
            every = await check(path, path, headers=headers)
            assert listed["items"] == every["items"][:1]
            for item in every["items"]:
                seen[name].add(item["status"])
                assert item == await check(
                    f"{path}/{{id}}", f"{path}/{item['id']}", headers=headers
                )
        for sub in simulator.subscriptions_of(simulator.customer_by_email(email).id):
            for meter in ("analog", "smart"):
                await check(
                    "/plans/{id}/quote",
                    f"/plans/{sub.plan_id}/quote?zip_code=10115&usage=3500&meter_type={meter}",
                    headers=headers,
                )
    # Seeded: every module status; four order statuses (the others through the controls).
    assert seen["reductions"] == set(GRID_FEE_REDUCTION_STATUSES)
    assert seen["orders"] == {"cancelled", "scheduled", "placed", "activated"}
    headers = bearer(simulator, ANNA)
    plan = next(iter(simulator.subscriptions.values())).plan_id
    for query in ("usage=3500", "zip_code=1&usage=3500", "zip_code=10115&usage=50001"):
        await check("/plans/{id}/quote", f"/plans/{plan}/quote?{query}", 400, headers=headers)
    both = "zip_code=10115&usage=3500&14a_module_1=true&14a_module_2=true"
    await check("/plans/{id}/quote", f"/plans/{plan}/quote?{both}", 400, headers=headers)
    await check(
        "/plans/{id}/quote", "/plans/pln_x/quote?zip_code=10115&usage=1", 404, headers=headers
    )
    # Someone else's order is not found; a refusal validates as the spec's error.
    clara_order = next(
        o
        for o in simulator.meter_orders.values()
        if o["customer"] != simulator.customer_by_email(ANNA).id
    )
    await check("/meter-orders/{id}", f"/meter-orders/{clara_order['id']}", 404, headers=headers)
    simulator.refuse_companion(simulator.customer_by_email(ANNA).id, 403)
    await check("/grid-fee-reductions", "/grid-fee-reductions", 403, headers=headers)
    simulator.refuse_companion("sign-in", 404)
    await check("/meter-orders", "/meter-orders", 404, headers=bearer(simulator, BEN))
    assert len(checked) > 40


async def test_every_order_status_through_the_controls(
    simulator: NomosSimulator, http: aiohttp.ClientSession, spec: dict[str, Any]
) -> None:
    """The HTTP controls walk an order through every milestone, each answer valid."""
    simulator.clock.set(datetime(2026, 11, 29, 15, tzinfo=UTC))
    headers = bearer(simulator, DAVID)
    order = next(
        key
        for key, item in simulator.meter_orders.items()
        if item["customer"] == simulator.customer_by_email(DAVID).id
    )
    validator = OAS30Validator(schema_for(spec, "GET", "/meter-orders/{id}", 200))
    for status in METER_ORDER_STATUSES:
        answer = await http.post(f"/_sim/companion/{order}", json={"status": status})
        assert answer.status == 200
        body = await (await http.get(f"/meter-orders/{order}", headers=headers)).json()
        validator.validate(body)
        assert body["status"] == status
    assert (
        body["installed_at"]
        == body["activated_at"]
        == body["cancelled_at"]
        == ("2026-11-29T15:00:00Z")
    )
    assert body["cancelled_reason"] == "customer_request"
    await http.post(f"/_sim/companion/{order}", json={"blocked_reason": "check_missing"})
    body = await (await http.get(f"/meter-orders/{order}", headers=headers)).json()
    assert body["blocked_at"] == "2026-11-29T15:00:00Z"
    validator.validate(body)
    await http.post("/_sim/companion/refuse", json={"who": "sign-in", "status": 403})
    assert (await http.get(f"/meter-orders/{order}", headers=headers)).status == 403


async def test_the_client_lists_pages_and_filters(simulator: NomosSimulator) -> None:
    """An organisation sees everyone's; a filter on subscriptions narrows it; pages are walked."""
    token = simulator.issue_tokens("*", ORGANISATION_CLIENT_ID)["access_token"]
    async with aiohttp.ClientSession() as session:
        client = NomosClient(session, StaticTokenProvider(token), base_url=simulator.url)
        everyone = await client.list_grid_fee_reductions()
        assert len(everyone) == len(simulator.reductions)
        felix = [s.id for s in simulator.subscriptions.values() if s.number == "F3L1XH0M"]
        assert {r.status for r in await client.list_grid_fee_reductions(felix)} == {
            "ended",
            "ordered",
        }
        orders = await client.list_meter_orders([*felix, "sub_none"])
        assert [(o.provider, o.is_blocked) for o in orders] == [("inexogy", True)]
        quote = await client.get_quote(
            simulator.subscriptions_of("*")[0].plan_id, "10115", 2500, module_1=True
        )
        assert quote.amount == pytest.approx(sum(c.amount for c in quote.components), abs=0.01)
        assert [c.quantity_unit for c in quote.components] == ["month", "kWh"]
