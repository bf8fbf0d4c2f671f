"""The REST API: customers, subscriptions, prices, usage, invoices, meter readings."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime, timedelta
import json
from typing import Any

from aiohttp import web

from .data import (
    BERLIN,
    PRELIMINARY_DAYS,
    PRICE_PUBLICATION,
    USAGE_PUBLICATION,
    Subscription,
    iso,
    iso_millis,
    local_midnight,
    make_id,
    quarters_of_day,
    unit_hash,
)
from .state import (
    ALL_CUSTOMERS,
    AccessToken,
    SimulatorState,
    _code_for,
)

PLANS: dict[str, dict[str, Any]] = {
    plan["id"]: plan
    for plan in (
        {
            "object": "plan",
            "id": make_id("pln_", "dynamic"),
            "name": "Nomos Dynamisch",
            "slug": "nomos",
            "description": "Dynamic tariff, billed every 15 minutes",
            # The monthly base fee including VAT (grid fixed fee and metering excluded).
            "price": 10.99,
            "currency": "EUR",
            "created_at": "2024-09-01T00:00:00.000Z",
            "type": "consumption",
        },
        {
            "object": "plan",
            "id": make_id("pln_", "solar"),
            "name": "Nomos Solar",
            "slug": "nomos",
            "description": "Dynamic feed-in payout",
            "price": 0.0,
            "currency": "EUR",
            "created_at": "2025-03-01T00:00:00.000Z",
            "type": "feed_in",
        },
    )
}


class ApiRoutes(SimulatorState):
    """The REST API: customers, subscriptions, prices, usage, invoices, meter readings."""

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

    def _plan(self, request: web.Request) -> dict[str, Any] | web.Response:
        """Return the plan the path names, or the error response (auth first)."""
        token = self._authenticate(request)
        if isinstance(token, web.Response):
            return token
        plan = PLANS.get(request.match_info["id"])
        if plan is None:
            return self.error(404, "NOT_FOUND", "Plan not found")
        return plan

    async def _get_plan(self, request: web.Request) -> web.Response:
        plan = self._plan(request)
        return plan if isinstance(plan, web.Response) else web.json_response(plan)

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
            if sub.meter_type == "smart":
                # What the smart meter measured (final values), as Nomos bills it.
                usage = sub.invoice_overrides.get(cursor, sub.month_usage(cursor))
            else:
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
                    "total": sub.invoice_total(cursor, usage),
                }
            )
            cursor = following
        invoices += sub.prepayment_invoices(now)
        return [invoice for invoice in invoices if invoice["issued_at"] <= iso(now)]

    async def _submit_meter_reading(self, request: web.Request) -> web.Response:
        """Accept a cumulative reading after plausibility checks (analog meters only)."""
        token = self._authenticate(request)
        if isinstance(token, web.Response):
            return token
        if "write:*" not in token.scope.split():
            return self.error(403, "FORBIDDEN", "This token may not write")
        try:
            # A real JSON parser: NaN and Infinity are not JSON.
            body = json.loads(await request.text(), parse_constant=_not_json)
        except ValueError:
            return self.error(400, "BAD_REQUEST", "Malformed JSON body")
        if not isinstance(body, dict):
            return self.error(400, "BAD_REQUEST", "invalid_type in '': expected object")
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


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")
