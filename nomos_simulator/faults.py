"""Request counting, rate limits and injected faults, as an aiohttp middleware."""

from __future__ import annotations

import asyncio
from collections import deque
import time

from aiohttp import web

from .state import (
    API_VERSION,
    Handler,
    SimulatorState,
    _code_for,
)


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
