"""One-off changes to an appliance planner's next runs, for a dashboard button or an automation.

`plan_appliance_run` plans the next run for a one-off deadline ("today by 13:00",
optionally not before a time); after it the planner follows its daily rule again.
`skip_appliance_run` skips the run due on a day ("not tomorrow").
"""

from __future__ import annotations

from datetime import date, datetime

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..const import DOMAIN
from ..planners import PlannerManager
from ..price_schedule import local_date
from .common import ATTR_DEVICE_ID, aware, service_error

ATTR_DONE_BY = "done_by"
ATTR_NOT_BEFORE = "not_before"
ATTR_DAY = "day"

PLAN_APPLIANCE_RUN_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_DONE_BY): cv.datetime,
        vol.Optional(ATTR_NOT_BEFORE): cv.datetime,
    }
)
SKIP_APPLIANCE_RUN_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_DAY): cv.date,
    }
)


def _planner(hass: HomeAssistant, device_id: str) -> tuple[PlannerManager, str]:
    """Return the manager and subentry id of the appliance a device is."""
    device = dr.async_get(hass).async_get(device_id)
    for entry in hass.config_entries.async_entries(DOMAIN):
        if device is None or entry.state is not ConfigEntryState.LOADED:
            continue
        manager: PlannerManager = entry.runtime_data.planners
        for domain, identifier in device.identifiers:
            if domain == DOMAIN and identifier in manager.planners:
                return manager, identifier
    raise service_error("not_an_appliance", device_id=device_id)


async def async_plan_appliance_run(call: ServiceCall) -> ServiceResponse:
    """Plan the appliance's next run to be done by a one-off time."""
    manager, subentry_id = _planner(call.hass, call.data[ATTR_DEVICE_ID])
    done_by = aware(call.data[ATTR_DONE_BY])
    not_before = aware(call.data.get(ATTR_NOT_BEFORE))
    assert done_by is not None
    if done_by <= dt_util.utcnow():
        raise service_error("done_by_in_the_past")
    manager.plan_once(subentry_id, done_by, not_before)
    return None


async def async_skip_appliance_run(call: ServiceCall) -> ServiceResponse:
    """Skip the run due on a day (default: the next planned run's day)."""
    manager, subentry_id = _planner(call.hass, call.data[ATTR_DEVICE_ID])
    planner = manager.planners[subentry_id]
    if planner.spec.deadline is None:
        raise service_error("skip_needs_a_daily_appliance", name=planner.spec.name)
    day: date | None = call.data.get(ATTR_DAY)
    if day is None:
        plan = planner.plan
        moment: datetime = plan.deadline if plan is not None else dt_util.utcnow()
        day = local_date(moment)
    manager.skip_day(subentry_id, day)
    return None
