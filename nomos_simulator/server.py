"""A Nomos API simulator: a real HTTP server on loopback.

It serves the documented curie API (OAuth with hosted pages, subscriptions,
prices, usage, invoices, customers) for seeded accounts, and has test
controls: a settable clock, token expiry and revocation, per-route fault
injection and request counters, as a Python API and as `/_sim/*` routes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
import hashlib
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlsplit
import uuid

from aiohttp import web

from . import pages
from .data import (
    BERLIN,
    PRELIMINARY_DAYS,
    PRICE_PUBLICATION,
    USAGE_PUBLICATION,
    Customer,
    Subscription,
    iso,
    iso_millis,
    local_midnight,
    make_id,
    quarters_of_day,
    seed_accounts,
    unit_hash,
)

API_VERSION = "2026-05-27.curie"
DEMO_CLIENT_ID = "nomos-demo-client"
DEMO_CLIENT_SECRET = "nomos-demo-secret"
PERSONAL_CLIENT_ID = "anna-personal-client"
PERSONAL_CLIENT_SECRET = "anna-personal-secret"
ANALOG_CLIENT_ID = "david-personal-client"
ANALOG_CLIENT_SECRET = "david-personal-secret"
# An organisation's client: its client-credentials token sees every customer.
ORGANISATION_CLIENT_ID = "energy-coop-client"
ORGANISATION_CLIENT_SECRET = "energy-coop-secret"
# The customer id of a token that acts for a whole organisation.
ALL_CUSTOMERS = "*"
CODE_LIFETIME = timedelta(minutes=10)
DOCS = "https://docs.nomos.energy/api-references/errors/"
# Redirect origins registered for the demo client. Loopback hosts on any port
# are accepted too, so a local Home Assistant works without configuration.
REGISTERED_REDIRECTS = ("https://my.home-assistant.io/", "https://example.com/")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Client:
    """A registered OAuth client."""

    client_id: str
    secret: str
    name: str
    grants: frozenset[str]
    customer_id: str | None = None  # personal clients act for one customer (ALL_CUSTOMERS: all)
    scope: str = "read:*"


@dataclass
class AccessToken:
    """An issued access token."""

    customer_id: str
    client_id: str
    expires_at: datetime
    scope: str
    revoked: bool = False


@dataclass
class RefreshToken:
    """An issued refresh token; it works once (rotation)."""

    customer_id: str
    client_id: str
    scope: str
    used: bool = False
    revoked: bool = False


@dataclass
class AuthCode:
    """A single-use authorization code."""

    client_id: str
    customer_id: str
    redirect_uri: str
    challenge: str | None
    method: str
    expires_at: datetime
    used: bool = False


@dataclass
class Login:
    """One person's way through the hosted sign-in pages."""

    client: Client
    redirect_uri: str
    state: str | None
    challenge: str | None
    method: str
    customer: Customer | None = None
    otp: str | None = None
    verified: bool = False


@dataclass
class Fault:
    """An injected fault for one route; `times=None` means until cleared."""

    status: int | None = None
    delay: float = 0.0
    malformed: bool = False
    drop: bool = False
    body: Any = None
    html: str | None = None  # a page instead of JSON, as a proxy in between answers
    retry_after: float | None = None
    times: int | None = None


@dataclass
class Clock:
    """The simulator's clock: real time (or frozen test time), or set by hand."""

    fixed: datetime | None = None
    offset: timedelta = field(default_factory=timedelta)

    def now(self) -> datetime:
        """Return the simulator's current time (aware UTC)."""
        if self.fixed is not None:
            return self.fixed
        return datetime.now(UTC) + self.offset

    def set(self, moment: datetime | None, *, running: bool = False) -> None:
        """Fix the clock at `moment`, let it run from there, or reset it."""
        if moment is None:
            self.fixed, self.offset = None, timedelta()
        elif running:
            self.fixed, self.offset = None, moment - datetime.now(UTC)
        else:
            self.fixed = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        if self.fixed is not None:
            self.fixed += delta
        else:
            self.offset += delta


