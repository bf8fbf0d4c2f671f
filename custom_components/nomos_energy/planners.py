"""Appliance planners: config subentries whose plans follow the prices, restart-safe.

Each planner keeps one plan at a time, persisted in the cache. The plan is made
when the planner is added, again when prices arrive while the known ones do not
reach the deadline yet, and for the next deadline when a run is over (or was
skipped). A run that has begun is never moved, so a restart in the middle of
it continues it. Planning is pure logic (appliance_plan.py) on cached prices:
no request to Nomos.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
import math
from typing import Any

from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, callback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util

from .appliance_plan import ApplianceSpec, Plan, first_start, make_plan
from .cache import NomosCache
from .charging import charge_changed, plan_charge, power_now, replan_charge, run_spec
from .joint_plans import Request, plan_together
from .planner_config import (
    CONF_GROUP,
    CONF_SUBSCRIPTION_ID,
    SUBENTRY_APPLIANCE,
    run_fits,
    settings_of,
    spec_from_data,
    spec_from_subentry,
)
from .planner_state import Planner, next_daily_deadline, refused, same_run
from .price_coordinator import PriceCoordinator
from .price_schedule import PriceSchedule, local_date


class PlannerManager:
    """Keeps every planner's plan current; entities read it on each price update."""

    def __init__(
        self,
        prices: PriceCoordinator,
        cache: NomosCache,
        subentries: dict[str, ConfigSubentry],
        limit_kw: float | None = None,
    ) -> None:
        """Load the planners and their persisted plans."""
        self.prices = prices
        self.cache = cache
        # The household's import limit (kW): with it, or with groups, plans are made together.
        self.limit_kw = limit_kw
        self.planners: dict[str, Planner] = {}
        self._settings: dict[str, list[Any]] = {}
        for subentry_id, subentry in subentries.items():
            if subentry.subentry_type != SUBENTRY_APPLIANCE:
                continue
            stored = cache.plans.get(subentry_id, {})
            planner = Planner(
                subentry_id,
                spec_from_subentry(subentry),
                subentry.data[CONF_SUBSCRIPTION_ID],
                group=str(subentry.data.get(CONF_GROUP) or "").strip().casefold() or None,
            )
            # The cache checked the stored plan's shape (a damaged one is not there).
            # A plan made for other settings (the appliance was changed) is made again,
            # unless its run has begun.
            plan = Plan.from_json(stored["plan"]) if stored.get("plan") else None
            same_settings = stored.get("settings") == settings_of(subentry)
            if plan is not None and (same_settings or plan.started(dt_util.utcnow())):
                planner.plan = plan
            if stored.get("served_until"):
                planner.served_until = datetime.fromisoformat(stored["served_until"])
            planner.skipped_days = {date.fromisoformat(day) for day in stored.get("skipped", [])}
            self.planners[subentry_id] = planner
            self._settings[subentry_id] = settings_of(subentry)
        self._seen: dict[str, PriceSchedule] = {}
        # Plans made since the last commit: none of them has begun, even one whose start
        # has passed (the quarter-hour in progress, or a commit a moment later).
        self._fresh: list[Plan] = []

    def start(self) -> CALLBACK_TYPE:
        """Follow the price coordinator (prices arriving, quarter-hour ticks) and readiness."""
        self.update()
        stop_prices = self.prices.async_add_listener(self.update)
        watched = {p.spec.ready_entity for p in self.planners.values() if p.spec.ready_entity}
        watched |= {p.spec.charge.soc_entity for p in self.planners.values() if p.spec.charge}
        if not watched:
            return stop_prices
        stop_ready = async_track_state_change_event(
            self.prices.hass, sorted(watched), self._watched_changed
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

    def state_of_charge(self, planner: Planner) -> float | None:
        """Return a charger planner's state of charge (%); None while unknown."""
        charge = planner.spec.charge
        state = None if charge is None else self.prices.hass.states.get(charge.soc_entity)
        try:
            soc = None if state is None else float(state.state)
        except ValueError:
            return None  # unavailable, unknown: the plan stays as it is
        return soc if soc is not None and math.isfinite(soc) else None

    def power_now(self, planner: Planner, now: datetime) -> float:
        """Return the power (kW) a planner's appliance should draw now.

        A charger below its safety floor charges right away at full power.
        """
        spec = planner.spec
        if not spec.enabled or spec.power_kw is None:
            return 0.0
        soc = self.state_of_charge(planner)
        if spec.charge and soc is not None and spec.charge.below_floor(soc):
            return spec.power_kw if self.ready(planner) is not False else 0.0
        return power_now(planner.plan, spec.power_kw, now)

    def runs_now(self, planner: Planner, now: datetime) -> bool:
        """Return whether the appliance should run now (the plan, or a charger below its floor)."""
        plan = planner.plan
        if plan is not None and plan.running(now):
            return True
        return planner.spec.charge is not None and self.power_now(planner, now) > 0

    @callback
    def _watched_changed(self, event: Event[EventStateChangedData]) -> None:
        """Plan when an appliance becomes ready; drop a plan not begun when it stops being.

        A charger plans again when its state of charge moves by more than a step.
        """
        now = dt_util.utcnow()
        changed = notify = False
        for planner in self.planners.values():
            charge = planner.spec.charge
            if charge is not None and charge.soc_entity == event.data["entity_id"]:
                # The charging power's attributes follow the state of charge.
                changed |= self._charge_moved(planner, now)
                notify = True
            if planner.spec.ready_entity != event.data["entity_id"]:
                continue
            if planner.spec.within is not None and self.ready(planner) and planner.plan is None:
                # Becoming ready is the trigger of a "within N hours" planner.
                self._plan(planner, now, now + planner.spec.within)
                changed = True
            else:
                changed |= self._refresh(planner, now, prices_arrived=False)
        if changed:
            self._commit()
        if changed or notify:
            self.prices.async_update_listeners()

    def _charge_moved(self, planner: Planner, now: datetime) -> bool:
        """Plan a charger again when its state of charge left the plan (also a begun one)."""
        spec = planner.spec
        soc = self.state_of_charge(planner)
        if not spec.enabled or soc is None or self.ready(planner) is False or spec.charge is None:
            return False
        assert spec.power_kw is not None
        plan = planner.plan
        energy = spec.charge.energy_kwh(soc)
        if not charge_changed(plan, spec.power_kw, energy, now, spec.charge.step_kwh):
            return False
        if plan is None:
            self._plan(planner, now, next_daily_deadline(planner, now) or now)
        else:
            known = self.prices.schedule(planner.subscription_id).between(
                now - timedelta(minutes=15), plan.deadline
            )
            planner.plan = replan_charge(spec, energy, known, now, plan)
        return planner.plan != plan

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
            self._commit()

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
            deadline = next_daily_deadline(planner, now) or now
        else:
            return False  # "within N hours" plans start with a trigger; none while not ready
        self._plan(planner, now, deadline)
        return planner.plan is not None  # a charger at its target needs none

    def _plan(
        self,
        planner: Planner,
        now: datetime,
        deadline: datetime,
        not_before: datetime | None = None,
    ) -> None:
        """Plan the cheapest run before `deadline` on the cached prices.

        A charger's run delivers the energy its state of charge needs (none at the
        target); while the state of charge is unknown, its plan stays as it is.
        """
        schedule = self.prices.schedule(planner.subscription_id)
        known = schedule.between(now - timedelta(minutes=15), deadline)
        spec = planner.spec
        if spec.charge is None:
            planner.plan = make_plan(spec, known, now, deadline, not_before)
        elif (soc := self.state_of_charge(planner)) is not None:
            energy = spec.charge.energy_kwh(soc)
            planner.plan = plan_charge(spec, energy, known, now, deadline, not_before)
        else:
            return  # the plan it had is not a fresh one
        if planner.plan is not None:
            self._fresh.append(planner.plan)

    def plan_once(
        self, subentry_id: str, deadline: datetime, not_before: datetime | None = None
    ) -> None:
        """Plan the next run for a one-off deadline ("today by 13:00"); then the usual rule.

        Refused while a run is under way or when the run does not fit.
        """
        planner = self.planners[subentry_id]
        now = dt_util.utcnow()
        if planner.plan is not None and planner.plan.started(now):
            raise refused("run_under_way", planner)
        # From now on, unless told otherwise (not from the daily rule's window).
        not_before = max(first_start(now), not_before or now)
        if deadline - not_before < self._run_spec(planner).duration:
            raise refused("run_does_not_fit", planner)
        self._plan(planner, now, deadline, not_before)
        self._commit()
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
        self._commit()
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
            raise refused("run_does_not_fit", self.planners[subentry_id])
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
            if subentry is None or settings_of(subentry) == self._settings[subentry_id]:
                continue
            changed = True
            self._settings[subentry_id] = settings_of(subentry)
            planner.spec = spec_from_subentry(subentry)
            plan = planner.plan
            if plan is not None and (not planner.spec.enabled or not plan.started(now)):
                planner.plan = None
                if planner.spec.enabled and planner.spec.within is not None:
                    # The run its trigger asked for, planned again (a new run time).
                    self._plan(planner, now, plan.deadline, plan.not_before)
                    continue
            self._refresh(planner, now, prices_arrived=False)
            # A charge under way follows a new target at once.
            self._charge_moved(planner, now)
        if changed:
            self._commit()
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
        deadline = now + within if within else next_daily_deadline(planner, now)
        self._plan(planner, now, deadline or now)
        self._commit()
        self.prices.async_update_listeners()

    def skip(self, subentry_id: str) -> None:
        """Drop the next run (also one in progress); a daily planner plans the one after."""
        planner = self.planners[subentry_id]
        if planner.plan is not None:
            planner.served_until = planner.plan.deadline
        planner.plan = None
        self._commit()
        self.prices.async_update_listeners()

    def plans_for(self, subscription_id: str) -> list[tuple[Planner, Plan]]:
        """Return the current plans made on a subscription's prices."""
        return [
            (planner, planner.plan)
            for planner in self.planners.values()
            if planner.subscription_id == subscription_id and planner.plan is not None
        ]

    @property
    def together(self) -> bool:
        """Return whether the household plans its appliances together (a limit or groups)."""
        return self.limit_kw is not None or any(planner.group for planner in self.planners.values())

    def _commit(self) -> None:
        """Plan together where the household asks for it, then keep the plans."""
        fresh, self._fresh = self._fresh, []
        if self.together:
            now = dt_util.utcnow()
            for subscription_id in {p.subscription_id for p in self.planners.values()}:
                self._plan_together(subscription_id, now, fresh)
        self._save()

    def _plan_together(self, subscription_id: str, now: datetime, fresh: list[Plan]) -> None:
        """Place every run of a contract's appliances not yet begun, around those under way."""
        planners = [p for p in self.planners.values() if p.subscription_id == subscription_id]
        requests = []
        for planner in planners:
            plan = planner.plan
            if plan is None:
                continue
            started = plan.started(now) and not any(plan is made for made in fresh)
            requests.append(
                Request(
                    key=planner.subentry_id,
                    spec=self._run_spec(planner),
                    group=planner.group,
                    deadline=None if started else plan.deadline,
                    not_before=plan.not_before,
                    running=plan if started else None,
                )
            )
        last = max((p.plan.deadline for p in planners if p.plan is not None), default=now)
        known = self.prices.schedule(subscription_id).between(now - timedelta(minutes=15), last)
        for key, plan in plan_together(requests, known, now, self.limit_kw).items():
            self.planners[key].plan = plan

    def _run_spec(self, planner: Planner) -> ApplianceSpec:
        """Return the run a planner plans: a charger's follows its plan or state of charge."""
        spec = planner.spec
        if spec.charge is None:
            return spec
        plan = planner.plan
        soc = self.state_of_charge(planner)
        energy = (
            plan.energy_kwh
            if plan is not None and plan.energy_kwh is not None
            else spec.charge.energy_kwh(soc or 0.0)
        )
        return run_spec(spec, energy) or spec

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
