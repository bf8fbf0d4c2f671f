"""What the contract companion knows and when it asks again: pure logic.

The companion reads two endpoints: `/grid-fee-reductions` (the §14a EnWG
modules) and `/meter-orders` (smart-meter orders). Each is asked at most once a
Berlin day, with the daily import. An endpoint whose last answer held nothing
for the entry's contracts is not asked daily: only after RECHECK_EMPTY (a module
or an order placed meanwhile shows up then, or at once after the entry is set
up again). One that Nomos refuses (403, 404) is asked again the next day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from .nomos_client import GridFeeReduction, MeterOrder
from .nomos_client.models import Fields
from .price_schedule import local_date

REDUCTIONS: Final = "grid_fee_reductions"
ORDERS: Final = "meter_orders"
ENDPOINTS: Final = (REDUCTIONS, ORDERS)
RECHECK_EMPTY: Final = timedelta(days=30)
# Which reduction of a contract its sensor shows: the one that matters most now.
_STATUS_WEIGHT: Final = {"activated": 5, "ordered": 4, "intended": 3, "rejected": 2, "ended": 1}


@dataclass(frozen=True, slots=True)
class CompanionState:
    """The entry's modules and orders, and when each endpoint was asked (per endpoint).

    `None` for a list means Nomos has not answered it yet; `refused` holds the
    HTTP status of an endpoint Nomos does not let this entry read.
    """

    reductions: tuple[GridFeeReduction, ...] | None = None
    orders: tuple[MeterOrder, ...] | None = None
    asked_at: Mapping[str, datetime] = field(default_factory=dict)
    refused: Mapping[str, int] = field(default_factory=dict)

    def items(self, endpoint: str) -> tuple[GridFeeReduction | MeterOrder, ...] | None:
        """Return the last answer of an endpoint (None before the first)."""
        return self.reductions if endpoint == REDUCTIONS else self.orders

    def due(self, endpoint: str, now: datetime) -> bool:
        """Return whether the endpoint is to be asked at `now` (at most once a Berlin day)."""
        asked = self.asked_at.get(endpoint)
        if asked is None:
            return True
        if local_date(asked) >= local_date(now):
            return False
        if endpoint not in self.refused and self.items(endpoint) == ():
            return now - asked >= RECHECK_EMPTY
        return True

    def reductions_of(self, subscription_id: str) -> list[GridFeeReduction]:
        """Return a contract's §14a modules, newest first."""
        return _newest_first(
            r for r in self.reductions or () if r.subscription_id == subscription_id
        )

    def orders_of(self, subscription_id: str) -> list[MeterOrder]:
        """Return a contract's smart-meter orders, newest first."""
        return _newest_first(o for o in self.orders or () if o.subscription_id == subscription_id)

    def to_json(self) -> dict[str, Any]:
        """Return the cache form (the lists in the API shape)."""
        return {
            REDUCTIONS: None
            if self.reductions is None
            else [item.to_json() for item in self.reductions],
            ORDERS: None if self.orders is None else [item.to_json() for item in self.orders],
            "asked_at": {name: moment.isoformat() for name, moment in self.asked_at.items()},
            "refused": dict(self.refused),
        }

    @classmethod
    def from_json(cls, data: Any) -> CompanionState:
        """Read the cache form; anything damaged raises (the section is then dropped)."""
        if not isinstance(data, dict):
            raise TypeError("companion")
        asked = {name: datetime.fromisoformat(value) for name, value in data["asked_at"].items()}
        if any(moment.tzinfo is None for moment in asked.values()):
            raise ValueError("naive timestamp")
        refused = {str(name): int(status) for name, status in data["refused"].items()}
        reductions, orders = data.get(REDUCTIONS), data.get(ORDERS)
        return cls(
            reductions=None
            if reductions is None
            else tuple(GridFeeReduction.from_fields(Fields(item)) for item in reductions),
            orders=None
            if orders is None
            else tuple(MeterOrder.from_fields(Fields(item)) for item in orders),
            asked_at=asked,
            refused=refused,
        )


def _newest_first[T: GridFeeReduction | MeterOrder](items: Iterable[T]) -> list[T]:
    return sorted(
        items, key=lambda item: (item.created_at is not None, item.created_at), reverse=True
    )


def shown_reduction(reductions: list[GridFeeReduction]) -> GridFeeReduction | None:
    """Return the module a contract's sensor shows: the one standing highest.

    `reductions` come newest first. Active before ordered, intended, rejected and ended; module 3 comes on top of
    module 1, so with both active it shows module 3.
    """
    # Only the newest of each type counts: a module rejected, then ordered again, is ordered.
    newest = {item.type: item for item in reversed(reductions)}  # newest first: last wins
    if not newest:
        return None
    return max(
        newest.values(),
        key=lambda item: (_STATUS_WEIGHT.get(item.status, 0), item.module or 0),
    )


def latest_per_module(reductions: list[GridFeeReduction]) -> dict[int, GridFeeReduction]:
    """Return the newest reduction of each module (a rejected one may be ordered again)."""
    latest: dict[int, GridFeeReduction] = {}
    for item in reductions:  # newest first
        if item.module is not None:
            latest.setdefault(item.module, item)
    return latest
