"""Property tests: arbitrary JSON never crashes the parsers; aggregation keeps every kWh and cent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import math
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.nomos_energy.nomos_client import NomosError, NomosResponseError, Subscription
from custom_components.nomos_energy.nomos_client.errors import error_from_response
from custom_components.nomos_energy.nomos_client.models import (
    Customer,
    Fields,
    Invoice,
    PriceSeries,
    Usage,
)
from custom_components.nomos_energy.price_schedule import PriceInterval, PriceSchedule
from custom_components.nomos_energy.usage_statistics import (
    hourly_usage,
    period_total,
    running_sums,
)

QUARTER = timedelta(minutes=15)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(
        ["2026-11-29T10:00:00Z", "15min", "hourly", "active", "smart", "usage", "open", "final"]
    ),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)
# Objects that look roughly right, so the parsers get past the first field.
FIELD_NAMES = [
    "id",
    "status",
    "plan",
    "customer",
    "number",
    "resolution",
    "items",
    "timestamp",
    "amount",
    "components",
    "type",
    "subscription",
    "meter_type",
    "data",
    "start",
    "usage",
    "invoice_number",
    "month",
    "year",
    "period_start",
    "period_end",
    "period_number",
    "total",
    "first_name",
    "last_name",
    "email",
    "meter",
]
shaped = st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=len(FIELD_NAMES))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, shaped))
@pytest.mark.parametrize("model", [Subscription, PriceSeries, Usage, Invoice, Customer])
def test_arbitrary_json_only_raises_the_documented_error(model: Any, body: Any) -> None:
    """Any JSON either parses or raises NomosResponseError naming what is wrong."""
    try:
        model.from_fields(Fields(body))
    except NomosResponseError as err:
        assert "Invalid response from Nomos" in str(err)  # noqa: PT017


@settings(max_examples=300, deadline=None)
@given(
    st.integers(100, 599),
    json_values,
    st.dictionaries(st.sampled_from(["Retry-After", "ratelimit-reset"]), st.text(max_size=40)),
)
def test_error_envelopes_never_crash(status: int, body: Any, headers: dict[str, str]) -> None:
    """Whatever an error body looks like, the result is one of the client's errors."""
    error = error_from_response(status, body, headers)
    assert isinstance(error, NomosError)
    assert error.status == status


subscriptions = st.builds(
    Subscription,
    id=st.text("abc123_", min_size=1, max_size=12),
    number=st.none() | st.text("ABC123", min_size=1, max_size=8),
    status=st.sampled_from(["pending", "active", "ended"]),
    plan_id=st.text("abc", min_size=1, max_size=5),
    customer_id=st.text("abc", min_size=1, max_size=5),
    type=st.sampled_from(["consumption", "feed_in"]),
    estimated_usage=st.none() | st.floats(0, 1e6),
    start_at=st.none() | st.datetimes(timezones=st.just(UTC)),
    end_at=st.none() | st.datetimes(timezones=st.just(UTC)),
    terminated_at=st.none(),
    updated_at=st.none() | st.datetimes(timezones=st.just(UTC)),
)


@settings(max_examples=200, deadline=None)
@given(subscriptions)
def test_cached_subscriptions_round_trip(subscription: Subscription) -> None:
    """What the cache stores parses back to the same subscription."""
    assert Subscription.from_fields(Fields(subscription.to_json())) == subscription


class Quarter:
    """A usage interval for the aggregation properties."""

    def __init__(self, start: datetime, usage: float, final: bool) -> None:
        self.start, self.usage, self.final = start, usage, final


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(
        [datetime(2026, 3, 28, 20, tzinfo=UTC), datetime(2026, 10, 24, 20, tzinfo=UTC)]
    ),
    st.lists(
        st.tuples(
            st.integers(0, 5000), st.one_of(st.none(), st.integers(-2000, 8000)), st.booleans()
        ),
        min_size=1,
        max_size=200,
    ),
    st.floats(0, 1e5),
    st.floats(0, 1e4),
)
def test_hourly_aggregation_keeps_every_kwh_and_cent(
    origin: datetime, rows: list[tuple[int, int | None, bool]], base_kwh: float, base_eur: float
) -> None:
    """Across both DST nights: hours hold every kWh; cost is exact or, with a gap, unknown."""
    usage = [
        Quarter(origin + i * QUARTER, wh / 1000, final) for i, (wh, _, final) in enumerate(rows)
    ]
    prices = PriceSchedule(
        PriceInterval(
            origin + i * QUARTER, origin + (i + 1) * QUARTER, None if ct is None else ct / 100
        )
        for i, (_, ct, _) in enumerate(rows)
    )
    hours = hourly_usage(usage, prices)
    assert math.fsum(hour.kwh for hour in hours) == pytest.approx(
        math.fsum(q.usage for q in usage), abs=1e-9
    )
    assert len(hours) == len({q.start.replace(minute=0) for q in usage})
    for hour in hours:
        members = [i for i, q in enumerate(usage) if q.start.replace(minute=0) == hour.start]
        if any(rows[i][1] is None for i in members):
            assert hour.cost_eur is None
        else:
            expected = math.fsum(usage[i].usage * rows[i][1] / 10000 for i in members)
            assert hour.cost_eur == pytest.approx(expected, abs=1e-9)
        assert hour.final == all(rows[i][2] for i in members)
    consumption, cost = running_sums(hours, base_kwh, base_eur)
    assert consumption[-1].sum == pytest.approx(
        base_kwh + math.fsum(h.kwh for h in hours), abs=1e-6
    )
    known = [h.cost_eur for h in hours if h.cost_eur is not None]
    assert len(cost) == len(known)
    if cost:
        assert cost[-1].sum == pytest.approx(base_eur + math.fsum(known), abs=1e-6)
    total = period_total(
        hours, hours[0].start.date() - timedelta(days=1), hours[-1].start.date() + timedelta(days=1)
    )
    assert total is not None
    assert total.kwh == pytest.approx(math.fsum(h.kwh for h in hours), abs=1e-9)
