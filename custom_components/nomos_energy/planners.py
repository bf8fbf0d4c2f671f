"""Appliance planners: config subentries whose plans follow the prices, restart-safe.

Each planner keeps one plan at a time, persisted in the cache. The plan is made
when the planner is added, again when prices arrive while the known ones do not
reach the deadline yet, and for the next deadline when a run is over (or was
skipped). A run that has begun is never moved, so a restart in the middle of
it continues it. Planning is pure logic (appliance_plan.py) on cached prices:
no request to Nomos.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util

from .appliance_plan import (
    ApplianceSpec,
    Plan,
    deadlines,
    earliest_start,
    first_start,
    make_plan,
    next_deadline,
)
from .cache import NomosCache
from .const import DOMAIN
from .price_coordinator import PriceCoordinator
from .price_schedule import PriceSchedule, local_date

SUBENTRY_APPLIANCE = "appliance"
CONF_SUBSCRIPTION_ID = "subscription_id"
CONF_DURATION_MINUTES = "duration_minutes"
CONF_DEADLINE = "deadline"
CONF_WITHIN_MINUTES = "within_minutes"
CONF_MAY_PAUSE = "may_pause"
CONF_POWER_KW = "power_kw"
CONF_WEEKEND_DEADLINE = "weekend_deadline"
CONF_EARLIEST_START = "earliest_start"
CONF_ENABLED = "enabled"
CONF_READY_ENTITY = "ready_entity"
CONF_READY_STATE = "ready_state"
CONF_PRICE_CAP_CT = "price_cap_ct"
CONF_RUNS_PER_DAY = "runs_per_day"
CONF_SG_READY = "sg_ready"
# What a homeowner changes from the dashboard (time and switch entities): a change
# plans again at once, without reloading the entry.
EVERYDAY_SETTINGS = (CONF_DEADLINE, CONF_WEEKEND_DEADLINE, CONF_EARLIEST_START, CONF_ENABLED)


def _time(value: Any) -> time | None:
    return time.fromisoformat(value) if value else None


def spec_from_subentry(subentry: ConfigSubentry) -> ApplianceSpec:
    """Return the appliance a subentry describes."""
    return spec_from_data(subentry.title, subentry.data)


def spec_from_data(title: str, data: Mapping[str, Any]) -> ApplianceSpec:
    """Return the appliance a subentry's title and data describe."""
    deadline = data.get(CONF_DEADLINE)
    within = data.get(CONF_WITHIN_MINUTES)
    return ApplianceSpec(
        name=title,
        duration=timedelta(minutes=int(data[CONF_DURATION_MINUTES])),
        deadline=_time(deadline),
        within=timedelta(minutes=int(within)) if within and not deadline else None,
        may_pause=bool(data.get(CONF_MAY_PAUSE, False)),
        power_kw=float(data[CONF_POWER_KW]) if data.get(CONF_POWER_KW) else None,
        weekend_deadline=_time(data.get(CONF_WEEKEND_DEADLINE)) if deadline else None,
        earliest_start=_time(data.get(CONF_EARLIEST_START)) if deadline else None,
        enabled=bool(data.get(CONF_ENABLED, True)),
        ready_entity=data.get(CONF_READY_ENTITY) or None,
        ready_state=str(data.get(CONF_READY_STATE) or "on"),
        price_cap_ct=None
        if data.get(CONF_PRICE_CAP_CT) is None
        else float(data[CONF_PRICE_CAP_CT]),
        runs_per_day=int(data.get(CONF_RUNS_PER_DAY) or 1) if deadline else 1,
        sg_ready=bool(data.get(CONF_SG_READY, False)),
    )


def run_fits(spec: ApplianceSpec) -> bool:
    """Return whether every daily run of a week fits between its earliest start and deadline."""
    monday = date(2026, 1, 5)
    week = [
        deadline
        for day in (monday + timedelta(days=offset) for offset in range(7))
        for deadline in deadlines(spec, day)
        if local_date(deadline) == day
    ]
    return all(d - (earliest_start(spec, d) or d) >= spec.duration for d in week)