class NomosSimulator:
    """The simulator: state, the aiohttp application and its controls."""

    def __init__(self, *, token_lifetime: int = 3600, rate_limit: int | None = 10) -> None:
        """Seed the accounts and build the application."""
        self.token_lifetime = token_lifetime
        self.rate_limit = rate_limit
        self.clock = Clock()
        self.customers: dict[str, Customer] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.clients: dict[str, Client] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.codes: dict[str, AuthCode] = {}
        # Meter readings per subscription: (Berlin day, cumulative kWh).
        self.meter_readings: dict[str, list[tuple[date, float]]] = {}
        self.logins: dict[str, Login] = {}
        self.faults: dict[str, Fault] = {}
        self.requests: Counter[str] = Counter()
        self.request_log: list[tuple[datetime, str]] = []
        # What reached the token endpoint: grant, whether Basic was used, the body.
        self.token_requests: list[dict[str, Any]] = []
        # How `GET /customers` answers tokens from the sign-in (authorization
        # code): None lists the customer; 401, 403 or 404 refuse; 0 lists nobody.
        # Nomos does not document that such tokens may read customers.
        self.customers_for_oauth: int | None = None
        # Seconds the token endpoint waits after rotating a refresh token and
        # before answering (a reload or a shutdown lands in between).
        self.refresh_answer_delay = 0.0
        # Set whenever a refresh token has been rotated (tests wait for it).
        self.refresh_rotated = asyncio.Event()
        # The query string of each request, for tests that need to see ranges.
        self.query_log: list[tuple[str, str]] = []
        # PKCE verifiers presented at the token endpoint (tests check they never leak).
        self.verifiers_seen: list[str] = []
        # The X-API-Version header of each API request ("" when absent).
        self.api_versions: Counter[str] = Counter()
        self._recent: dict[str, deque[float]] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.reset()
        self.app = self._build_app()

    # Python API ------------------------------------------------------------

    def reset(self) -> None:
        """Restore the seeded accounts and forget tokens, faults and counts."""
        customers, subscriptions = seed_accounts()
        self.customers = {customer.id: customer for customer in customers}
        self.subscriptions = {sub.id: sub for sub in subscriptions}
        anna, david = customers[0], customers[3]
        self.clients = {
            DEMO_CLIENT_ID: Client(
                DEMO_CLIENT_ID,
                DEMO_CLIENT_SECRET,
                "Home Assistant",
                frozenset({"authorization_code", "refresh_token"}),
            ),
            PERSONAL_CLIENT_ID: Client(
                PERSONAL_CLIENT_ID,
                PERSONAL_CLIENT_SECRET,
                "Anna's personal API access",
                frozenset({"client_credentials", "refresh_token"}),
                customer_id=anna.id,
                scope="read:* write:*",
            ),
            ANALOG_CLIENT_ID: Client(
                ANALOG_CLIENT_ID,
                ANALOG_CLIENT_SECRET,
                "David's personal API access",
                frozenset({"client_credentials", "refresh_token"}),
                customer_id=david.id,
                scope="read:* write:*",
            ),
            ORGANISATION_CLIENT_ID: Client(
                ORGANISATION_CLIENT_ID,
                ORGANISATION_CLIENT_SECRET,
                "An energy co-operative's API access",
                frozenset({"client_credentials"}),
                customer_id=ALL_CUSTOMERS,
            ),
        }
        self.access_tokens.clear()
        self.refresh_tokens.clear()
        self.codes.clear()
        self.meter_readings.clear()
        self.logins.clear()
        self.faults.clear()
        self.requests.clear()
        self.request_log.clear()
        self.token_requests.clear()
        self.query_log.clear()
        self.api_versions.clear()
        self._recent.clear()
        self.customers_for_oauth = None
        self.refresh_answer_delay = 0.0
        self.clock.set(None)

    def customer_by_email(self, email: str) -> Customer | None:
        """Return the customer with this e-mail address."""
        for customer in self.customers.values():
            if customer.email.lower() == email.strip().lower():
                return customer
        return None

    def subscriptions_of(self, customer_id: str) -> list[Subscription]:
        """Return a customer's subscriptions (ALL_CUSTOMERS: everyone's), newest first."""
        subs = [
            sub
            for sub in self.subscriptions.values()
            if customer_id in (sub.customer.id, ALL_CUSTOMERS)
        ]
        return sorted(subs, key=lambda sub: (sub.created_at, sub.id), reverse=True)

    def issue_tokens(
        self, customer_id: str, client_id: str = DEMO_CLIENT_ID, scope: str | None = None
    ) -> dict[str, Any]:
        """Issue an access and refresh token pair, as the token endpoint does."""
        client = self.clients[client_id]
        granted = scope or client.scope
        access = "at_" + secrets.token_urlsafe(32)
        refresh = "rt_" + secrets.token_hex(32)
        self.access_tokens[access] = AccessToken(
            customer_id,
            client_id,
            self.clock.now() + timedelta(seconds=self.token_lifetime),
            granted,
        )
        self.refresh_tokens[refresh] = RefreshToken(customer_id, client_id, granted)
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "refresh_token": refresh,
            "scope": granted,
        }

    def expire_tokens(self, customer_id: str) -> None:
        """Expire a customer's access tokens; refresh tokens keep working."""
        for token in self.access_tokens.values():
            if token.customer_id == customer_id:
                token.expires_at = self.clock.now() - timedelta(seconds=1)

    def revoke(self, customer_id: str) -> None:
        """Revoke every token of a customer, as when access is withdrawn."""
        for token in self.access_tokens.values():
            if token.customer_id == customer_id:
                token.revoked = True
        for refresh in self.refresh_tokens.values():
            if refresh.customer_id == customer_id:
                refresh.revoked = True

    def inject(self, route: str, fault: Fault | None = None, **kwargs: Any) -> None:
        """Inject a fault for a route such as `GET /subscriptions/{id}/prices`."""
        self.faults[route] = fault or Fault(**kwargs)

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self.faults.clear()

    def count(self, route: str) -> int:
        """Return how many requests reached `route`."""
        return self.requests[route]

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

    # Application -----------------------------------------------------------

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
            web.get("/invoices", self._list_invoices),
            web.post("/meter-readings", self._submit_meter_reading),
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
        ]
        app.add_routes(routes)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Count, rate-limit, inject faults; answer 401 for unknown paths like Nomos."""
        info = request.match_info.route.resource
        canonical = info.canonical if info is not None else None
        if canonical is not None and canonical.startswith("/_sim"):
            return await handler(request)
        route = f"{request.method} {canonical or request.path}"
        self.requests[route] += 1
        self.request_log.append((self.clock.now(), route))
        self.query_log.append((route, request.query_string))
        if not request.path.startswith("/oauth"):
            self.api_versions[request.headers.get("X-API-Version", "")] += 1
        if canonical is None:
            return self.error(401, "UNAUTHORIZED", "Invalid or malformed token")
        limited = self._rate_limited(request)
        if limited is not None:
            return limited
        fault = self.faults.get(route)
        if fault is not None:
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self.faults[route]
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.drop:
                response = web.StreamResponse(status=200)
                response.content_type = "application/json"
                await response.prepare(request)
                await response.write(b'{"object": "list", "items": [')
                if request.transport is not None:
                    request.transport.close()
                return response
            if fault.status is not None:
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(int(fault.retry_after))
                if fault.body is not None:
                    return web.json_response(fault.body, status=fault.status, headers=headers)
                if fault.html is not None:
                    return web.Response(
                        text=fault.html, status=fault.status, content_type="text/html"
                    )
                return self.error(fault.status, _code_for(fault.status), "Injected fault", headers)
            if fault.body is not None:
                return web.json_response(fault.body)
            if fault.malformed:
                return web.Response(
                    body=b'{"object": "price", "items": [{"timestamp": ',
                    content_type="application/json",
                )
        response = await handler(request)
        response.headers.setdefault("X-API-Version", API_VERSION)
        return response

    def _rate_limited(self, request: web.Request) -> web.Response | None:
        """Allow `rate_limit` requests per second per caller."""
        if self.rate_limit is None:
            return None
        key = request.headers.get("Authorization") or request.remote or "anonymous"
        window = self._recent.setdefault(key, deque())
        now = time.monotonic()
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= self.rate_limit:
            reset = max(1, int(1.0 - (now - window[0]) + 0.999))
            return self.error(
                429,
                "TOO_MANY_REQUESTS",
                f"Wait {reset} seconds before retrying.",
                {
                    "Retry-After": str(reset),
                    "ratelimit-limit": str(self.rate_limit),
                    "ratelimit-remaining": "0",
                    "ratelimit-reset": str(reset),
                },
            )
        window.append(now)
        return None

    @staticmethod
    def error(
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        details: list[dict[str, str]] | None = None,
        **extra: str,
    ) -> web.Response:
        """Return the documented error envelope."""
        body: dict[str, Any] = {
            "code": code,
            "message": message,
            "requestId": str(uuid.uuid4()),
            "docs": DOCS + code,
            "errors": details or [],
            **extra,
        }
        return web.json_response(body, status=status, headers=headers)

    def _authenticate(self, request: web.Request) -> AccessToken | web.Response:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return self.error(401, "UNAUTHORIZED", "Invalid or malformed token")
        token = self.access_tokens.get(header.removeprefix("Bearer ").strip())
        if token is None or token.revoked:
            return self.error(401, "UNAUTHORIZED", "Invalid or malformed token")
        if token.expires_at <= self.clock.now():
            return self.error(401, "UNAUTHORIZED", "The access token is expired.")
        return token

    # OAuth -----------------------------------------------------------------

    async def _well_known(self, request: web.Request) -> web.Response:
        base = f"{request.scheme}://{request.host}"
        return web.json_response(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/oauth/authorize",
                "token_endpoint": f"{base}/oauth/token",
                "response_types_supported": ["code"],
                "grant_types_supported": [
                    "authorization_code",
                    "client_credentials",
                    "refresh_token",
                ],
                "code_challenge_methods_supported": ["S256", "plain"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "scopes_supported": ["read", "write"],
            }
        )

    @staticmethod
    def _redirect_allowed(uri: str) -> bool:
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False
        if parts.hostname in ("localhost", "127.0.0.1", "::1"):
            return True
        return any(uri.startswith(origin) for origin in REGISTERED_REDIRECTS)

    async def _authorize(self, request: web.Request) -> web.Response:
        query = request.query
        client = self.clients.get(query.get("client_id", ""))
        if client is None or "authorization_code" not in client.grants:
            return _html(
                pages.error_page("Unknown client_id: this app is not registered with Nomos."), 400
            )
        redirect_uri = query.get("redirect_uri", "")
        if not self._redirect_allowed(redirect_uri):
            return _html(pages.error_page("The redirect_uri is not registered for this app."), 400)
        if query.get("response_type") != "code":
            return _html(pages.error_page("response_type must be 'code'."), 400)
        method = query.get("code_challenge_method", "plain" if query.get("code_challenge") else "")
        if query.get("code_challenge") and method not in ("S256", "plain"):
            return _html(pages.error_page("code_challenge_method must be S256 or plain."), 400)
        login_id = secrets.token_urlsafe(16)
        self.logins[login_id] = Login(
            client, redirect_uri, query.get("state"), query.get("code_challenge"), method
        )
        return _html(pages.email_page(login_id))

    async def _login(self, request: web.Request) -> tuple[Login, str, Any]:
        form = await request.post()
        login_id = str(form.get("login", ""))
        login = self.logins.get(login_id)
        if login is None:
            raise web.HTTPBadRequest(
                text=pages.error_page("This sign-in has expired. Start again from Home Assistant."),
                content_type="text/html",
            )
        return login, login_id, form

    async def _authorize_email(self, request: web.Request) -> web.Response:
        login, login_id, form = await self._login(request)
        customer = self.customer_by_email(str(form.get("email", "")))
        if customer is None:
            return _html(pages.email_page(login_id, "No Nomos contract uses this e-mail address."))
        login.customer = customer
        login.otp = f"{secrets.randbelow(10**6):06d}"
        return _html(pages.code_page(login_id, customer.email, login.otp))

    async def _authorize_verify(self, request: web.Request) -> web.Response:
        login, login_id, form = await self._login(request)
        if login.customer is None or login.otp is None:
            return _html(pages.email_page(login_id))
        if str(form.get("otp", "")).strip() != login.otp:
            return _html(
                pages.code_page(
                    login_id, login.customer.email, login.otp, "That code is not right."
                )
            )
        login.verified = True
        customer_name = f"{login.customer.first_name} {login.customer.last_name}"
        return _html(pages.consent_page(login_id, login.client.name, customer_name))

    async def _authorize_consent(self, request: web.Request) -> web.Response:
        login, login_id, form = await self._login(request)
        if not login.verified or login.customer is None:
            return _html(pages.email_page(login_id))
        del self.logins[login_id]
        params: dict[str, str] = {}
        if form.get("decision") == "approve":
            code = secrets.token_urlsafe(24)
            self.codes[code] = AuthCode(
                login.client.client_id,
                login.customer.id,
                login.redirect_uri,
                login.challenge,
                login.method,
                self.clock.now() + CODE_LIFETIME,
            )
            params["code"] = code
        else:
            params["error"] = "access_denied"
            params["error_description"] = "The customer denied access."
        if login.state is not None:
            params["state"] = login.state
        separator = "&" if "?" in login.redirect_uri else "?"
        raise web.HTTPFound(login.redirect_uri + separator + urlencode(params))

    def _client_from_basic(self, request: web.Request) -> Client | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, _, secret = decoded.partition(":")
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(client.secret, secret):
            return None
        return client

    def _token_error(self, status: int, oauth_error: str, message: str) -> web.Response:
        return self.error(
            status,
            _code_for(status),
            message,
            error=oauth_error,
            error_description=message,
        )

    async def _token(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            try:
                raw = await request.json()
            except ValueError:
                return self._token_error(400, "invalid_request", "Malformed JSON body")
            body = {str(key): str(value) for key, value in raw.items()}
        else:
            body = {key: str(value) for key, value in (await request.post()).items()}
        self.token_requests.append(
            {
                "grant_type": body.get("grant_type"),
                "basic_auth": request.headers.get("Authorization", "").startswith("Basic "),
                "body_keys": sorted(body),
                "body": dict(body),
            }
        )
        client = self._client_from_basic(request)
        if client is None:
            return self._token_error(401, "invalid_client", "Client authentication failed")
        # As strict as the spec: a client authenticated with Basic sends
        # neither its id nor its secret in the body.
        if "client_secret" in body or "client_id" in body:
            return self._token_error(
                400, "invalid_request", "Send the client credentials with HTTP Basic only"
            )
        grant = body.get("grant_type")
        if grant not in client.grants:
            return self._token_error(400, "unauthorized_client", f"Grant {grant!r} is not allowed")
        if grant == "authorization_code":
            return self._exchange_code(client, body)
        if grant == "refresh_token":
            refresh = self.refresh_tokens.get(body.get("refresh_token", ""))
            if refresh is None or refresh.client_id != client.client_id:
                return self._token_error(401, "invalid_grant", "Unknown refresh token")
            if refresh.used or refresh.revoked:
                return self._token_error(401, "invalid_grant", "Refresh token is no longer valid")
            refresh.used = True
            tokens = self.issue_tokens(refresh.customer_id, client.client_id, refresh.scope)
            self.refresh_rotated.set()
            if self.refresh_answer_delay:
                await asyncio.sleep(self.refresh_answer_delay)
            return web.json_response(tokens)
        # client_credentials: personal clients act for their own customer
        if client.customer_id is None:
            return self._token_error(400, "unauthorized_client", "This client has no customer")
        return web.json_response(self.issue_tokens(client.customer_id, client.client_id))

    def _exchange_code(self, client: Client, body: dict[str, str]) -> web.Response:
        code = self.codes.get(body.get("code", ""))
        if code is None or code.client_id != client.client_id:
            return self._token_error(400, "invalid_grant", "Unknown authorization code")
        if code.used:
            return self._token_error(400, "invalid_grant", "Authorization code was already used")
        code.used = True
        if code.expires_at <= self.clock.now():
            return self._token_error(400, "invalid_grant", "Authorization code has expired")
        if "redirect_uri" in body and body["redirect_uri"] != code.redirect_uri:
            return self._token_error(400, "invalid_grant", "redirect_uri does not match")
        if code.challenge is not None:
            verifier = body.get("code_verifier", "")
            self.verifiers_seen.append(verifier)
            if code.method == "S256":
                digest = hashlib.sha256(verifier.encode()).digest()
                computed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            else:
                computed = verifier
            if not verifier or not secrets.compare_digest(computed, code.challenge):
                return self._token_error(400, "invalid_grant", "PKCE verification failed")
        return web.json_response(self.issue_tokens(code.customer_id, client.client_id))

    # API -------------------------------------------------------------------

    def _paginate(self, request: web.Request, items: list[dict[str, Any]]) -> web.Response:
        try:
            limit = int(request.query.get("limit", "10"))
        except ValueError:
            return self.error(400, "BAD_REQUEST", "invalid_type in 'limit'")
        if not 1 <= limit <= 100:
            return self.error(400, "BAD_REQUEST", "too_big in 'limit'")
        start = 0
        cursor = request.query.get("cursor")
        if cursor:
            try:
                state = json.loads(base64.urlsafe_b64decode(cursor.encode()))
                start = next(
                    index + 1 for index, item in enumerate(items) if item["id"] == state["last_id"]
                )
            except (ValueError, KeyError, StopIteration, binascii.Error, TypeError):
                return self.error(400, "BAD_REQUEST", "Invalid cursor")
        page = items[start : start + limit]
        has_more = start + limit < len(items)
        next_page = None
        if has_more:
            last = page[-1]
            next_page = base64.urlsafe_b64encode(
                json.dumps(
                    {"last_created_at": last["created_at"], "last_id": last["id"], "limit": limit}
                ).encode()
            ).decode()
        return web.json_response(
            {"object": "list", "items": page, "has_more": has_more, "next_page": next_page}
        )

    async def _list_customers(self, request: web.Request) -> web.Response:
        token = self._authenticate(request)
        if isinstance(token, web.Response):
            return token
        if token.customer_id == ALL_CUSTOMERS:
            return self._paginate(request, [c.to_json() for c in self.customers.values()])
        if self.clients[token.client_id].customer_id is None:  # a token from the sign-in
            refusal = self.customers_for_oauth
            if refusal == 0:
                return self._paginate(request, [])
            if refusal is not None:
                return self.error(refusal, _code_for(refusal), "Not allowed for this token")
        return self._paginate(request, [self.customers[token.customer_id].to_json()])

    async def _get_customer(self, request: web.Request) -> web.Response:
        token = self._authenticate(request)
        if isinstance(token, web.Response):
            return token
        if request.match_info["id"] != token.customer_id:
            return self.error(404, "NOT_FOUND", "Customer not found")
        return web.json_response(self.customers[token.customer_id].to_json())

    def _own_subscription(
        self, request: web.Request, token: AccessToken
    ) -> Subscription | web.Response:
        sub = self.subscriptions.get(request.match_info["id"])
        if sub is None or sub.customer.id != token.customer_id:
            return self.error(404, "NOT_FOUND", "Subscription not found")
        return sub

    async def _list_subscriptions(self, request: web.Request) -> web.Response:
        token = self._authenticate(request)
        if isinstance(token, web.Response):
            return token
        now = self.clock.now()
        items = [
            sub.to_json(now, expanded=False) for sub in self.subscriptions_of(token.customer_id)
        ]
        wanted = request.query.get("filter[status][eq]")
        if wanted:
            items = [item for item in items if item["status"] == wanted]
        return self._paginate(request, items)

    async def _get_subscription(self, request: web.Request) -> web.Response:
        token = self._authenticate(request)
        if isinstance(token, web.Response):
            return token
        sub = self._own_subscription(request, token)
        if isinstance(sub, web.Response):
            return sub
        return web.json_response(sub.to_json(self.clock.now(), expanded=True))

    def _date_range(
        self, request: web.Request, *, required: bool
    ) -> tuple[date, date] | web.Response:
        values: list[date] = []
        for name in ("start", "end"):
            raw = request.query.get(name)
            if raw is None:
                if required:
                    return self.error(
                        400,
                        "BAD_REQUEST",
                        f"invalid_type in '{name}': Required",
                        details=[{"code": "invalid_type", "field": name, "message": "Required"}],
                    )
                values.append(date.min)
                continue
            try:
                values.append(date.fromisoformat(raw))
            except ValueError:
                return self.error(
                    400,
                    "BAD_REQUEST",
                    f"invalid_format in '{name}'",
                    details=[
                        {"code": "invalid_format", "field": name, "message": "Expected yyyy-mm-dd"}
                    ],
                )
        return values[0], values[1]

    def published_until(self) -> date:
        """Return the last Berlin day whose prices are published."""
        local_now = self.clock.now().astimezone(BERLIN)
        today = local_now.date()
        return today + timedelta(days=1) if local_now.time() >= PRICE_PUBLICATION else today

    async def _prices(self, request: web.Request) -> web.Response:
        token = self._authenticate(request)
        if isinstance(token, web.Response):
            return token
        sub = self._own_subscription(request, token)
        if isinstance(sub, web.Response):
            return sub
        span = self._date_range(request, required=True)
        if isinstance(span, web.Response):
            return span
        start, end = span
        if end < start or (end - start).days > 366:
            return self.error(400, "BAD_REQUEST", "The period must be between 1 and 367 days")
        items: list[dict[str, Any]] | None = None
        if sub.status(self.clock.now()) == "active":
            items = []
            day = start
            last = min(end, self.published_until())
            while day <= last:
                items.extend(sub.price_item(moment) for moment in quarters_of_day(day))
                day += timedelta(days=1)
        return web.json_response(
            {
                "object": "price",
                "subscription": sub.id,
                "period": {"start": start.isoformat(), "end": end.isoformat()},
                "unit": "ct/kWh",
                "currency": "EUR",
                "resolution": "15min",
                "reference": "EPEX Day-Ahead 15min",
                "items": items,
            }
        )

    def usage_available_until(self) -> date:
        """Return the last Berlin day whose smart-meter usage is published."""
        local_now = self.clock.now().astimezone(BERLIN)
        yesterday = local_now.date() - timedelta(days=1)
        return yesterday if local_now.time() >= USAGE_PUBLICATION else yesterday - timedelta(days=1)

    async def _usage(self, request: web.Request) -> web.Response:
        token = self._authenticate(request)
        if isinstance(token, web.Response):
            return token
        sub = self._own_subscription(request, token)
        if isinstance(sub, web.Response):
            return sub
        resolution = request.query.get("resolution", "auto")
        if resolution not in ("auto", "15min", "hour", "day", "week", "month"):
            return self.error(400, "BAD_REQUEST", "invalid_value in 'resolution'")
        span = self._date_range(request, required=False)
        if isinstance(span, web.Response):
            return span
        today = self.clock.now().astimezone(BERLIN).date()
        start, end = span
        if sub.meter_type == "analog":
            return web.json_response(self._analog_usage(sub, start, end, today))
        if start == date.min:
            start = today - timedelta(days=1)
        if end == date.min:
            end = today
        if resolution == "auto":
            days = (end - start).days
            resolution = (
                "15min" if days <= 2 else "hour" if days <= 14 else "day" if days <= 90 else "month"
            )
        quarters: list[tuple[datetime, float, bool]] = []
        day = start
        last = min(end - timedelta(days=1), self.usage_available_until())
        while day <= last:
            for moment in quarters_of_day(day):
                if sub.start_at is not None and moment < sub.start_at:
                    continue
                if sub.end_at is not None and moment >= sub.end_at:
                    continue
                final = (today - day).days > PRELIMINARY_DAYS
                value = sub.quarter_usage(moment)
                if not final:
                    value = round(value * 1.04, 3)
                quarters.append((moment, value, final))
            day += timedelta(days=1)
        return web.json_response(
            {
                "object": "usage",
                "meter_type": "smart",
                "resolution": resolution,
                "data": _aggregate(quarters, resolution),
            }
        )

    def _analog_usage(
        self, sub: Subscription, start: date, end: date, today: date
    ) -> dict[str, Any]:
        month = date(today.year, today.month, 1)
        data = []
        begin = sub.start_at.astimezone(BERLIN).date() if sub.start_at else today
        cursor = date(begin.year, begin.month, 1)
        while cursor < month:
            following = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
            if (start == date.min or following > start) and (end == date.min or cursor < end):
                value = sub.estimated_usage / 12 * (0.85 + 0.3 * unit_hash(sub.key, cursor))
                data.append(
                    {
                        "start": iso_millis(local_midnight(cursor)),
                        "usage": round(value, 1),
                        "type": "final",
                    }
                )
            cursor = following
        return {"object": "usage", "meter_type": "analog", "resolution": "month", "data": data}

    async def _list_invoices(self, request: web.Request) -> web.Response:
        token = self._authenticate(request)
        if isinstance(token, web.Response):
            return token
        wanted = request.query.get("filter[subscription][eq]")
        items: list[dict[str, Any]] = []
        for sub in self.subscriptions_of(token.customer_id):
            if wanted and sub.id != wanted:
                continue
            items.extend(self._invoices(sub))
        items.sort(key=lambda item: (item["issued_at"], item["id"]), reverse=True)
        return self._paginate(
            request, [{**item, "created_at": item["issued_at"]} for item in items]
        )

    def _invoices(self, sub: Subscription) -> list[dict[str, Any]]:
        if sub.start_at is None:
            return []
        now = self.clock.now()
        local_now = now.astimezone(BERLIN).date()
        last_month = date(local_now.year, local_now.month, 1)
        first = sub.start_at.astimezone(BERLIN).date()
        cursor = date(first.year, first.month, 1)
        invoices: list[dict[str, Any]] = []
        number = 0
        while cursor < last_month:
            following = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
            if sub.end_at is not None and local_midnight(cursor) >= sub.end_at:
                break
            number += 1
            usage = round(
                sub.estimated_usage / 12 * (0.8 + 0.4 * unit_hash(sub.key, "inv", cursor)), 1
            )
            issued = local_midnight(following) + timedelta(days=3, hours=8)
            is_latest = following == last_month
            invoices.append(
                {
                    "object": "invoice",
                    "id": f"inv_{sub.id[4:16]}{number:012d}",
                    "customer": sub.customer.id,
                    "subscription": sub.id,
                    "invoice_number": f"{sub.number}-{number:03d}",
                    "month": cursor.month,
                    "year": cursor.year,
                    "period_start": iso(local_midnight(cursor)),
                    "period_end": iso(local_midnight(following)),
                    "period_number": number,
                    "status": "open" if is_latest and issued <= now else "paid",
                    "issued_at": iso(issued),
                    "paid_at": None if is_latest else iso(issued + timedelta(days=7)),
                    "type": "usage",
                    "usage": usage,
                    "total": round(usage * 0.29 + 10.99, 2),
                }
            )
            cursor = following
        return [invoice for invoice in invoices if invoice["issued_at"] <= iso(now)]

    async def _submit_meter_reading(self, request: web.Request) -> web.Response:
        """Accept a cumulative reading after plausibility checks (analog meters only)."""
        token = self._authenticate(request)
        if isinstance(token, web.Response):
            return token
        if "write:*" not in token.scope.split():
            return self.error(403, "FORBIDDEN", "This token may not write")
        try:
            body = await request.json()
        except ValueError:
            return self.error(400, "BAD_REQUEST", "Malformed JSON body")
        sub = self.subscriptions.get(str(body.get("subscription", "")))
        if sub is None or sub.customer.id != token.customer_id:
            return self.error(404, "NOT_FOUND", "Subscription not found")
        value = body.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            return self.error(
                400,
                "BAD_REQUEST",
                "too_small in 'value'",
                details=[{"code": "too_small", "field": "value", "message": "Must be > 0"}],
            )
        try:
            moment = datetime.fromisoformat(str(body.get("timestamp", "")).replace("Z", "+00:00"))
        except ValueError:
            return self.error(400, "BAD_REQUEST", "invalid_format in 'timestamp'")
        if moment.tzinfo is None or moment.utcoffset() != timedelta(0):
            return self.error(400, "BAD_REQUEST", "invalid_format in 'timestamp': use UTC")
        day = moment.astimezone(BERLIN).date()

        def reject(code: str, message: str) -> web.Response:
            return self.error(
                422,
                "UNPROCESSABLE_ENTITY",
                message,
                details=[{"code": code, "field": "value", "message": message}],
            )

        if sub.meter_type != "analog":
            return reject("unsupported_meter_reading", "Smart meters are read automatically")
        start = sub.start_at.astimezone(BERLIN).date() if sub.start_at else None
        if start is None or day < start or day > self.clock.now().astimezone(BERLIN).date():
            return reject("out_of_period_meter_reading", "The date is outside the supply period")
        readings = self.meter_readings.setdefault(sub.id, [(start, 12000.0)])
        if any(existing == day for existing, _ in readings):
            return reject("duplicate_meter_reading", "There is already a reading for this day")
        before = [(d, v) for d, v in readings if d < day]
        last_day, last_value = max(before) if before else readings[0]
        days = max(1, (day - last_day).days)
        if value < last_value or value > last_value + days * 60:
            return reject("implausible_meter_reading", "The reading is not plausible")
        readings.append((day, float(value)))
        reading_id = make_id("mr_", f"{sub.id}{day}")
        return web.json_response(
            {
                "object": "meter_reading",
                "id": reading_id,
                "customer": sub.customer.id,
                "subscription": sub.id,
                "meter": sub.meter_id,
                "value": value,
                "timestamp": iso(local_midnight(day)),
                "type": "customer_report",
                "created_at": iso(self.clock.now()),
            }
        )

    # Admin -----------------------------------------------------------------

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


def _aggregate(
    quarters: list[tuple[datetime, float, bool]], resolution: str
) -> list[dict[str, Any]]:
    """Sum quarter-hours into the requested resolution (Berlin calendar buckets)."""
    if resolution == "15min":
        return [
            {
                "start": iso_millis(moment),
                "usage": value,
                "type": "final" if final else "preliminary",
            }
            for moment, value, final in quarters
        ]
    buckets: dict[datetime, list[float | bool]] = {}
    for moment, value, final in quarters:
        local = moment.astimezone(BERLIN)
        if resolution == "hour":
            key = moment.replace(minute=0)
        else:
            day = local.date()
            if resolution == "week":
                day -= timedelta(days=day.weekday())
            elif resolution == "month":
                day = day.replace(day=1)
            key = local_midnight(day)
        bucket = buckets.setdefault(key, [0.0, True])
        bucket[0] = float(bucket[0]) + value
        bucket[1] = bool(bucket[1]) and final
    return [
        {
            "start": iso_millis(key),
            "usage": round(float(total), 3),
            "type": "final" if final else "preliminary",
        }
        for key, (total, final) in sorted(buckets.items())
    ]


def _code_for(status: int) -> str:
    return {
        400: "BAD_REQUEST",
        401: "UNAUTHORIZED",
        402: "PAYMENT_REQUIRED",
        403: "FORBIDDEN",
        404: "NOT_FOUND",
        405: "METHOD_NOT_ALLOWED",
        409: "CONFLICT",
        422: "UNPROCESSABLE_ENTITY",
        429: "TOO_MANY_REQUESTS",
    }.get(status, "INTERNAL_SERVER_ERROR")


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html")
