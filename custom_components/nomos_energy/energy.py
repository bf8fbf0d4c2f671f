"""Consumption and cost as long-term statistics for the Energy dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    statistics_during_period,
)
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util.unit_conversion import EnergyConverter

from .const import DOMAIN, LOGGER
from .nomos_client import Subscription
from .usage_statistics import HourlyUsage, StatisticRow, running_sums

# How far back to look for the running sum before an import window.
_SUM_LOOKBACK = (timedelta(days=45), timedelta(days=800))


def statistic_ids(subscription: Subscription) -> tuple[str, str]:
    """Return the stable consumption and cost statistic ids of a subscription."""
    slug = "".join(c for c in subscription.display_number.lower() if c.isalnum())
    return f"{DOMAIN}:{slug}_consumption", f"{DOMAIN}:{slug}_cost"


async def _names(hass: HomeAssistant, subscription: Subscription) -> tuple[str, str]:
    """Return the translated statistic names, e.g. "Nomos 4X44EMKX consumption"."""
    strings = await async_get_translations(hass, hass.config.language, "entity", [DOMAIN])
    prefix = f"component.{DOMAIN}.entity.sensor"
    consumption = strings.get(f"{prefix}.consumption_statistic.name", "Consumption")
    cost = strings.get(f"{prefix}.cost_statistic.name", "Cost")
    device = f"Nomos {subscription.display_number}"
    return f"{device} {consumption}", f"{device} {cost}"


async def _sum_before(hass: HomeAssistant, statistic_id: str, start: datetime) -> float:
    """Return the running sum of the last hour before `start` (0 when there is none)."""
    for lookback in _SUM_LOOKBACK:
        rows = await get_instance(hass).async_add_executor_job(
            statistics_during_period,
            hass,
            start - lookback,
            start,
            {statistic_id},
            "hour",
            None,
            {"sum"},
        )
        found = [row for row in rows.get(statistic_id, []) if row.get("sum") is not None]
        if found:
            return float(found[-1]["sum"] or 0.0)
    return 0.0


def _data(rows: Sequence[StatisticRow]) -> list[StatisticData]:
    return [StatisticData(start=row.start, state=row.state, sum=row.sum) for row in rows]


async def async_import_hours(
    hass: HomeAssistant, subscription: Subscription, hours: Sequence[HourlyUsage]
) -> None:
    """Write the hours as consumption (kWh) and cost (EUR) statistics.

    The running sums continue from the last hour before the first imported
    one, so re-importing a window replaces its hours without double counting;
    the window always reaches the newest data, so no later sum is left behind.
    """
    if not hours:
        return
    if "recorder" not in hass.config.components:
        LOGGER.debug("The recorder is not running; no statistics are imported")
        return
    consumption_id, cost_id = statistic_ids(subscription)
    # Earlier imports may still sit in the recorder's queue: read after them.
    await get_instance(hass).async_block_till_done()
    start = hours[0].start
    consumption, cost = running_sums(
        hours,
        await _sum_before(hass, consumption_id, start),
        await _sum_before(hass, cost_id, start),
    )
    consumption_name, cost_name = await _names(hass, subscription)
    async_add_external_statistics(
        hass,
        StatisticMetaData(
            mean_type=StatisticMeanType.NONE,
            has_sum=True,
            name=consumption_name,
            source=DOMAIN,
            statistic_id=consumption_id,
            unit_class=EnergyConverter.UNIT_CLASS,
            unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        ),
        _data(consumption),
    )
    if cost:
        async_add_external_statistics(
            hass,
            StatisticMetaData(
                mean_type=StatisticMeanType.NONE,
                has_sum=True,
                name=cost_name,
                source=DOMAIN,
                statistic_id=cost_id,
                unit_class=None,
                unit_of_measurement="EUR",
            ),
            _data(cost),
        )
