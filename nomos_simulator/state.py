"""The simulator's state: accounts, tokens, faults, counters, and the Python control API."""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
import secrets
from typing import Any
import uuid

from aiohttp import web

from .data import (
    Customer,
    Subscription,
    seed_accounts,
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
    # The error body's shape for `status`: "flat" (curie), "wrapped"
    # ({"error": {...}}), "legacy" ({"object": "error", "type": ...}) or
    # "oauth" ({"error": oauth_error, "error_description": ...}).
    envelope: str = "flat"
    oauth_error: str = "invalid_grant"
    headers: dict[str, str] | None = None  # sent as they are (e.g. Retry-After: inf)
    raw: str | None = None  # a JSON text sent as it is (NaN, deep nesting, ...)
    redirect: str | None = None  # answer `status` (default 307) with this Location
    oversize: int | None = None  # stream a valid JSON body of this many bytes
    chunked: bool = False  # ... without Content-Length


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


class SimulatorState:
    """The simulator's state and its Python control API."""

    def __init__(self, *, token_lifetime: int = 3600, rate_limit: int | None = 10) -> None:
        """Seed the accounts."""
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

    # Helpers shared by the routes -----------------------------------------

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
