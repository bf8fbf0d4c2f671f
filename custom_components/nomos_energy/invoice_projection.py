"""The expected invoice of a month: what is metered, and a projection of the rest. Pure logic.

A month's invoice is its energy (each quarter-hour's kWh at its all-in price) plus
the plan's monthly base fee. The expected invoice adds up:

- the metered days: the daily import's day totals (kWh and cost);
- the rest, every supplied quarter-hour not metered yet (today, the days ahead, a
  day Nomos has not published): expected kWh times a price. The kWh follow the
  household's own recent weeks: a day shape by time of day per kind of day
  (workday, Saturday, Sunday; a public holiday is a Sunday) that the daily
  import keeps as a small profile, scaled to that kind's level in the last four
  weeks of final values and moved along their trend (the season). Days far
  below the median (the household was away) count for neither. With too few days
  of each kind one shape and level serve every day; with no metered day the
  contract's annual estimate does, spread by the typical season. The price is
  the known one (today, tomorrow), else the average of the same quarter-hour on
  the same kind of day (workday or not) in the last four weeks;
- the base fee, pro rata by supplied days in a month the supply starts or ends.

Metering charges billed apart, credits and corrections of earlier months are not
known here. Where Nomos charges advance payments (prepayment invoices), the
true-up of their billing period is its invoices (expected ones for months not
invoiced yet) minus the advance payments charged so far.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
import math
import statistics
from typing import Final, Literal

from .annual_usage import day_share
from .daily_totals import DayTotal
from .nomos_client import Invoice
from .price_schedule import CT_PER_EUR, PriceSchedule, local_date
from .usage_profile import (
    ALWAYS_SUPPLIED,
    DAY_KINDS,
    EVEN,
    HISTORY_DAYS,
    MIN_KIND_DAYS,
    REFERENCE_DAYS,
    Supply,
    UsageProfile,
    at_home,
    day_kind,
    recent_days,
    slot,
)

type Method = Literal["metered", "weekday_profile", "daily_profile", "estimated_usage"]
# A trend needs three weeks; it is the season, never a jump: at most 1 % a day,
# and a day's level moves by at most half.
TREND_MIN_DAYS: Final = 21
TREND_LIMIT: Final = 0.01
TREND_FACTOR_LIMIT: Final = 1.5
# Voided invoices were reversed; an uncollectible prepayment was never paid.
STANDING: Final = ("open", "paid")


@dataclass(frozen=True, slots=True)
class _UsageModel:
    """Expected kWh per quarter-hour: a kind of day's shape times its level and the trend."""

    method: Method
    history_days: int
    levels: Mapping[str, float]
    profile: UsageProfile | None
    trend_per_day: float = 0.0  # the level's change a day (a share of it) ...
    centre: float = 0.0  # ... from this day (an ordinal) on
    annual_kwh: float = 0.0

    def quarters(self, day: date, starts: Sequence[datetime]) -> list[float]:
        """Return the expected kWh of the given quarter-hours of a day."""
        kind = day_kind(day)
        if self.method == "estimated_usage":
            shape, kwh = EVEN, self.annual_kwh * day_share(day)
        else:
            shape = EVEN if self.profile is None else self.profile.shares["all"]
            if self.profile is not None and self.method == "weekday_profile":
                shape = self.profile.shape(kind)
            kwh = self.levels.get(kind, self.levels["all"])
            kwh *= _factor(self.trend_per_day, self.centre, day)
        return [kwh * shape[slot(moment)] for moment in starts]


def _factor(trend_per_day: float, centre: float, day: date) -> float:
    """Return how far the trend moves a day's level (at most by half either way)."""
    factor = 1 + trend_per_day * (day.toordinal() - centre)
    return min(TREND_FACTOR_LIMIT, max(1 / TREND_FACTOR_LIMIT, factor))


