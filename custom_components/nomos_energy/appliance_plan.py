"""Appliance plans: when to run an appliance so it is done by its deadline, cheapest.

Pure logic, no Home Assistant imports. A plan never uses an unknown price:

- prices known up to the deadline: the cheapest run (`reason: cheapest`);
- not yet (tomorrow's prices come at about 14:20): the latest start that still
  meets the deadline (`reason: waiting_for_prices`), planned again the moment
  the prices arrive, so the appliance never runs early on half the prices and
  still finishes in time if they never come;
- known, but too many unknown quarter-hours for the run: the latest start
  (`reason: latest_start`), without a cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
import itertools
from typing import Any

from .charge_target import ChargeTarget
from .household_plan import PLANNED, Load, plan_household
from .load_profiles import Profile
from .price_schedule import BERLIN, CT_PER_EUR, PriceInterval
from .windows import Window, WindowError, find_window, intervals_needed

QUARTER = timedelta(minutes=15)
# The quarter-hour in progress counts when it began less than this ago.
GRACE = timedelta(minutes=1)
SATURDAY = 5
HOURS_PER_QUARTER = QUARTER / timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ApplianceSpec:
    """What the homeowner told us about an appliance (a config subentry)."""

    name: str
    duration: timedelta
    # Daily: done by this Berlin wall-clock time; else done within `within` of a trigger.
    deadline: time | None = None
    within: timedelta | None = None
    may_pause: bool = False
    power_kw: float | None = None
    # Saturdays and Sundays: done by this time instead (None: the weekday deadline).
    weekend_deadline: time | None = None
    # A daily run begins at this time at the earliest (the last one before its
    # deadline); None: any time after the previous deadline.
    earliest_start: time | None = None
    # Runs due on Saturdays and Sundays begin at this time at the earliest instead.
    weekend_earliest_start: time | None = None
    # Off: no run is planned (the homeowner's switch).
    enabled: bool = True
    # An entity that must be in `ready_state` for a run to be planned (door closed,
    # car plugged in); None: always ready.
    ready_entity: str | None = None
    ready_state: str = "on"
    # Never run in a quarter-hour above this price (ct/kWh), unless the deadline needs it.
    price_cap_ct: float | None = None
    # Daily runs: 2 means one by the deadline and one 12 hours before it, and so on.
    runs_per_day: int = 1
    # A heat pump: its planner also says block / normal / boost (SG Ready).
    sg_ready: bool = False
    # A program's power per quarter-hour; its run time is the profile's length.
    profile: Profile | None = None
    # A car or home battery: charged to a state of charge; the run time follows the gap.
    charge: ChargeTarget | None = None

    def deadline_on(self, day: date) -> time | None:
        """Return the daily deadline on a Berlin day (weekends may differ)."""
        if self.weekend_deadline is not None and day.weekday() >= SATURDAY:
            return self.weekend_deadline
        return self.deadline

    def earliest_start_on(self, day: date) -> time | None:
        """Return the earliest start of a run due on a Berlin day (weekends may differ)."""
        if self.weekend_earliest_start is not None and day.weekday() >= SATURDAY:
            return self.weekend_earliest_start
        return self.earliest_start


@dataclass(frozen=True, slots=True)
class Plan:
    """The planned run: the quarter-hours to run in, merged into segments."""

    segments: tuple[tuple[datetime, datetime], ...]
    deadline: datetime
    planned_at: datetime
    reason: str  # "cheapest" or "latest_start"
    prices_complete: bool
    average_ct: float | None = None
    cost_eur: float | None = None
    cost_now_eur: float | None = None
    # A one-off run's own earliest start (the action), kept for planning it again.
    not_before: datetime | None = None
    # With a price cap: whether the run keeps to it (False: the deadline needed more).
    cap_met: bool | None = None
    # A charge: the energy it delivers (kWh), and the quarter-hour (start) drawing less
    # than full power with its kW (the remainder).
    energy_kwh: float | None = None
    reduced: tuple[datetime, float] | None = None

    @property
    def start(self) -> datetime:
        """Return when the run begins."""
        return self.segments[0][0]

    @property
    def end(self) -> datetime:
        """Return when the run is over."""
        return self.segments[-1][1]

    @property
    def saving_eur(self) -> float | None:
        """Return what the plan saves against starting right away (with power known)."""
        if self.cost_eur is None or self.cost_now_eur is None:
            return None
        return self.cost_now_eur - self.cost_eur

    @property
    def quarter_starts(self) -> list[datetime]:
        """Return the start of each planned quarter-hour, in order."""
        return [
            start + n * QUARTER
            for start, end in self.segments
            for n in range(round((end - start) / QUARTER))
        ]

    def running(self, now: datetime) -> bool:
        """Return whether the appliance should run at `now`."""
        return any(start <= now < end for start, end in self.segments)

    def started(self, now: datetime) -> bool:
        """Return whether the run has begun (it is then never moved)."""
        return self.start <= now

    def to_json(self) -> dict[str, Any]:
        """Return the cache's shape."""
        return {
            "segments": [[start.isoformat(), end.isoformat()] for start, end in self.segments],
            "deadline": self.deadline.isoformat(),
            "planned_at": self.planned_at.isoformat(),
            "reason": self.reason,
            "prices_complete": self.prices_complete,
            "average_ct": self.average_ct,
            "cost_eur": self.cost_eur,
            "cost_now_eur": self.cost_now_eur,
            "not_before": self.not_before.isoformat() if self.not_before else None,
            "cap_met": self.cap_met,
            "energy_kwh": self.energy_kwh,
            "reduced": None
            if self.reduced is None
            else [self.reduced[0].isoformat(), self.reduced[1]],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        """Read what to_json wrote."""
        return cls(
            segments=tuple(
                (datetime.fromisoformat(start), datetime.fromisoformat(end))
                for start, end in data["segments"]
            ),
            deadline=datetime.fromisoformat(data["deadline"]),
            planned_at=datetime.fromisoformat(data["planned_at"]),
            reason=str(data["reason"]),
            prices_complete=bool(data["prices_complete"]),
            average_ct=data.get("average_ct"),
            cost_eur=data.get("cost_eur"),
            cost_now_eur=data.get("cost_now_eur"),
            not_before=datetime.fromisoformat(data["not_before"])
            if data.get("not_before")
            else None,
            cap_met=data.get("cap_met"),
            energy_kwh=data.get("energy_kwh"),
            reduced=None
            if not data.get("reduced")
            else (datetime.fromisoformat(data["reduced"][0]), float(data["reduced"][1])),
        )


def deadlines(spec: ApplianceSpec, around: date) -> list[datetime]:
    """Return a daily planner's deadlines from the day before `around` to three days after.

    Each day's deadline (weekends may differ) and, with several runs a day, the
    ones every 24 / runs hours before it (Berlin wall clock).
    """
    if spec.deadline is None:
        return []
    found: set[datetime] = set()
    for offset in range(-1, 4):
        day = around + timedelta(days=offset)
        anchor = datetime.combine(day, spec.deadline_on(day) or spec.deadline)
        for run in range(spec.runs_per_day):
            wall_clock = anchor - run * timedelta(hours=24) / spec.runs_per_day
            found.add(wall_clock.replace(tzinfo=BERLIN))
    return sorted(found)


def next_deadline(spec: ApplianceSpec, now: datetime) -> datetime | None:
    """Return the next daily deadline (Berlin wall clock) that leaves room for a run."""
    earliest = first_start(now)
    for candidate in deadlines(spec, earliest.astimezone(BERLIN).date()):
        if candidate - spec.duration >= earliest:
            return candidate
    if spec.deadline is None:
        return None
    raise AssertionError("unreachable")  # pragma: no cover


def first_start(now: datetime) -> datetime:
    """Return the earliest quarter-hour a run may start in.

    The quarter-hour in progress counts within its first minute.
    """
    quarter = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0)
    return quarter if now - quarter < GRACE else quarter + QUARTER


