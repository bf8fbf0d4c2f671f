"""Request counting, rate limits and injected faults, as an aiohttp middleware."""

from __future__ import annotations

import asyncio
from collections import deque
import time
from typing import Any
import uuid

from aiohttp import web

from .state import (
    API_VERSION,
    DOCS,
    Fault,
    Handler,
    SimulatorState,
    _code_for,
)

# The legacy envelope's lowercase `type` for each status.
_LEGACY_TYPES = {
    400: "malformed",
    401: "unauthenticated",
    403: "permissionDenied",
    404: "notFound",
    409: "conflict",
    422: "invalid",
    429: "tooManyRequests",
    501: "notImplemented",
}


class FaultsMixin(SimulatorState):
    """Request counting, rate limits and injected faults, as an aiohttp middleware."""

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
            headers = dict(fault.headers or {})
            if fault.redirect is not None:
                headers["Location"] = fault.redirect
                return web.Response(status=fault.status or 307, headers=headers)
            if fault.oversize is not None:
                return await self._oversized(request, fault, headers)
            if fault.status is not None:
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(int(fault.retry_after))
                if fault.body is not None:
                    return web.json_response(fault.body, status=fault.status, headers=headers)
                if fault.raw is not None:
                    return web.Response(
                        text=fault.raw,
                        status=fault.status,
                        headers=headers,
                        content_type="application/json",
                    )
                if fault.html is not None:
                    return web.Response(
                        text=fault.html,
                        status=fault.status,
                        headers=headers,
                        content_type="text/html",
                    )
                return self._envelope(fault, headers)
            if fault.body is not None:
                return web.json_response(fault.body, headers=headers)
            if fault.raw is not None:
                return web.Response(
                    text=fault.raw, headers=headers, content_type="application/json"
                )
            if fault.malformed:
                return web.Response(
                    body=b'{"object": "price", "items": [{"timestamp": ',
                    content_type="application/json",
                )
        response = await handler(request)
        response.headers.setdefault("X-API-Version", API_VERSION)
        return response

    def _envelope(self, fault: Fault, headers: dict[str, str]) -> web.Response:
        """Answer `fault.status` in the error shape `fault.envelope` asks for."""
        status = fault.status or 500
        code = _code_for(status)
        if fault.envelope == "flat":
            return self.error(status, code, "Injected fault", headers)
        body: dict[str, Any]
        if fault.envelope == "wrapped":
            body = {
                "error": {
                    "code": code,
                    "message": "Injected fault",
                    "docs": DOCS + code,
                    "requestId": str(uuid.uuid4()),
                }
            }
        elif fault.envelope == "legacy":
            legacy = _LEGACY_TYPES.get(status, "internal")
            body = {"object": "error", "type": legacy, "message": "Injected fault"}
        elif fault.envelope == "oauth":
            body = {"error": fault.oauth_error, "error_description": "Injected fault"}
        else:
            raise ValueError(f"Unknown envelope {fault.envelope!r}")
        return web.json_response(body, status=status, headers=headers)

    async def _oversized(
        self, request: web.Request, fault: Fault, headers: dict[str, str]
    ) -> web.StreamResponse:
        """Stream a JSON list padded with spaces to `fault.oversize` bytes: valid, only long."""
        size = max(2, fault.oversize or 0)
        response = web.StreamResponse(status=fault.status or 200, headers=headers)
        response.content_type = "application/json"
        if not fault.chunked:
            response.content_length = size
        await response.prepare(request)
        padding = b" " * 65536
        try:
            await response.write(b"[")
            left = size - 2
            while left > 0:
                await response.write(padding[: min(left, len(padding))])
                left -= min(left, len(padding))
            await response.write(b"]")
            await response.write_eof()
        except ConnectionError:  # the client stopped reading, as it should
            pass
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
