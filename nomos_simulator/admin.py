"""Test controls over HTTP: the `/_sim/*` routes."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from .data import (
    Customer,
    iso,
)
from .state import (
    DEMO_CLIENT_ID,
    Fault,
    SimulatorState,
)


class AdminRoutes(SimulatorState):
    """Test controls over HTTP: the `/_sim/*` routes."""

    async def _admin_state(self, request: web.Request) -> web.Response:
        now = self.clock.now()
        return web.json_response(
            {
                "now": iso(now),
                "clients": [
                    {"client_id": c.client_id, "grants": sorted(c.grants)}
                    for c in self.clients.values()
                ],
                "accounts": [
                    {
                        "email": customer.email,
                        "customer": customer.id,
                        "subscriptions": [
                            {
                                "id": sub.id,
                                "number": sub.number,
                                "status": sub.status(now),
                                "meter": sub.meter_type,
                            }
                            for sub in self.subscriptions_of(customer.id)
                        ],
                    }
                    for customer in self.customers.values()
                ],
            }
        )

    async def _admin_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    async def _admin_clock(self, request: web.Request) -> web.Response:
        body = await request.json()
        raw = body.get("now")
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else None
        self.clock.set(moment, running=bool(body.get("running")))
        return web.json_response({"now": iso(self.clock.now())})

    async def _admin_expire(self, request: web.Request) -> web.Response:
        self.expire_tokens(request.match_info["id"])
        return web.json_response({"ok": True})

    async def _admin_revoke(self, request: web.Request) -> web.Response:
        self.revoke(request.match_info["id"])
        return web.json_response({"ok": True})

    async def _admin_tokens(self, request: web.Request) -> web.Response:
        body = await request.json()
        customer = body.get("customer") or self.customer_by_email(body.get("email", ""))
        customer_id = customer.id if isinstance(customer, Customer) else customer
        if customer_id not in self.customers:
            return web.json_response({"error": "unknown customer"}, status=404)
        return web.json_response(
            self.issue_tokens(customer_id, body.get("client_id", DEMO_CLIENT_ID))
        )

    async def _admin_fault(self, request: web.Request) -> web.Response:
        body = await request.json()
        route = body.pop("route")
        self.inject(route, Fault(**body))
        return web.json_response({"ok": True})

    async def _admin_clear_faults(self, request: web.Request) -> web.Response:
        self.clear_faults()
        return web.json_response({"ok": True})

    async def _admin_requests(self, request: web.Request) -> web.Response:
        return web.json_response(dict(self.requests))

    async def _admin_clear_requests(self, request: web.Request) -> web.Response:
        self.requests.clear()
        self.request_log.clear()
        return web.json_response({"ok": True})