def _cost(intervals: Sequence[PriceInterval], power_kw: float | None) -> float | None:
    if power_kw is None or any(interval.price_ct is None for interval in intervals):
        return None
    hours = [(interval.end - interval.start) / timedelta(hours=1) for interval in intervals]
    return sum(
        power_kw * h * (interval.price_ct or 0.0) / 100
        for interval, h in zip(intervals, hours, strict=True)
    )


def earliest_start(spec: ApplianceSpec, deadline: datetime) -> datetime | None:
    """Return when a daily run may begin at the earliest.

    After the previous deadline (one run per deadline: in the 24 hours, 23 or 25
    across DST, before it; 12 with two runs a day), and not before the last
    earliest start before the deadline (a run due on a weekend: the weekend's, if
    set). An earliest start equal to the deadline's time changes nothing.
    """
    if spec.deadline is None:
        return None
    day = deadline.astimezone(BERLIN).date()
    previous = max(moment for moment in deadlines(spec, day) if moment < deadline)
    earliest = spec.earliest_start_on(day)
    if earliest is None:
        return previous
    candidate = datetime.combine(day, earliest, BERLIN)
    if candidate >= deadline:
        candidate = datetime.combine(day - timedelta(days=1), earliest, BERLIN)
    return max(candidate, previous)


def window_start(
    spec: ApplianceSpec, now: datetime, deadline: datetime, not_before: datetime | None = None
) -> datetime:
    """Return the first quarter-hour a run before `deadline` may use.

    Not before now, and not before `not_before` (a one-off run) or else the daily rule's
    earliest start.
    """
    start = first_start(now)
    earliest = not_before or earliest_start(spec, deadline)
    return max(start, earliest) if earliest is not None else start


