"""Exceptions raised by the Nomos API client.

Messages carry Nomos's request id (for support) and never a token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import math
from typing import Any, Final

# The longest wait a `Retry-After` may impose. Nomos asks for seconds; a huge
# value (a typo, a proxy, `inf`) must not stop polling for days or overflow the
# datetime arithmetic of whoever schedules the next attempt.
MAX_RETRY_AFTER: Final = 3600.0


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One entry of the `errors[]` array of a Nomos error response."""

    code: str
    field: str
    message: str


class NomosError(Exception):
    """Base class of every error the client raises."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        details: tuple[ErrorDetail, ...] = (),
    ) -> None:
        """Store the parsed error fields."""
        self.status = status
        self.code = code
        self.request_id = request_id
        self.details = details
        if request_id:
            message = f"{message} (request id {request_id})"
        super().__init__(message)

    @property
    def detail_codes(self) -> frozenset[str]:
        """Return the machine-readable codes of `errors[]`."""
        return frozenset(detail.code for detail in self.details)


class NomosConnectionError(NomosError):
    """Nomos could not be reached or the connection broke."""


class NomosTimeoutError(NomosConnectionError):
    """Nomos did not answer in time."""


class NomosResponseError(NomosError):
    """Nomos answered with something the client cannot use."""


class NomosApiError(NomosError):
    """Nomos rejected the request (a 4xx without a more specific class)."""


class NomosAuthError(NomosApiError):
    """Access is gone: Nomos refused the grant, or rejected a token that cannot be renewed.

    Only signing in again helps (the refresh token was revoked or expired).
    `oauth_error` is the token endpoint's OAuth `error` string (`invalid_grant`:
    the grant is gone for good), None when Nomos said only UNAUTHORIZED.
    """

    def __init__(self, message: str, *, oauth_error: str | None = None, **kwargs: Any) -> None:
        """Store the OAuth error string next to the parsed fields."""
        super().__init__(message, **kwargs)
        self.oauth_error = oauth_error


class NomosClientCredentialsError(NomosError):
    """Nomos rejected the client id and secret themselves (`invalid_client`).

    Signing in again cannot fix this: the credentials must be replaced.
    """


class NomosCredentialsFormatError(NomosClientCredentialsError, ValueError):
    """Client credentials that cannot be sent at all (checked before any request)."""

    def __init__(self, message: str, *, field: str, problem: str) -> None:
        """Name the field (`client_id`, `client_secret`) and the problem."""
        super().__init__(message)
        self.field = field
        self.problem = problem


class NomosTokenEndpointError(NomosError):
    """The token endpoint gave an answer that says nothing about the grant.

    A proxy's HTML page, a 404, a 408, an unexpected 400: transient, retried.
    `oauth_error` is the OAuth `error` string of the answer, if it had one.
    """

    def __init__(self, message: str, *, oauth_error: str | None = None, **kwargs: Any) -> None:
        """Store the OAuth error string next to the parsed fields."""
        super().__init__(message, **kwargs)
        self.oauth_error = oauth_error


class NomosInvalidRequestError(NomosError, ValueError):
    """A request that cannot be sent (e.g. a number that JSON cannot carry); nothing was sent."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        """Name the offending field when known."""
        super().__init__(message)
        self.field = field


class NomosForbiddenError(NomosApiError):
    """The token is valid but may not do this (403)."""


class NomosEndpointUnauthorizedError(NomosForbiddenError):
    """A 401 again right after a new access token was issued.

    Nomos also answers 401 for paths it does not serve, so this says the
    endpoint is not available to this sign-in, not that the grant is gone.
    """


class NomosNotFoundError(NomosApiError):
    """The resource does not exist or is not visible to this customer (404)."""


class NomosRateLimitError(NomosApiError):
    """Too many requests (429)."""

    def __init__(self, message: str, *, retry_after: float | None, **kwargs: Any) -> None:
        """Store how long Nomos asked us to wait, in seconds (at most MAX_RETRY_AFTER)."""
        super().__init__(message, **kwargs)
        self.retry_after = None if retry_after is None else _bounded_wait(retry_after)


class NomosServerError(NomosError):
    """Nomos had a problem of its own (5xx)."""


# Legacy envelopes used lowercase `type` values instead of codes.
_LEGACY_TYPES = {
    "malformed": "BAD_REQUEST",
    "unauthenticated": "UNAUTHORIZED",
    "permissionDenied": "FORBIDDEN",
    "notFound": "NOT_FOUND",
    "conflict": "CONFLICT",
    "invalid": "UNPROCESSABLE_ENTITY",
    "tooManyRequests": "TOO_MANY_REQUESTS",
    "internal": "INTERNAL_SERVER_ERROR",
    "notImplemented": "NOT_IMPLEMENTED",
}


def _bounded_wait(seconds: float) -> float | None:
    """Return `seconds` within 0..MAX_RETRY_AFTER (`inf` waits the longest); None for NaN."""
    if math.isnan(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Return the wait Nomos asks for, from `Retry-After` or `ratelimit-reset`.

    Seconds or an HTTP date; the result lies within 0..MAX_RETRY_AFTER.
    """
    for name in ("Retry-After", "ratelimit-reset"):
        value = headers.get(name)
        if value is None:
            continue
        value = value.strip()
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                seconds = (when - (now or datetime.now(UTC))).total_seconds()
            except (TypeError, ValueError, OverflowError, IndexError):
                continue
        wait = _bounded_wait(seconds)
        if wait is not None:
            return wait
    return None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def error_from_response(status: int, body: object, headers: Mapping[str, str]) -> NomosError:
    """Build the exception for an error response in any documented envelope.

    Shapes: flat `{code, message, requestId, docs, errors[]}`, the same wrapped
    in `{"error": {...}}`, and the legacy `{"object": "error", "type": ...}`.
    """
    envelope: Mapping[str, Any] = {}
    if isinstance(body, Mapping):
        wrapped = body.get("error")
        envelope = wrapped if isinstance(wrapped, Mapping) else body
    code = _str_or_none(envelope.get("code"))
    if code is None:
        legacy = _str_or_none(envelope.get("type"))
        code = _LEGACY_TYPES.get(legacy, legacy) if legacy else None
    message = _str_or_none(envelope.get("message")) or f"HTTP {status}"
    request_id = _str_or_none(envelope.get("requestId")) or _str_or_none(envelope.get("request_id"))
    details: list[ErrorDetail] = []
    raw_details = envelope.get("errors")
    if isinstance(raw_details, list):
        for item in raw_details:
            if isinstance(item, Mapping) and isinstance(item.get("code"), str):
                details.append(
                    ErrorDetail(
                        code=item["code"],
                        field=_str_or_none(item.get("field")) or "",
                        message=_str_or_none(item.get("message")) or "",
                    )
                )
    text = f"Nomos answered HTTP {status}" + (f" {code}" if code else "") + f": {message}"
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "request_id": request_id,
        "details": tuple(details),
    }
    if status == 401:
        return NomosAuthError(text, **kwargs)
    if status == 403:
        return NomosForbiddenError(text, **kwargs)
    if status == 404:
        return NomosNotFoundError(text, **kwargs)
    if status == 429:
        return NomosRateLimitError(text, retry_after=retry_after_seconds(headers), **kwargs)
    if status >= 500:
        return NomosServerError(text, **kwargs)
    return NomosApiError(text, **kwargs)
