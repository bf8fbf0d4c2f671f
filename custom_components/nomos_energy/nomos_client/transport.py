"""One HTTP exchange with Nomos: transport failures become the client's errors."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
import json
from typing import Any

import aiohttp

from .errors import NomosConnectionError, NomosTimeoutError


class Malformed:
    """Marker for a body that is not JSON."""


MALFORMED: Any = Malformed()


@dataclass(frozen=True, slots=True)
class RawResponse:
    """Status, headers and the decoded body (None when empty, MALFORMED when not JSON)."""

    status: int
    headers: Mapping[str, str]
    body: Any


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    limit: float,
    what: str,
    **kwargs: Any,
) -> RawResponse:
    """Send one request within `limit` seconds; `what` names it in error messages."""
    try:
        async with asyncio.timeout(limit):
            async with session.request(method, url, **kwargs) as response:
                status = response.status
                headers = response.headers
                raw = await response.read()
    except TimeoutError:
        raise NomosTimeoutError(f"Nomos did not answer {what} within {limit:.0f} s") from None
    except aiohttp.ClientError as err:
        raise NomosConnectionError(
            f"Could not reach Nomos for {what}: {type(err).__name__}"
        ) from None
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = MALFORMED
    return RawResponse(status, headers, body)
