"""Units and rounding shared by the sensor modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from homeassistant.const import UnitOfEnergy

from ..const import CONF_PRICE_UNIT, PRICE_UNIT_EUR
from ..coordinator import NomosConfigEntry
from ..price_schedule import CT_PER_EUR

# The Energy dashboard accepts any "<currency>/kWh"; Nomos bills in euros.
EUR_PER_KWH: Final = f"EUR/{UnitOfEnergy.KILO_WATT_HOUR}"
# Spaced on purpose: the Energy dashboard takes any unit ending in "/kWh" as a
# price per kWh and reads the number as euros, so a ct price picked there would
# make costs 100 times too high. "ct / kWh" reads the same, and the dashboard's
# validation flags it ("unexpected unit") instead of computing with it.
CT_PER_KWH: Final = f"ct / {UnitOfEnergy.KILO_WATT_HOUR}"

type PriceConverter = Callable[[float | None], float | None]


def rounded(value: float | None, digits: int) -> float | None:
    """Return the value rounded, unknown stays unknown."""
    return None if value is None else round(value, digits)


def eur(price_ct: float | None) -> float | None:
    """Nomos sends ct/kWh; the Energy dashboard's price is EUR/kWh.

    Rounded to what a price means (a millionth of a euro), so no float noise
    such as 0.31070000000000003 reaches a state.
    """
    return None if price_ct is None else round(price_ct / CT_PER_EUR, 6)


def ct(price_ct: float | None) -> float | None:
    """Return a ct/kWh price to a ten-thousandth of a cent (what Nomos sends)."""
    return rounded(price_ct, 4)


def kwh(value: float | None) -> float | None:
    """Energy to the Wh."""
    return rounded(value, 3)


def money(value: float | None) -> float | None:
    """Money to the cent."""
    return rounded(value, 2)


class DisplayUnit:
    """The unit the entry shows prices in: ct/kWh unless the options say EUR/kWh."""

    def __init__(self, entry: NomosConfigEntry) -> None:
        """Read the unit from the entry's options."""
        in_eur = entry.options.get(CONF_PRICE_UNIT) == PRICE_UNIT_EUR
        self.unit = EUR_PER_KWH if in_eur else CT_PER_KWH
        self.precision = 4 if in_eur else 2
        self.convert: PriceConverter = eur if in_eur else ct
