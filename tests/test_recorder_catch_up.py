"""An import counts as stored only once the recorder wrote it, however long that takes."""

from __future__ import annotations

import asyncio
from datetime import date
import threading
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder, statistics as recorder_statistics
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance

from custom_components.nomos_energy.energy import DailyStatistic, async_import_daily, async_stored

from .conftest import ANNA, AddEntry
from .timetravel import berlin


async def test_a_slow_write_is_waited_for_not_taken_as_failed(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    add_entry: AddEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """On a real installation a large import takes the recorder seconds.

    While it writes, the recorder's queue is already empty; its own "block till
    done" returns at once then, the read-back found nothing, and every daily
    import was taken as failed and fetched again the next day.
    """
    freezer.move_to(berlin(2026, 11, 29, 18, 0))
    entry = await add_entry(ANNA)
    subscription = next(iter(entry.runtime_data.subscriptions.data.subscriptions.values()))
    writing, release = threading.Event(), threading.Event()
    original = recorder_statistics.import_statistics

    def slow_import(*args: Any) -> bool:
        writing.set()
        release.wait(30)
        return original(*args)

    with patch.object(recorder_statistics, "import_statistics", slow_import):
        written = await async_import_daily(
            hass,
            subscription,
            DailyStatistic.BENEFIT,
            {date(2026, 11, 27): 0.5, date(2026, 11, 28): 0.25},
            from_scratch=True,
        )
        assert await hass.async_add_executor_job(writing.wait, 30)
        check = hass.async_create_task(async_stored(hass, written))
        queue = get_instance(hass)._queue
        # Until the check has queued what it waits for (or given up): the queue
        # belongs to the recorder's thread and has no event to wait on.
        while not check.done() and queue.empty():  # noqa: ASYNC110
            await asyncio.sleep(0)
        release.set()
        assert await check
