"""Power profiles of appliance programs: what a run draws in each quarter-hour.

Pure logic, no Home Assistant imports. A profile is written as the homeowner
types it: kW per quarter-hour, separated by commas or spaces, with `|` between
the program's steps, e.g. "2.0, 0.8 | 0.2, 0.2, 0.2, 0.2 | 0.3, 0.5" for a
washing machine that heats for half an hour, washes for an hour and spins.

A run never pauses inside a step. With "may pause" on, it may pause between
steps; a profile without `|` may then pause between any two quarter-hours.
"""

from __future__ import annotations

from dataclasses import dataclass
import re

MAX_QUARTERS = 48  # 12 hours, the longest run time
MAX_KW = 50.0

# Typical programs (kW per quarter-hour), for the homeowner to start from and edit.
PRESETS: dict[str, str] = {
    # Eco 50 °C: heats the water, washes, heats the rinse, dries with the heat left.
    "dishwasher": "1.8, 1.8 | 0.15, 0.15, 0.15, 0.15 | 1.8, 0.1 | 0.05, 0.05, 0.05, 0.05",
    # 40 °C cotton: heats, washes, rinses and spins.
    "washing_machine": "2.0, 0.8 | 0.2, 0.2, 0.2, 0.2 | 0.3, 0.5",
    # A heat-pump dryer: even power, less at the end.
    "dryer": "0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.3",
}


class ProfileError(ValueError):
    """The profile cannot be read; `reason` is a translation key."""

    def __init__(self, reason: str) -> None:
        """Store why."""
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Profile:
    """kW per quarter-hour, and before which quarter-hours a pause is allowed."""

    kw: tuple[float, ...]
    # pause_before[i]: the run may pause between quarter-hour i - 1 and i (i = 0: unused).
    pause_before: tuple[bool, ...]

    @property
    def quarters(self) -> int:
        """Return how many quarter-hours the run takes."""
        return len(self.kw)

    @property
    def energy_kwh(self) -> float:
        """Return the energy of one run."""
        return sum(self.kw) / 4

    def pausable(self, may_pause: bool) -> tuple[bool, ...]:
        """Return, per quarter-hour, whether the run may pause before it."""
        if not may_pause:
            return (False,) * self.quarters
        if any(self.pause_before):
            return self.pause_before
        return (False, *((True,) * (self.quarters - 1)))


def parse_profile(text: str) -> Profile:
    """Read a profile as typed; raise ProfileError with a translation key."""
    kw: list[float] = []
    pause_before: list[bool] = []
    for number, step in enumerate(text.split("|")):
        values = [value for value in re.split(r"[,;\s]+", step.strip()) if value]
        if not values:
            raise ProfileError("profile_empty_step")
        for index, value in enumerate(values):
            try:
                power = float(value)
            except ValueError as err:
                raise ProfileError("profile_not_a_number") from err
            if not 0 < power <= MAX_KW:
                raise ProfileError("profile_power_range")
            kw.append(power)
            pause_before.append(index == 0 and number > 0)
    if len(kw) > MAX_QUARTERS:
        raise ProfileError("profile_too_long")
    return Profile(tuple(kw), tuple(pause_before))


def preset_of(text: str | None) -> str:
    """Return which preset a stored profile is ("custom" when edited, "none" without one)."""
    if not text:
        return "none"
    try:
        profile = parse_profile(text)
    except ProfileError:
        return "custom"
    for name, preset in PRESETS.items():
        if parse_profile(preset) == profile:
            return name
    return "custom"


def format_profile(profile: Profile) -> str:
    """Write a profile the way parse_profile reads it."""
    steps: list[list[str]] = []
    for power, pause in zip(profile.kw, profile.pause_before, strict=True):
        if pause or not steps:
            steps.append([])
        steps[-1].append(f"{power:g}")
    return " | ".join(", ".join(step) for step in steps)