def _trend(
    days: Sequence[date], shares: Sequence[float], kinds: Sequence[str]
) -> tuple[float, float]:
    """Return the line through the days' shares of their kind's level: slope a day, centre.

    Each kind is measured from its own mean day (its days may lie earlier or later
    in the weeks). The slope counts only as far as it stands out from the days'
    scatter around it (shrunk by its own uncertainty), and at most TREND_LIMIT.
    The centre is the days' mean (an ordinal).
    """
    xs = [float(day.toordinal()) for day in days]
    dx, dy = [0.0] * len(xs), [0.0] * len(xs)
    for kind in set(kinds):
        members = [index for index, other in enumerate(kinds) if other == kind]
        x_mean = statistics.fmean(xs[index] for index in members)
        y_mean = statistics.fmean(shares[index] for index in members)
        for index in members:
            dx[index], dy[index] = xs[index] - x_mean, shares[index] - y_mean
    spread = math.fsum(x * x for x in dx)
    slope = math.fsum(x * y for x, y in zip(dx, dy, strict=True)) / spread
    scatter = math.fsum((y - slope * x) ** 2 for x, y in zip(dx, dy, strict=True))
    uncertainty = scatter / (len(xs) - len(set(kinds)) - 1) / spread
    shrink = max(0.0, 1 - uncertainty / slope**2) if slope else 0.0
    return max(-TREND_LIMIT, min(TREND_LIMIT, slope * shrink)), statistics.fmean(xs)


def _usage_model(
    totals: Mapping[date, DayTotal],
    anchor: date | None,
    profile: UsageProfile | None,
    supply: Supply,
    annual_kwh: float | None,
) -> _UsageModel | None:
    """Return how the rest's kWh are expected: from final days up to `anchor`, else the estimate."""
    last = anchor
    if anchor is not None and profile is not None and profile.final_until is not None:
        last = min(anchor, profile.final_until)
    # Each complete day as a whole day: a DST day or one supplied in part scaled up.
    whole: dict[date, float] = {}
    for day in [] if last is None else (last - timedelta(days=n) for n in range(REFERENCE_DAYS)):
        total, starts = totals.get(day), supply.quarters(day)
        if total is not None and starts and total.quarters >= len(starts):
            shape = EVEN if profile is None else profile.shape(day_kind(day))
            covered = math.fsum(shape[slot(moment)] for moment in starts)
            whole[day] = total.kwh / covered if covered > 0 else total.kwh
    if last is None or not whole:
        return (
            _UsageModel("estimated_usage", 0, {}, None, annual_kwh=annual_kwh)
            if annual_kwh
            else None
        )
    home = recent_days(at_home(whole), last)
    per_kind = all(
        sum(1 for day in home if day_kind(day) == kind) >= MIN_KIND_DAYS for kind in DAY_KINDS
    )

    def levels(trend: float = 0.0, centre: float = 0.0) -> dict[str, float]:
        """Return each kind's mean day (and every day's), the trend taken out."""
        level = {day: whole[day] / _factor(trend, centre, day) for day in home}
        kinds = DAY_KINDS if per_kind else ()
        return {"all": statistics.fmean(level.values())} | {
            kind: statistics.fmean(v for d, v in level.items() if day_kind(d) == kind)
            for kind in kinds
        }

    method: Method = (
        "weekday_profile"
        if per_kind and profile is not None and profile.by_kind
        else "daily_profile"
    )
    if len(home) < TREND_MIN_DAYS:
        return _UsageModel(method, len(home), levels(), profile)
    plain = levels()
    kinds = [day_kind(day) if per_kind else "all" for day in home]
    relative = [whole[day] / (plain[kind] or 1.0) for day, kind in zip(home, kinds, strict=True)]
    trend, centre = _trend(home, relative, kinds)
    return _UsageModel(method, len(home), levels(trend, centre), profile, trend, centre)


