"""One HTTP exchange with Nomos: transport failures become the client's errors."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
import json
from typing import Any, Final

import aiohttp

from .errors import (
    NomosConnectionError,
    NomosInvalidRequestError,
    NomosResponseError,
    NomosTimeoutError,
)

# Nomos's largest answers (a year of quarter-hour usage) are a few MB; beyond
# this a server is broken or hostile, and reading on would exhaust memory.
MAX_BODY_BYTES: Final = 10 * 1024 * 1024
# Parsing more JSON than this inline would hold up the event loop noticeably.
INLINE_JSON_BYTES: Final = 256 * 1024
_READ_CHUNK: Final = 64 * 1024


class Malformed:
    """Marker for a body that is not JSON."""


MALFORMED: Any = Malformed()


@dataclass(frozen=True, slots=True)
class RawResponse:
    """Status, headers and the decoded body (None when empty, MALFORMED when not JSON)."""

    status: int
    headers: Mapping[str, str]
    body: Any


def encode_json(value: object, what: str) -> bytes:
    """Return `value` as strict JSON, or raise NomosInvalidRequestError (nothing is sent).

    Python's json would write NaN and Infinity, which are not JSON: Nomos would
    refuse the body, or worse, read it some other way.
    """
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":")).encode()
    except (TypeError, ValueError) as err:
        raise NomosInvalidRequestError(
            f"Cannot send {what}: the body is not valid JSON ({err})"
        ) from None


def _decode(raw: bytes) -> Any:
    """Return the JSON of `raw`, or MALFORMED (also for nesting too deep to parse)."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return MALFORMED


async def _read_capped(response: aiohttp.ClientResponse) -> bytes | None:
    """Return the body, or None as soon as it is known to exceed MAX_BODY_BYTES."""
    limit = MAX_BODY_BYTES
    declared = response.content_length
    if declared is not None and declared > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while chunk := await response.content.read(_READ_CHUNK):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    limit: float,
    what: str,
    json_body: object = None,
    **kwargs: Any,
) -> RawResponse:
    """Send one request within `limit` seconds; `what` names it in error messages.

    Redirects are not followed: a token request re-sent to another host would
    hand it the credentials, so any 3xx is a NomosResponseError. A body larger
    than MAX_BODY_BYTES is not read: a NomosResponseError for a success, and
    for an error status the status alone decides (the body counts as malformed).
    """
    if json_body is not None:
        kwargs["data"] = encode_json(json_body, what)
        kwargs["headers"] = {**(kwargs.get("headers") or {}), "Content-Type": "application/json"}
    try:
        async with asyncio.timeout(limit):
            async with session.request(method, url, allow_redirects=False, **kwargs) as response:
                status = response.status
                headers = response.headers
                if 300 <= status < 400:
                    raise NomosResponseError(
                        f"Nomos answered {what} with a redirect (HTTP {status}); "
                        "redirects are not followed"
                    )
                raw = await _read_capped(response)
    except TimeoutError:
        raise NomosTimeoutError(f"Nomos did not answer {what} within {limit:.0f} s") from None
    except aiohttp.ClientError as err:
        raise NomosConnectionError(
            f"Could not reach Nomos for {what}: {type(err).__name__}"
        ) from None
    if raw is None:
        if status < 400:
            raise NomosResponseError(
                f"Nomos answered {what} with more than {MAX_BODY_BYTES} bytes "
                f"(HTTP {status}); the answer was not read"
            )
        return RawResponse(status, headers, MALFORMED)
    if not raw:
        body = None
    elif len(raw) > INLINE_JSON_BYTES:
        body = await asyncio.to_thread(_decode, raw)
    else:
        body = _decode(raw)
    return RawResponse(status, headers, body)