@dataclass
class Planner:
    """One appliance: what it needs, the subscription whose prices count, its plan."""

    subentry_id: str
    spec: ApplianceSpec
    subscription_id: str
    plan: Plan | None = None
    # The deadline of the last run that is over or was skipped: the next plan is for a later one.
    served_until: datetime | None = None
    # Berlin days whose daily run is skipped (the action).
    skipped_days: set[date] = field(default_factory=set)


class PlannerManager:
    """Keeps every planner's plan current; entities read it on each price update."""

    def __init__(
        self, prices: PriceCoordinator, cache: NomosCache, subentries: dict[str, ConfigSubentry]
    ) -> None:
        """Load the planners and their persisted plans."""
        self.prices = prices
        self.cache = cache
        self.planners: dict[str, Planner] = {}
        self._settings: dict[str, list[Any]] = {}
        for subentry_id, subentry in subentries.items():
            if subentry.subentry_type != SUBENTRY_APPLIANCE:
                continue
            stored = cache.plans.get(subentry_id, {})
            planner = Planner(
                subentry_id, spec_from_subentry(subentry), subentry.data[CONF_SUBSCRIPTION_ID]
            )
            # The cache checked the stored plan's shape (a damaged one is not there).
            # A plan made for other settings (the appliance was changed) is made again,
            # unless its run has begun.
            plan = Plan.from_json(stored["plan"]) if stored.get("plan") else None
            same_settings = stored.get("settings") == _settings(subentry)
            if plan is not None and (same_settings or plan.started(dt_util.utcnow())):
                planner.plan = plan
            if stored.get("served_until"):
                planner.served_until = datetime.fromisoformat(stored["served_until"])
            planner.skipped_days = {date.fromisoformat(day) for day in stored.get("skipped", [])}
            self.planners[subentry_id] = planner
            self._settings[subentry_id] = _settings(subentry)
        self._seen: dict[str, PriceSchedule] = {}

    def start(self) -> CALLBACK_TYPE:
        """Follow the price coordinator (prices arriving, quarter-hour ticks) and readiness."""
        self.update()
        stop_prices = self.prices.async_add_listener(self.update)
        watched = {p.spec.ready_entity for p in self.planners.values() if p.spec.ready_entity}
        if not watched:
            return stop_prices
        stop_ready = async_track_state_change_event(
            self.prices.hass, sorted(watched), self._readiness_changed
        )

        def stop() -> None:
            stop_prices()
            stop_ready()

        return stop

    def ready(self, planner: Planner) -> bool | None:
        """Return whether the planner's appliance is ready; None while its entity is unknown.

        Unknown (unavailable, or not there yet after a restart) changes nothing: a
        plan is kept, none is made.
        """
        entity_id = planner.spec.ready_entity
        if entity_id is None:
            return True
        state = self.prices.hass.states.get(entity_id)
        if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            return None
        return state.state.casefold() == planner.spec.ready_state.casefold()

    @callback
    def _readiness_changed(self, event: Event[EventStateChangedData]) -> None:
        """Plan when an appliance becomes ready; drop a plan not begun when it stops being."""
        now = dt_util.utcnow()
        changed = False
        for planner in self.planners.values():
            if planner.spec.ready_entity != event.data["entity_id"]:
                continue
            if planner.spec.within is not None and self.ready(planner) and planner.plan is None:
                # Becoming ready is the trigger of a "within N hours" planner.
                self._plan(planner, now, now + planner.spec.within)
                changed = True
            else:
                changed |= self._refresh(planner, now, prices_arrived=False)
        if changed:
            self._save()
            self.prices.async_update_listeners()

    @callback
    def update(self) -> None:
        """Bring every plan up to date: before the entities read them (listeners run in order)."""
        now = dt_util.utcnow()
        changed = False
        for planner in self.planners.values():
            schedule = self.prices.schedule(planner.subscription_id)
            arrived = self._seen.get(planner.subentry_id) is not schedule
            self._seen[planner.subentry_id] = schedule
            changed |= self._refresh(planner, now, prices_arrived=arrived)
        if changed:
            self._save()

    def _refresh(self, planner: Planner, now: datetime, *, prices_arrived: bool) -> bool:
        plan = planner.plan
        spec = planner.spec
        if not spec.enabled:
            planner.plan = None
            return plan is not None
        ready = self.ready(planner)
        if ready is False and plan is not None and not plan.started(now):
            planner.plan = None  # not ready before its start: made again when it is
            return True
        if plan is not None and now >= plan.end:
            # The run is over: the next one is for the next deadline.
            planner.served_until = plan.deadline
            planner.plan = plan = None
            if spec.deadline is None:
                return True
        if plan is not None:
            if plan.started(now) or plan.prices_complete or not prices_arrived:
                return False
            deadline = plan.deadline  # more prices: the same run, planned again
            self._plan(planner, now, deadline, plan.not_before)
            if same_run(plan, planner.plan):
                planner.plan = plan  # nothing new: keep it (and skip a cache write)
                return False
            return True
        if spec.deadline is not None and ready:
            deadline = _next_daily_deadline(planner, now) or now
        else:
            return False  # "within N hours" plans start with a trigger; none while not ready
        self._plan(planner, now, deadline)
        return True

    def _plan(
        self,
        planner: Planner,
        now: datetime,
        deadline: datetime,
        not_before: datetime | None = None,
    ) -> None:
        """Plan the cheapest run before `deadline` on the cached prices."""
        schedule = self.prices.schedule(planner.subscription_id)
        known = schedule.between(now - timedelta(minutes=15), deadline)
        planner.plan = make_plan(planner.spec, known, now, deadline, not_before)

    def plan_once(
        self, subentry_id: str, deadline: datetime, not_before: datetime | None = None
    ) -> None:
        """Plan the next run for a one-off deadline ("today by 13:00"); then the usual rule.

        Refused while a run is under way or when the run does not fit.
        """
        planner = self.planners[subentry_id]
        now = dt_util.utcnow()
        if planner.plan is not None and planner.plan.started(now):
            raise _refused("run_under_way", planner)
        # From now on, unless told otherwise (not from the daily rule's window).
        not_before = max(first_start(now), not_before or now)
        if deadline - not_before < planner.spec.duration:
            raise _refused("run_does_not_fit", planner)
        self._plan(planner, now, deadline, not_before)
        self._save()
        self.prices.async_update_listeners()

    def skip_day(self, subentry_id: str, day: date) -> None:
        """Skip a daily planner's run due on a Berlin day ("not tomorrow"); its plan goes."""
        planner = self.planners[subentry_id]
        now = dt_util.utcnow()
        planner.skipped_days = {
            kept for kept in planner.skipped_days if kept >= local_date(now)
        } | {day}
        plan = planner.plan
        if plan is not None and local_date(plan.deadline) == day:
            planner.plan = None
            self._refresh(planner, now, prices_arrived=False)
        self._save()
        self.prices.async_update_listeners()

    def change(self, subentry_id: str, key: str, value: Any) -> None:
        """Change one everyday setting (from its entity): kept in the subentry, planned at once.

        A time that leaves the run no room before its deadline is refused.
        """
        entry = self.prices.config_entry
        subentry = entry.subentries[subentry_id]
        data = {**subentry.data, key: value}
        spec = spec_from_data(subentry.title, data)
        if not run_fits(spec):
            raise _refused("run_does_not_fit", self.planners[subentry_id])
        self.prices.hass.config_entries.async_update_subentry(entry, subentry, data=data)
        self.apply(dict(entry.subentries))

    def apply(self, subentries: dict[str, ConfigSubentry]) -> None:
        """Take the everyday settings changed from the dashboard: plan again at once.

        A run that has begun keeps going (switching the planner off ends it).
        """
        now = dt_util.utcnow()
        changed = False
        for subentry_id, planner in self.planners.items():
            subentry = subentries.get(subentry_id)
            if subentry is None or _settings(subentry) == self._settings[subentry_id]:
                continue
            changed = True
            self._settings[subentry_id] = _settings(subentry)
            planner.spec = spec_from_subentry(subentry)
            plan = planner.plan
            if plan is not None and (not planner.spec.enabled or not plan.started(now)):
                planner.plan = None
            self._refresh(planner, now, prices_arrived=False)
        if changed:
            self._save()
            self.prices.async_update_listeners()

    def replan(self, subentry_id: str) -> None:
        """Plan again now (for "within N hours": from now on); a started run stays."""
        planner = self.planners[subentry_id]
        now = dt_util.utcnow()
        if (
            not planner.spec.enabled
            or self.ready(planner) is False
            or (planner.plan is not None and planner.plan.started(now))
        ):
            return
        within = planner.spec.within
        deadline = now + within if within else _next_daily_deadline(planner, now)
        self._plan(planner, now, deadline or now)
        self._save()
        self.prices.async_update_listeners()

    def skip(self, subentry_id: str) -> None:
        """Drop the next run (also one in progress); a daily planner plans the one after."""
        planner = self.planners[subentry_id]
        if planner.plan is not None:
            planner.served_until = planner.plan.deadline
        planner.plan = None
        self._save()
        self.prices.async_update_listeners()

    def plans_for(self, subscription_id: str) -> list[tuple[Planner, Plan]]:
        """Return the current plans made on a subscription's prices."""
        return [
            (planner, planner.plan)
            for planner in self.planners.values()
            if planner.subscription_id == subscription_id and planner.plan is not None
        ]

    def _save(self) -> None:
        self.cache.set_plans(
            {
                subentry_id: {
                    "settings": self._settings[subentry_id],
                    "plan": planner.plan.to_json() if planner.plan else None,
                    "served_until": planner.served_until.isoformat()
                    if planner.served_until
                    else None,
                    "skipped": sorted(day.isoformat() for day in planner.skipped_days),
                }
                for subentry_id, planner in self.planners.items()
            }
        )


