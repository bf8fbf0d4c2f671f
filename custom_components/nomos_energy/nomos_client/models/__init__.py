"""Typed models of the Nomos API (curie shapes), one module per resource.

Each API object is a dataclass with its parser and its cache form side by side;
they all read JSON through `Fields` (fields.py), which names the path of a
missing or mistyped field.
"""

from .companion import (
    GRID_FEE_REDUCTION_STATUSES,
    GRID_FEE_REDUCTION_TYPES,
    METER_ORDER_PROVIDERS,
    METER_ORDER_STATUSES,
    GridFeeReduction,
    MeterOrder,
    Quote,
    QuoteComponent,
)
from .consumption import USAGE_RESOLUTIONS, MeterReading, Usage, UsageItem
from .fields import Fields, TimestampOutOfRange, finite_number, parse_timestamp
from .invoices import INVOICE_STATUSES, INVOICE_TYPES, Invoice
from .prices import PRICE_RESOLUTIONS, PriceItem, PriceSeries
from .subscriptions import (
    METER_TYPES,
    SUBSCRIPTION_STATUSES,
    Address,
    Customer,
    Meter,
    MeterType,
    Plan,
    Subscription,
    SubscriptionStatus,
)

__all__ = [
    "GRID_FEE_REDUCTION_STATUSES",
    "GRID_FEE_REDUCTION_TYPES",
    "INVOICE_STATUSES",
    "INVOICE_TYPES",
    "METER_ORDER_PROVIDERS",
    "METER_ORDER_STATUSES",
    "METER_TYPES",
    "PRICE_RESOLUTIONS",
    "SUBSCRIPTION_STATUSES",
    "USAGE_RESOLUTIONS",
    "Address",
    "Customer",
    "Fields",
    "GridFeeReduction",
    "Invoice",
    "Meter",
    "MeterOrder",
    "MeterReading",
    "MeterType",
    "Plan",
    "PriceItem",
    "PriceSeries",
    "Quote",
    "QuoteComponent",
    "Subscription",
    "SubscriptionStatus",
    "TimestampOutOfRange",
    "Usage",
    "UsageItem",
    "finite_number",
    "parse_timestamp",
]
