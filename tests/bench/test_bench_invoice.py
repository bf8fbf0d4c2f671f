"""Benchmark (script/bench): how close the expected invoice comes to the invoice Nomos issues.

Jonas's family house (the simulator's account with weekdays, seasons, public
holidays and a summer holiday away) through the twelve months of 2026: on the
10th and the 20th of each month, at 17:00 (the day before is published), the
data the integration holds then is read from the simulator's API as the daily
import reads it (15-minute usage of the last eight weeks, the last days still
preliminary; the prices of the last 45 days and tomorrow; the plan's base fee)
and handed to the same functions the import and the sensor call. The
projection is compared with the total of the month's usage invoice.
Target: within ±3 % on the 20th in at least 11 of the 12 months.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
import statistics

import aiohttp
import pytest

from custom_components.nomos_energy.const import CORRECTION_WINDOW_DAYS, PRICE_HISTORY_DAYS
from custom_components.nomos_energy.daily_totals import day_totals
from custom_components.nomos_energy.invoice_projection import (
    MonthProjection,
    project_month,
    usage_invoice,
)
from custom_components.nomos_energy.nomos_client import NomosClient, StaticTokenProvider
from custom_components.nomos_energy.price_schedule import (
    PriceSchedule,
    day_start,
    intervals_from_series,
)
from custom_components.nomos_energy.usage_profile import (
    REFERENCE_DAYS,
    Supply,
    build_usage_profile,
)
from custom_components.nomos_energy.usage_statistics import costed_quarters
from nomos_simulator import NomosSimulator

from ..conftest import JONAS
from ..timetravel import berlin
from .test_bench_prices import RESULTS

pytestmark = pytest.mark.bench

MONTHS = [date(2026, month, 1) for month in range(1, 13)]
DAYS_OF_MONTH = (10, 20)
TARGET_PERCENT = 3.0


def client_at(
    simulator: NomosSimulator, session: aiohttp.ClientSession, customer_id: str, moment: datetime
) -> NomosClient:
    """Set the simulator's clock and return a client with a token valid then."""
    simulator.clock.set(moment)
    token = simulator.issue_tokens(customer_id)["access_token"]
    return NomosClient(session, StaticTokenProvider(token))


async def projection_on(client: NomosClient, sub_id: str, day: date) -> MonthProjection:
    """Project `day`'s month from what the integration holds at 17:00 (after the import)."""
    contract = await client.get_subscription(sub_id)
    prices = PriceSchedule(
        intervals_from_series(
            await client.get_prices(
                sub_id, day - timedelta(days=PRICE_HISTORY_DAYS), day + timedelta(days=1)
            )
        )
    )
    usage = await client.get_usage(sub_id, day - timedelta(days=REFERENCE_DAYS), day, "15min")
    quarters = costed_quarters(usage.items, prices)
    # The daily run re-imports the correction window (from the day before it on).
    window_start = day - timedelta(days=CORRECTION_WINDOW_DAYS + 1)
    imported = [q for q in quarters if q.start >= day_start(window_start)]
    supply = Supply(contract.start_at, contract.end_at)
    plan = await client.get_plan(contract.plan_id)
    projection = project_month(
        day.replace(day=1),
        day,
        day_totals(quarters),
        prices,
        profile=build_usage_profile(imported, supply),
        supply=supply,
        monthly_fee=plan.price,
        annual_kwh=contract.estimated_usage,
    )
    assert projection is not None
    return projection


async def test_expected_invoice_accuracy(simulator: NomosSimulator) -> None:
    """The projection of the 10th and the 20th against the month's invoice."""
    customer = simulator.customer_by_email(JONAS)
    assert customer is not None
    sub_id = simulator.subscriptions_of(customer.id)[0].id
    errors: dict[str, dict[int, float]] = {}
    methods: set[str] = set()
    async with aiohttp.ClientSession() as session:
        for month in MONTHS:
            projections = {}
            for day_of_month in DAYS_OF_MONTH:
                moment = berlin(month.year, month.month, day_of_month, 17, 0)
                client = client_at(simulator, session, customer.id, moment)
                projections[day_of_month] = await projection_on(
                    client, sub_id, month.replace(day=day_of_month)
                )
            # The month's invoice is out on the 4th of the next month.
            after = berlin(month.year, month.month, 28, 12, 0) + timedelta(days=14)
            client = client_at(simulator, session, customer.id, after)
            invoice = usage_invoice(await client.list_invoices(sub_id), month)
            assert invoice is not None, month
            errors[month.strftime("%Y-%m")] = {}
            for day_of_month, projection in projections.items():
                assert projection.total_eur is not None
                methods.add(f"{projection.method}/{projection.history_days // 7}w")
                error = (projection.total_eur / invoice.total - 1) * 100
                errors[month.strftime("%Y-%m")][day_of_month] = round(error, 2)
            print(
                f"{month:%Y-%m}: invoice {invoice.total:7.2f} EUR, projected on the 10th "
                f"{projections[10].total_eur:7.2f} ({errors[f'{month:%Y-%m}'][10]:+.2f} %), "
                f"on the 20th {projections[20].total_eur:7.2f} "
                f"({errors[f'{month:%Y-%m}'][20]:+.2f} %)"
            )
    summary: dict[str, object] = {}
    for day_of_month in DAYS_OF_MONTH:
        sizes = [abs(by_day[day_of_month]) for by_day in errors.values()]
        summary[f"day_{day_of_month}_median_abs_percent"] = round(statistics.median(sizes), 2)
        summary[f"day_{day_of_month}_worst_abs_percent"] = round(max(sizes), 2)
        summary[f"day_{day_of_month}_within_3_percent"] = sum(s <= TARGET_PERCENT for s in sizes)
    print(f"expected invoice: {summary}, methods {sorted(methods)}")
    RESULTS["expected_invoice_error_percent_by_month"] = errors
    RESULTS["expected_invoice"] = summary
    assert summary["day_20_within_3_percent"] >= 11
