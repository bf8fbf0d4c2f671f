"""The price time series of a subscription."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
import itertools
from typing import Final

from ..errors import NomosResponseError
from .fields import Fields

PRICE_RESOLUTIONS: Final = {
    "15min": timedelta(minutes=15),
    "hourly": timedelta(hours=1),
    "60min": timedelta(hours=1),
}


@dataclass(frozen=True, slots=True)
class PriceItem:
    """One interval of the price series; amounts in ct/kWh, None when unknown."""

    start: datetime
    amount: float | None
    components: Mapping[str, float | None]


@dataclass(frozen=True, slots=True)
class PriceSeries:
    """The all-in price time series of a subscription."""

    subscription_id: str
    unit: str
    currency: str
    resolution: str
    interval: timedelta
    items: tuple[PriceItem, ...] | None

    @classmethod
    def from_fields(cls, fields: Fields) -> PriceSeries:
        """Parse `/subscriptions/{id}/prices`.

        The interval length comes from the `resolution` field and is checked
        against the spacing of the timestamps: the spacing wins, because the
        docs disagree on the resolution names.
        """
        resolution = fields.string("resolution")
        interval = PRICE_RESOLUTIONS.get(resolution)
        if interval is None:
            raise NomosResponseError(
                "Invalid response from Nomos: field 'resolution' must be one of "
                f"{', '.join(PRICE_RESOLUTIONS)} (got '{resolution}')"
            )
        raw_items = fields.opt_objects("items")
        items: tuple[PriceItem, ...] | None = None
        if raw_items is not None:
            parsed: list[PriceItem] = []
            for item in raw_items:
                components: dict[str, float | None] = {}
                for component in item.opt_objects("components") or ():
                    components[component.string("type")] = component.opt_number("amount")
                parsed.append(
                    PriceItem(
                        start=item.timestamp("timestamp"),
                        amount=item.opt_number("amount"),
                        components=components,
                    )
                )
            parsed.sort(key=lambda price: price.start)
            for earlier, later in itertools.pairwise(parsed):
                if earlier.start == later.start:
                    raise NomosResponseError(
                        "Invalid response from Nomos: field 'items' has two prices "
                        f"for {later.start.isoformat()}"
                    )
            spacing = min(
                (b.start - a.start for a, b in itertools.pairwise(parsed)),
                default=interval,
            )
            if spacing in (timedelta(minutes=15), timedelta(hours=1)):
                interval = spacing
            items = tuple(parsed)
        return cls(
            subscription_id=fields.string("subscription"),
            unit=fields.opt_string("unit") or "ct/kWh",
            currency=fields.opt_string("currency") or "EUR",
            resolution=resolution,
            interval=interval,
            items=items,
        )
