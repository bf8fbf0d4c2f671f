"""Consumption, cost and price as long-term statistics (Energy dashboard, graphs)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
import hashlib
import math
import re
from typing import Final, Literal
import unicodedata

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    statistics_during_period,
)
from homeassistant.components.recorder.tasks import SynchronizeTask
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util.unit_conversion import EnergyConverter

from .const import DOMAIN, LOGGER
from .nomos_client import Subscription
from .price_schedule import HourlyPrice, day_start
from .usage_statistics import HOUR, HourlyUsage, StatisticRow, running_sums

PRICE_UNIT = "EUR/kWh"
# How far back to look for the running sum before an import window.
_SUM_LOOKBACK = (timedelta(days=45), timedelta(days=800))


# Contract numbers as Nomos issues them; their statistic ids are in users'
# dashboards and long-term statistics and never change.
_ORDINARY_NUMBER = re.compile(r"[A-Za-z0-9]+")
_SLUG_MAX = 32


def _slug(subscription: Subscription) -> str:
    """Return the subscription's part of its statistic ids: ASCII, one per subscription.

    An ordinary number keeps its id, the number in lowercase. Any other one is
    spelled in ASCII letters and digits and gets a stable hash of the
    subscription id, so `4X44-EMKX` never shares the ids of `4X44EMKX`, nor
    `MÜLLER1` those of `MULLER1` (Unicode decomposition is stable, unlike a
    transliteration library that may change with an update).
    """
    number = subscription.display_number
    if _ORDINARY_NUMBER.fullmatch(number):
        return number.lower()
    ascii_text = unicodedata.normalize("NFKD", number).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = "_".join(words)[:_SLUG_MAX].strip("_") or "nomos"
    digest = hashlib.sha256(subscription.id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{slug}_{digest[:8]}"


@dataclass(frozen=True, slots=True)
class Written:
    """The last row of one statistic an import queued: proof that the recorder stored it."""

    statistic_id: str
    start: datetime
    field: Literal["sum", "mean"]
    value: float


# How long to wait for the recorder to work through what is queued before it.
RECORDER_CATCH_UP: Final = 300.0


async def async_recorder_caught_up(hass: HomeAssistant) -> bool:
    """Wait until the recorder has run every task queued so far; False if it did not in time.

    Its own `async_block_till_done` returns at once when the queue is empty,
    also while the thread is still writing the last task it took (a large
    import takes seconds on a real installation). A task queued behind
    them is reached only after they finished.
    """
    future: asyncio.Future[None] = hass.loop.create_future()
    get_instance(hass).queue_task(SynchronizeTask(future))
    try:
        async with asyncio.timeout(RECORDER_CATCH_UP):
            await future
    except TimeoutError:
        return False
    return True


def recorder_running(hass: HomeAssistant) -> bool:
    """Return whether the recorder is there and its thread runs (it stores what is queued)."""
    return "recorder" in hass.config.components and get_instance(hass).is_running


async def async_stored(hass: HomeAssistant, written: Sequence[Written]) -> bool:
    """Return whether the recorder has stored every queued import.

    The recorder queues imports and only logs a failed write, so each
    statistic's last row is read back once the queue has run. Without the
    recorder at all there is nothing to store: the import counts as done (else
    every daily run would fetch the whole history again); a recorder that is
    there but not running holds the mark until it runs.
    """
    if "recorder" not in hass.config.components:
        return True
    if not recorder_running(hass):
        return False
    instance = get_instance(hass)
    if not await async_recorder_caught_up(hass):
        return False
    for row in written:
        rows = await instance.async_add_executor_job(
            statistics_during_period,
            hass,
            row.start,
            row.start + HOUR,
            {row.statistic_id},
            "hour",
            None,
            {row.field},
        )
        found = rows.get(row.statistic_id, [])
        value = found[0].get(row.field) if found else None
        if value is None or not math.isclose(value, row.value, rel_tol=1e-9, abs_tol=1e-9):
            return False
    return True


def statistic_kinds(subscription: Subscription) -> tuple[str, str]:
    """Return what the energy and money statistics count.

    Consumption is bought and costs; a feed-in contract's energy is sent to the
    grid and paid for, so it may be chosen under "Return to grid".
    """
    if subscription.is_feed_in:
        return "production", "compensation"
    return "consumption", "cost"


def statistic_ids(subscription: Subscription) -> tuple[str, str]:
    """Return the stable energy and money statistic ids of a subscription."""
    slug = _slug(subscription)
    energy, money = statistic_kinds(subscription)
    return f"{DOMAIN}:{slug}_{energy}", f"{DOMAIN}:{slug}_{money}"


def price_statistic_id(subscription: Subscription) -> str:
    """Return the stable price statistic id of a subscription."""
    return f"{DOMAIN}:{_slug(subscription)}_price"


async def _name(hass: HomeAssistant, subscription: Subscription, statistic: str) -> str:
    """Return a translated statistic name, e.g. "Nomos 4X44EMKX consumption"."""
    strings = await async_get_translations(hass, hass.config.language, "entity", [DOMAIN])
    key = f"component.{DOMAIN}.entity.sensor.{statistic}_statistic.name"
    return f"Nomos {subscription.display_number} {strings.get(key, statistic)}"


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


async def _changed(
    hass: HomeAssistant,
    statistic_id: str,
    rows: list[StatisticData],
    fields: tuple[Literal["state", "sum", "mean", "min", "max"], ...],
) -> list[StatisticData]:
    """Return the rows from the first one the recorder does not hold as it is.

    The daily import reads a 40-day window again for Nomos's corrections; most
    of it is unchanged, and rewriting it would update some 5,000 rows a day one
    by one in the recorder's thread. A changed hour changes every later running
    sum, so what is left to write is always a tail.
    """
    stored = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        rows[0]["start"],
        rows[-1]["start"] + HOUR,
        {statistic_id},
        "hour",
        None,
        set(fields),
    )
    held = {row["start"]: row for row in stored.get(statistic_id, [])}
    for index, row in enumerate(rows):
        old = held.get(row["start"].timestamp())
        if old is None or not all(_same(old.get(field), row.get(field)) for field in fields):
            return rows[index:]
    return []


async def _write(
    hass: HomeAssistant,
    subscription: Subscription,
    kind: str,
    statistic_id: str,
    rows: list[StatisticData],
    unit: str,
    unit_class: str | None = None,
) -> None:
    """Queue the rows the recorder does not hold yet.

    Rows carry a running sum (energy, money) or a mean with its minimum and
    maximum (prices).
    """
    has_sum = "sum" in rows[0]
    fields: tuple[Literal["state", "sum", "mean", "min", "max"], ...] = (
        ("state", "sum") if has_sum else ("mean", "min", "max")
    )
    if changed := await _changed(hass, statistic_id, rows, fields):
        async_add_external_statistics(
            hass,
            StatisticMetaData(
                mean_type=StatisticMeanType.NONE if has_sum else StatisticMeanType.ARITHMETIC,
                has_sum=has_sum,
                name=await _name(hass, subscription, kind),
                source=DOMAIN,
                statistic_id=statistic_id,
                unit_class=unit_class,
                unit_of_measurement=unit,
            ),
            changed,
        )


def _same(held: object, new: object) -> bool:
    return (
        isinstance(held, float)
        and isinstance(new, float | int)
        and math.isclose(held, new, rel_tol=1e-12, abs_tol=1e-12)
    )


async def async_import_hours(
    hass: HomeAssistant, subscription: Subscription, hours: Sequence[HourlyUsage]
) -> list[Written]:
    """Write the hours as consumption (kWh) and cost (EUR) statistics; return their last rows.

    The running sums continue from the last hour before the first imported
    one, so re-importing a window replaces its hours without double counting;
    the window always reaches the newest data, so no later sum is left behind.
    """
    if not hours:
        return []
    if not recorder_running(hass):
        LOGGER.debug("The recorder is not running; no statistics are imported")
        return []
    consumption_id, cost_id = statistic_ids(subscription)
    # Earlier imports may still sit in the recorder's queue: read after them.
    await async_recorder_caught_up(hass)
    start = hours[0].start
    consumption, cost = running_sums(
        hours,
        await _sum_before(hass, consumption_id, start),
        await _sum_before(hass, cost_id, start),
    )
    energy_kind, money_kind = statistic_kinds(subscription)
    await _write(
        hass,
        subscription,
        energy_kind,
        consumption_id,
        _data(consumption),
        UnitOfEnergy.KILO_WATT_HOUR,
        EnergyConverter.UNIT_CLASS,
    )
    written = [Written(consumption_id, consumption[-1].start, "sum", consumption[-1].sum)]
    if not cost:
        return written
    written.append(Written(cost_id, cost[-1].start, "sum", cost[-1].sum))
    await _write(hass, subscription, money_kind, cost_id, _data(cost), "EUR")
    return written


class DailyStatistic(StrEnum):
    """A figure kept as one row per Berlin day (EUR), for graphs over months."""

    BENEFIT = "shifting_benefit"
    SAVED = "saved_versus_comparison"


def daily_statistic_id(subscription: Subscription, kind: DailyStatistic) -> str:
    """Return the stable id of a daily statistic, e.g. `nomos_energy:4x44emkx_shifting_benefit`."""
    return f"{DOMAIN}:{_slug(subscription)}_{kind}"


async def async_import_daily(
    hass: HomeAssistant,
    subscription: Subscription,
    kind: DailyStatistic,
    values: Mapping[date, float],
    *,
    from_scratch: bool = False,
) -> list[Written]:
    """Write each day's value (EUR) as a row at its local midnight; return the last row.

    Like the usage, re-importing days replaces their rows and the running sum
    continues from the row before the first day; `from_scratch` starts it at
    zero (the statistic was just cleared).
    """
    if not values or not recorder_running(hass):
        return []
    statistic_id = daily_statistic_id(subscription, kind)
    days = sorted(values.items())
    await async_recorder_caught_up(hass)
    running = 0.0 if from_scratch else await _sum_before(hass, statistic_id, day_start(days[0][0]))
    rows = []
    for day, value in days:
        running += value
        rows.append(StatisticData(start=day_start(day), state=value, sum=running))
    await _write(hass, subscription, kind, statistic_id, rows, "EUR")
    return [Written(statistic_id, day_start(days[-1][0]), "sum", running)]


async def async_clear_daily(
    hass: HomeAssistant, subscription: Subscription, kind: DailyStatistic
) -> None:
    """Delete a daily statistic with all its rows (its settings changed or were removed)."""
    if recorder_running(hass):
        get_instance(hass).async_clear_statistics([daily_statistic_id(subscription, kind)])


async def async_import_prices(
    hass: HomeAssistant, subscription: Subscription, hours: Sequence[HourlyPrice]
) -> list[Written]:
    """Write the all-in price as an hourly statistic (mean, minimum, maximum in EUR/kWh).

    Re-importing an hour replaces it; hours the recorder holds as they are
    are not written again. Returns the last row.
    """
    if not hours or not recorder_running(hass):
        return []
    statistic_id = price_statistic_id(subscription)
    # No wait for the recorder here: the usage import of the same chunk has just waited,
    # and a price row read before its write landed is only written once more.
    rows = [
        StatisticData(start=hour.start, mean=hour.mean, min=hour.minimum, max=hour.maximum)
        for hour in hours
    ]
    kind = "payout" if subscription.is_feed_in else "price"
    await _write(hass, subscription, kind, statistic_id, rows, PRICE_UNIT)
    return [Written(statistic_id, hours[-1].start, "mean", hours[-1].mean)]