class _Prices:
    """Known quarter-hour prices, and estimates where Nomos has published none yet.

    An estimate is the average price of the same slot on the same kind of day
    (workday or not) in the four weeks up to the newest known price, else of
    every known price of those weeks.
    """

    def __init__(self, schedule: PriceSchedule) -> None:
        self.schedule = schedule
        known = [(i.start, i.price_ct) for i in schedule.intervals if i.price_ct is not None]
        oldest = known[-1][0] - timedelta(days=HISTORY_DAYS) if known else None
        recent = [(start, price) for start, price in known if oldest and start > oldest]
        groups: dict[tuple[bool, int], list[float]] = {}
        for start, price in recent:
            key = (day_kind(local_date(start)) == "workday", slot(start))
            groups.setdefault(key, []).append(price)
        self.means = {k: statistics.fmean(v) for k, v in groups.items() if len(v) >= MIN_KIND_DAYS}
        self.overall = statistics.fmean(price for _, price in recent) if recent else None

    def price_ct(self, moment: datetime) -> float | None:
        """Return the quarter-hour's known price, else the estimate (None: no price known)."""
        interval = self.schedule.at(moment)
        if interval is not None and interval.price_ct is not None:
            return interval.price_ct
        key = (day_kind(local_date(moment)) == "workday", slot(moment))
        return self.means.get(key, self.overall)


@dataclass(frozen=True, slots=True)
class MonthProjection:
    """A month's expected invoice: metered so far, the projected rest, the base fee."""

    month: date
    metered_kwh: float
    metered_cost_eur: float | None
    metered_days: int
    rest_kwh: float | None
    rest_cost_eur: float | None
    rest_days: int
    base_fee_eur: float | None
    method: Method
    history_days: int
    last_imported_day: date | None

    @property
    def total_eur(self) -> float | None:
        """Return the expected invoice (unknown while a part of it is)."""
        if self.metered_cost_eur is None or self.rest_cost_eur is None:
            return None
        return self.metered_cost_eur + self.rest_cost_eur + (self.base_fee_eur or 0.0)


def month_days(month: date) -> list[date]:
    """Return the days of the month `month` falls in."""
    first = month.replace(day=1)
    return [first + timedelta(n) for n in range(calendar.monthrange(first.year, first.month)[1])]


def base_fee_share(month: date, monthly_fee: float | None, supply: Supply) -> float | None:
    """Return the month's base fee; pro rata by supplied days when the supply starts or ends."""
    if monthly_fee is None:
        return None
    days = month_days(month)
    return monthly_fee * sum(1 for day in days if supply.quarters(day)) / len(days)


