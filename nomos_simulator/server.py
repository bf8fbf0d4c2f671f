"""A Nomos API simulator: a real HTTP server on loopback.

It serves the documented curie API (OAuth with hosted pages, subscriptions,
prices, usage, invoices, customers) for seeded accounts, and has test
controls: a settable clock, token expiry and revocation, per-route fault
injection and request counters, as a Python API and as `/_sim/*` routes.

The parts live in their own modules: `state` (accounts, tokens and the
Python control API), `oauth`, `api`, `faults` (rate limits and injected
faults) and `admin` (the `/_sim` routes).
"""

from __future__ import annotations

from aiohttp import web

from .admin import AdminRoutes
from .api import ApiRoutes
from .companion import CompanionRoutes
from .faults import FaultsMixin
from .oauth import OAuthRoutes


class NomosSimulator(CompanionRoutes, OAuthRoutes, ApiRoutes, AdminRoutes, FaultsMixin):
    """The simulator: state, the aiohttp application and its controls."""

    def __init__(self, *, token_lifetime: int = 3600, rate_limit: int | None = 10) -> None:
        """Seed the accounts and build the application."""
        super().__init__(token_lifetime=token_lifetime, rate_limit=rate_limit)
        self.app = self._build_app()

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        routes = [
            web.get("/.well-known/oauth-authorization-server", self._well_known),
            web.get("/oauth/authorize", self._authorize),
            web.post("/oauth/authorize/email", self._authorize_email),
            web.post("/oauth/authorize/verify", self._authorize_verify),
            web.post("/oauth/authorize/consent", self._authorize_consent),
            web.post("/oauth/token", self._token),
            web.get("/customers", self._list_customers),
            web.get("/customers/{id}", self._get_customer),
            web.get("/subscriptions", self._list_subscriptions),
            web.get("/subscriptions/{id}", self._get_subscription),
            web.get("/subscriptions/{id}/prices", self._prices),
            web.get("/subscriptions/{id}/usage", self._usage),
            web.get("/plans/{id}", self._get_plan),
            web.get("/invoices", self._list_invoices),
            web.post("/meter-readings", self._submit_meter_reading),
            web.get("/grid-fee-reductions", self._list_reductions),
            web.get("/grid-fee-reductions/{id}", self._get_reduction),
            web.get("/meter-orders", self._list_meter_orders),
            web.get("/meter-orders/{id}", self._get_meter_order),
            web.get("/plans/{id}/quote", self._quote),
            web.get("/_sim/state", self._admin_state),
            web.post("/_sim/reset", self._admin_reset),
            web.post("/_sim/clock", self._admin_clock),
            web.post("/_sim/customers/{id}/expire", self._admin_expire),
            web.post("/_sim/customers/{id}/revoke", self._admin_revoke),
            web.post("/_sim/tokens", self._admin_tokens),
            web.post("/_sim/faults", self._admin_fault),
            web.delete("/_sim/faults", self._admin_clear_faults),
            web.get("/_sim/requests", self._admin_requests),
            web.delete("/_sim/requests", self._admin_clear_requests),
            web.post("/_sim/companion/refuse", self._admin_refuse_companion),
            web.post("/_sim/companion/{id}", self._admin_companion),
        ]
        app.add_routes(routes)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on `host:port` (0 picks a free port) and return the base URL."""
        self._runner = web.AppRunner(
            self.app, access_log=None, shutdown_timeout=0.1, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = site._server.sockets if site._server else ()  # noqa: SLF001
        bound = sockets[0].getsockname()[1] if sockets else port
        self.url = f"http://{host}:{bound}"
        return self.url

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