def make_plan(
    spec: ApplianceSpec,
    known: Sequence[PriceInterval],
    now: datetime,
    deadline: datetime,
    not_before: datetime | None = None,
) -> Plan:
    """Plan the cheapest run between now (or its earliest start) and `deadline`.

    The earliest start is `not_before` (a one-off run) or else the daily rule's.
    """
    start = window_start(spec, now, deadline, not_before)
    usable = usable_quarters(spec, known, now, deadline, not_before)
    needed = intervals_needed(spec.duration, QUARTER)
    known_until = max((interval.end for interval in usable), default=start)
    complete = known_until >= deadline
    window = None
    cap_met = None
    if complete and spec.profile is not None:
        planned = _program_run(spec, spec.profile, usable)
        if planned is not None:
            return replace(planned, deadline=deadline, planned_at=now, not_before=not_before)
    elif complete:
        window, cap_met = _cheapest(spec, usable)
    if window is None:
        latest = max(deadline - needed * QUARTER, start)
        return Plan(
            segments=((latest, latest + needed * QUARTER),),
            deadline=deadline,
            planned_at=now,
            reason="latest_start" if complete else "waiting_for_prices",
            prices_complete=complete,
            not_before=not_before,
        )
    now_run = right_away(usable, needed)
    cost_now = None if now_run is None else _cost(now_run, spec.power_kw)
    return Plan(
        segments=tuple(window.segments),
        deadline=deadline,
        planned_at=now,
        reason="cheapest",
        prices_complete=complete,
        average_ct=window.average_ct,
        cost_eur=_cost(window.intervals, spec.power_kw),
        cost_now_eur=cost_now,
        not_before=not_before,
        cap_met=cap_met,
    )


def usable_quarters(
    spec: ApplianceSpec,
    known: Sequence[PriceInterval],
    now: datetime,
    deadline: datetime,
    not_before: datetime | None = None,
) -> list[PriceInterval]:
    """Return the known quarter-hours a run may use: from its earliest start to `deadline`."""
    start = window_start(spec, now, deadline, not_before)
    return [interval for interval in known if start <= interval.start and interval.end <= deadline]


def right_away(usable: Sequence[PriceInterval], needed: int) -> Sequence[PriceInterval] | None:
    """Return the run started right away (the first usable quarter-hours), None if it has a gap."""
    run = usable[:needed]
    if len(run) == needed and all(a.end == b.start for a, b in itertools.pairwise(run)):
        return run
    return None


def _program_run(
    spec: ApplianceSpec, profile: Profile, usable: Sequence[PriceInterval]
) -> Plan | None:
    """Return the cheapest run of a program whose power follows its profile (None: none fits).

    The exact placement of household_plan for one load: each quarter-hour
    weighted by the power drawn in it, never a pause inside a step.
    """
    if not usable:
        return None
    load = Load(
        key=spec.name,
        earliest=usable[0].start,
        deadline=usable[-1].end,
        profile_kw=profile.kw,
        pausable=profile.pausable(spec.may_pause),
        price_cap_ct=spec.price_cap_ct,
    )
    planned = plan_household([load], usable)[spec.name]
    if planned.status != PLANNED or planned.cost_eur is None:
        return None
    now_run = right_away(usable, profile.quarters)
    prices_now = [interval.price_ct for interval in now_run or ()]
    cost_now = (
        sum(kw * (price or 0.0) for kw, price in zip(profile.kw, prices_now, strict=True))
        * HOURS_PER_QUARTER
        / CT_PER_EUR
        if now_run is not None and None not in prices_now
        else None
    )
    return Plan(
        segments=planned.segments,
        deadline=usable[-1].end,
        planned_at=usable[0].start,
        reason="cheapest",
        prices_complete=True,
        average_ct=planned.cost_eur * CT_PER_EUR / profile.energy_kwh,
        cost_eur=planned.cost_eur,
        cost_now_eur=cost_now,
        cap_met=planned.cap_met if spec.price_cap_ct is not None else None,
    )


def _cheapest(
    spec: ApplianceSpec, usable: Sequence[PriceInterval]
) -> tuple[Window | None, bool | None]:
    """Return the cheapest run (kept under the price cap if it can be) and whether it is."""
    contiguous = not spec.may_pause
    if spec.price_cap_ct is not None:
        cap = spec.price_cap_ct
        capped = [
            interval
            if interval.price_ct is not None and interval.price_ct <= cap
            else PriceInterval(interval.start, interval.end, None)
            for interval in usable
        ]
        try:
            return find_window(capped, spec.duration, contiguous=contiguous), True
        except WindowError:
            pass  # the deadline wins: the cheapest run above the cap
    try:
        window = find_window(usable, spec.duration, contiguous=contiguous)
    except WindowError:
        return None, None
    return window, None if spec.price_cap_ct is None else False
