"""Tokens from personal API credentials (the client-credentials grant)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import time
from typing import Any

import aiohttp

from .const import token_url
from .errors import (
    NomosAuthError,
    NomosResponseError,
    error_from_response,
)
from .transport import MALFORMED, send

# Renew this long before the access token expires.
RENEW_BEFORE_EXPIRY = 60.0
TOKEN_TIMEOUT = 30.0


async def request_client_credentials_token(
    session: aiohttp.ClientSession,
    client_id: str,
    client_secret: str,
    *,
    url: str | None = None,
) -> dict[str, Any]:
    """Obtain a token with the client-credentials grant, authenticating with HTTP Basic.

    Returns the token response with `expires_at` (epoch seconds) added. A
    rejection (400/401/403) raises NomosAuthError; 429, 5xx and network
    problems raise the transient errors.
    """
    exchange = await send(
        session,
        "POST",
        url or token_url(),
        limit=TOKEN_TIMEOUT,
        what="the token request",
        data={"grant_type": "client_credentials"},
        auth=aiohttp.BasicAuth(client_id, client_secret),
    )
    status = exchange.status
    body = None if exchange.body is MALFORMED else exchange.body
    if status >= 400:
        error = error_from_response(status, body, exchange.headers)
        if status in (400, 401, 403):
            raise NomosAuthError(
                f"Nomos rejected the API credentials (HTTP {status})",
                status=status,
                code=error.code,
                request_id=error.request_id,
            )
        raise error
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise NomosResponseError("Invalid token response from Nomos: no access_token")
    expires_in = body.get("expires_in")
    if isinstance(expires_in, bool) or not isinstance(expires_in, int | float):
        raise NomosResponseError("Invalid token response from Nomos: no expires_in")
    return {**body, "expires_at": time.time() + float(expires_in)}


class ClientCredentialsTokens:
    """A token provider that renews with the client-credentials grant before expiry.

    Concurrent callers at expiry share one token request; `on_token` lets the
    owner persist each new token (so a restart needs no extra request).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        client_id: str,
        client_secret: str,
        token: dict[str, Any] | None = None,
        on_token: Callable[[dict[str, Any]], Awaitable[None] | None] | None = None,
    ) -> None:
        """Start from a stored token, if any."""
        self._session = session
        self._client_id = client_id
        self._client_secret = client_secret
        self.token = token or {}
        self._on_token = on_token
        self._lock = asyncio.Lock()

    def _valid(self) -> bool:
        expires_at = self.token.get("expires_at")
        return (
            isinstance(self.token.get("access_token"), str)
            and isinstance(expires_at, int | float)
            and expires_at > time.time() + RENEW_BEFORE_EXPIRY
        )

    async def access_token(self) -> str:
        """Return a valid access token, renewing it first when needed."""
        async with self._lock:
            if not self._valid():
                self.token = await request_client_credentials_token(
                    self._session, self._client_id, self._client_secret
                )
                if self._on_token is not None:
                    result = self._on_token(self.token)
                    if result is not None:
                        await result
            return str(self.token["access_token"])

    async def invalidate(self, token: str) -> None:
        """Forget a token Nomos rejected, so the next call renews it."""
        if self.token.get("access_token") == token:
            self.token = {**self.token, "expires_at": 0}

    @property
    def scopes(self) -> frozenset[str]:
        """Return the scopes granted to the current token."""
        return frozenset(str(self.token.get("scope") or "").split())
