"""The household's day profile: how it uses power by kind of day and time of day. Pure logic.

A day is a workday, a Saturday or a Sunday (Germany's nationwide public holidays
count as Sundays). The daily import keeps, per subscription, the shape of each
kind of day over its 96 wall-clock quarter-hours: the share of the day's kWh
each slot takes, averaged over the last four weeks of complete days at home (a
day far below the median day was one away: a holiday shapes nothing). A few
kB in the cache, from the 15-minute usage the import fetches anyway; the
expected invoice (invoice_projection.py) scales it by the metered day totals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
import math
import statistics
from typing import Any, Final, Literal

from .price_schedule import BERLIN, day_bounds, local_date
from .usage_statistics import QuarterUsage

QUARTER: Final = timedelta(minutes=15)
SLOTS: Final = 96
EVEN: Final[tuple[float, ...]] = (1 / SLOTS,) * SLOTS
type DayKind = Literal["workday", "saturday", "sunday"]
DAY_KINDS: Final[tuple[DayKind, ...]] = ("workday", "saturday", "sunday")
# Shapes (and the invoice's levels and price estimates) rest on the last four weeks.
HISTORY_DAYS: Final = 28
# A kind of day needs this many days of its own for a shape (else every day's serves).
MIN_KIND_DAYS: Final = 3
# Below this share of the median day of the last eight weeks the household was away.
AWAY_SHARE: Final = 0.5
REFERENCE_DAYS: Final = 56
# What the daily import hands over: at most eight weeks of quarter-hours.
PROFILE_QUARTERS: Final = REFERENCE_DAYS * 100


@lru_cache(maxsize=16)
def public_holidays(year: int) -> frozenset[date]:
    """Return Germany's nationwide public holidays (each state adds its own)."""
    golden, (century, rest) = year % 19, divmod(year, 100)
    moon = (century - (century + 8) // 25 + 1) // 3
    epact = (19 * golden + century - century // 4 - moon + 15) % 30
    weekday = (32 + 2 * (century % 4) + 2 * (rest // 4) - epact - rest % 4) % 7
    offset = (golden + 11 * epact + 22 * weekday) // 451
    month, day = divmod(epact + weekday - 7 * offset + 114, 31)
    easter = date(year, month, day + 1)
    fixed = [date(year, m, d) for m, d in ((1, 1), (5, 1), (10, 3), (12, 25), (12, 26))]
    # Good Friday, Easter Monday, Ascension Day, Whit Monday.
    return frozenset(fixed + [easter + timedelta(days=n) for n in (-2, 1, 39, 50)])


def day_kind(day: date) -> DayKind:
    """Return the kind of a day: a public holiday is a Sunday."""
    if day.weekday() == 6 or day in public_holidays(day.year):
        return "sunday"
    return "saturday" if day.weekday() == 5 else "workday"


def slot(moment: datetime) -> int:
    """Return the wall-clock quarter-hour of the Berlin day (0-95).

    The 92-quarter day has no 02:00-03:00; the 100-quarter day has it twice.
    """
    local = moment.astimezone(BERLIN)
    return local.hour * 4 + local.minute // 15


@dataclass(frozen=True, slots=True)
class Supply:
    """When the contract supplies: [start, end), either open."""

    start: datetime | None = None
    end: datetime | None = None

    def quarters(self, day: date) -> list[datetime]:
        """Return the supplied quarter-hours of a Berlin day (of 92, 96 or 100)."""
        first, end = day_bounds(day)
        starts = (first + n * QUARTER for n in range(int((end - first) / QUARTER)))
        return [
            moment
            for moment in starts
            if (self.start is None or moment >= self.start)
            and (self.end is None or moment < self.end)
        ]


# A contract without start or end (tests, the benchmark).
ALWAYS_SUPPLIED: Final = Supply()


@dataclass(frozen=True, slots=True)
class UsageProfile:
    """The household's day shapes: a kind of day's share of its kWh per quarter-hour slot.

    `shares[kind]` sums to 1 over 96 slots and rests on `days[kind]` days ("all":
    every kind). `final_until` is the newest day whose values were all final
    (the metering operator may still change the later, preliminary ones).
    """

    last_day: date
    final_until: date | None
    days: Mapping[str, int]
    shares: Mapping[str, tuple[float, ...]]

    def shape(self, kind: DayKind) -> tuple[float, ...]:
        """Return a kind's shape, or every day's when the kind had too few days."""
        return self.shares[kind] if self.days.get(kind, 0) >= MIN_KIND_DAYS else self.shares["all"]

    @property
    def by_kind(self) -> bool:
        """Return whether every kind of day has a shape of its own."""
        return all(self.days.get(kind, 0) >= MIN_KIND_DAYS for kind in DAY_KINDS)

    def to_json(self) -> dict[str, Any]:
        """Return the cache's compact form (shares to a millionth)."""
        return {
            "last_day": self.last_day.isoformat(),
            "final_until": self.final_until.isoformat() if self.final_until else None,
            "days": dict(self.days),
            "shares": {kind: [round(s, 6) for s in shares] for kind, shares in self.shares.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UsageProfile:
        """Read what to_json wrote; raise on anything else."""
        shares = {str(k): tuple(float(s) for s in v) for k, v in data["shares"].items()}
        days = {str(kind): int(count) for kind, count in data["days"].items()}
        if "all" not in shares or set(days) != set(shares):
            raise ValueError("usage profile")
        if any(len(values) != SLOTS for values in shares.values()):
            raise ValueError("usage profile")
        final = data.get("final_until")
        return cls(
            last_day=date.fromisoformat(data["last_day"]),
            final_until=None if final is None else date.fromisoformat(final),
            days=days,
            shares=shares,
        )


def at_home(kwh_by_day: Mapping[date, float]) -> list[date]:
    """Return the days not below AWAY_SHARE of the median day (on the others it was away).

    The median of up to eight weeks stays a day at home through a holiday of
    two or three weeks.
    """
    typical = statistics.median(kwh_by_day.values()) if kwh_by_day else 0.0
    return sorted(day for day, kwh in kwh_by_day.items() if kwh >= AWAY_SHARE * typical)


def recent_days(days: Iterable[date], last: date) -> list[date]:
    """Return the days of the four weeks up to `last`, and older ones for a kind short of days.

    A kind of day with fewer than MIN_KIND_DAYS in those weeks (Saturdays when
    Christmas and New Year fall on them) takes its newest older days.
    """
    given = sorted(days, reverse=True)
    recent = [day for day in given if (last - day).days < HISTORY_DAYS]
    for kind in DAY_KINDS:
        missing = MIN_KIND_DAYS - sum(1 for day in recent if day_kind(day) == kind)
        older = [d for d in given if (last - d).days >= HISTORY_DAYS and day_kind(d) == kind]
        recent += older[: max(0, missing)]
    return sorted(recent)


def _shape(sums: Sequence[float], counts: Sequence[int]) -> tuple[float, ...]:
    means = [total / count if count else 0.0 for total, count in zip(sums, counts, strict=True)]
    # 02:00-03:00 after only days of the spring change: the mean of the slots around it.
    known = [index for index, count in enumerate(counts) if count]
    for index in (index for index, count in enumerate(counts) if not count and known):
        before = max((i for i in known if i < index), default=known[-1])
        after = min((i for i in known if i > index), default=known[0])
        means[index] = (means[before] + means[after]) / 2
    day = math.fsum(means)
    return tuple(mean / day for mean in means) if day > 0 else EVEN


def build_usage_profile(
    quarters: Iterable[QuarterUsage], supply: Supply = ALWAYS_SUPPLIED
) -> UsageProfile | None:
    """Shape the last four weeks of complete days at home (the daily import calls this)."""
    by_day: dict[date, list[QuarterUsage]] = {}
    for quarter in quarters:
        by_day.setdefault(local_date(quarter.start), []).append(quarter)
    complete = {
        day: items
        for day, items in by_day.items()
        if (wanted := len(supply.quarters(day))) and len({q.start for q in items}) >= wanted
    }
    if not complete:
        return None
    last = max(complete)
    complete = {day: items for day, items in complete.items() if (last - day).days < REFERENCE_DAYS}
    home = at_home({day: math.fsum(q.kwh for q in items) for day, items in complete.items()})
    recent = recent_days(home, last)
    shares: dict[str, tuple[float, ...]] = {}
    days: dict[str, int] = {}
    for kind in (*DAY_KINDS, "all"):
        if chosen := [day for day in recent if kind in ("all", day_kind(day))]:
            sums, counts = [0.0] * SLOTS, [0] * SLOTS
            for quarter in (q for day in chosen for q in complete[day]):
                sums[slot(quarter.start)] += quarter.kwh
                counts[slot(quarter.start)] += 1
            shares[kind], days[kind] = _shape(sums, counts), len(chosen)
    final = [day for day, items in complete.items() if all(q.final for q in items)]
    return UsageProfile(last, max(final, default=None), days, shares)
