"""The contract companion: §14a EnWG modules, smart-meter orders and plan quotes.

Reductions and orders hang on the seeded subscriptions, by contract number:

| Contract | §14a modules | Smart-meter order |
| --- | --- | --- |
| `CL4R4NEW` (pending) | module 1 `intended` | `cancelled` (`pre_existing`: a smart meter is there) |
| `D4V1DANL` (analog) | module 2 `rejected` | `scheduled`, with an appointment |
| `F3L1XH0M` | module 1 `ended`, module 2 `ordered` | `placed`, blocked (`grid_operator_registration`) |
| `GR3TAM03` | modules 1 and 3 `activated` | `activated` |
| `H4NN4EG1` | none | `created` |
| `H4NN4OG2` | none | `check_submitted` |
| `H4NN4OG3` | none | `check_reviewed` |
| `H4NN4DG4` | none | `installed` |

Anna and Ben have none. `update_companion` (or `POST /_sim/companion/{id}`) moves
any of them on, filling the matching timestamps as Nomos would.
`refuse_companion` makes both endpoints answer 403 (or 404) for a customer, a
client, or every token from the sign-in ("sign-in"): what Nomos may answer a
token that is not allowed to read them.

The quote (`GET /plans/{id}/quote`) prices a month at the given annual usage,
all amounts in EUR incl. VAT, on a plausible German price model:

- base: the plan's fee (10.99 a month), the grid operator's fixed fee (3.31 a
  month) and metering: 1.26 a month for an analog meter, for a smart meter the
  legal ceiling of 20 EUR a year up to 6,000 kWh, 40 up to 10,000, 120 above;
- per kWh: energy 10.50 ct (the day-ahead average plus margin), the grid fee of
  the zip code's operator (9.5 to 13.5 ct), levies and taxes (7.16 ct);
- §14a module 1: the operator's flat reduction, 110 to 190 EUR a year (by zip code);
- §14a module 2: 60 % off the grid fee per kWh (not together with module 1).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .api import ApiRoutes
from .data import iso, make_id, unit_hash
from .state import ALL_CUSTOMERS, AccessToken, SimulatorState

REDUCTIONS = "GET /grid-fee-reductions"
ORDERS = "GET /meter-orders"

# (contract number, seed, type or provider, status, extra fields)
_SEED_REDUCTIONS: tuple[tuple[str, str, str, str, dict[str, str | None]], ...] = (
    ("CL4R4NEW", "clara-m1", "enwg-14a-module-1", "intended", {}),
    ("D4V1DANL", "david-m2", "enwg-14a-module-2", "rejected", {}),
    (
        "F3L1XH0M",
        "felix-m1",
        "enwg-14a-module-1",
        "ended",
        {"valid_from": "2026-05-01T00:00:00Z", "valid_until": "2026-09-30T22:00:00Z"},
    ),
    ("F3L1XH0M", "felix-m2", "enwg-14a-module-2", "ordered", {}),
    (
        "GR3TAM03",
        "greta-m1",
        "enwg-14a-module-1",
        "activated",
        {"valid_from": "2025-01-01T00:00:00Z"},
    ),
    (
        "GR3TAM03",
        "greta-m3",
        "enwg-14a-module-3",
        "activated",
        {"valid_from": "2025-04-01T00:00:00Z"},
    ),
)
_SEED_ORDERS: tuple[tuple[str, str, str, str, dict[str, str | None]], ...] = (
    (
        "CL4R4NEW",
        "clara-order",
        "metrify",
        "cancelled",
        {"cancelled_at": "2026-11-20T10:00:00Z", "cancelled_reason": "pre_existing"},
    ),
    (
        "D4V1DANL",
        "david-order",
        "energy-metering",
        "scheduled",
        {"appointment_at": "2026-12-15T08:00:00Z"},
    ),
    (
        "F3L1XH0M",
        "felix-order",
        "inexogy",
        "placed",
        {"blocked_at": "2026-10-05T09:00:00Z", "blocked_reason": "grid_operator_registration"},
    ),
    (
        "GR3TAM03",
        "greta-order",
        "metrify",
        "activated",
        {
            "appointment_at": "2024-11-20T08:00:00Z",
            "installed_at": "2024-11-20T10:00:00Z",
            "activated_at": "2024-12-01T00:00:00Z",
        },
    ),
    ("H4NN4EG1", "hanna-order-1", "metrify", "created", {}),
    ("H4NN4OG2", "hanna-order-2", "metrify", "check_submitted", {}),
    ("H4NN4OG3", "hanna-order-3", "metrify", "check_reviewed", {}),
    (
        "H4NN4DG4",
        "hanna-order-4",
        "metrify",
        "installed",
        {"appointment_at": "2026-11-24T07:00:00Z", "installed_at": "2026-11-24T09:30:00Z"},
    ),
)
# When each status is reached, the field Nomos fills (orders and reductions).
_REACHED = {
    "installed": "installed_at",
    "activated": "activated_at",
    "cancelled": "cancelled_at",
}

# The price model of the quote (EUR incl. VAT).
GRID_FIXED_MONTH = 3.31
ANALOG_METERING_MONTH = 1.26
ENERGY_KWH = 0.105
LEVIES_KWH = (
    ("Konzessionsabgabe", 0.0284),
    ("Stromsteuer", 0.0244),
    ("Offshore-Umlage", 0.0078),
    ("§19-NEV Umlage", 0.0077),
    ("KWK-Umlage", 0.0033),
)
MODULE_2_SHARE = 0.4  # of the grid fee per kWh that stays to pay


def smart_metering_year(usage: float) -> float:
    """Return the legal ceiling of a smart meter's yearly metering fee (MsbG) at a usage."""
    return 20.0 if usage <= 6000 else 40.0 if usage <= 10000 else 120.0


