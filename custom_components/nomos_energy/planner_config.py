"""What an appliance subentry says: its settings, the appliance they describe, whether it fits.

The subentry keeps what rarely changes; the everyday settings (done by, earliest
start, planning on or off) change from the dashboard, and the planners take them
at once, without reloading the entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time, timedelta
from typing import Any

from homeassistant.config_entries import ConfigSubentry

from .appliance_plan import ApplianceSpec, deadlines, earliest_start
from .charge_target import ChargeTarget
from .load_profiles import Profile, ProfileError, parse_profile
from .price_schedule import local_date

SUBENTRY_APPLIANCE = "appliance"
CONF_SUBSCRIPTION_ID = "subscription_id"
CONF_DURATION_MINUTES = "duration_minutes"
CONF_DEADLINE = "deadline"
CONF_WITHIN_MINUTES = "within_minutes"
CONF_MAY_PAUSE = "may_pause"
CONF_POWER_KW = "power_kw"
CONF_WEEKEND_DEADLINE = "weekend_deadline"
CONF_EARLIEST_START = "earliest_start"
CONF_WEEKEND_EARLIEST_START = "weekend_earliest_start"
CONF_ENABLED = "enabled"
CONF_READY_ENTITY = "ready_entity"
CONF_READY_STATE = "ready_state"
CONF_PRICE_CAP_CT = "price_cap_ct"
CONF_RUNS_PER_DAY = "runs_per_day"
CONF_SG_READY = "sg_ready"
CONF_PROFILE = "profile"
CONF_GROUP = "group"
# A car or home battery, charged to a target state of charge.
CONF_SOC_ENTITY = "soc_entity"
CONF_TARGET_SOC = "target_soc"
CONF_CAPACITY_KWH = "capacity_kwh"
CONF_EFFICIENCY = "efficiency"
CONF_CHARGE_NOW_BELOW = "charge_now_below"
DEFAULT_TARGET_SOC = 80
DEFAULT_EFFICIENCY = 90
# What a homeowner changes from the dashboard (time and switch entities): a change
# plans again at once, without reloading the entry.
EVERYDAY_SETTINGS = (
    CONF_DEADLINE,
    CONF_WEEKEND_DEADLINE,
    CONF_EARLIEST_START,
    CONF_WEEKEND_EARLIEST_START,
    CONF_ENABLED,
    CONF_DURATION_MINUTES,
    CONF_TARGET_SOC,
)


def _time(value: Any) -> time | None:
    return time.fromisoformat(value) if value else None


def spec_from_subentry(subentry: ConfigSubentry) -> ApplianceSpec:
    """Return the appliance a subentry describes."""
    return spec_from_data(subentry.title, subentry.data)


def spec_from_data(title: str, data: Mapping[str, Any]) -> ApplianceSpec:
    """Return the appliance a subentry's title and data describe."""
    deadline = data.get(CONF_DEADLINE)
    within = data.get(CONF_WITHIN_MINUTES)
    profile = _profile(data.get(CONF_PROFILE))
    duration = timedelta(minutes=int(data[CONF_DURATION_MINUTES]))
    power_kw = float(data[CONF_POWER_KW]) if data.get(CONF_POWER_KW) else None
    if profile is not None:
        # A program's run time and average power are its profile's.
        duration = profile.quarters * timedelta(minutes=15)
        power_kw = profile.energy_kwh / (duration / timedelta(hours=1))
    charge = _charge(data) if power_kw and deadline else None
    if charge is not None:
        # A charge's run time follows the state of charge; a daily one needs a quarter-hour.
        duration = timedelta(minutes=15)
    return ApplianceSpec(
        name=title,
        duration=duration,
        deadline=_time(deadline),
        within=timedelta(minutes=int(within)) if within and not deadline else None,
        may_pause=bool(data.get(CONF_MAY_PAUSE, False)) or charge is not None,
        power_kw=power_kw,
        weekend_deadline=_time(data.get(CONF_WEEKEND_DEADLINE)) if deadline else None,
        earliest_start=_time(data.get(CONF_EARLIEST_START)) if deadline else None,
        weekend_earliest_start=_time(data.get(CONF_WEEKEND_EARLIEST_START)) if deadline else None,
        enabled=bool(data.get(CONF_ENABLED, True)),
        ready_entity=data.get(CONF_READY_ENTITY) or None,
        ready_state=str(data.get(CONF_READY_STATE) or "on"),
        price_cap_ct=None
        if data.get(CONF_PRICE_CAP_CT) is None
        else float(data[CONF_PRICE_CAP_CT]),
        runs_per_day=int(data.get(CONF_RUNS_PER_DAY) or 1) if deadline else 1,
        sg_ready=bool(data.get(CONF_SG_READY, False)),
        profile=profile,
        charge=charge,
    )


def _charge(data: Mapping[str, Any]) -> ChargeTarget | None:
    """Return what a charger planner charges to (None: an appliance with a run time)."""
    if not data.get(CONF_SOC_ENTITY) or not data.get(CONF_CAPACITY_KWH):
        return None
    floor = data.get(CONF_CHARGE_NOW_BELOW)
    return ChargeTarget(
        soc_entity=str(data[CONF_SOC_ENTITY]),
        target_pct=float(data.get(CONF_TARGET_SOC) or DEFAULT_TARGET_SOC),
        capacity_kwh=float(data[CONF_CAPACITY_KWH]),
        efficiency=float(data.get(CONF_EFFICIENCY) or DEFAULT_EFFICIENCY) / 100,
        floor_pct=None if floor is None else float(floor),
    )


def _profile(text: Any) -> Profile | None:
    """Read a stored profile; one the form let through always reads (else: none)."""
    if not text:
        return None
    try:
        return parse_profile(str(text))
    except ProfileError:
        return None


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


def settings_of(subentry: ConfigSubentry) -> list[Any]:
    """Return the appliance's settings in the cache's (JSON) shape."""
    return [subentry.title, sorted([key, value] for key, value in subentry.data.items())]


def subentry_signature(subentries: dict[str, ConfigSubentry]) -> tuple[Any, ...]:
    """Return what the planners are made of, to reload only when it changes.

    The everyday settings are not part of it: the planners take them at once (apply).
    Of the program only whether there is one counts (the run time setting and the cost
    sensors follow that); another program is planned at once as well.
    """
    return tuple(
        sorted(
            [
                sid,
                subentry.title,
                sorted(
                    [key, bool(value) if key == CONF_PROFILE else value]
                    for key, value in subentry.data.items()
                    if key not in EVERYDAY_SETTINGS
                ),
            ]
            for sid, subentry in subentries.items()
        )
    )
