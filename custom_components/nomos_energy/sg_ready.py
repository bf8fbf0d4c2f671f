"""A heat pump's SG Ready mode from its planner: boost, normal or block. Pure logic.

SG Ready heat pumps take a recommendation on two contacts: "block" (run only if
the house needs it), "normal", "boost" (run now, heat the buffer or the hot
water more). The planner's runs are the boosts; an expensive period blocks,
but never longer than MAX_BLOCK at a stretch (the grid operators' own blocks
are limited alike), so the house never cools down for a price.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from .appliance_plan import Plan
from .periods import Period

MAX_BLOCK = timedelta(hours=2)


class SgReadyMode(StrEnum):
    """The recommendation, in SG Ready's words."""

    BLOCK = "block"
    NORMAL = "normal"
    BOOST = "boost"


def sg_ready_mode(
    plan: Plan | None, expensive: Sequence[Period], now: datetime
) -> tuple[SgReadyMode, datetime | None]:
    """Return the mode at `now` and until when it holds (None: not known yet)."""
    if plan is not None:
        for start, end in plan.segments:
            if start <= now < end:
                return SgReadyMode.BOOST, end
    for period in expensive:
        if period.contains(now):
            block_end = min(period.end, period.start + MAX_BLOCK)
            if now < block_end:
                return SgReadyMode.BLOCK, _first_run_start(plan, now, block_end)
    changes = [start for start, _ in plan.segments if start > now] if plan else []
    changes += [period.start for period in expensive if period.start > now]
    return SgReadyMode.NORMAL, min(changes, default=None)


def _first_run_start(plan: Plan | None, now: datetime, until: datetime) -> datetime:
    """Return when a block ends: at its end, or when a planned run begins before it."""
    starts = [start for start, _ in plan.segments if now < start < until] if plan else []
    return min(starts, default=until)