def project_month(
    month: date,
    today: date,
    totals: Mapping[date, DayTotal],
    schedule: PriceSchedule,
    *,
    profile: UsageProfile | None,
    supply: Supply = ALWAYS_SUPPLIED,
    monthly_fee: float | None = None,
    annual_kwh: float | None = None,
) -> MonthProjection | None:
    """Return the expected invoice of `month` as known on `today` (None: nothing supplied).

    A day before today whose every supplied quarter-hour is metered counts as
    metered; every other supplied day of the month (a gap, today, the days
    ahead) is projected.
    """
    days = [(day, starts) for day in month_days(month) if (starts := supply.quarters(day))]
    if not days:
        return None

    def metered(day: date, starts: Sequence[datetime]) -> bool:
        total = totals.get(day)
        return day < today and total is not None and total.quarters >= len(starts)

    newest_first = (day for day in sorted(totals, reverse=True) if day < today)
    anchor = next((day for day in newest_first if metered(day, supply.quarters(day))), None)
    model = _usage_model(totals, anchor, profile, supply, annual_kwh)
    prices = _Prices(schedule)

    def cost(day: date, starts: Sequence[datetime], kwh: float | None = None) -> float | None:
        """Return the EUR of a day's expected kWh (or of `kwh` in the same mix of prices)."""
        if model is None:
            return None
        expected, priced = model.quarters(day, starts), [prices.price_ct(m) for m in starts]
        if any(price is None for price in priced):
            return None
        eur = math.fsum(k * (p or 0.0) for k, p in zip(expected, priced, strict=True)) / CT_PER_EUR
        if kwh is None:
            return eur
        return eur / math.fsum(expected) * kwh if math.fsum(expected) > 0 else 0.0

    metered_kwh = metered_cost = rest_kwh = rest_cost = 0.0
    unknown_metered = unknown_rest = False
    rest_days = 0
    for day, starts in days:
        if metered(day, starts):
            total = totals[day]
            metered_kwh += total.kwh
            # A price Nomos never sent: the day's kWh at its expected mix of prices.
            day_cost = (
                total.cost_eur if total.cost_eur is not None else cost(day, starts, total.kwh)
            )
            unknown_metered = unknown_metered or day_cost is None
            metered_cost += day_cost or 0.0
            continue
        rest_days += 1
        rest_kwh += math.fsum(model.quarters(day, starts)) if model else 0.0
        day_cost = cost(day, starts)
        unknown_rest = unknown_rest or day_cost is None
        rest_cost += day_cost or 0.0
    return MonthProjection(
        month=month.replace(day=1),
        metered_kwh=metered_kwh,
        metered_cost_eur=None if unknown_metered else metered_cost,
        metered_days=len(days) - rest_days,
        rest_kwh=None if model is None and rest_days else rest_kwh,
        rest_cost_eur=None if unknown_rest else rest_cost,
        rest_days=rest_days,
        base_fee_eur=base_fee_share(month, monthly_fee, supply),
        method=("metered" if not rest_days else model.method if model else "estimated_usage"),
        history_days=model.history_days if model and rest_days else 0,
        last_imported_day=anchor,
    )


def usage_invoice(invoices: Iterable[Invoice], month: date) -> Invoice | None:
    """Return the month's usage invoice (the newest standing one: a voided one was replaced)."""
    first = month.replace(day=1)
    return max(
        (
            invoice
            for invoice in invoices
            if invoice.type == "usage"
            and invoice.status in STANDING
            and local_date(invoice.period_start) == first
        ),
        key=lambda invoice: invoice.issued_at or invoice.period_end,
        default=None,
    )


@dataclass(frozen=True, slots=True)
class TrueUp:
    """A billing period's usage, invoiced or expected, against its advance payments."""

    first_day: date
    last_day: date
    prepaid_eur: float
    expected_eur: float

    @property
    def balance_eur(self) -> float:
        """Return what is left to pay (positive) or to come back (negative)."""
        return self.expected_eur - self.prepaid_eur


def expected_true_up(
    invoices: Sequence[Invoice], day: date, expected: Callable[[date], float | None]
) -> TrueUp | None:
    """Return the true-up of the billing period `day` falls in; None without advance payments.

    The billing period is the one the advance payments (prepayment invoices)
    name. Its usage counts up to `day`'s month: a month's usage invoice where
    there is one, else `expected(month)`; the advance payments are those charged.
    """
    prepaid = [i for i in invoices if i.type == "prepayment" and i.status in STANDING]
    covering = [i for i in prepaid if local_date(i.period_start) <= day < local_date(i.period_end)]
    if not covering:
        return None
    newest = max(covering, key=lambda invoice: invoice.period_start)
    first, end = local_date(newest.period_start), local_date(newest.period_end)
    paid = math.fsum(
        i.total
        for i in prepaid
        if (local_date(i.period_start), local_date(i.period_end)) == (first, end)
    )
    usage, month = 0.0, first.replace(day=1)
    while month <= day and month < end:
        invoice = usage_invoice(invoices, month)
        value = invoice.total if invoice is not None else expected(month)
        if value is None:
            return None
        usage += value
        month = (month + timedelta(days=32)).replace(day=1)
    return TrueUp(first, end - timedelta(days=1), paid, usage)
