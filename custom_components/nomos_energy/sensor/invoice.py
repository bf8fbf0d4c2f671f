"""The expected invoice of this month and of last month, on each smart consumption contract.

This month's answers a daily question (on by default): what will this month's
invoice be? Last month's (one click away) holds the expectation for the month
just over until its invoice arrives, then shows the invoice beside it and the
difference. Both are read from the cache (day totals, the day profile, prices,
invoices, the plan's base fee) against today's date, like the month sensors:
they move with an import, at midnight, on the 1st and when tomorrow's prices
come, without asking Nomos anything.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity
from homeassistant.util import dt as dt_util

from ..energy_coordinator import EnergyCoordinator
from ..energy_data import EnergyData
from ..entity import NomosEntity
from ..invoice_projection import (
    MonthProjection,
    expected_true_up,
    project_month,
    usage_invoice,
)
from ..nomos_client import Subscription
from ..price_schedule import local_date
from ..usage_profile import Supply
from .common import kwh, money


def has_expected_invoice(subscription: Subscription) -> bool:
    """Return whether the contract gets the expected invoice: it buys, on a smart meter.

    An analog meter has no days to project from; a feed-in contract's invoice is
    a payout the simulator and the documentation do not describe.
    """
    return subscription.is_active and subscription.has_smart_meter and not subscription.is_feed_in


def previous_month(day: date) -> date:
    """Return the first day of the month before `day`'s."""
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


class ExpectedInvoiceSensor(NomosEntity[EnergyCoordinator], SensorEntity):
    """The expected invoice of this month, or of last month with its invoice beside it."""

    _attr_device_class = SensorDeviceClass.MONETARY
    _attr_native_unit_of_measurement = "EUR"
    _attr_suggested_display_precision = 2
    # No state class: like the month's cost it is one month's figure, not a running
    # total the Energy dashboard could take as a cost.

    def __init__(
        self, coordinator: EnergyCoordinator, subscription: Subscription, *, last_month: bool
    ) -> None:
        """Create the sensor."""
        key = "expected_invoice_last_month" if last_month else "expected_invoice"
        super().__init__(coordinator, subscription, key)
        self._attr_translation_key = key
        self._attr_entity_registry_enabled_default = not last_month
        self.last_month = last_month
        self._contract = subscription
        # The last answer and what it was computed from (compared by identity: the
        # cache and the coordinators replace what changes), so a tick costs nothing.
        self._inputs: tuple[Any, ...] = ()
        self._shown: tuple[float | None, dict[str, Any]] = (None, {})

    @property
    def available(self) -> bool:
        """Always: the figures come from the cache, whatever Nomos answers now."""
        return True

    def _monthly_fee(self) -> float | None:
        """Return the options' monthly fixed charges when set, else the plan's base fee."""
        fixed = self.coordinator.comparison.fixed_charges_month
        return fixed if fixed > 0 else self.coordinator.cache.plan_fees.get(self._contract.plan_id)

    def _current(self) -> tuple[float | None, dict[str, Any]]:
        """Return the state and attributes, computed again only when an input changed."""
        contract = self.coordinator.subscriptions.data.subscriptions.get(self.subscription_id)
        self._contract = contract or self._contract
        cache = self.coordinator.cache
        inputs = (
            local_date(dt_util.utcnow()),
            self._monthly_fee(),
            cache.day_totals.get(self.subscription_id),
            cache.usage_profiles.get(self.subscription_id),
            self.coordinator.prices.schedule(self.subscription_id),
            (self.coordinator.data or {}).get(self.subscription_id),
            self._contract,
        )
        if len(inputs) != len(self._inputs) or any(
            new is not old and new != old for new, old in zip(inputs, self._inputs, strict=True)
        ):
            self._inputs = inputs
            self._shown = self._compute(inputs[0], inputs[1], inputs[5])
        return self._shown

    def _project(self, month: date, today: date, fee: float | None) -> MonthProjection | None:
        contract, cache = self._contract, self.coordinator.cache
        return project_month(
            month,
            today,
            cache.day_totals.get(self.subscription_id, {}),
            self.coordinator.prices.schedule(self.subscription_id),
            profile=cache.usage_profiles.get(self.subscription_id),
            supply=Supply(contract.start_at, contract.end_at),
            monthly_fee=fee,
            annual_kwh=contract.estimated_usage,
        )

    def _compute(
        self, today: date, fee: float | None, data: EnergyData | None
    ) -> tuple[float | None, dict[str, Any]]:
        month = previous_month(today) if self.last_month else today.replace(day=1)
        projection = self._project(month, today, fee)
        if projection is None:  # no day of the month is supplied
            return None, {"month": month.strftime("%Y-%m")}
        expected = projection.total_eur
        attributes = describe(projection)
        invoices = data.invoices if data is not None else ()
        if self.last_month and (invoice := usage_invoice(invoices, month)) is not None:
            attributes |= {
                "invoice_number": invoice.number,
                "invoice_total": invoice.total,
                "difference": money(None if expected is None else invoice.total - expected),
            }

        def expected_of(other: date) -> float | None:
            if other == month:
                return expected
            found = self._project(other, today, fee)
            return None if found is None else found.total_eur

        last_day = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        true_up = expected_true_up(invoices, min(today, last_day), expected_of)
        if true_up is not None:
            attributes |= {
                "billing_period_start": true_up.first_day.isoformat(),
                "billing_period_end": true_up.last_day.isoformat(),
                "prepaid": money(true_up.prepaid_eur),
                "expected_true_up": money(true_up.balance_eur),
            }
        return money(expected), attributes

    @property
    def native_value(self) -> float | None:
        """Return the expected invoice; unknown while nothing tells what it will be."""
        return self._current()[0]

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the parts of the expectation and how the rest was estimated."""
        return self._current()[1]

    def written_state(self) -> tuple[Any, ...] | None:
        """Return what changes with an import, at midnight and with tomorrow's prices."""
        return self._current()


def describe(projection: MonthProjection) -> dict[str, Any]:
    """Return the attributes every expected invoice shows."""
    last = projection.last_imported_day
    return {
        "month": projection.month.strftime("%Y-%m"),
        "usage_so_far_kwh": kwh(projection.metered_kwh),
        "cost_so_far": money(projection.metered_cost_eur),
        "days_metered": projection.metered_days,
        "last_imported_day": None if last is None else last.isoformat(),
        "projected_rest_kwh": kwh(projection.rest_kwh),
        "projected_rest_cost": money(projection.rest_cost_eur),
        "days_projected": projection.rest_days,
        "base_fee": money(projection.base_fee_eur),
        "estimate_method": projection.method,
        "history_weeks": projection.history_days // 7,
    }