def grid_kwh(zip_code: str) -> float:
    """Return the grid fee per kWh of the zip code's operator (EUR incl. VAT)."""
    return round(0.095 + 0.04 * unit_hash("grid", zip_code), 4)


def module_1_year(zip_code: str) -> float:
    """Return the operator's flat module-1 reduction (EUR a year)."""
    return round(110 + 80 * unit_hash("module-1", zip_code), 2)


class CompanionRoutes(ApiRoutes):
    """Grid-fee reductions, meter orders and quotes, with their test controls."""

    reductions: dict[str, dict[str, Any]]
    meter_orders: dict[str, dict[str, Any]]
    # Who gets a refusal from both endpoints: a customer id, a client id or "sign-in".
    companion_refusals: dict[str, int]

    def reset(self) -> None:
        """Restore the seeded reductions and orders too."""
        super().reset()
        by_number = {sub.number: sub for sub in self.subscriptions.values()}
        self.reductions, self.meter_orders = {}, {}
        self.companion_refusals = {}
        for number, seed, kind, status, extra in _SEED_REDUCTIONS:
            if (sub := by_number.get(number)) is not None:
                self.add_reduction(sub.id, kind, status, seed=seed, **extra)
        for number, seed, provider, status, extra in _SEED_ORDERS:
            if (sub := by_number.get(number)) is not None:
                self.add_meter_order(sub.id, provider, status, seed=seed, **extra)

    # Python API ------------------------------------------------------------

    def add_reduction(
        self, sub_id: str, kind: str, status: str, *, seed: str | None = None, **extra: Any
    ) -> str:
        """Attach a §14a module to a subscription; return its id."""
        sub = self.subscriptions[sub_id]
        item_id = make_id("gfr_", seed or f"{sub_id}{kind}{len(self.reductions)}")
        created = extra.pop("created_at", None) or iso(sub.created_at)
        self.reductions[item_id] = {
            "object": "grid_fee_reduction",
            "id": item_id,
            "subscription": sub_id,
            "customer": sub.customer.id,
            "type": kind,
            "status": status,
            "valid_from": None,
            "valid_until": None,
            "created_at": created,
            "updated_at": created,
            **extra,
        }
        return item_id

    def add_meter_order(
        self, sub_id: str, provider: str, status: str, *, seed: str | None = None, **extra: Any
    ) -> str:
        """Attach a smart-meter order to a subscription; return its id."""
        sub = self.subscriptions[sub_id]
        item_id = make_id("prdo_", seed or f"{sub_id}{provider}{len(self.meter_orders)}")
        self.meter_orders[item_id] = {
            "object": "meter_order",
            "id": item_id,
            "subscription": sub_id,
            "customer": sub.customer.id,
            "provider": provider,
            "status": status,
            "created_at": extra.pop("created_at", None) or iso(sub.created_at),
            "installed_at": None,
            "activated_at": None,
            "cancelled_at": None,
            "cancelled_reason": None,
            "blocked_at": None,
            "blocked_reason": None,
            "appointment_at": None,
            **extra,
        }
        return item_id

    def update_companion(self, item_id: str, **fields: Any) -> dict[str, Any]:
        """Change a reduction or an order, as Nomos moves it on; return it.

        A new status fills the timestamp it stands for (activated: `activated_at`
        or `valid_from`, ended: `valid_until`, installed, cancelled); a blocked
        reason its `blocked_at`, and `blocked_reason=None` unblocks.
        """
        item = self.reductions.get(item_id) or self.meter_orders[item_id]
        now = iso(self.clock.now())
        status = fields.get("status")
        if item["object"] == "grid_fee_reduction":
            if status == "activated" and item["valid_from"] is None:
                item["valid_from"] = now
            if status == "ended" and item["valid_until"] is None:
                item["valid_until"] = now
            item["updated_at"] = now
        else:
            if status in _REACHED and item[_REACHED[status]] is None:
                item[_REACHED[status]] = now
            if status == "cancelled" and "cancelled_reason" not in fields:
                item["cancelled_reason"] = "customer_request"
            if "blocked_reason" in fields:
                item["blocked_at"] = now if fields["blocked_reason"] else None
        item.update(fields)
        return item

    def refuse_companion(self, who: str, status: int | None = 403) -> None:
        """Answer both endpoints with `status` (403 or 404) for `who`; None stops it."""
        if status is None:
            self.companion_refusals.pop(who, None)
        else:
            self.companion_refusals[who] = status

    # Routes ------------------------------------------------------------------

    def _companion_token(self, request: web.Request) -> AccessToken | web.Response:
        token = self._authenticate(request)
        if isinstance(token, web.Response):
            return token
        sign_in = self.clients[token.client_id].customer_id is None
        for who in (token.customer_id, token.client_id, "sign-in" if sign_in else ""):
            status = self.companion_refusals.get(who)
            if status == 404:
                return self.error(404, "NOT_FOUND", "Not found")
            if status is not None:
                return self.error(
                    status, "FORBIDDEN", "You are not allowed to access this resource"
                )
        return token

    def _visible(
        self, request: web.Request, token: AccessToken, items: dict[str, dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Return the items the token may see, filtered, newest first."""
        found = [
            item
            for item in items.values()
            if token.customer_id in (item["customer"], ALL_CUSTOMERS)
        ]
        for field in ("subscription", "status", "customer"):
            if (wanted := request.query.get(f"filter[{field}][eq]")) is not None:
                found = [item for item in found if item[field] == wanted]
            if (listed := request.query.get(f"filter[{field}][in]")) is not None:
                found = [item for item in found if item[field] in listed.split(",")]
        return sorted(found, key=lambda item: (item["created_at"], item["id"]), reverse=True)

    async def _list_reductions(self, request: web.Request) -> web.Response:
        token = self._companion_token(request)
        if isinstance(token, web.Response):
            return token
        return self._paginate(request, self._visible(request, token, self.reductions))

    async def _list_meter_orders(self, request: web.Request) -> web.Response:
        token = self._companion_token(request)
        if isinstance(token, web.Response):
            return token
        return self._paginate(request, self._visible(request, token, self.meter_orders))

    async def _get_reduction(self, request: web.Request) -> web.Response:
        return self._get_one(request, self.reductions, "Grid fee reduction not found")

    async def _get_meter_order(self, request: web.Request) -> web.Response:
        return self._get_one(request, self.meter_orders, "Meter order not found")

    def _get_one(
        self, request: web.Request, items: dict[str, dict[str, Any]], missing: str
    ) -> web.Response:
        token = self._companion_token(request)
        if isinstance(token, web.Response):
            return token
        item = items.get(request.match_info["id"])
        if item is None or token.customer_id not in (item["customer"], ALL_CUSTOMERS):
            return self.error(404, "NOT_FOUND", missing)
        return web.json_response(item)

    async def _quote(self, request: web.Request) -> web.Response:
        plan = self._plan(request)
        if isinstance(plan, web.Response):
            return plan
        query = request.query
        zip_code = query.get("zip_code", "")
        if len(zip_code) != 5 or not zip_code.isdigit():
            return _bad(self, "invalid_format", "zip_code", "Expected a German zip code")
        try:
            usage = float(query.get("usage", ""))
        except ValueError:
            return _bad(self, "invalid_type", "usage", "Required")
        if not 100 <= usage <= 50000:
            return _bad(self, "too_big" if usage > 50000 else "too_small", "usage", "100-50000")
        meter = query.get("meter_type", "analog")
        if meter not in ("analog", "smart"):
            return _bad(self, "invalid_value", "meter_type", "analog or smart")
        module_1, module_2 = (query.get(f"14a_module_{n}") == "true" for n in (1, 2))
        if (module_1 or module_2) and plan["type"] == "feed_in":
            return _bad(self, "custom", "14a_module_1", "Feed-in plans pay no grid fees")
        if module_1 and module_2:
            return _bad(self, "custom", "14a_module_2", "Module 1 and module 2 exclude each other")
        return web.json_response(
            quote(plan["price"], zip_code, usage, meter, module_1, module_2, self.clock.now())
        )

    async def _admin_companion(self, request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response(self.update_companion(request.match_info["id"], **body))

    async def _admin_refuse_companion(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.refuse_companion(body["who"], body.get("status", 403))
        return web.json_response({"ok": True})


def _bad(state: SimulatorState, code: str, field: str, message: str) -> web.Response:
    return state.error(
        400,
        "BAD_REQUEST",
        f"{code} in '{field}': {message}",
        details=[{"code": code, "field": field, "message": message}],
    )


def quote(
    base_fee: float,
    zip_code: str,
    usage: float,
    meter: str,
    module_1: bool,
    module_2: bool,
    now: datetime,
) -> dict[str, Any]:
    """Return a month's quote in the curie shape (see the module's price model)."""
    metering = (
        ANALOG_METERING_MONTH if meter == "analog" else round(smart_metering_year(usage) / 12, 2)
    )
    base = [
        {"subgroup": "fee", "name": "Grundpreis", "amount": base_fee},
        {"subgroup": "grid", "name": "Netzentgelte", "amount": GRID_FIXED_MONTH},
        {"subgroup": "metering", "name": "Messstellengebühren", "amount": metering},
    ]
    if module_1:
        base.insert(
            2,
            {
                "subgroup": "grid",
                "name": "Pauschale Netzentgeltreduktion (§14a EnWG Modul 1)",
                "amount": -round(module_1_year(zip_code) / 12, 2),
            },
        )
    grid = grid_kwh(zip_code) * (MODULE_2_SHARE if module_2 else 1)
    variable = [
        {"subgroup": "energy", "name": "EPEX Day-Ahead Preis (12m avg.)", "amount": ENERGY_KWH},
        {"subgroup": "grid", "name": "Netzentgelte", "amount": round(grid, 4)},
        *({"subgroup": "levies", "name": name, "amount": amount} for name, amount in LEVIES_KWH),
    ]
    base_amount = round(sum(item["amount"] for item in base), 2)
    unit = round(sum(item["amount"] for item in variable), 5)
    quantity = round(usage / 12, 2)
    variable_amount = round(quantity * unit, 2)
    return {
        "object": "quote",
        "amount": round(base_amount + variable_amount, 2),
        "currency": "EUR",
        "components": [
            {
                "group": "base",
                "amount": base_amount,
                "quantity": 1,
                "quantity_unit": "month",
                "unit_amount": base_amount,
                "subcomponents": base,
            },
            {
                "group": "variable",
                "amount": variable_amount,
                "quantity": quantity,
                "quantity_unit": "kWh",
                "unit_amount": unit,
                "subcomponents": variable,
            },
        ],
        "quoted_at": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }
