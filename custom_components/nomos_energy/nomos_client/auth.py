"""Token requests: one path for every grant, and tokens from personal API credentials.

Nomos documents client authentication as HTTP Basic with
`base64(client_id:client_secret)` and nothing of the client in the body. Every
token request of the integration (code exchange, refresh, client credentials)
goes through `request_token`, so the body, the header and the timeout are the
same on every Home Assistant version.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable, Mapping
import logging
import time
from typing import Any, Final
import unicodedata

import aiohttp

from .const import token_url
from .errors import (
    NomosAuthError,
    NomosClientCredentialsError,
    NomosCredentialsFormatError,
    NomosError,
    NomosResponseError,
    NomosTokenEndpointError,
    error_from_response,
)
from .models import finite_number
from .transport import MALFORMED, send

_LOGGER = logging.getLogger(__name__)

# Renew this long before the access token expires.
RENEW_BEFORE_EXPIRY = 60.0
TOKEN_TIMEOUT = 30.0
# The access-token lifetime Nomos documents, assumed when a successful token
# answer lacks a usable `expires_in`: discarding the answer would lose the
# rotated refresh token it carries, and with it the grant.
DEFAULT_EXPIRES_IN: Final = 3600
# After Nomos refused personal credentials, ask again this rarely (in seconds): new
# credentials reload the entry (and this provider) at once, and a client that Nomos
# re-enables is found within the hour without sending refused credentials every poll.
REFUSED_CREDENTIALS_RETRY: Final = 3600.0
# Status codes on which the token endpoint's own words may refuse credentials.
_REFUSAL_STATUSES: Final = frozenset({400, 401, 403})


def _strip_pasted(value: str) -> str:
    """Strip what pasting from an e-mail or a PDF adds around a value.

    Whitespace and invisible format characters (zero-width space, BOM, ...).
    """
    start, end = 0, len(value)
    while start < end and (value[start].isspace() or unicodedata.category(value[start]) == "Cf"):
        start += 1
    while end > start and (
        value[end - 1].isspace() or unicodedata.category(value[end - 1]) == "Cf"
    ):
        end -= 1
    return value[start:end]


def clean_client_credentials(client_id: str, client_secret: str) -> tuple[str, str]:
    """Return pasted credentials stripped, or raise NomosCredentialsFormatError.

    HTTP Basic cannot carry a `:` in the client id, and Nomos issues ids and
    secrets of printable ASCII only: anything else is a pasting accident.
    """
    cleaned: dict[str, str] = {}
    for field, raw in (("client_id", client_id), ("client_secret", client_secret)):
        value = _strip_pasted(raw)
        if not value:
            raise NomosCredentialsFormatError(f"The {field} is empty", field=field, problem="empty")
        if any(not ("!" <= char <= "~") for char in value):
            raise NomosCredentialsFormatError(
                f"The {field} contains a space or a character that is not printable ASCII",
                field=field,
                problem="characters",
            )
        cleaned[field] = value
    if ":" in cleaned["client_id"]:
        raise NomosCredentialsFormatError(
            "The client_id contains ':'", field="client_id", problem="colon"
        )
    return cleaned["client_id"], cleaned["client_secret"]


def basic_authorization(client_id: str, client_secret: str) -> str:
    """Return the `Authorization` header value: Basic base64(client_id:client_secret)."""
    client_id, client_secret = clean_client_credentials(client_id, client_secret)
    pair = f"{client_id}:{client_secret}".encode("ascii")
    return "Basic " + base64.b64encode(pair).decode("ascii")


def token_error(status: int, body: object, headers: Mapping[str, str]) -> NomosError:
    """Classify a failed token request by what it means for the user.

    The OAuth `error` decides when it is a string; otherwise Nomos's error code
    in any envelope (flat, `{"error": {...}}`-wrapped, legacy `type`):

    - `invalid_grant`, or UNAUTHORIZED on 400/401 without an OAuth error
      ("a failed refresh returns UNAUTHORIZED"): the grant is gone, sign in again;
    - `invalid_client`: the client id and secret are rejected;
    - 429 and 5xx: the usual transient errors;
    - anything else (a proxy's HTML page, 404, 408, other 400s): transient.
    """
    raw_error = body.get("error") if isinstance(body, Mapping) else None
    # OAuth puts a string in `error`; Nomos's wrapped envelope puts an object there.
    oauth_error = raw_error if isinstance(raw_error, str) and raw_error else None
    parsed = error_from_response(status, body, headers)
    kwargs: dict[str, Any] = {
        "status": status,
        "code": parsed.code,
        "request_id": parsed.request_id,
    }
    if oauth_error == "invalid_client":
        return NomosClientCredentialsError(
            f"Nomos rejected the client id and secret (HTTP {status} invalid_client)", **kwargs
        )
    grant_refused = (
        oauth_error == "invalid_grant" if oauth_error is not None else parsed.code == "UNAUTHORIZED"
    )
    if status in (400, 401) and grant_refused:
        return NomosAuthError(
            f"Nomos refused the grant (HTTP {status} {oauth_error or parsed.code}): "
            "the access was revoked or has expired",
            oauth_error=oauth_error,
            **kwargs,
        )
    if status == 429 or status >= 500:
        return parsed
    what = oauth_error or parsed.code or "no error code"
    return NomosTokenEndpointError(
        f"The Nomos token endpoint answered HTTP {status} ({what})",
        oauth_error=oauth_error,
        **kwargs,
    )


def _expires_in(value: object) -> float:
    """Return a usable access-token lifetime: finite and positive, else the default."""
    seconds = finite_number(value)
    if seconds is not None and seconds > 0:
        return value if isinstance(value, int) else seconds
    _LOGGER.warning(
        "The Nomos token answer has no usable expires_in; assuming %s s", DEFAULT_EXPIRES_IN
    )
    return DEFAULT_EXPIRES_IN


async def request_token(
    session: aiohttp.ClientSession,
    client_id: str,
    client_secret: str,
    form: Mapping[str, str],
    *,
    url: str | None = None,
) -> dict[str, Any]:
    """Post one token request (form-encoded, HTTP Basic) and return the token.

    `form` is the grant's body exactly as Nomos documents it: never the client
    id or secret. Raises NomosCredentialsFormatError before sending when the
    credentials cannot be sent, `token_error`'s classes for a refusal, and the
    transport errors for timeouts and broken connections.
    """
    authorization = basic_authorization(client_id, client_secret)
    exchange = await send(
        session,
        "POST",
        url or token_url(),
        limit=TOKEN_TIMEOUT,
        what="the token request",
        data=dict(form),
        headers={"Authorization": authorization, "Accept": "application/json"},
    )
    body = None if exchange.body is MALFORMED else exchange.body
    if exchange.status >= 400:
        raise token_error(exchange.status, body, exchange.headers)
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise NomosResponseError("Invalid token response from Nomos: no access_token")
    return {**body, "expires_in": _expires_in(body.get("expires_in"))}


async def request_client_credentials_token(
    session: aiohttp.ClientSession,
    client_id: str,
    client_secret: str,
    *,
    url: str | None = None,
) -> dict[str, Any]:
    """Obtain a token with the client-credentials grant; `expires_at` is added.

    For personal credentials, rejected or unusable credentials are a matter of
    signing in again (with new credentials): they raise NomosAuthError. That
    takes Nomos's own words, an OAuth error or a Nomos error code (e.g.
    `unauthorized_client`: this client may not do this); a proxy's page on a
    400 or 403 stays a transient NomosTokenEndpointError.
    """
    try:
        token = await request_token(
            session, client_id, client_secret, {"grant_type": "client_credentials"}, url=url
        )
    except NomosClientCredentialsError as err:
        raise NomosAuthError(str(err), status=err.status, code=err.code) from err
    except NomosTokenEndpointError as err:
        if err.status in _REFUSAL_STATUSES and (err.oauth_error or err.code):
            raise NomosAuthError(str(err), status=err.status, code=err.code) from err
        raise
    return {**token, "expires_at": time.time() + float(token["expires_in"])}


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
        self._refused: tuple[float, NomosAuthError] | None = None

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
                if self._refused is not None and time.time() < self._refused[0]:
                    refusal = self._refused[1]
                    raise NomosAuthError(
                        str(refusal.args[0]), status=refusal.status, code=refusal.code
                    )
                try:
                    self.token = await request_client_credentials_token(
                        self._session, self._client_id, self._client_secret
                    )
                except NomosAuthError as err:
                    self._refused = (time.time() + REFUSED_CREDENTIALS_RETRY, err)
                    raise
                self._refused = None
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
