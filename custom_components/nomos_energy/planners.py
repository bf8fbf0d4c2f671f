"""Appliance planners: config subentries whose plans follow the prices, restart-safe.

Each planner keeps one plan at a time, persisted in the cache. The plan is made
when the planner is added, again when prices arrive while the known ones do not
reach the deadline yet, and for the next deadline when a run is over (or was
skipped). A run that has begun is never moved, so a restart in the middle of
it continues it. Planning is pure logic (appliance_plan.py) on cached prices:
no request to Nomos.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.util import dt as dt_util

from .appliance_plan import ApplianceSpec, Plan, make_plan, next_deadline
from .cache import NomosCache
from .price_coordinator import PriceCoordinator
from .price_schedule import PriceSchedule

SUBENTRY_APPLIANCE = "appliance"
CONF_SUBSCRIPTION_ID = "subscription_id"
CONF_DURATION_MINUTES = "duration_minutes"
CONF_DEADLINE = "deadline"
CONF_WITHIN_MINUTES = "within_minutes"
CONF_MAY_PAUSE = "may_pause"
CONF_POWER_KW = "power_kw"


def spec_from_subentry(subentry: ConfigSubentry) -> ApplianceSpec:
    """Return the appliance a subentry describes."""
    data = subentry.data
    deadline = data.get(CONF_DEADLINE)
    within = data.get(CONF_WITHIN_MINUTES)
    return ApplianceSpec(
        name=subentry.title,
        duration=timedelta(minutes=int(data[CONF_DURATION_MINUTES])),
        deadline=time.fromisoformat(deadline) if deadline else None,
        within=timedelta(minutes=int(within)) if within and not deadline else None,
        may_pause=bool(data.get(CONF_MAY_PAUSE, False)),
        power_kw=float(data[CONF_POWER_KW]) if data.get(CONF_POWER_KW) else None,
    )


@dataclass
class Planner:
    """One appliance: what it needs, the subscription whose prices count, its plan."""

    subentry_id: str
    spec: ApplianceSpec
    subscription_id: str
    plan: Plan | None = None
    # The deadline of the last run that is over or was skipped: the next plan is for a later one.
    served_until: datetime | None = None


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
            self.planners[subentry_id] = planner
            self._settings[subentry_id] = _settings(subentry)
        self._seen: dict[str, PriceSchedule] = {}

    def start(self) -> CALLBACK_TYPE:
        """Follow the price coordinator (prices arriving, quarter-hour ticks)."""
        self.update()
        return self.prices.async_add_listener(self.update)

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
        elif spec.deadline is not None:
            deadline = _next_daily_deadline(planner, now) or now
        else:
            return False  # "within N hours" plans start with a trigger
        self._plan(planner, now, deadline)
        if plan is not None and same_run(plan, planner.plan):
            planner.plan = plan  # nothing new: keep it (and skip a cache write)
            return False
        return True

    def _plan(self, planner: Planner, now: datetime, deadline: datetime) -> None:
        """Plan the cheapest run before `deadline` on the cached prices."""
        schedule = self.prices.schedule(planner.subscription_id)
        known = schedule.between(now - timedelta(minutes=15), deadline)
        planner.plan = make_plan(planner.spec, known, now, deadline)

    def replan(self, subentry_id: str) -> None:
        """Plan again now (for "within N hours": from now on); a started run stays."""
        planner = self.planners[subentry_id]
        now = dt_util.utcnow()
        if planner.plan is not None and planner.plan.started(now):
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
                }
                for subentry_id, planner in self.planners.items()
            }
        )


def _next_daily_deadline(planner: Planner, now: datetime) -> datetime | None:
    """Return the next deadline of a daily planner after the run it has served."""
    after = max(now, planner.served_until) if planner.served_until else now
    return next_deadline(planner.spec, after)


def _settings(subentry: ConfigSubentry) -> list[Any]:
    """Return the appliance's settings in the cache's (JSON) shape."""
    return [subentry.title, sorted([key, value] for key, value in subentry.data.items())]


def same_run(old: Plan, new: Plan | None) -> bool:
    """Return whether a new plan runs exactly like the old one (nothing to save)."""
    return new is not None and (old.segments, old.reason, old.prices_complete) == (
        new.segments,
        new.reason,
        new.prices_complete,
    )


def subentry_signature(subentries: dict[str, ConfigSubentry]) -> tuple[Any, ...]:
    """Return what the planners are made of, to reload only when it changes."""
    return tuple(sorted([sid, _settings(subentry)] for sid, subentry in subentries.items()))
