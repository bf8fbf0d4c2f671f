"""Token endpoint controls for tests: hold refresh answers after Nomos has rotated.

Nomos rotates the refresh token the moment a refresh arrives; the answer that
carries the new one can still be on its way when Home Assistant reloads, stops
or stores a new sign-in. `hold_refresh_answers` keeps every refresh answer back
until the test releases it, so a test can put such an event in between without
waiting on a clock.
"""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

from .state import SimulatorState


class RefreshHold:
    """Keep refresh answers back (the token is already rotated) until `release`."""

    def __init__(self) -> None:
        """Start holding."""
        # Set when a refresh token was rotated and its answer is being held.
        self.rotated = asyncio.Event()
        self.held = 0
        self._released = asyncio.Event()

    def release(self) -> None:
        """Send the held answers, and every later one at once."""
        self._released.set()

    async def wait(self) -> None:
        """Hold one answer until released."""
        self.held += 1
        self.rotated.set()
        await self._released.wait()


_HOLDS: WeakKeyDictionary[SimulatorState, RefreshHold] = WeakKeyDictionary()


def hold_refresh_answers(state: SimulatorState) -> RefreshHold:
    """Hold the answers of refreshes from now on; return the hold to release them."""
    hold = _HOLDS[state] = RefreshHold()
    return hold


async def before_refresh_answer(state: SimulatorState) -> None:
    """Wait, while a hold is in place, between rotating a refresh token and answering."""
    hold = _HOLDS.get(state)
    if hold is not None:
        await hold.wait()
