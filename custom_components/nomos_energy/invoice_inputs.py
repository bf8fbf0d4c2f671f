"""What the expected invoice keeps from the daily import: the day profile and the plan's fee.

The import hands over the newest weeks of the 15-minute usage it has just read
(no extra request): they shape the household's day profile (usage_profile.py).
The plan's monthly base fee is read from Nomos once and kept in the cache; the
monthly fixed charges of the options replace it, and then nothing is asked.
"""

from __future__ import annotations

from collections.abc import Sequence

from .cache import NomosCache
from .const import LOGGER
from .nomos_client import (
    NomosClient,
    NomosError,
    NomosForbiddenError,
    NomosNotFoundError,
    Subscription,
)
from .usage_profile import Supply, build_usage_profile
from .usage_statistics import QuarterUsage


async def async_keep_invoice_inputs(
    cache: NomosCache,
    client: NomosClient,
    subscription: Subscription,
    quarters: Sequence[QuarterUsage],
    fixed_charges: float,
) -> None:
    """Keep a consumption contract's day profile; read its plan's base fee once."""
    if subscription.is_feed_in:
        return
    supply = Supply(subscription.start_at, subscription.end_at)
    cache.set_usage_profile(subscription.id, build_usage_profile(quarters, supply))
    plan_id = subscription.plan_id
    if fixed_charges > 0 or plan_id in cache.plan_fees:
        return
    try:
        cache.set_plan_fee(plan_id, (await client.get_plan(plan_id)).price)
    except (NomosForbiddenError, NomosNotFoundError):
        cache.set_plan_fee(plan_id, None)  # not for this sign-in: never asked again
    except NomosError as err:  # asked again with the next daily import
        LOGGER.debug("The plan's base fee is not available: %s", err)
