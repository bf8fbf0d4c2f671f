"""One appliance planner's state, and the rules of its next run: shared by the manager and actions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from homeassistant.exceptions import ServiceValidationError

from .appliance_plan import ApplianceSpec, Plan, next_deadline
from .const import DOMAIN
from .price_schedule import local_date


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
    # Appliances of one group never run at the same time (household planning).
    group: str | None = None


def next_daily_deadline(planner: Planner, now: datetime) -> datetime | None:
    """Return the next deadline of a daily planner after the run it has served."""
    after = max(now, planner.served_until) if planner.served_until else now
    deadline = next_deadline(planner.spec, after)
    while deadline is not None and local_date(deadline) in planner.skipped_days:
        deadline = next_deadline(planner.spec, deadline)
    return deadline


def refused(key: str, planner: Planner) -> ServiceValidationError:
    """Return the translated error of a refused change to a planner."""
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
