"""A car's or home battery's charging target: the energy the gap to it takes. Pure logic."""

from __future__ import annotations

from dataclasses import dataclass
import math

# Energy within this much (kWh) counts as delivered: rounding, not a quarter-hour more.
EPSILON_KWH = 1e-6


@dataclass(frozen=True, slots=True)
class ChargeTarget:
    """What a charger planner charges to: a battery's state of charge and size."""

    soc_entity: str
    target_pct: float
    capacity_kwh: float
    efficiency: float = 0.9
    # Below this state of charge (%), charge right away, whatever the price.
    floor_pct: float | None = None

    def energy_kwh(self, soc_pct: float) -> float:
        """Return the energy to draw from the grid to reach the target (from the floor up)."""
        start = max(soc_pct, self.floor_pct or 0.0)
        stored = max(0.0, self.target_pct - start) / 100 * self.capacity_kwh
        return stored / self.efficiency

    @property
    def step_kwh(self) -> float:
        """Return the grid energy of one percent of the battery (a state of charge's step)."""
        return self.capacity_kwh / 100 / self.efficiency

    def below_floor(self, soc_pct: float) -> bool:
        """Return whether the battery is below the safety floor (charge now)."""
        return self.floor_pct is not None and soc_pct < self.floor_pct


def quarters_for(energy_kwh: float, power_kw: float) -> int:
    """Return the quarter-hours at full power that deliver `energy_kwh` (the last may be partial)."""
    return max(0, math.ceil((energy_kwh - EPSILON_KWH) / (power_kw / 4)))