def _next_daily_deadline(planner: Planner, now: datetime) -> datetime | None:
    """Return the next deadline of a daily planner after the run it has served."""
    after = max(now, planner.served_until) if planner.served_until else now
    deadline = next_deadline(planner.spec, after)
    while deadline is not None and local_date(deadline) in planner.skipped_days:
        deadline = next_deadline(planner.spec, deadline)
    return deadline


def _settings(subentry: ConfigSubentry) -> list[Any]:
    """Return the appliance's settings in the cache's (JSON) shape."""
    return [subentry.title, sorted([key, value] for key, value in subentry.data.items())]


def _refused(key: str, planner: Planner) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"name": planner.spec.name},
    )


def same_run(old: Plan, new: Plan | None) -> bool:
    """Return whether a new plan runs exactly like the old one (nothing to save)."""
    return new is not None and (old.segments, old.reason, old.prices_complete) == (
        new.segments,
        new.reason,
        new.prices_complete,
    )


def subentry_signature(subentries: dict[str, ConfigSubentry]) -> tuple[Any, ...]:
    """Return what the planners are made of, to reload only when it changes.

    The everyday settings are not part of it: the planners take them at once (apply).
    """
    return tuple(
        sorted(
            [
                sid,
                subentry.title,
                sorted(
                    [key, value]
                    for key, value in subentry.data.items()
                    if key not in EVERYDAY_SETTINGS
                ),
            ]
            for sid, subentry in subentries.items()
        )
    )
